package score

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Extract says which part of an answer a scorer reads, for answers that
// reason before they conclude. At most one of After, Regex and Answer is set;
// Pick applies to numeric only.
//
// In a suite file it is a word (`extract: last`, `extract: answer`) or a
// mapping (`extract: {after: "####"}`, `extract: {regex: 'Total: (\d+)',
// pick: only}`).
type Extract struct {
	After  string // the text after the last occurrence of After (GSM8K's "####")
	Regex  string // the last match's first capture group (the whole match without one); RE2
	Answer bool   // the answer finder: "#### x", \boxed{x}, "final answer: x", "the answer is x", "A: x", "정답: x", "答え：x", …
	Pick   string // numeric: which number of the (extracted) text: last, first, only; default first when the text is extracted, last otherwise
}

// Pick values, and the word form of Extract.Answer.
const (
	ExtractLast   = "last"   // the last number (default without extraction: reasoning usually ends with the result)
	ExtractFirst  = "first"  // the first number (default after extraction: "18 (9 eggs x $2)" is 18)
	ExtractOnly   = "only"   // exactly one distinct number
	ExtractAnswer = "answer" // Extract.Answer
)

// Extractor is a compiled Extract (without Pick). Immutable; safe for
// concurrent use. The zero value, or nil, returns the text unchanged.
type Extractor struct {
	after  string
	re     *regexp.Regexp
	answer bool
}

// NewExtractor compiles e's After, Regex and Answer. Errors are *FieldError
// with Field "extract.after", "extract.regex" or "extract".
func NewExtractor(e Extract) (*Extractor, error) {
	set := 0
	for _, b := range []bool{e.After != "", e.Regex != "", e.Answer} {
		if b {
			set++
		}
	}
	if set > 1 {
		return nil, fieldErr(FieldExtract, "set one of after, regex and answer")
	}
	x := &Extractor{after: norm.NFKC.String(e.After), answer: e.Answer}
	if e.Regex != "" {
		re, err := regexp.Compile(e.Regex)
		if err != nil {
			return nil, fieldErr(FieldExtract+".regex", "invalid regex: %v", err)
		}
		if re.NumSubexp() > 1 {
			return nil, fieldErr(FieldExtract+".regex", "has %d capture groups; use one (or (?:…) for grouping)", re.NumSubexp())
		}
		x.re = re
	}
	return x, nil
}

// Narrows reports whether x extracts anything (nil and the zero value do not).
func (x *Extractor) Narrows() bool { return x != nil && (x.after != "" || x.re != nil || x.answer) }

// Apply returns the extracted part of s, trimmed, or an error saying what was
// not found. The answer is NFKC-normalised first, so a full-width "＃＃＃＃"
// or "答え：" is found too.
func (x *Extractor) Apply(s string) (string, error) {
	if !x.Narrows() {
		return s, nil
	}
	s = norm.NFKC.String(s)
	switch {
	case x.after != "":
		i := strings.LastIndex(s, x.after)
		if i < 0 {
			return "", fmt.Errorf("no %s in %s", q(x.after), q(s))
		}
		return strings.TrimSpace(s[i+len(x.after):]), nil
	case x.re != nil:
		ms := x.re.FindAllStringSubmatch(s, -1)
		if ms == nil {
			return "", fmt.Errorf("no match for /%s/ in %s", x.re, q(s))
		}
		m := ms[len(ms)-1]
		return strings.TrimSpace(m[len(m)-1]), nil
	}
	if a, ok := findAnswer(s); ok {
		return a, nil
	}
	return "", fmt.Errorf("no marked answer (####, \\boxed{}, \"answer:\", \"the answer is\") in %s", q(s))
}

// answerMarkers find where an answer is stated, strongest first; the text
// after the last match of the strongest marker present, to the end of its
// line, is the answer.
var answerMarkers = []*regexp.Regexp{
	regexp.MustCompile(`####`),
	nil, // \boxed{…}, matched with brace counting
	regexp.MustCompile(`(?i)\bfinal\s+answer\b[*_\s]*(?:is\b|[:=])?`),
	regexp.MustCompile(`(?i)(?:\bthe\s+(?:correct\s+)?answer\s+is\b|\banswer\b[*_\s]*[:=]|정답\s*(?:은|는)?\s*:?|(?:^|[^\p{Hangul}])답\s*(?:은|는)?\s*:|答え\s*(?:は|:)|答案\s*(?:是|:|为)|(?:^|[^え案])答\s*:)`),
	regexp.MustCompile(`(?m)^[\s*_>#-]*A[*_]*\s*:`),
}

func findAnswer(s string) (string, bool) {
	for i, re := range answerMarkers {
		var rest string
		if re == nil {
			b, ok := lastBoxed(s)
			if !ok {
				continue
			}
			return strings.TrimSpace(b), true
		}
		locs := re.FindAllStringIndex(s, -1)
		if locs == nil {
			continue
		}
		rest = s[locs[len(locs)-1][1]:]
		if i > 0 { // a marker's answer ends with its line; #### takes the rest
			if j := strings.IndexByte(rest, '\n'); j >= 0 {
				rest = rest[:j]
			}
		}
		rest = strings.Trim(rest, " \t\r\n*_`:")
		if rest == "" {
			continue
		}
		return rest, true
	}
	return "", false
}

// lastBoxed returns the contents of the last \boxed{…} (or \fbox{…}) in s,
// braces balanced.
func lastBoxed(s string) (string, bool) {
	i := max(strings.LastIndex(s, `\boxed{`), strings.LastIndex(s, `\fbox{`))
	if i < 0 {
		return "", false
	}
	start := strings.IndexByte(s[i:], '{') + i + 1
	depth := 1
	for j := start; j < len(s); j++ {
		switch s[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[start:j], true
			}
		}
	}
	return "", false
}
