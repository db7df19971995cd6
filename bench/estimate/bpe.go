package estimate

import (
	"fmt"
	"sync"
	"unicode"
	"unicode/utf8"

	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// OpenAI encodings this package counts exactly. The BPE rank files are the ones
// embedded in github.com/pkoukk/tiktoken-go-loader (byte-identical to OpenAI's
// published files: their SHA-256 match the hashes pinned by Python tiktoken),
// so nothing is ever fetched from the network.
const (
	O200KBase  = "o200k_base"  // gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1/o3/o4 families
	CL100KBase = "cl100k_base" // gpt-4, gpt-4-turbo, gpt-3.5-turbo
)

// bpe counts tokens of one OpenAI encoding. It reimplements tiktoken's
// pre-tokenizer (the encoding's split regex, hand-coded) and its byte-pair
// merge, but only counts: github.com/pkoukk/tiktoken-go's EncodeOrdinary gives
// the same counts (checked by the tests, including a fuzz test) but spends ~90%
// of its time in a backtracking regex engine and runs at 1–2 MB/s (this
// counter: 45–60 MB/s, see BenchmarkCount), too slow for 100k-case suites.
// Immutable after load, so safe for concurrent use.
type bpe struct {
	name  string
	o200k bool           // o200k_base split rules; else cl100k_base
	ranks map[string]int // token bytes → rank (merge priority)
}

var (
	bpeMu    sync.Mutex
	bpeCache = map[string]*bpe{}
)

// loadBPE returns the encoding called name, loading its embedded rank file on
// first use (~0.2 s and ~35 MB allocated for o200k_base, half that for
// cl100k_base) and sharing it after.
func loadBPE(name string) (*bpe, error) {
	bpeMu.Lock()
	defer bpeMu.Unlock()
	if b, ok := bpeCache[name]; ok {
		return b, nil
	}
	if name != O200KBase && name != CL100KBase {
		return nil, fmt.Errorf("estimate: unknown encoding %q", name)
	}
	// The offline loader reads the embedded file named by the path's base name.
	ranks, err := tiktoken_loader.NewOfflineLoader().LoadTiktokenBpe(name + ".tiktoken")
	if err != nil {
		return nil, fmt.Errorf("estimate: load %s ranks: %w", name, err)
	}
	if len(ranks) == 0 {
		return nil, fmt.Errorf("estimate: load %s ranks: empty", name)
	}
	b := &bpe{name: name, o200k: name == O200KBase, ranks: ranks}
	bpeCache[name] = b
	return b, nil
}

// count returns the number of tokens tiktoken's encode_ordinary gives for s:
// text that looks like a special token ("<|endoftext|>") is counted as plain
// text, as the chat APIs do for message content. Invalid UTF-8 is counted as
// tiktoken-go counts it: each bad byte becomes U+FFFD.
func (b *bpe) count(s string) int {
	if !utf8.ValidString(s) {
		s = string([]rune(s))
	}
	n := 0
	for i := 0; i < len(s); {
		var end int
		if b.o200k {
			end = splitO200K(s, i)
		} else {
			end = splitCL100K(s, i)
		}
		if end <= i { // unreachable: every rune starts some alternative
			_, w := runeAt(s, i)
			end = i + w
		}
		n += b.countPiece(s[i:end])
		i = end
	}
	return n
}

// countPiece counts the tokens of one pre-tokenized piece: 1 when the piece is
// itself a token (most words), else the number of parts left by tiktoken's
// byte-pair merge.
func (b *bpe) countPiece(p string) int {
	if len(p) <= 1 {
		return len(p) // every single byte is a token
	}
	if _, ok := b.ranks[p]; ok {
		return 1
	}
	return mergeCount(p, b.ranks)
}

const noRank = int(^uint(0) >> 1) // tiktoken's Rank::MAX: no such pair

// mergeCount is tiktoken's _byte_pair_merge (Rust, v0.5+), returning only the
// number of parts. Repeatedly merge the adjacent pair with the lowest rank
// (leftmost on ties) until no adjacent pair is a token. O(len²) per piece, as
// in tiktoken; pieces are short (the split regex cuts text at word, number
// and punctuation boundaries).
func mergeCount(p string, ranks map[string]int) int {
	type part struct{ start, rank int }
	var buf [64]part
	var parts []part
	if len(p)+1 <= len(buf) {
		parts = buf[:0]
	} else {
		parts = make([]part, 0, len(p)+1)
	}
	minRank, minIdx := noRank, -1
	for i := 0; i < len(p)-1; i++ {
		r, ok := ranks[p[i:i+2]]
		if !ok {
			r = noRank
		}
		if r < minRank {
			minRank, minIdx = r, i
		}
		parts = append(parts, part{i, r})
	}
	parts = append(parts, part{len(p) - 1, noRank}, part{len(p), noRank})
	rankAt := func(i int) int { // rank of the bytes spanned by parts i..i+2
		if i+3 < len(parts) {
			if r, ok := ranks[p[parts[i].start:parts[i+3].start]]; ok {
				return r
			}
		}
		return noRank
	}
	for minRank != noRank {
		i := minIdx
		if i > 0 {
			parts[i-1].rank = rankAt(i - 1)
		}
		parts[i].rank = rankAt(i)
		parts = append(parts[:i+1], parts[i+2:]...)
		minRank, minIdx = noRank, -1
		for j := 0; j < len(parts)-1; j++ {
			if parts[j].rank < minRank {
				minRank, minIdx = parts[j].rank, j
			}
		}
	}
	return len(parts) - 1
}

// Character classes of the split regexes. \s is unicode.IsSpace in both the
// regexp2 engine tiktoken-go uses and Rust regex's White_Space (same set).

func isL(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r)
}

func isN(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9'
	}
	return unicode.IsNumber(r)
}

func isS(r rune) bool { return unicode.IsSpace(r) }

func isNL(r rune) bool { return r == '\r' || r == '\n' }

// isPrefix is [^\r\n\p{L}\p{N}]: the optional character before a word.
func isPrefix(r rune) bool { return !isNL(r) && !isL(r) && !isN(r) }

// isPunct is [^\s\p{L}\p{N}].
func isPunct(r rune) bool { return !isS(r) && !isL(r) && !isN(r) }

// isUpper is o200k's [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}].
func isUpper(r rune) bool {
	if r < utf8.RuneSelf {
		return 'A' <= r && r <= 'Z'
	}
	return unicode.In(r, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M)
}

// isLower is o200k's [\p{Ll}\p{Lm}\p{Lo}\p{M}].
func isLower(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z'
	}
	return unicode.In(r, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M)
}

func runeAt(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// span returns the end of the run of runes in class from i.
func span(s string, i int, class func(rune) bool) int {
	for i < len(s) {
		r, w := runeAt(s, i)
		if !class(r) {
			break
		}
		i += w
	}
	return i
}

// contraction returns the length of (?i:'s|'t|'re|'ve|'m|'ll|'d) at i, or 0.
// Case folding is ASCII only, as in tiktoken-go's regexp2 (no other rune
// lower-cases to these letters; the counts for 'ſ' (U+017F) and 'K' (U+212A)
// agree with Python tiktoken's).
func contraction(s string, i int) int {
	if i >= len(s) || s[i] != '\'' {
		return 0
	}
	lower := func(k int) byte {
		if i+k >= len(s) {
			return 0
		}
		c := s[i+k]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		return c
	}
	switch c1 := lower(1); c1 {
	case 's', 't', 'm', 'd':
		return 2
	case 'r', 'v':
		if lower(2) == 'e' {
			return 3
		}
	case 'l':
		if lower(2) == 'l' {
			return 3
		}
	}
	return 0
}

// splitSpace handles the alternatives both encodings end with, at a
// whitespace rune: \s*[\r\n]+ | \s+(?!\S) | \s+.
func splitSpace(s string, i int) int {
	end, afterNL, lastStart := i, -1, i
	for end < len(s) {
		r, w := runeAt(s, end)
		if !isS(r) {
			break
		}
		if isNL(r) {
			afterNL = end + w
		}
		lastStart = end
		end += w
	}
	switch {
	case afterNL >= 0: // \s*[\r\n]+: up to the run's last newline
		return afterNL
	case end == len(s) || lastStart == i: // \s+(?!\S) at the end, or a single space: \s+
		return end
	default: // \s+(?!\S): leave the last space to prefix the next word
		return lastStart
	}
}

// splitCL100K returns the end of the piece starting at i under cl100k_base's
//
//	'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s
//
// (Python tiktoken's current form; tiktoken-go's older, equivalent one is
// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`).
func splitCL100K(s string, i int) int {
	if n := contraction(s, i); n > 0 {
		return i + n
	}
	r, w := runeAt(s, i)
	if isL(r) {
		return span(s, i+w, isL)
	}
	if isPrefix(r) && i+w < len(s) {
		if r2, w2 := runeAt(s, i+w); isL(r2) {
			return span(s, i+w+w2, isL)
		}
	}
	if isN(r) {
		return spanN3(s, i)
	}
	if e := punctRun(s, i, r, w, false); e >= 0 {
		return e
	}
	return splitSpace(s, i)
}

// splitO200K returns the end of the piece starting at i under o200k_base's
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// with the backtracking regex semantics: alternatives in order, the optional
// prefix tried taken first, then not.
func splitO200K(s string, i int) int {
	r, w := runeAt(s, i)
	pre := isPrefix(r)
	if pre {
		if e := o200kWord1(s, i+w); e >= 0 {
			return e
		}
	}
	if e := o200kWord1(s, i); e >= 0 {
		return e
	}
	if pre {
		if e := o200kWord2(s, i+w); e >= 0 {
			return e
		}
	}
	if e := o200kWord2(s, i); e >= 0 {
		return e
	}
	if isN(r) {
		return spanN3(s, i)
	}
	if e := punctRun(s, i, r, w, true); e >= 0 {
		return e
	}
	return splitSpace(s, i)
}

// o200kWord1 matches Upper*Lower+ contraction? at i, returning its end or -1.
// Upper* is greedy and gives back runes until Lower+ can start: the match
// ends after the Lower run following the Upper run or, when none follows,
// just after the last rune of the Upper run that is also Lower (Lm, Lo, M).
func o200kWord1(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	j, lastLower := i, -1
	for j < len(s) {
		r, w := runeAt(s, j)
		if !isUpper(r) {
			break
		}
		if isLower(r) {
			lastLower = j + w
		}
		j += w
	}
	end := -1
	if j < len(s) {
		if r, w := runeAt(s, j); isLower(r) {
			end = span(s, j+w, isLower)
		}
	}
	if end < 0 {
		if lastLower < 0 {
			return -1
		}
		end = lastLower
	}
	return end + contraction(s, end)
}

// o200kWord2 matches Upper+Lower* contraction? at i, returning its end or -1.
func o200kWord2(s string, i int) int {
	j := span(s, i, isUpper)
	if j == i {
		return -1
	}
	j = span(s, j, isLower)
	return j + contraction(s, j)
}

// spanN3 is \p{N}{1,3} at i (a number rune).
func spanN3(s string, i int) int {
	for k := 0; k < 3 && i < len(s); k++ {
		r, w := runeAt(s, i)
		if !isN(r) {
			break
		}
		i += w
	}
	return i
}

// punctRun matches ` ?[^\s\p{L}\p{N}]+` then [\r\n]* (cl100k) or [\r\n/]*
// (o200k) at i, whose rune is r of width w; -1 when it does not match.
func punctRun(s string, i int, r rune, w int, slash bool) int {
	j := i
	if r == ' ' && i+w < len(s) {
		if r2, _ := runeAt(s, i+w); isPunct(r2) {
			j = i + w
		}
	}
	if j == i && !isPunct(r) {
		return -1
	}
	j = span(s, j, isPunct)
	for j < len(s) && (s[j] == '\r' || s[j] == '\n' || slash && s[j] == '/') {
		j++
	}
	return j
}
