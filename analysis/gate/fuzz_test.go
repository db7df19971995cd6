package gate

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParse: any text parses to a valid threshold or gives a *ParseError
// whose column lies within the expression; what parses validates.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"pass_rate >= 0.85", "pass_rate{target:gpt} ci_low >= 0.8", "latency p(95) < 2s",
		`score{suite:"a b",split:test} mean >= 0.7`, "delta(pass_rate) >= -0.02", "cost sum <= $1.50",
		"errors < 1%", "pass_rat >= 1", "latency p(101) < 1", "{", "pass_rate >= 1e999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		th, err := Parse(expr)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): %v (%T) is not a *ParseError", expr, err, err)
			}
			if pe.Col < 0 || pe.Col > utf8.RuneCountInString(pe.Expr)+1 {
				t.Fatalf("Parse(%q): column %d outside %q", expr, pe.Col, pe.Expr)
			}
			_ = pe.Caret()
			return
		}
		if err := th.Validate(); err != nil {
			t.Fatalf("Parse(%q) returned a threshold that does not validate: %v", expr, err)
		}
		if th.String() == "" {
			t.Fatalf("Parse(%q): empty String()", expr)
		}
	})
}
