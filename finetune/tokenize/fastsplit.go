package tokenize

import (
	"unicode"
	"unicode/utf8"
)

// Hand-written scanners for the two pre-tokenizer regexes nearly every
// byte-level BPE model uses. They return the same matches as the regexes
// under backtracking (leftmost-first) semantics — checked against regexp2 by
// TestFastSplitMatchesRegex and against Python by the parity fixtures — and
// run an order of magnitude faster. Other patterns go through regexp2.

// llama3Pattern is the Llama 3 (tiktoken cl100k-style) split regex.
const llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// fastMatcherFor returns a scanner for a known pattern, or nil.
func fastMatcherFor(pattern string) matcher {
	switch pattern {
	case gpt2Pattern:
		return scanMatcher(scanGPT2)
	case llama3Pattern:
		return scanMatcher(scanLlama3)
	}
	return nil
}

// scanMatcher adapts a function returning the end of the match starting at
// rs[i] (always > i: both patterns match at every position).
type scanMatcher func(rs []rune, i int) int

func (f scanMatcher) spans(s string) []span {
	if s == "" {
		return nil
	}
	rs := []rune(s)
	out := make([]span, 0, len(rs)/3+1)
	off := 0
	for i := 0; i < len(rs); {
		j := f(rs, i)
		n := 0
		for _, r := range rs[i:j] {
			n += utf8.RuneLen(r)
		}
		out = append(out, span{off, off + n, true})
		off += n
		i = j
	}
	return out
}

func isL(r rune) bool { return unicode.IsLetter(r) }
func isN(r rune) bool { return unicode.IsNumber(r) }
func isS(r rune) bool { return unicode.IsSpace(r) }

// isP is [^\s\p{L}\p{N}].
func isP(r rune) bool { return !isS(r) && !isL(r) && !isN(r) }

func run(rs []rune, i int, pred func(rune) bool) int {
	for i < len(rs) && pred(rs[i]) {
		i++
	}
	return i
}

// whitespace handles `\s+(?!\S)|\s+` at a whitespace rune.
func whitespace(rs []rune, i int) int {
	k := run(rs, i, isS)
	if k == len(rs) || k-i == 1 {
		return k
	}
	return k - 1 // leave the last space to prefix the next word
}

// contraction matches 's 't 're 've 'm 'll 'd after an apostrophe at rs[i].
func contraction(rs []rune, i int, fold bool) int {
	if rs[i] != '\'' || i+1 >= len(rs) {
		return -1
	}
	lower := func(r rune) rune {
		if fold {
			return unicode.ToLower(r)
		}
		return r
	}
	switch lower(rs[i+1]) {
	case 's', 't', 'm', 'd':
		return i + 2
	case 'r', 'v', 'l':
		if i+2 < len(rs) {
			a, b := lower(rs[i+1]), lower(rs[i+2])
			if (a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l') {
				return i + 3
			}
		}
	}
	return -1
}

// scanGPT2 implements `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
func scanGPT2(rs []rune, i int) int {
	if j := contraction(rs, i, false); j > 0 {
		return j
	}
	j := i
	if rs[i] == ' ' && i+1 < len(rs) {
		j = i + 1
	}
	for _, class := range []func(rune) bool{isL, isN, isP} {
		if class(rs[j]) {
			return run(rs, j, class)
		}
	}
	if isS(rs[i]) {
		return whitespace(rs, i)
	}
	return i + 1 // unreachable: every rune is \s, \p{L}, \p{N} or neither
}

func isCRLF(r rune) bool { return r == '\r' || r == '\n' }

// scanLlama3 implements llama3Pattern.
func scanLlama3(rs []rune, i int) int {
	if j := contraction(rs, i, true); j > 0 {
		return j
	}
	r := rs[i]
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if !isCRLF(r) && !isL(r) && !isN(r) && i+1 < len(rs) && isL(rs[i+1]) {
		return run(rs, i+1, isL)
	}
	if isL(r) {
		return run(rs, i, isL)
	}
	// \p{N}{1,3}
	if isN(r) {
		j := i + 1
		for j < len(rs) && j < i+3 && isN(rs[j]) {
			j++
		}
		return j
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	j := i
	if r == ' ' && i+1 < len(rs) {
		j = i + 1
	}
	if isP(rs[j]) {
		return run(rs, run(rs, j, isP), isCRLF)
	}
	// \s*[\r\n]+ : up to the last \r or \n of the whitespace run.
	k := run(rs, i, isS)
	for p := k - 1; p >= i; p-- {
		if isCRLF(rs[p]) {
			return p + 1
		}
	}
	return whitespace(rs, i)
}
