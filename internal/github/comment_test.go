package github

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/internal/github/githubtest"
)

func TestUpsertPostsThenUpdates(t *testing.T) {
	srv := githubtest.NewServer(t, "acme/app", "ghs_token")
	// Other people's comments, spread over pages, and another key's report.
	srv.Add(7, "looks good")
	srv.Add(7, "needs tests")
	other := srv.Add(7, "old\n"+Marker("nightly")+"\n")
	srv.Add(7, "ping")
	c := &Client{APIURL: srv.URL(), Token: "ghs_token"}

	up, err := c.Upsert(context.Background(), "acme/app", 7, "", "## ✅ tiny: all passed\n")
	if err != nil || up.Updated {
		t.Fatalf("first upsert: %+v, %v", up, err)
	}
	up2, err := c.Upsert(context.Background(), "acme/app", 7, "", "## ❌ tiny: 1 of 1 crossed\n")
	if err != nil || !up2.Updated || up2.ID != up.ID {
		t.Fatalf("second upsert: %+v, %v (first %+v)", up2, err, up)
	}
	cs := srv.Comments(7)
	if len(cs) != 5 {
		t.Fatalf("%d comments, want 5 (4 existing + 1 report)", len(cs))
	}
	last := cs[len(cs)-1]
	if want := "## ❌ tiny: 1 of 1 crossed\n\n" + Marker("") + "\n"; last.Body != want {
		t.Errorf("body %q, want %q", last.Body, want)
	}
	for _, cm := range cs {
		if cm.ID == other && !strings.HasPrefix(cm.Body, "old") {
			t.Errorf("another key's comment was edited")
		}
	}
}

func TestUpsertErrors(t *testing.T) {
	srv := githubtest.NewServer(t, "acme/app", "right")
	c := &Client{APIURL: srv.URL(), Token: "wrong-secret"}
	_, err := c.Upsert(context.Background(), "acme/app", 1, "", "x")
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 401 || !strings.Contains(err.Error(), "Bad credentials") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("token in error: %v", err)
	}
	c.Token = "right"
	if _, err := c.Upsert(context.Background(), "other/repo", 1, "", "x"); err == nil || !strings.Contains(err.Error(), "permission") {
		t.Errorf("404 err = %v", err)
	}
	if _, err := c.Upsert(context.Background(), "not a repo", 1, "", "x"); err == nil {
		t.Error("bad repo accepted")
	}
}

func TestBodyFitsTheCommentLimit(t *testing.T) {
	long := strings.Repeat("| row | ✅ |\n", CommentLimit/8)
	b := Body(long, "k")
	if n := len([]rune(b)); n > CommentLimit {
		t.Fatalf("body has %d characters", n)
	}
	if !strings.HasSuffix(b, Marker("k")+"\n") || !strings.Contains(b, "truncated") {
		t.Errorf("truncated body lacks marker or note: …%q", b[len(b)-200:])
	}
}

func TestPullRequestNumber(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		event string
		n     int
		ok    bool
	}{
		{`{"pull_request": {"number": 42}, "number": 42}`, 42, true},
		{`{"issue": {"number": 9, "pull_request": {"url": "x"}}}`, 9, true},
		{`{"issue": {"number": 9}}`, 0, false},
		{`{"ref": "refs/heads/main"}`, 0, false},
	} {
		p := filepath.Join(dir, "event.json")
		os.WriteFile(p, []byte(tt.event), 0o644)
		n, ok, err := PullRequestNumber(p)
		if err != nil || n != tt.n || ok != tt.ok {
			t.Errorf("%s: %d %v %v", tt.event, n, ok, err)
		}
	}
}
