package reports

import (
	"strings"
	"unicode/utf8"

	"github.com/yardstick-eval/yardstick/internal/safetext"
)

// oneLine makes s safe for a single-line terminal or table cell: newlines
// become "⏎", other control characters (ANSI escape sequences and bidi
// controls included, see safetext) and invalid UTF-8 become U+FFFD, so untrusted text can neither break a row nor
// drive the terminal.
func oneLine(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue
			}
			b.WriteString("⏎")
		case r == '\n':
			b.WriteString("⏎")
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || safetext.IsBidi(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isPlain reports whether s is valid UTF-8 without control characters.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c >= 0x80 {
			if c < 0x80 {
				return false
			}
			// Non-ASCII: check the slow way.
			for _, r := range s[i:] {
				if r == utf8.RuneError || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || r < 0x20 || r == 0x7f || safetext.IsBidi(r) {
					return false
				}
			}
			return true
		}
	}
	return true
}

// mdEscaper backslash-escapes what lets text become Markdown or HTML
// structure inside a GitHub table cell or list item: pipes (GitHub's "\|"
// escape in tables), HTML and autolinks (<), entities (&), code spans,
// emphasis, math, and links and images (by breaking "](").
// CommonMark lets any ASCII punctuation be backslash-escaped.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`,
	"|", `\|`,
	"`", "\\`",
	"*", `\*`,
	"<", `\<`,
	">", `\>`,
	"&", `\&`,
	"$", `\$`,
	"](", `\](`,
)

// mdText escapes untrusted text for a Markdown table cell or the middle of a
// list item: one line, Markdown and HTML syntax neutralised, @mentions and
// autolinks broken (safetext.Markdown).
func mdText(s string) string {
	return safetext.Markdown(mdEscaper.Replace(oneLine(s)))
}

// mdCode renders untrusted text as an inline code span on one line: literal,
// never Markdown or HTML. The fence is one backtick longer than the longest
// backtick run inside. In a table cell (cell true) pipes are escaped: GitHub
// reads "\|" inside code spans in tables as a literal pipe, while elsewhere
// it would show the backslash.
func mdCode(s string, cell bool) string {
	s = oneLine(s)
	if s == "" {
		return ""
	}
	if cell && strings.Contains(s, `\|`) {
		// GitHub splits table rows before parsing code spans, treating every
		// backslash pair as an escape: a backslash before a pipe cannot be
		// shown literally inside a code span in a table. Escaped text can.
		return mdText(s)
	}
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	// A code span cannot start or end with a backtick next to its fence, and
	// CommonMark strips one leading and trailing space when both are present.
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ")) {
		s = " " + s + " "
	}
	return fence + s + fence
}
