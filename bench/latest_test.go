package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLatestResults(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string // case id + ":" + output, or an error text
	}{
		{"no repeats", `{"suite":"s","case_id":"a","target":"t","output":"1"}
{"suite":"s","case_id":"b","target":"t","output":"2"}
`, []string{"a:1", "b:2"}},
		{"retried key: the last record wins, in its place", `{"suite":"s","case_id":"a","target":"t","error":{"kind":"unavailable","message":"x"}}
{"suite":"s","case_id":"b","target":"t","output":"2"}
{"suite":"s","case_id":"a","target":"t","output":"1"}
`, []string{"b:2", "a:1"}},
		{"repeat index is part of the key", `{"suite":"s","case_id":"a","target":"t","output":"r0"}
{"suite":"s","case_id":"a","target":"t","repeat":1,"output":"r1"}
`, []string{"a:r0", "a:r1"}},
		{"bad lines are still yielded", `{"suite":"s","case_id":"a","target":"t","output":"old"}
nope
{"suite":"s","case_id":"a","target":"t","output":"new"}
`, []string{"r.jsonl:2: invalid JSON", "a:new"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for r, err := range LatestResults(strings.NewReader(tc.in), "r.jsonl") {
				if err != nil {
					got = append(got, err.Error())
					continue
				}
				got = append(got, r.CaseID+":"+r.Output)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("item %d: %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestOpenResumeFailedKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.jsonl")
	writeText(t, path, `{"suite":"s","case_id":"a","target":"t","error":{"kind":"unavailable","message":"x"}}
{"suite":"s","case_id":"b","target":"t","error":{"kind":"timeout","message":"x"}}
{"suite":"s","case_id":"a","target":"t","output":"retried"}
{"suite":"s","case_id":"c","target":"t","output":"ok"}
`)
	res, err := OpenResume(path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.File.Close()
	if len(res.Done) != 3 || len(res.Failed) != 1 {
		t.Fatalf("Done %d Failed %v, want 3 keys and only b failed", len(res.Done), res.Failed)
	}
	if _, ok := res.Failed[Key{Suite: "s", CaseID: "b", Target: "t"}]; !ok {
		t.Errorf("b (last record an error) not in Failed: %v", res.Failed)
	}
}

func writeText(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
