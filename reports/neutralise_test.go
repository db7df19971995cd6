package reports

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/analysis/compare"
)

// Model output in a regression row and a reason reaches the PR comment, the
// Markdown report and the terminal table without pinging anyone, linking
// anywhere or reordering characters.
func TestModelOutputIsNeutralised(t *testing.T) {
	hostile := "cc @octocat @org/security, see https://evil.example/x and www.evil.example, \u202eevil\u202c"
	in := &Input{Meta: Meta{Title: "t"}, Regressions: []compare.CaseChange{{
		Suite: "s", CaseID: "c1", A: "base", B: "run", Target: "openai:m", APassed: 1, ARuns: 1, BRuns: 1,
		Reason: hostile, Output: hostile,
	}}}
	render := map[string]func(*bytes.Buffer) error{
		"pr":       func(b *bytes.Buffer) error { return PR(b, in, PROptions{}) },
		"markdown": func(b *bytes.Buffer) error { return Markdown(b, in) },
		"text":     func(b *bytes.Buffer) error { return Text(b, in) },
	}
	for name, fn := range render {
		var b bytes.Buffer
		if err := fn(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, "octocat") {
			t.Fatalf("%s: the regression is not shown:\n%s", name, out)
		}
		for _, bad := range []string{"\u202e", "\u202c"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: bidi control %q survived", name, bad)
			}
		}
		if name == "text" {
			continue // a terminal neither mentions nor autolinks
		}
		// Inside a code span GitHub neither mentions nor links: check the rest.
		prose := regexp.MustCompile("`[^`]*`").ReplaceAllString(out, "")
		if !strings.Contains(prose, "octocat") {
			t.Fatalf("%s: no reason outside code spans:\n%s", name, out)
		}
		for _, bad := range []string{"@octocat", "@org/security", "https://", "www.evil"} {
			if strings.Contains(prose, bad) {
				t.Errorf("%s: %q survived:\n%s", name, bad, out)
			}
		}
	}
}

// The HTML page and junit.xml carry no bidi control from model output,
// reasons or case ids, wherever in the document it would land.
func TestDocumentsCarryNoBidiControls(t *testing.T) {
	rs := sampleResults()
	rs[0].Output, rs[1].Output = "\u202eevil\u202c", "\u202eevil\u202c"
	rs[1].Reason = "\u2066reason\u2069"
	rs[1].CaseID = "case-\u200f1"
	render := map[string]func(*bytes.Buffer) error{
		"html":  func(b *bytes.Buffer) error { return HTML(b, sampleInput(), seqOf(rs), HTMLOptions{}) },
		"junit": func(b *bytes.Buffer) error { return JUnit(b, sampleInput(), seqOf(rs)) },
	}
	for name, fn := range render {
		var b bytes.Buffer
		if err := fn(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, "evil") || !strings.Contains(out, "reason") {
			t.Fatalf("%s: the hostile text is not shown", name)
		}
		for _, bad := range []string{"\u202e", "\u202c", "\u2066", "\u2069", "\u200f"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: bidi control %q survived", name, bad)
			}
		}
	}
}
