package safetext

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMarkdown(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text, nothing to do", "plain text, nothing to do"},
		{"ping @octocat and @org/team-a", "ping @\u200boctocat and @\u200borg/team-a"},
		{"@everyone", "@\u200beveryone"},
		{"mail bob@example.com", "mail bob@\u200bexample.com"},
		{"commit main@1a2b3c4d", "commit main@1a2b3c4d"},
		{"a lone @ sign, and 5 @ $3", "a lone @ sign, and 5 @ $3"},
		{"see https://evil.example/x?y and HTTP://A.B", "see https:\u200b//evil.example/x?y and HTTP:\u200b//A.B"},
		{"go to www.evil.example or WWW.X.Y", "go to www\u200b.evil.example or WWW\u200b.X.Y"},
		{"awww.no", "awww.no"},
		{"ratio 3:2 and 10:30", "ratio 3:2 and 10:30"},
		{"\u202eevil\u202c", "\ufffdevil\ufffd"},
		{"한국어 @사용자", "한국어 @\u200b사용자"},
	} {
		if got := Markdown(tc.in); got != tc.want {
			t.Errorf("Markdown(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBidi(t *testing.T) {
	all := "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
	if got := Bidi("x" + all + "y"); got != "x"+strings.Repeat("\ufffd", 12)+"y" {
		t.Errorf("Bidi left controls: %q", got)
	}
	// RLO makes "evil" display as "live": after Bidi it cannot.
	if got := Bidi("\u202elive"); strings.ContainsRune(got, '\u202e') {
		t.Errorf("Bidi(%q) = %q", "\u202elive", got)
	}
	for _, s := range []string{"", "ascii", "مرحبا", "עברית", "emoji ✓ — dash"} {
		if Bidi(s) != s {
			t.Errorf("Bidi changed %q", s)
		}
	}
}

func TestTerminal(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain\n\tindented ✓ 한국어", "plain\n\tindented ✓ 한국어"},
		{"red \x1b[31mtext\x1b[0m", "red \ufffd[31mtext\ufffd[0m"},
		{"\u202eevil", "\ufffdevil"},
		{"bell\a and \u0085", "bell\ufffd and \ufffd"},
		{"bad \xff byte", "bad \ufffd byte"},
	} {
		if got := Terminal(tc.in); got != tc.want {
			t.Errorf("Terminal(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestBidiWriter: a document written in pieces split at every byte comes
// out as Bidi makes it, with other bytes (invalid UTF-8 too) unchanged.
func TestBidiWriter(t *testing.T) {
	docs := []string{
		"",
		"plain ascii",
		"\u202eevil\u202c and \u2066iso\u2069 \u200e\u200f \u061c",
		"한국어 — “quotes” … ‘x’ \u2028 ؀ \xe2\x80 \xd8 \xff end \xe2",
		"\u202e",
		"\xe2\x80\xae",
		"tail \xe2\x81",
	}
	for _, doc := range docs {
		want := bidiBytesOnly(doc)
		if utf8.ValidString(doc) && want != Bidi(doc) {
			t.Fatalf("%q: reference %q differs from Bidi %q", doc, want, Bidi(doc))
		}
		for split := 0; split <= len(doc); split++ {
			for _, step := range []int{1, 2, 3, len(doc) + 1} {
				var out bytes.Buffer
				w := NewBidiWriter(&out)
				w.Write([]byte(doc[:split]))
				for rest := doc[split:]; len(rest) > 0; {
					k := min(step, len(rest))
					if n, err := w.Write([]byte(rest[:k])); n != k || err != nil {
						t.Fatalf("Write = %d, %v", n, err)
					}
					rest = rest[k:]
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				if out.String() != want {
					t.Fatalf("%q split at %d step %d: %q, want %q", doc, split, step, out.String(), want)
				}
			}
		}
	}
}

// bidiBytesOnly replaces the bidi controls of s, keeping invalid bytes.
func bidiBytesOnly(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError && IsBidi(r) {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
