package builtin

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/suites"
)

var opts = suites.LoadOptions{ValidateThreshold: func(e string) error { _, err := gate.Parse(e); return err }}

func TestNames(t *testing.T) {
	if got := strings.Join(Names(), ","); got != "chart-reading,customer-support,customer-support-ko,gsm8k-format,json-extraction" {
		t.Errorf("Names() = %s", got)
	}
}

// cases returns every case of a suite's split, failing on any error.
func cases(t *testing.T, s *suites.Suite, split string) []*bench.Case {
	t.Helper()
	var out []*bench.Case
	for c, err := range s.Cases(suites.CasesOptions{Split: split}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func TestEveryBuiltinValidates(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			s, err := Load(name, opts)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != name || s.Description == "" || s.Version == "" || len(s.Thresholds) == 0 || s.Scorer == nil {
				t.Errorf("incomplete suite header: %+v", s)
			}
			if err := s.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
			if h, err := s.Hash(); err != nil || len(h) != 64 {
				t.Errorf("Hash = %q, %v", h, err)
			}
			// Every case renders, and its expected answer scores as a pass.
			for _, c := range cases(t, s, suites.SplitAll) {
				if c.PromptHash == "" || len(c.Request.Messages) == 0 || c.Request.Temperature == nil || *c.Request.Temperature != 0 {
					t.Fatalf("%s: badly rendered: %+v", c.ID, c.Request)
				}
				sc, err := c.Scorer.Score(context.Background(), c, &providers.Response{Text: c.Expected})
				if err != nil || !sc.Pass || sc.Value != 1 {
					t.Fatalf("%s: the expected answer %q does not pass: %+v %v", c.ID, c.Expected, sc, err)
				}
			}
		})
	}
}

func normalise(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), " ")
}

func TestCustomerSupport(t *testing.T) {
	s, err := Load("customer-support", opts)
	if err != nil {
		t.Fatal(err)
	}
	train, test := cases(t, s, "train"), cases(t, s, "test")
	if def := cases(t, s, ""); len(def) != len(test) {
		t.Errorf("default split has %d cases, want the %d test cases", len(def), len(test))
	}
	if n := len(train) + len(test); n < 300 {
		t.Errorf("%d cases, want a few hundred", n)
	}
	if share := float64(len(train)) / float64(len(train)+len(test)); share < 0.65 || share > 0.75 {
		t.Errorf("train share %.2f, want about 0.7", share)
	}
	// No message (normalised) appears twice, in particular not in both splits.
	seen := map[string]string{}
	perLabel := map[string][2]int{}
	langs := map[string]int{}
	for i, group := range [][]*bench.Case{train, test} {
		for _, c := range group {
			key := normalise(c.Vars["text"])
			if prev, dup := seen[key]; dup {
				t.Errorf("%s repeats %s: %q", c.ID, prev, c.Vars["text"])
			}
			seen[key] = c.ID
			n := perLabel[c.Expected]
			n[i]++
			perLabel[c.Expected] = n
			langs[c.Tags["lang"]]++
		}
	}
	if len(perLabel) < 10 {
		t.Errorf("%d intents, want 10 or more", len(perLabel))
	}
	for label, n := range perLabel {
		if n[0] < 15 || n[1] < 5 {
			t.Errorf("intent %s: %d train, %d test", label, n[0], n[1])
		}
	}
	if len(langs) < 3 || langs["en"] == len(train)+len(test) {
		t.Errorf("languages: %v", langs)
	}

	// Short and chatty answers pass; a wrong or ambiguous one fails.
	c := test[0]
	other := "complaint"
	if c.Expected == other {
		other = "order_status"
	}
	for _, tt := range []struct {
		answer string
		pass   bool
	}{
		{c.Expected, true},
		{c.Expected + "\n", true},
		{"Intent: " + strings.ReplaceAll(c.Expected, "_", " ") + ".", true},
		{"The answer is " + c.Expected, true},
		{other, false},
		{c.Expected + " or " + other, false},
		{"I am not sure.", false},
	} {
		sc, err := c.Scorer.Score(context.Background(), c, &providers.Response{Text: tt.answer})
		if err != nil || sc.Pass != tt.pass {
			t.Errorf("answer %q to %s: pass %v (%s), want %v", tt.answer, c.Expected, sc.Pass, sc.Reason, tt.pass)
		}
	}

	// The fine-tuner's training file: one chat example per train case.
	var b bytes.Buffer
	if err := suites.ExportChat(context.Background(), s, "train", &b); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b.Bytes(), []byte("\n")); n != len(train) {
		t.Errorf("exported %d examples, want %d", n, len(train))
	}
}

func TestJSONExtraction(t *testing.T) {
	s, err := Load("json-extraction", opts)
	if err != nil {
		t.Fatal(err)
	}
	all := cases(t, s, suites.SplitAll)
	if len(all) < 40 || len(s.Defaults.JSONSchema) == 0 {
		t.Fatalf("%d cases, schema %d bytes", len(all), len(s.Defaults.JSONSchema))
	}
	c := all[0]
	ctx := context.Background()
	fenced := "```json\n" + c.Expected + "\n```"
	if sc, _ := c.Scorer.Score(ctx, c, &providers.Response{Text: fenced}); !sc.Pass {
		t.Errorf("fenced expected answer fails: %s", sc.Reason)
	}
	wrong := `{"customer_name": null, "email": null, "order_id": "X1", "amount": 1}`
	if sc, _ := c.Scorer.Score(ctx, c, &providers.Response{Text: wrong}); sc.Pass || sc.Value >= 1 {
		t.Errorf("wrong answer passes: %+v", sc)
	}
	if sc, _ := c.Scorer.Score(ctx, c, &providers.Response{Text: `{"name": "x"}`}); sc.Pass || !strings.Contains(sc.Reason, "json-schema:") {
		t.Errorf("schema violation not reported: %+v", sc)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "customer-support")
	os.Mkdir(local, 0o755)
	os.WriteFile(filepath.Join(local, "suite.yaml"), []byte("name: local-one\nprompt: {user: hi}\ncases: [{id: a}]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "other.yaml"), []byte("name: other\nprompt: {user: hi}\ncases: [{id: a}]\n"), 0o644)
	tests := []struct {
		arg, name, err string
	}{
		{"customer-support", "customer-support", ""},
		{"json-extraction", "json-extraction", ""},
		{local, "local-one", ""},
		{filepath.Join(dir, "other.yaml"), "other", ""},
		{"customer-suport", "", `unknown suite "customer-suport": no such file, and no built-in suite by that name; did you mean "customer-support"? (built-ins: chart-reading, customer-support, customer-support-ko, gsm8k-format, json-extraction)`},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			s, err := Resolve(tt.arg, opts)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, ErrUnknown) {
					t.Errorf("err = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil || s.Name != tt.name {
				t.Errorf("Resolve(%q) = %v, %v; want %s", tt.arg, s, err, tt.name)
			}
		})
	}
}

// TestGateThresholdErrors wires the real gate.Parse as the CLI will: a bad
// threshold is reported at its line, with the expression quoted once.
func TestGateThresholdErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	os.WriteFile(p, []byte("name: s\nprompt: {user: hi}\ncases: [{id: a}]\nthresholds: [\"pass_rate >= 0.8\", \"latncy p(95) < 2s\"]\n"), 0o644)
	_, err := suites.Load(p, opts)
	var list suites.ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("err = %v", err)
	}
	msg := list[0].Error()
	if !strings.HasPrefix(msg, p+":4: thresholds[1]: ") || strings.Count(msg, "latncy p(95) < 2s") != 1 {
		t.Errorf("message %q", msg)
	}
}

func TestChartReading(t *testing.T) {
	s, err := Load("chart-reading", opts)
	if err != nil {
		t.Fatal(err)
	}
	cs := cases(t, s, "")
	if len(cs) != 12 {
		t.Fatalf("%d cases, want 12", len(cs))
	}
	seen := map[string]bool{}
	for _, c := range cs {
		m := c.Request.Messages[len(c.Request.Messages)-1]
		if m.Role != providers.RoleUser || len(m.Images) != 1 || m.Images[0].MIMEType != "image/png" {
			t.Fatalf("%s: user message images %+v", c.ID, m.Images)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(m.Images[0].Data))
		if err != nil || cfg.Width != 320 || cfg.Height != 200 {
			t.Errorf("%s: image %dx%d, %v", c.ID, cfg.Width, cfg.Height, err)
		}
		seen[string(m.Images[0].Data)] = true
	}
	if len(seen) != 12 {
		t.Errorf("%d distinct charts, want 12", len(seen))
	}
}
