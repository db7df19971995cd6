package reports

import (
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal that is also safe
// inside an HTML <script> element: <, > and & are written as \u003c, \u003e
// and \u0026 (so "</script>" and "<!--" cannot appear), U+2028 and U+2029 as
// escapes, control characters escaped, and invalid UTF-8 replaced by U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONFloat appends x rounded to prec decimals, or null when x is not
// finite.
func appendJSONFloat(dst []byte, x float64, prec int) []byte {
	if bad(x) {
		return append(dst, "null"...)
	}
	b := strconv.AppendFloat(dst, x, 'f', prec, 64)
	// Trim trailing zeros and a trailing dot: 0.500 -> 0.5, 1.000 -> 1.
	if prec > 0 {
		j := len(b)
		for j > len(dst) && b[j-1] == '0' {
			j--
		}
		if j > len(dst) && b[j-1] == '.' {
			j--
		}
		b = b[:j]
	}
	return b
}

// truncateText cuts s to at most n bytes on a rune boundary and says how
// much was dropped. n < 0 keeps everything.
func truncateText(s string, n int) string {
	if n < 0 || len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "\n… [" + strconv.Itoa(len(s)-cut) + " more bytes not shown]"
}
