package tokenize

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
	"golang.org/x/text/unicode/norm"
)

// gpt2Pattern is the ByteLevel pre-tokenizer's split regex.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// span is a [start, end) byte range of a piece, and whether it was a match.
type span struct {
	start, end int
	match      bool
}

// behavior is a Split pre-tokenizer's SplitDelimiterBehavior.
type behavior string

const (
	removed            behavior = "Removed"
	isolated           behavior = "Isolated"
	mergedWithPrevious behavior = "MergedWithPrevious"
	mergedWithNext     behavior = "MergedWithNext"
	contiguous         behavior = "Contiguous"
)

// applyBehavior turns the match/non-match spans covering a string into the
// pieces a split keeps, following the Rust NormalizedString::split.
func applyBehavior(spans []span, b behavior) []span {
	var out []span
	switch b {
	case isolated:
		out = spans
	case removed:
		for _, s := range spans {
			if !s.match {
				out = append(out, s)
			}
		}
	case mergedWithPrevious:
		prev := false
		for _, s := range spans {
			if s.match && !prev && len(out) > 0 {
				out[len(out)-1].end = s.end
			} else {
				out = append(out, span{s.start, s.end, false})
			}
			prev = s.match
		}
	case mergedWithNext:
		prev := false
		for i := len(spans) - 1; i >= 0; i-- {
			s := spans[i]
			if s.match && !prev && len(out) > 0 {
				out[len(out)-1].start = s.start
			} else {
				out = append(out, span{s.start, s.end, false})
			}
			prev = s.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	case contiguous:
		prev := false
		for _, s := range spans {
			if s.match == prev && len(out) > 0 {
				out[len(out)-1].end = s.end
			} else {
				out = append(out, span{s.start, s.end, false})
			}
			prev = s.match
		}
	}
	return out
}

// matcher finds the match spans of a pattern in a string.
type matcher interface {
	spans(s string) []span
}

// regexMatcher matches a regexp2 (backtracking, look-around capable) pattern.
type regexMatcher struct{ re *regexp2.Regexp }

func (m regexMatcher) spans(s string) []span {
	if s == "" {
		return nil
	}
	runes := []rune(s)
	// byteAt[i] is the byte offset of rune i.
	byteAt := make([]int, len(runes)+1)
	off := 0
	for i, r := range runes {
		byteAt[i] = off
		off += utf8.RuneLen(r)
	}
	byteAt[len(runes)] = off
	var out []span
	prev := 0
	match, _ := m.re.FindRunesMatch(runes)
	for match != nil {
		start, end := byteAt[match.Index], byteAt[match.Index+match.Length]
		if start != prev {
			out = append(out, span{prev, start, false})
		}
		out = append(out, span{start, end, true})
		prev = end
		match, _ = m.re.FindNextMatch(match)
	}
	if prev != len(s) {
		out = append(out, span{prev, len(s), false})
	}
	return out
}

// stringMatcher matches a literal string.
type stringMatcher string

func (m stringMatcher) spans(s string) []span {
	var out []span
	prev := 0
	if m == "" {
		return []span{{0, len(s), false}}
	}
	for {
		i := strings.Index(s[prev:], string(m))
		if i < 0 {
			break
		}
		start := prev + i
		if start != prev {
			out = append(out, span{prev, start, false})
		}
		out = append(out, span{start, start + len(m), true})
		prev = start + len(m)
	}
	if prev != len(s) {
		out = append(out, span{prev, len(s), false})
	}
	return out
}

// numericMatcher matches each numeric character (Unicode N) separately.
type numericMatcher struct{}

func (numericMatcher) spans(s string) []span {
	var out []span
	prev := 0
	for i, r := range s {
		if unicode.IsNumber(r) {
			if i != prev {
				out = append(out, span{prev, i, false})
			}
			out = append(out, span{i, i + utf8.RuneLen(r), true})
			prev = i + utf8.RuneLen(r)
		}
	}
	if prev != len(s) {
		out = append(out, span{prev, len(s), false})
	}
	return out
}

// preTokenizer splits each piece of text into smaller pieces. first reports
// that the piece starts at the beginning of the encoded text (Metaspace's
// prepend_scheme "first" depends on it).
type preTokenizer interface {
	split(piece string, first bool) []string
}

type splitPre struct {
	m        matcher
	behavior behavior
	invert   bool
}

func (p splitPre) split(piece string, _ bool) []string {
	spans := p.m.spans(piece)
	if p.invert {
		for i := range spans {
			spans[i].match = !spans[i].match
		}
	}
	var out []string
	for _, s := range applyBehavior(spans, p.behavior) {
		if s.end > s.start {
			out = append(out, piece[s.start:s.end])
		}
	}
	return out
}

type byteLevelPre struct {
	addPrefixSpace bool
	re             *splitPre // nil when use_regex is false
}

func (p byteLevelPre) split(piece string, first bool) []string {
	if p.addPrefixSpace && !strings.HasPrefix(piece, " ") {
		piece = " " + piece
	}
	if p.re == nil {
		return []string{piece}
	}
	return p.re.split(piece, first)
}

type sequencePre []preTokenizer

func (p sequencePre) split(piece string, first bool) []string {
	pieces := []string{piece}
	for _, step := range p {
		var next []string
		for i, s := range pieces {
			next = append(next, step.split(s, first && i == 0)...)
		}
		pieces = next
	}
	return pieces
}

// metaspacePre is SentencePiece-style pre-tokenization: spaces become the
// replacement character ('▁'), which is prepended to the text (always, or
// only at the start of the input), and optionally the text is split before
// each replacement character.
type metaspacePre struct {
	replacement string
	prepend     string // "always", "first" or "never"
	splitWords  bool
}

func (p metaspacePre) split(piece string, first bool) []string {
	piece = strings.ReplaceAll(piece, " ", p.replacement)
	if !strings.HasPrefix(piece, p.replacement) && (p.prepend == "always" || p.prepend == "first" && first) {
		piece = p.replacement + piece
	}
	if !p.splitWords {
		return []string{piece}
	}
	return splitPre{m: stringMatcher(p.replacement), behavior: mergedWithNext}.split(piece, first)
}

// metaspaceScheme reads prepend_scheme, or the legacy add_prefix_space.
func metaspaceScheme(o jsonObj) (string, error) {
	if s, ok := o["prepend_scheme"].(string); ok {
		s = strings.ToLower(s)
		switch s {
		case "always", "first", "never":
			return s, nil
		}
		return "", fmt.Errorf("Metaspace: unknown prepend_scheme %q", s)
	}
	if boolean(o, "add_prefix_space", true) {
		return "always", nil
	}
	return "never", nil
}

// normalizer rewrites text before pre-tokenization.
type normalizer func(string) string

// jsonObj is a decoded JSON object from tokenizer.json.
type jsonObj = map[string]any

func str(o jsonObj, key string) string { s, _ := o[key].(string); return s }

func boolean(o jsonObj, key string, def bool) bool {
	if b, ok := o[key].(bool); ok {
		return b
	}
	return def
}

func compileRegex(pattern string) (*regexp2.Regexp, error) {
	re, err := regexp2.Compile(pattern, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %v", pattern, err)
	}
	return re, nil
}

// parsePattern reads a Split/Replace pattern: {"String": "…"} or {"Regex": "…"}.
func parsePattern(v any) (matcher, error) {
	o, ok := v.(jsonObj)
	if !ok {
		return nil, fmt.Errorf("pattern must be an object with String or Regex, got %v", v)
	}
	if s, ok := o["String"].(string); ok {
		return stringMatcher(s), nil
	}
	if s, ok := o["Regex"].(string); ok {
		if m := fastMatcherFor(s); m != nil {
			return m, nil
		}
		re, err := compileRegex(s)
		if err != nil {
			return nil, err
		}
		return regexMatcher{re}, nil
	}
	return nil, fmt.Errorf("pattern must have String or Regex, got %v", o)
}

func parsePreTokenizer(v any) (preTokenizer, error) {
	if v == nil {
		return nil, nil
	}
	o, ok := v.(jsonObj)
	if !ok {
		return nil, fmt.Errorf("pre_tokenizer must be an object")
	}
	switch typ := str(o, "type"); typ {
	case "ByteLevel":
		p := byteLevelPre{addPrefixSpace: boolean(o, "add_prefix_space", true)}
		if boolean(o, "use_regex", true) {
			p.re = &splitPre{m: fastMatcherFor(gpt2Pattern), behavior: isolated}
		}
		return p, nil
	case "Split":
		m, err := parsePattern(o["pattern"])
		if err != nil {
			return nil, fmt.Errorf("Split: %v", err)
		}
		b := behavior(str(o, "behavior"))
		switch b {
		case removed, isolated, mergedWithPrevious, mergedWithNext, contiguous:
		default:
			return nil, fmt.Errorf("Split: unknown behavior %q", b)
		}
		return splitPre{m: m, behavior: b, invert: boolean(o, "invert", false)}, nil
	case "Digits":
		b := contiguous
		if boolean(o, "individual_digits", false) {
			b = isolated
		}
		return splitPre{m: numericMatcher{}, behavior: b}, nil
	case "Metaspace":
		scheme, err := metaspaceScheme(o)
		if err != nil {
			return nil, err
		}
		rep := str(o, "replacement")
		if utf8.RuneCountInString(rep) != 1 {
			return nil, fmt.Errorf("Metaspace: replacement %q must be one character", rep)
		}
		return metaspacePre{replacement: rep, prepend: scheme, splitWords: boolean(o, "split", true)}, nil
	case "Sequence":
		list, _ := o["pretokenizers"].([]any)
		var seq sequencePre
		for i, item := range list {
			p, err := parsePreTokenizer(item)
			if err != nil {
				return nil, fmt.Errorf("Sequence[%d]: %v", i, err)
			}
			if p != nil {
				seq = append(seq, p)
			}
		}
		return seq, nil
	default:
		return nil, fmt.Errorf("pre-tokenizer type %q is not supported (supported: ByteLevel, Split, Digits, Metaspace, Sequence)", typ)
	}
}

func parseNormalizer(v any) (normalizer, error) {
	if v == nil {
		return nil, nil
	}
	o, ok := v.(jsonObj)
	if !ok {
		return nil, fmt.Errorf("normalizer must be an object")
	}
	switch typ := str(o, "type"); typ {
	case "NFC":
		return norm.NFC.String, nil
	case "NFD":
		return norm.NFD.String, nil
	case "NFKC":
		return norm.NFKC.String, nil
	case "NFKD":
		return norm.NFKD.String, nil
	case "Lowercase":
		return strings.ToLower, nil
	case "Prepend":
		p := str(o, "prepend")
		return func(s string) string {
			if s == "" {
				return s
			}
			return p + s
		}, nil
	case "Replace":
		content := str(o, "content")
		m, err := parsePattern(o["pattern"])
		if err != nil {
			return nil, fmt.Errorf("Replace: %v", err)
		}
		return func(s string) string {
			var sb strings.Builder
			for _, sp := range m.spans(s) {
				if sp.match {
					sb.WriteString(content)
				} else {
					sb.WriteString(s[sp.start:sp.end])
				}
			}
			return sb.String()
		}, nil
	case "Sequence":
		list, _ := o["normalizers"].([]any)
		var seq []normalizer
		for i, item := range list {
			n, err := parseNormalizer(item)
			if err != nil {
				return nil, fmt.Errorf("Sequence[%d]: %v", i, err)
			}
			if n != nil {
				seq = append(seq, n)
			}
		}
		return func(s string) string {
			for _, n := range seq {
				s = n(s)
			}
			return s
		}, nil
	default:
		return nil, fmt.Errorf("normalizer type %q is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Sequence)", typ)
	}
}

// decoder is one step of a tokenizer.json decoder chain: it rewrites the list
// of token strings (Rust's Decoder::decode_chain); the final strings are
// concatenated.
type decoder func(tokens []string) []string

func parseDecoder(v any) (decoder, error) {
	if v == nil {
		return nil, nil
	}
	o, ok := v.(jsonObj)
	if !ok {
		return nil, fmt.Errorf("must be an object")
	}
	switch typ := str(o, "type"); typ {
	case "ByteLevel":
		return func(tokens []string) []string {
			var buf []byte
			for _, t := range tokens {
				buf = appendByteLevelDecoded(buf, t)
			}
			return []string{lossyUTF8(buf)}
		}, nil
	case "Replace":
		m, err := parsePattern(o["pattern"])
		if err != nil {
			return nil, fmt.Errorf("Replace: %v", err)
		}
		content := str(o, "content")
		return func(tokens []string) []string {
			out := make([]string, len(tokens))
			for i, t := range tokens {
				var sb strings.Builder
				for _, sp := range m.spans(t) {
					if sp.match {
						sb.WriteString(content)
					} else {
						sb.WriteString(t[sp.start:sp.end])
					}
				}
				out[i] = sb.String()
			}
			return out
		}, nil
	case "ByteFallback":
		return byteFallbackDecode, nil
	case "Fuse":
		return func(tokens []string) []string { return []string{strings.Join(tokens, "")} }, nil
	case "Strip":
		content := []rune(str(o, "content"))
		if len(content) != 1 {
			return nil, fmt.Errorf("Strip: content must be one character")
		}
		start, _ := o["start"].(float64)
		stop, _ := o["stop"].(float64)
		return func(tokens []string) []string {
			out := make([]string, len(tokens))
			for i, t := range tokens {
				r := []rune(t)
				lo, hi := 0, len(r)
				for lo < int(start) && lo < len(r) && r[lo] == content[0] {
					lo++
				}
				for k := 0; k < int(stop) && hi > lo && r[hi-1] == content[0]; k++ {
					hi--
				}
				out[i] = string(r[lo:hi])
			}
			return out
		}, nil
	case "Metaspace":
		scheme, err := metaspaceScheme(o)
		if err != nil {
			return nil, err
		}
		rep, _ := utf8.DecodeRuneInString(str(o, "replacement"))
		return func(tokens []string) []string {
			out := make([]string, len(tokens))
			for i, t := range tokens {
				var sb strings.Builder
				for _, c := range t {
					switch {
					case c != rep:
						sb.WriteRune(c)
					case i == 0 && scheme != "never": // dropped, as in Rust
					default:
						sb.WriteByte(' ')
					}
				}
				out[i] = sb.String()
			}
			return out
		}, nil
	case "Sequence":
		list, _ := o["decoders"].([]any)
		var steps []decoder
		for i, item := range list {
			d, err := parseDecoder(item)
			if err != nil {
				return nil, fmt.Errorf("Sequence[%d]: %v", i, err)
			}
			if d != nil {
				steps = append(steps, d)
			}
		}
		return func(tokens []string) []string {
			for _, d := range steps {
				tokens = d(tokens)
			}
			return tokens
		}, nil
	default:
		return nil, fmt.Errorf("decoder type %q is not supported (supported: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence)", typ)
	}
}

// byteFallbackDecode turns runs of <0xXX> tokens back into text; a run that
// is not valid UTF-8 becomes one U+FFFD per byte, as in Rust.
func byteFallbackDecode(tokens []string) []string {
	var out []string
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range tokens {
		if len(t) == 6 && strings.HasPrefix(t, "<0x") && t[5] == '>' {
			if b, err := strconv.ParseUint(t[3:5], 16, 8); err == nil {
				pending = append(pending, byte(b))
				continue
			}
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}
