// Package utf8x locates invalid UTF-8 in input files, so a Latin-1 (or
// otherwise mis-encoded) suite, dataset or config file is an error naming
// line and column instead of text silently turned into U+FFFD. It does not
// convert encodings.
package utf8x

import (
	"fmt"
	"unicode/utf8"
)

// Invalid describes the first invalid byte of some text.
type Invalid struct {
	Line   int  // 1-based, counting '\n'
	Column int  // 1-based, in bytes
	Offset int  // 0-based byte offset
	Byte   byte // the offending byte
}

// Error is the message for the problem, without its location:
// "invalid UTF-8: byte 0xE9 at column 10 (is the file Latin-1? save it as UTF-8)".
func (i Invalid) Error() string {
	return fmt.Sprintf("invalid UTF-8: byte 0x%02X at column %d (is the file Latin-1? save it as UTF-8)", i.Byte, i.Column)
}

// Find returns the first invalid byte of data; ok is false when data is
// valid UTF-8.
func Find(data []byte) (inv Invalid, ok bool) {
	if utf8.Valid(data) {
		return Invalid{}, false
	}
	line, start := 1, 0
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return Invalid{Line: line, Column: i - start + 1, Offset: i, Byte: data[i]}, true
		}
		if data[i] == '\n' {
			line, start = line+1, i+1
		}
		i += n
	}
	return Invalid{}, false
}
