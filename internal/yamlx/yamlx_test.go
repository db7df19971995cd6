package yamlx

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Each broken file names the line where the problem is.
func TestSyntaxErrorLines(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"tab indentation", "name: x\ncases:\n\t- id: a\n", 3, "cannot start any token"},
		{"tab inside a block scalar", "name: x\nuser: |\n  ok\n\tbad\n", 4, "tab character"},
		{"unclosed double quote", "a: 1\nb: \"x\ny: 2\n", 2, "end of stream"},
		{"unclosed single quote", "name: x\nprompt:\n  user: 'hello\n", 3, "end of stream"},
		{"unclosed flow list", "name: x\ncases: [a, b\nfoo: 1\n", 2, "',' or ']'"},
		{"unclosed flow mapping", "name: x\nprompt: {\n  user: hi,\n  system: x\n  bad\n", 4, "',' or '}'"}, // no comma after system: x
		{"bad dedent, top level", "name: x\nprompt:\n  user: hi\n  system: x\n bad: 1\n", 5, "expected key"},
		{"list item in a mapping", "name: x\nprompt:\n  user: hi\n  system: x\n  - a\n", 5, "expected key"},
		{"bad indent in a list item", "name: x\ncases:\n  - id: a\n    vars: {x: 1}\n  - id: b\n   vars: {x: 2}\n", 6, "expected"},
		{"bad indent, nested mapping", "cases:\n  - id: a\n    vars:\n      x: 1\n     y: 2\n", 5, "expected key"},
		{"key without colon", "name: x\nprompt\ncases: []\n", 2, "':'"},
		{"mapping value in a plain scalar", "name: x\nx: 1\ny: 2\nuser: a: b\n", 4, "mapping values"},
		{"unknown escape", "name: x\nx: 1\ny: 2\nuser: \"a\\qb\"\n", 4, "escape"},
		{"latin-1 byte", "name: x\nx: 1\nuser: caf\xe9\nz: 2\n", 3, "invalid UTF-8: byte 0xE9 at column 10"},
		{"control character", "name: x\nx: 1\nuser: \"a\x01b\"\n", 3, "control characters"},
		{"unknown anchor", "name: x\nx: 1\ny: *nope\n", 3, "unknown anchor"},
		{"error in a second document", "name: x\n---\na: [\n", 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tc.in), Limits{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse: %v, want an *Error", err)
			}
			if e.Line != tc.line || !strings.Contains(e.Error(), tc.msg) || !strings.HasPrefix(e.Error(), fmt.Sprintf("s.yaml:%d: ", tc.line)) {
				t.Errorf("got %q (line %d), want line %d and %q", e, e.Line, tc.line, tc.msg)
			}
		})
	}
}

func TestOneDocument(t *testing.T) {
	for _, in := range []string{"name: x\n---\nname: y\n", "---\nname: x\n---\n", "name: x\n...\n---\nname: y\n"} {
		_, err := Parse("s.yaml", []byte(in), Limits{})
		if err == nil || !strings.Contains(err.Error(), "second YAML document") {
			t.Errorf("%q: %v, want a second-document error", in, err)
		}
	}
	for _, in := range []string{"---\nname: x\n", "name: x\n...\n", "# only a comment\n", ""} {
		if _, err := Parse("s.yaml", []byte(in), Limits{}); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
	if n, err := Parse("s.yaml", []byte("name: x\n---\nname: y\n"), Limits{}); n != nil || !strings.HasPrefix(err.Error(), "s.yaml:2: ") {
		t.Errorf("second document error %v does not name line 2", err)
	}
}

// laughs is a billion-laughs document: levels anchors, each a list of
// fanout aliases to the one before.
func laughs(levels, fanout int) string {
	var b strings.Builder
	b.WriteString("l0: &l0 \"lol\"\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := range fanout {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestAliasLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		lim    Limits
		refuse bool
		line   int
	}{
		{"billion laughs", laughs(9, 9), Limits{}, true, 0},
		{"9^7", laughs(7, 9), Limits{}, true, 0},
		{"small fan-out", laughs(3, 9), Limits{}, false, 0}, // 9+81+729 = 819 nodes
		{"over a tight node limit", laughs(3, 9), Limits{MaxAliasNodes: 500}, true, 4},
		{"big scalar aliased", "a: &a \"" + strings.Repeat("x", 300<<10) + "\"\nb: [*a, *a, *a, *a]\n", Limits{}, true, 2},
		{"ordinary reuse", "d: &d {temperature: 0, max_tokens: 8}\nx: *d\ny: *d\n", Limits{}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tc.in), tc.lim)
			if !tc.refuse {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "alias *") {
				t.Fatalf("Parse: %v, want an alias-limit *Error", err)
			}
			if tc.line > 0 && e.Line != tc.line {
				t.Errorf("refused at line %d, want %d: %v", e.Line, tc.line, err)
			}
		})
	}
}

func TestMaxBytes(t *testing.T) {
	_, err := Parse("s.yaml", []byte("a: "+strings.Repeat("x", 100)+"\n"), Limits{MaxBytes: 50})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "50-byte limit") {
		t.Errorf("Parse over MaxBytes: %v", err)
	}
}

func TestMaxItems(t *testing.T) {
	flood := "x: [" + strings.Repeat("a,", 200_000) + "a]\n"
	_, err := Parse("s.yaml", []byte(flood), Limits{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "over the limit of 100000") {
		t.Errorf("Parse of 200,000 flow items: %v", err)
	}
	// Long text is not items: a 5 MB scalar on one line is fine.
	if _, err := Parse("s.yaml", []byte("x: "+strings.Repeat("word ", 1_000_000)+"\n"), Limits{}); err != nil {
		t.Errorf("Parse of one long scalar: %v", err)
	}
}

func BenchmarkAliasBombRefused(b *testing.B) {
	data := []byte(laughs(9, 9))
	for b.Loop() {
		if _, err := Parse("s.yaml", data, Limits{}); err == nil {
			b.Fatal("accepted")
		}
	}
}
