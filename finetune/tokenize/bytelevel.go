package tokenize

import "unicode/utf8"

// byteToRune is GPT-2's bytes_to_unicode table: printable bytes map to
// themselves, the rest to code points from U+0100 up, so every byte string
// becomes a string of visible characters (space → 'Ġ', newline → 'Ċ').
var byteToRune [256]rune

// runeToByte inverts byteToRune.
var runeToByte = map[rune]byte{}

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// byteLevelEncode maps each byte of s to its byte-level character.
func byteLevelEncode(s string) string {
	out := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = byteToRune[s[i]]
	}
	return string(out)
}

// appendByteLevelDecoded maps a token's byte-level characters back to bytes.
// A token with any character outside the table (an added token such as
// "<|im_end|>" whose characters all map, or one with a literal space) is
// appended as its own UTF-8 bytes, as the Rust ByteLevel decoder does.
func appendByteLevelDecoded(dst []byte, tok string) []byte {
	start := len(dst)
	for _, r := range tok {
		b, ok := runeToByte[r]
		if !ok {
			return append(dst[:start], tok...)
		}
		dst = append(dst, b)
	}
	return dst
}

// lossyUTF8 converts b to a string, replacing each maximal ill-formed
// subsequence with U+FFFD exactly as Rust's String::from_utf8_lossy does (a
// character cut short becomes one U+FFFD, each stray byte one U+FFFD).
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			out = append(out, b[i:i+size]...)
			i += size
			continue
		}
		// Invalid: consume the longest prefix of a well-formed sequence (at least one byte).
		n := 1
		c := b[i]
		var need int
		lo, hi := byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c == 0xE0:
			need, lo = 2, 0xA0
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			need = 2
		case c == 0xED:
			need, hi = 2, 0x9F
		case c == 0xF0:
			need, lo = 3, 0x90
		case c >= 0xF1 && c <= 0xF3:
			need = 3
		case c == 0xF4:
			need, hi = 3, 0x8F
		}
		for k := 0; k < need && i+n < len(b); k++ {
			d := b[i+n]
			if d < lo || d > hi {
				break
			}
			n++
			lo, hi = 0x80, 0xBF
		}
		out = append(out, "\uFFFD"...)
		i += n
	}
	return string(out)
}
