package main

import (
	"bytes"
	"io"
	"os"
	"regexp"

	"golang.org/x/term"
)

// Colour: on a terminal, verdicts and threshold marks are painted — PASS
// and ✓ green, FAIL and ✗ red. Output that is not a terminal (a pipe, a file,
// CI logs) and any output when NO_COLOR is set (https://no-color.org) or
// TERM is "dumb" carries no escape codes at all.

const (
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiReset = "\x1b[0m"
)

// terminal is implemented by writers that know whether they are a terminal;
// tests use it to stand in for one.
type terminal interface{ IsTerminal() bool }

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	switch w := w.(type) {
	case terminal:
		return w.IsTerminal()
	case *os.File:
		return term.IsTerminal(int(w.Fd()))
	}
	return false
}

// useColor reports whether output to w may carry colour.
func useColor(w io.Writer, getenv func(string) string) bool {
	return getenv("NO_COLOR") == "" && getenv("TERM") != "dumb" && isTerminal(w)
}

// painted are the places colour goes: the verdict word of the terminal
// report and the ✓/✗ mark that opens a threshold, check or gate line.
var (
	verdictRE = regexp.MustCompile(`^(Verdict: )(PASS|FAIL)\b`)
	markRE    = regexp.MustCompile(`^(\s*)(✓|✗)`)
)

// painter colours complete lines written through it and passes everything
// else on unchanged; Flush writes a trailing partial line. Not safe for
// concurrent use.
type painter struct {
	w       io.Writer
	pending []byte
}

func (p *painter) Write(b []byte) (int, error) {
	p.pending = append(p.pending, b...)
	i := bytes.LastIndexByte(p.pending, '\n')
	if i < 0 {
		return len(b), nil
	}
	var out bytes.Buffer
	for line := range bytes.Lines(p.pending[:i+1]) {
		out.Write(paintLine(line))
	}
	p.pending = append(p.pending[:0], p.pending[i+1:]...)
	if _, err := p.w.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Flush writes what is left of an unterminated last line.
func (p *painter) Flush() error {
	if len(p.pending) == 0 {
		return nil
	}
	_, err := p.w.Write(paintLine(p.pending))
	p.pending = p.pending[:0]
	return err
}

// IsTerminal keeps the terminal check true for writers behind the painter.
func (p *painter) IsTerminal() bool { return true }

func paintLine(line []byte) []byte {
	colorOf := func(word []byte) string {
		if bytes.Equal(word, []byte("FAIL")) || bytes.Equal(word, []byte("✗")) {
			return ansiRed
		}
		return ansiGreen
	}
	for _, re := range []*regexp.Regexp{verdictRE, markRE} {
		if m := re.FindSubmatchIndex(line); m != nil {
			word := line[m[4]:m[5]]
			var out []byte
			out = append(out, line[:m[4]]...)
			out = append(out, colorOf(word)...)
			out = append(out, word...)
			out = append(out, ansiReset...)
			return append(out, line[m[5]:]...)
		}
	}
	return line
}
