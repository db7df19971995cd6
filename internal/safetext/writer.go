package safetext

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// BidiWriter writes what it is given to an underlying writer with every
// bidirectional control replaced by U+FFFD, as Bidi does, however the
// text is split across Write calls; every other byte, invalid UTF-8
// included, passes unchanged. It is for whole documents (an HTML page, a
// JUnit file) where no bidi control belongs anywhere. Flush writes the
// one or two bytes held back because they could begin a control.
type BidiWriter struct {
	w    io.Writer
	held []byte // a proper prefix of a bidi control's encoding
	out  []byte
}

// NewBidiWriter returns a BidiWriter writing to w.
func NewBidiWriter(w io.Writer) *BidiWriter { return &BidiWriter{w: w} }

// Write writes p, returning len(p) when the underlying write succeeds.
func (b *BidiWriter) Write(p []byte) (int, error) {
	data := p
	if len(b.held) > 0 {
		data = append(b.held, p...)
		b.held = nil
	}
	keep := heldPrefix(data)
	body := data[:len(data)-keep]
	if keep > 0 {
		b.held = append([]byte(nil), data[len(data)-keep:]...)
	}
	// A bidi control's encoding starts with D8 (U+061C) or E2 (the rest).
	if bytes.IndexByte(body, 0xe2) >= 0 || bytes.IndexByte(body, 0xd8) >= 0 {
		body = b.replace(body)
	}
	if _, err := b.w.Write(body); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes the bytes held back.
func (b *BidiWriter) Flush() error {
	if len(b.held) == 0 {
		return nil
	}
	_, err := b.w.Write(b.held)
	b.held = nil
	return err
}

func (b *BidiWriter) replace(s []byte) []byte {
	b.out = b.out[:0]
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		if r != utf8.RuneError && IsBidi(r) {
			b.out = utf8.AppendRune(b.out, utf8.RuneError)
		} else {
			b.out = append(b.out, s[i:i+n]...)
		}
		i += n
	}
	return b.out
}

// heldPrefix returns how many trailing bytes of s are a proper prefix of
// a bidi control's encoding (D8, E2, E2 80, E2 81): they wait for the next
// write to be judged.
func heldPrefix(s []byte) int {
	n := len(s)
	switch {
	case n >= 2 && s[n-2] == 0xe2 && (s[n-1] == 0x80 || s[n-1] == 0x81):
		return 2
	case n >= 1 && (s[n-1] == 0xd8 || s[n-1] == 0xe2):
		return 1
	}
	return 0
}
