// Package safetext neutralises untrusted text — model output, error
// messages echoed from servers, case ids from a pull request — where it
// would otherwise act rather than be read:
//
//   - Bidi replaces the Unicode bidirectional controls (U+202A–U+202E,
//     U+2066–U+2069, U+200E, U+200F, U+061C) with U+FFFD, so "evil" written
//     with a right-to-left override cannot display as "live" in a terminal,
//     a Markdown comment or a code span;
//   - Terminal does that and also replaces the other control characters a
//     terminal would obey (ANSI escape sequences, C1 controls), keeping lines;
//   - Markdown also breaks GitHub @mentions (which would notify people and
//     teams from a PR comment) and autolinks (bare http://, https:// and
//     www. URLs, and e-mail addresses) by inserting a zero-width space
//     (U+200B): the text reads the same and nothing links or pings;
//   - BidiWriter does what Bidi does to a whole document as it streams (the
//     HTML report, junit.xml).
//
// Neither function escapes Markdown or HTML syntax, strips other control
// characters or limits length: the reports package's escapers do that and
// call these at their escape points.
package safetext

import (
	"strings"
	"unicode/utf8"
)

// zwsp is inserted to break mentions and autolinks.
const zwsp = "\u200b"

// IsBidi reports whether r is a bidirectional formatting character.
func IsBidi(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// Bidi returns s with every bidirectional control replaced by U+FFFD.
func Bidi(s string) string {
	if !hasBidi(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if IsBidi(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hasBidi(s string) bool {
	return strings.ContainsAny(s, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
}

// Terminal returns s safe to print on a terminal, keeping its lines:
// control characters other than newline and tab (ANSI escape sequences
// included), C1 controls, bidi controls and invalid UTF-8 become U+FFFD.
func Terminal(s string) string {
	clean := utf8.ValidString(s)
	for _, r := range s {
		if isTermControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if isTermControl(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isTermControl(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return true
	}
	return IsBidi(r)
}

// Markdown returns s (already escaped for Markdown, or plain text) with
// bidi controls replaced, and @mentions and autolinks broken by a
// zero-width space: "@octocat" → "@\u200boctocat", "https://x" →
// "https:\u200b//x", "www.x" → "www\u200b.x", "a@b.c" → "a@\u200bb.c".
func Markdown(s string) string {
	s = Bidi(s)
	if !strings.ContainsAny(s, "@:.") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		b.WriteByte(c)
		switch {
		case c == '@' && i+1 < len(s) && isWordByte(s[i+1]) && (i == 0 || !isWordByte(s[i-1]) || isDomain(s[i+1:])):
			// A mention (@user, @org/team), or an e-mail address (word@host.tld);
			// not ref@sha.
			b.WriteString(zwsp)
		case c == ':' && strings.HasPrefix(s[i+1:], "//"):
			// Any scheme: http://, https://, ftp://, and the like.
			b.WriteString(zwsp)
		case (c == 'w' || c == 'W') && (i == 0 || !isWordByte(s[i-1])) && len(s) >= i+4 && strings.EqualFold(s[i:i+4], "www."):
			b.WriteString(s[i+1 : i+3])
			b.WriteString(zwsp)
			i += 2
		}
	}
	return b.String()
}

// isDomain reports whether s starts with a dotted host name: word bytes,
// a dot, a word byte.
func isDomain(s string) bool {
	i := 0
	for i < len(s) && isWordByte(s[i]) {
		i++
	}
	return i > 0 && i+1 < len(s) && s[i] == '.' && isWordByte(s[i+1])
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
