package score

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"github.com/yardstick-eval/yardstick/internal/suggest"
)

// Normalisations, applied to both the answer and the reference in this fixed
// order whatever order they are listed in: nfkc, width, lower, punctuation,
// nospace, whitespace, trim. Canonically equivalent texts (NFC: a Hangul
// syllable typed as one code point or as jamo, "é" as one or two) are always
// equal, whatever the normalisation.
const (
	NormNFKC        = "nfkc"        // Unicode NFKC (full-width → ASCII, ligatures, circled digits, …)
	NormWidth       = "width"       // width folding only (full-width ASCII → ASCII, half-width katakana → full-width)
	NormLower       = "lower"       // Unicode case folding (A → a, ß → ss, Σ → σ)
	NormPunctuation = "punctuation" // remove Unicode punctuation (P*), including _ and -
	NormNoSpace     = "nospace"     // remove every space ("3~5 영업일" = "3~5영업일")
	NormWhitespace  = "whitespace"  // collapse whitespace runs to one space, and trim
	NormTrim        = "trim"        // trim leading and trailing whitespace
)

var normNames = []string{NormNFKC, NormWidth, NormLower, NormPunctuation, NormNoSpace, NormWhitespace, NormTrim}

type normalizer uint8

const (
	nNFKC normalizer = 1 << iota
	nWidth
	nLower
	nPunct
	nNoSpace
	nSpace
	nTrim
)

// names lists the normalisations in n, in application order.
func (n normalizer) names() []string {
	var out []string
	for i, name := range normNames {
		if n&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}

// defaultNorms are the normalisations a type applies when a scorer sets no
// normalize (types not listed: none).
var defaultNorms = map[string]normalizer{
	"exact": nTrim, "starts-with": nTrim, "ends-with": nTrim, "json-match": nTrim, "numeric": nNFKC,
}

func defaultNorm(typ string) normalizer { return defaultNorms[strings.TrimPrefix(typ, "not-")] }

func compileNormalize(names []string, def normalizer) (normalizer, error) {
	if names == nil {
		return def, nil
	}
	var n normalizer
	for i, name := range names {
		j := -1
		for k, known := range normNames {
			if name == known {
				j = k
			}
		}
		if j < 0 {
			return 0, fieldErr(fmt.Sprintf("%s[%d]", FieldNormalize, i), "unknown normalisation %q%s (known: %s)",
				name, suggest.Hint(name, normNames), strings.Join(normNames, ", "))
		}
		n |= 1 << j
	}
	return n, nil
}

// isSpace is whitespace, including the zero-width space and BOM that
// editors and models leave in text.
func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' }

func (n normalizer) apply(s string) string {
	if n&nNFKC != 0 {
		s = norm.NFKC.String(s)
	} else {
		s = norm.NFC.String(s)
	}
	if n&nWidth != 0 {
		s = width.Fold.String(s)
	}
	if n&nLower != 0 {
		s = foldCase(s)
	}
	if n&nPunct != 0 {
		s = strings.Map(func(r rune) rune {
			if unicode.IsPunct(r) {
				return -1
			}
			return r
		}, s)
	}
	if n&nNoSpace != 0 {
		s = strings.Map(func(r rune) rune {
			if isSpace(r) {
				return -1
			}
			return r
		}, s)
	}
	if n&nSpace != 0 {
		s = strings.Join(strings.FieldsFunc(s, isSpace), " ")
	}
	if n&nTrim != 0 {
		s = strings.TrimFunc(s, isSpace)
	}
	return s
}

// foldCase is Unicode full case folding (a Caser is not safe for concurrent
// use, so each call makes one).
func foldCase(s string) string { return cases.Fold().String(s) }

// q quotes s for a reason, shortened to about 60 runes.
func q(s string) string {
	const max = 60
	r := []rune(s)
	if len(r) > max {
		s = string(r[:max]) + "…"
	}
	return strconv.Quote(s)
}

func quoteList(ss []string) string {
	q2 := make([]string, len(ss))
	for i, s := range ss {
		q2[i] = q(s)
	}
	return "[" + strings.Join(q2, ", ") + "]"
}

func boolVerdict(pass bool, ok, fail string) verdict {
	if pass {
		return verdict{value: 1, pass: true, reason: ok}
	}
	return verdict{value: 0, reason: fail}
}

type noRefCheck struct{}

func (noRefCheck) checkRefs([]string) error { return nil }

// exact

type exact struct {
	noRefCheck
	n normalizer
}

func buildExact(s *Spec) (judge, error) {
	n, err := compileNormalize(s.Normalize, defaultNorm(s.Type))
	return exact{n: n}, err
}

func (e exact) judge(out string, refs []string) verdict {
	want := e.n.apply(refs[0])
	got := e.n.apply(out)
	return boolVerdict(got == want, "output equals "+q(want), fmt.Sprintf("expected %s, got %s", q(want), q(got)))
}

// contains, icontains

type contains struct {
	noRefCheck
	n normalizer
}

func buildContains(insensitive bool) func(*Spec) (judge, error) {
	return func(s *Spec) (judge, error) {
		n, err := compileNormalize(s.Normalize, defaultNorm(s.Type))
		if insensitive {
			n |= nLower
		}
		return contains{n: n}, err
	}
}

func (c contains) judge(out string, refs []string) verdict {
	want := c.n.apply(refs[0])
	got := c.n.apply(out)
	return boolVerdict(strings.Contains(got, want), "output contains "+q(want),
		fmt.Sprintf("expected to contain %s, got %s", q(want), q(got)))
}

// contains-any, contains-all

type containsSet struct {
	noRefCheck
	all bool
	n   normalizer
}

func buildContainsSet(all bool) func(*Spec) (judge, error) {
	return func(s *Spec) (judge, error) {
		n, err := compileNormalize(s.Normalize, defaultNorm(s.Type))
		return containsSet{all: all, n: n}, err
	}
}

func (c containsSet) judge(out string, refs []string) verdict {
	got := c.n.apply(out)
	var found, missing []string
	for _, r := range refs {
		w := c.n.apply(r)
		if strings.Contains(got, w) {
			found = append(found, w)
		} else {
			missing = append(missing, w)
		}
	}
	if !c.all {
		if len(found) > 0 {
			return verdict{value: 1, pass: true, reason: "output contains " + q(found[0])}
		}
		return verdict{reason: fmt.Sprintf("expected any of %s, got %s", quoteList(missing), q(got))}
	}
	v := float64(len(found)) / float64(len(refs))
	if len(missing) == 0 {
		return verdict{value: 1, pass: true, reason: "output contains all of " + quoteList(found)}
	}
	return verdict{value: v, reason: fmt.Sprintf("missing %s (%d of %d found)", quoteList(missing), len(found), len(refs))}
}

// starts-with, ends-with

type affix struct {
	noRefCheck
	prefix bool
	n      normalizer
}

func buildAffix(prefix bool) func(*Spec) (judge, error) {
	return func(s *Spec) (judge, error) {
		n, err := compileNormalize(s.Normalize, defaultNorm(s.Type))
		return affix{prefix: prefix, n: n}, err
	}
}

func (a affix) judge(out string, refs []string) verdict {
	want := a.n.apply(refs[0])
	got := a.n.apply(out)
	if a.prefix {
		return boolVerdict(strings.HasPrefix(got, want), "output starts with "+q(want),
			fmt.Sprintf("expected to start with %s, got %s", q(want), q(got)))
	}
	return boolVerdict(strings.HasSuffix(got, want), "output ends with "+q(want),
		fmt.Sprintf("expected to end with %s, got %s", q(want), q(got)))
}

// regex

type regex struct {
	noRefCheck
	re *regexp.Regexp
	n  normalizer
}

func buildRegex(s *Spec) (judge, error) {
	if s.Pattern == "" {
		return nil, fieldErr(FieldPattern, "required for scorer %q", s.Type)
	}
	re, err := regexp.Compile(s.Pattern)
	if err != nil {
		return nil, fieldErr(FieldPattern, "invalid regex: %v", err)
	}
	n, err := compileNormalize(s.Normalize, defaultNorm(s.Type))
	return regex{re: re, n: n}, err
}

func (r regex) judge(out string, _ []string) verdict {
	got := r.n.apply(out)
	if m := r.re.FindString(got); r.re.MatchString(got) {
		return verdict{value: 1, pass: true, reason: fmt.Sprintf("output matches /%s/ at %s", r.re, q(m))}
	}
	return verdict{reason: fmt.Sprintf("expected to match /%s/, got %s", r.re, q(got))}
}
