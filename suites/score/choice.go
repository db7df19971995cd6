package score

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/yardstick-eval/yardstick/internal/suggest"
)

// Label matching modes for the choice scorer's `match` field.
const (
	MatchAuto   = "auto"   // whole word, but a label may carry Korean particles and copulas (교환입니다, 환불은, 교환해 주세요) and, in Chinese and Japanese, sit inside running text (我要退款, 返品です)
	MatchWord   = "word"   // whole word only: letters, digits or _ on neither side
	MatchPrefix = "prefix" // the label starts a word, anything may follow (refund → "refunded", 교환 → "교환건")
	MatchExact  = "exact"  // the whole answer (quotes, brackets, markdown and a final period aside) is the label
)

var matchModes = []string{MatchAuto, MatchWord, MatchPrefix, MatchExact}

// choice extracts one label from a free-form answer. Matching is
// case-insensitive, after NFKC (full-width "Ａ" is A), and by default whole-
// word (see the Match* modes); a label written with _ or - also matches
// with spaces ("refund request" for refund_request). When several labels
// appear, the longest overlapping match wins, then a label introduced by a
// marker ("answer: B", "the intent is …", "의도는 …", "答え：…") wins; otherwise
// the answer is ambiguous and fails. A single-letter label in running text
// counts only when written in upper case, in brackets ("(b)", "b)") or after
// a marker, so the article "a" is not taken for option A.
type choice struct {
	labels   []string
	variants [][]string // lower-case spellings per label
	match    string
}

func buildChoice(s *Spec) (judge, error) {
	if len(s.Labels) == 0 {
		return nil, fieldErr(FieldLabels, "required for scorer %q: the label set to choose from", s.Type)
	}
	c := choice{labels: s.Labels, match: MatchAuto}
	switch {
	case s.Match == "":
	case slices.Contains(matchModes, s.Match):
		c.match = s.Match
	default:
		return nil, fieldErr(FieldMatch, "unknown match mode %q%s (known: %s)", s.Match, suggest.Hint(s.Match, matchModes), strings.Join(matchModes, ", "))
	}
	seen := map[string]int{}
	for i, l := range s.Labels {
		if strings.TrimSpace(l) == "" {
			return nil, fieldErr(fmt.Sprintf("%s[%d]", FieldLabels, i), "empty label")
		}
		var vs []string
		for _, v := range labelVariants(l) {
			if j, dup := seen[v]; dup && j != i {
				return nil, fieldErr(fmt.Sprintf("%s[%d]", FieldLabels, i), "label %q is the same as labels[%d] %q", l, j, s.Labels[j])
			}
			if _, dup := seen[v]; !dup {
				seen[v] = i
				vs = append(vs, v)
			}
		}
		c.variants = append(c.variants, vs)
	}
	return c, nil
}

func labelVariants(l string) []string {
	l = strings.ToLower(strings.TrimSpace(norm.NFKC.String(l)))
	vs := []string{l}
	for _, alt := range []string{
		strings.NewReplacer("_", " ", "-", " ").Replace(l),
		strings.ReplaceAll(l, "_", "-"),
		strings.ReplaceAll(l, "-", "_"),
	} {
		if !hasString(vs, alt) {
			vs = append(vs, alt)
		}
	}
	return vs
}

func hasString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (c choice) index(ref string) int {
	r := strings.ToLower(strings.TrimSpace(norm.NFKC.String(ref)))
	for i, vs := range c.variants {
		if hasString(vs, r) {
			return i
		}
	}
	return -1
}

func (c choice) checkRefs(refs []string) error {
	if c.index(refs[0]) < 0 {
		return fmt.Errorf("%s is not one of the labels %s", q(refs[0]), quoteList(c.labels))
	}
	return nil
}

func (c choice) judge(out string, refs []string) verdict {
	want := c.index(refs[0])
	got, err := c.extract(out)
	if err != nil {
		return verdict{reason: err.Error()}
	}
	if got == want {
		return verdict{value: 1, pass: true, reason: "chose " + q(c.labels[got])}
	}
	return verdict{reason: fmt.Sprintf("expected %s, got %s", q(c.labels[want]), q(c.labels[got]))}
}

const edgeChars = " \t\r\n\"'`*()[]{}<>.:,;!?「」『』【】〈〉《》“”‘’。、！？"

type match struct {
	label, start, end int
	marked            bool
}

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// Extract returns the index of the label named by out, or an error saying why
// none could be chosen.
func (c choice) extract(out string) (int, error) {
	out = norm.NFKC.String(out)
	// The whole answer is a label, perhaps dressed in quotes, brackets or a period.
	if i := c.index(strings.Trim(out, edgeChars)); i >= 0 {
		return i, nil
	}
	if c.match == MatchExact {
		return -1, fmt.Errorf("answer %s is not exactly one of the labels", q(out))
	}
	lower := strings.ToLower(out)
	sameLen := len(lower) == len(out) // original case is known at each position
	var ms []match
	for li, vs := range c.variants {
		for _, v := range vs {
			for off := 0; ; {
				k := strings.Index(lower[off:], v)
				if k < 0 {
					break
				}
				start, end := off+k, off+k+len(v)
				off = start + 1
				if !c.bounded(lower, start, end) {
					continue
				}
				m := match{label: li, start: start, end: end, marked: marked(lower[:start])}
				if utf8.RuneCountInString(v) == 1 && unicode.IsLetter([]rune(v)[0]) {
					upper := sameLen && unicode.IsUpper([]rune(out[start:end])[0])
					if !upper && !m.marked && !bracketed(lower, start, end) {
						continue
					}
				}
				ms = append(ms, m)
			}
		}
	}
	if len(ms) == 0 {
		return -1, fmt.Errorf("no label found in %s", q(out))
	}
	// Longest match first; drop matches overlapping a longer one.
	sort.SliceStable(ms, func(a, b int) bool { return ms[a].end-ms[a].start > ms[b].end-ms[b].start })
	var kept []match
	for _, m := range ms {
		overlaps := false
		for _, k := range kept {
			if m.start < k.end && k.start < m.end {
				overlaps = true
				break
			}
		}
		if !overlaps {
			kept = append(kept, m)
		}
	}
	if l, ok := only(kept, false); ok {
		return l, nil
	}
	if l, ok := only(kept, true); ok {
		return l, nil
	}
	var names []string
	seen := map[int]bool{}
	sort.SliceStable(kept, func(a, b int) bool { return kept[a].start < kept[b].start })
	for _, m := range kept {
		if !seen[m.label] {
			seen[m.label] = true
			names = append(names, q(c.labels[m.label]))
		}
	}
	return -1, errors.New("ambiguous: answer names " + strings.Join(names, " and "))
}

// only returns the single distinct label among ms (only marked ones when
// markedOnly).
func only(ms []match, markedOnly bool) (int, bool) {
	l := -1
	for _, m := range ms {
		if markedOnly && !m.marked {
			continue
		}
		if l >= 0 && m.label != l {
			return -1, false
		}
		l = m.label
	}
	return l, l >= 0
}

// bounded reports whether the label at s[start:end] stands as a label under
// c's match mode.
func (c choice) bounded(s string, start, end int) bool {
	first, _ := utf8.DecodeRuneInString(s[start:end])
	last, _ := utf8.DecodeLastRuneInString(s[start:end])
	if start > 0 {
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		if isWord(before) && (c.match == MatchWord || !(noSpaceScript(before) || noSpaceScript(first))) {
			return false
		}
	}
	if end == len(s) {
		return true
	}
	after, _ := utf8.DecodeRuneInString(s[end:])
	switch {
	case !isWord(after):
		return true
	case c.match == MatchWord:
		return false
	case c.match == MatchPrefix:
		return true
	case noSpaceScript(last) || noSpaceScript(after):
		return true // Chinese and Japanese have no word boundaries to check
	case unicode.Is(unicode.Hangul, after):
		return koreanEnding(s[end:])
	}
	return false
}

// noSpaceScript is Han, Hiragana or Katakana: scripts written without spaces
// between words.
func noSpaceScript(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// koreanEndings are the particles, copulas and verb endings that attach to a
// Korean noun (or a Latin label: "B입니다", "refund요"), longest first where
// one is a prefix of another.
var koreanEndings = []string{
	"입니다", "입니까", "이에요", "이예요", "예요", "에요", "이요", "이고", "이며", "이라고", "라고", "이라", "이죠", "죠",
	"이었", "였", "이네요", "네요", "이겠", "이나", "으로", "로", "에서", "에게", "에", "은", "는", "이", "가", "을", "를",
	"의", "와", "과", "도", "만", "요", "인", "임", "번", "건", "하", "해", "할", "합", "했", "한", "함", "처리", "요청", "문의",
}

func koreanEnding(rest string) bool {
	for _, e := range koreanEndings {
		if strings.HasPrefix(rest, e) {
			return true
		}
	}
	return false
}

func bracketed(s string, start, end int) bool {
	before := strings.TrimRight(s[:start], " ")
	after := s[end:]
	if strings.HasSuffix(before, "(") || strings.HasSuffix(before, "[") {
		return strings.HasPrefix(after, ")") || strings.HasPrefix(after, "]")
	}
	return strings.TrimSpace(before) == "" && (strings.HasPrefix(after, ")") || strings.HasPrefix(after, "."))
}

var markers = []string{"answer", "intent", "label", "category", "class", "classification",
	"option", "choice", "prediction", "result", "output", "final"}

// cjkMarkers introduce an answer in Korean, Japanese and Chinese; a topic
// particle (은, 는, は, 是, 为) may follow them.
var cjkMarkers = []string{"의도", "정답", "답", "분류", "유형", "카테고리", "결과", "答え", "答案", "意図", "分類", "分类", "类别", "意图", "回答"}

// marked reports whether the text before a match ends with a marker word such
// as "answer:", "the answer is" or "intent =".
func marked(pre string) bool {
	pre = strings.TrimRight(pre, " \t\r\n:=*\"'([-`>")
	for _, cop := range []string{" is", " would be", " should be", " was"} {
		if p, ok := strings.CutSuffix(pre, cop); ok {
			pre = strings.TrimRight(p, " \t:")
			break
		}
	}
	cjk := strings.TrimRight(pre, " \t")
	for _, p := range []string{"은", "는", "は", "是", "为"} {
		if c, ok := strings.CutSuffix(cjk, p); ok {
			cjk = strings.TrimRight(c, " \t:")
			break
		}
	}
	for _, m := range cjkMarkers {
		if strings.HasSuffix(cjk, m) {
			return true
		}
	}
	for _, m := range markers {
		if p, ok := strings.CutSuffix(pre, m); ok {
			if p == "" {
				return true
			}
			r, _ := utf8.DecodeLastRuneInString(p)
			return !isWord(r)
		}
	}
	return false
}
