package safetext

import (
	"strings"
	"testing"
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
