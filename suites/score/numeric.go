package score

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

type numeric struct {
	abs, rel float64
	pick     string
	pickSet  bool // pick written in the scorer
	n        normalizer
}

func (numeric) checkRefs(refs []string) error {
	_, err := pickNumber(refs[0], ExtractOnly)
	return err
}

func buildNumeric(s *Spec) (judge, error) {
	n := numeric{pick: ExtractLast}
	if s.Tolerance != nil {
		if !(*s.Tolerance >= 0) || math.IsInf(*s.Tolerance, 0) {
			return nil, fieldErr(FieldTolerance, "must be a finite number ≥ 0, got %g", *s.Tolerance)
		}
		n.abs = *s.Tolerance
	}
	if s.RelTolerance != nil {
		if !(*s.RelTolerance >= 0) || math.IsInf(*s.RelTolerance, 0) {
			return nil, fieldErr(FieldRelTolerance, "must be a finite number ≥ 0, got %g", *s.RelTolerance)
		}
		n.rel = *s.RelTolerance
	}
	if e := s.Extract; e != nil {
		if e.After != "" || e.Regex != "" || e.Answer {
			n.pick = ExtractFirst
		}
		switch e.Pick {
		case "":
		case ExtractLast, ExtractFirst, ExtractOnly:
			n.pick, n.pickSet = e.Pick, true
		default:
			return nil, fieldErr(FieldExtract+".pick", "must be %s, %s or %s, got %q", ExtractLast, ExtractFirst, ExtractOnly, e.Pick)
		}
	}
	var err error
	n.n, err = compileNormalize(s.Normalize, defaultNorm(s.Type))
	return n, err
}

func (n numeric) judgeWhole(out string, refs []string) verdict {
	if n.pick == ExtractFirst && !n.pickSet {
		n.pick = ExtractLast
	}
	return n.judge(out, refs)
}

func (n numeric) judge(out string, refs []string) verdict {
	want, _ := pickNumber(refs[0], ExtractOnly)
	got, err := pickNumber(n.n.apply(out), n.pick)
	if err != nil {
		return verdict{reason: err.Error()}
	}
	limit := n.abs + n.rel*math.Abs(want.v)
	ws := want.String()
	if limit > 0 {
		ws += " ± " + fmtNum(limit)
	}
	if want.matches(got, limit) {
		return verdict{value: 1, pass: true, reason: fmt.Sprintf("got %s, expected %s", got, ws)}
	}
	return verdict{reason: fmt.Sprintf("expected %s, got %s", ws, got)}
}

// number is a number read from text; pct when written as a percentage (v is
// then the number before the %: 12.5 for "12.5%").
type number struct {
	v   float64
	pct bool
}

func (x number) String() string {
	if x.pct {
		return fmtNum(x.v) + "%"
	}
	return fmtNum(x.v)
}

// matches reports whether got equals x within limit. A percentage and a plain
// number match when their written values do ("12.5%" and 12.5) or the
// percentage as a fraction does ("20%" and 0.2).
func (x number) matches(got number, limit float64) bool {
	close := func(a, b float64) bool {
		return math.Abs(a-b) <= limit+1e-12*math.Max(1, math.Abs(b))
	}
	if close(got.v, x.v) {
		return true
	}
	switch {
	case got.pct && !x.pct:
		return close(got.v/100, x.v)
	case x.pct && !got.pct:
		return close(got.v, x.v/100)
	}
	return false
}

func fmtNum(f float64) string {
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e15) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// pickNumber extracts the numbers in s and picks one according to mode.
func pickNumber(s, mode string) (number, error) {
	nums := scanNumbers(s)
	if len(nums) == 0 {
		return number{}, fmt.Errorf("no number in %s", q(s))
	}
	switch mode {
	case ExtractFirst:
		return nums[0], nil
	case ExtractOnly:
		for _, x := range nums[1:] {
			if x != nums[0] {
				return number{}, fmt.Errorf("several numbers in %s", q(s))
			}
		}
		return nums[0], nil
	default:
		return nums[len(nums)-1], nil
	}
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// ExtractNumbers returns the numbers written in s, in order, as the numeric
// scorer reads them:
//
//   - digits of any width or script: "３,０００" (full-width), "٣٠٠٠" (Arabic-Indic);
//   - a sign and a currency symbol before the digits ("-$5", "₩30,000");
//   - thousands separators of any locale: "1,234,567.89", "1.234.567,89",
//     "1 234 567,89" (a space, no-break or thin space), "1'234'567",
//     "12,34,567" (Indian); a lone "1.234" is a decimal;
//   - exponents ("1e-3"), fractions ("1/5" is 0.2; a date "12/25/2024" is
//     three numbers), percentages ("12.5%", "12.5 percent", "12.5퍼센트": the
//     value is 12.5);
//   - scale words and suffixes: "1.8 billion", "3 million", "2.5k", "8B", "2 lakh";
//   - Korean, Chinese and Japanese units: "5만" is 50000, "6천" is 6000,
//     "1억 2천만" is 120000000, "3万5千" is 35000, "2億" is 200000000.
//
// Digits glued to a preceding Latin, Greek or Cyrillic letter ("A12345",
// "v2") are part of a name, not a number; digits after Hangul or CJK
// characters ("총18개") are numbers. A hyphen between digits ("1990-2000")
// is a range, not a sign.
func ExtractNumbers(s string) []float64 {
	nums := scanNumbers(s)
	if nums == nil {
		return nil
	}
	out := make([]float64, len(nums))
	for i, n := range nums {
		out[i] = n.v
	}
	return out
}

// digitZeros are the zero digits of decimal scripts NFKC leaves alone.
var digitZeros = []rune{0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x17E0, 0x1810}

// foldDigits is NFKC (full-width digits and punctuation to ASCII) with other
// scripts' decimal digits mapped to ASCII and the Arabic decimal and
// thousands separators to '.' and ','.
func foldDigits(s string) string {
	s = norm.NFKC.String(s)
	return strings.Map(func(r rune) rune {
		if r < 0x0660 {
			return r
		}
		switch r {
		case 0x066B:
			return '.'
		case 0x066C:
			return ','
		}
		for _, z := range digitZeros {
			if r >= z && r <= z+9 {
				return '0' + (r - z)
			}
		}
		return r
	}, s)
}

// isNameLetter is a letter of a script that separates words with spaces, so
// that digits glued to it name something ("A12", "v2").
func isNameLetter(r rune) bool {
	return unicode.IsLetter(r) && !isCJK(r)
}

// isCJK is a character of a script written without spaces between words or
// with particles glued to them: Hangul, Han, Hiragana, Katakana.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Hangul, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

func scanNumbers(text string) []number {
	s := foldDigits(text)
	var out []number
	i := 0
	for i < len(s) {
		start := i
		if !(isDigit(s[i]) || (s[i] == '.' && i+1 < len(s) && isDigit(s[i+1]))) {
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
			continue
		}
		// Reject continuations of names and of other numbers.
		if start > 0 {
			r, _ := utf8.DecodeLastRuneInString(s[:start])
			if isNameLetter(r) || r == '_' || (s[start] == '.' && isDigit(s[start-1])) {
				for i < len(s) && (isDigit(s[i]) || s[i] == '.' || s[i] == ',') {
					i++
				}
				continue
			}
		}
		if parts, end, ok := date(s, start); ok {
			out = append(out, parts...)
			i = end
			continue
		}
		v, end, plain := parseNumberAt(s, start)
		if end == start {
			i++
			continue
		}
		x := number{v: v}
		if plain { // a fraction: "1/5", "3⁄4"
			if f, fend, ok := fraction(s, end, v); ok {
				x.v, end = f, fend
			}
		}
		end = suffixes(s, end, &x)
		if negativeBefore(s[:start]) {
			x.v = -x.v
		}
		out = append(out, x)
		i = end
	}
	return out
}

// parseNumberAt reads the number whose first digit (or decimal point) is at
// s[i]: integer part with thousands groups, decimals, exponent. plain is true
// for a bare integer (no groups, decimals or exponent). end == i when there is
// none.
func parseNumberAt(s string, i int) (v float64, end int, plain bool) {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	var b strings.Builder
	b.WriteString(s[i:j])
	plain = j > i
	var sep rune
	if lead := j - i; lead >= 1 && lead <= 3 {
		if g, gend, gsep, ok := groups(s, j, lead); ok {
			b.WriteString(g)
			j, sep, plain = gend, gsep, false
		}
	}
	if j+1 < len(s) && isDecimalSep(s[j], sep) && isDigit(s[j+1]) {
		k := j + 1
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		b.WriteByte('.')
		b.WriteString(s[j+1 : k])
		j, plain = k, false
	}
	if j+1 < len(s) && (s[j] == 'e' || s[j] == 'E') && b.Len() > 0 {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if k == len(s) || !unicode.IsLetter(rune(s[k])) {
				b.WriteString(s[j:k])
				j, plain = k, false
			}
		}
	}
	if b.Len() == 0 {
		return 0, i, false
	}
	str := b.String()
	if str[0] == '.' {
		str = "0" + str
	}
	f, err := strconv.ParseFloat(str, 64)
	if err != nil {
		return 0, i, false
	}
	return f, j, plain
}

func isDecimalSep(c byte, group rune) bool {
	switch group {
	case '.':
		return c == ','
	case ',':
		return c == '.'
	case 0:
		return c == '.'
	default: // space or apostrophe groups: either
		return c == '.' || c == ','
	}
}

// groupSeps are the thousands separators of the world's locales.
const groupSeps = ",. '\u00a0\u202f\u2009\u2019"

// groups reads thousands groups after the lead digits ending at s[j]: one
// separator throughout, groups of three (or Indian lakh groups of two before
// a last group of three, with commas). It returns the groups' digits.
func groups(s string, j, lead int) (string, int, rune, bool) {
	var sep rune
	type group struct {
		digits string
		end    int
	}
	var gs []group
	k := j
	for k < len(s) {
		r, w := utf8.DecodeRuneInString(s[k:])
		if !strings.ContainsRune(groupSeps, r) || (sep != 0 && r != sep) {
			break
		}
		m := k + w
		d := m
		for d < len(s) && isDigit(s[d]) {
			d++
		}
		if n := d - m; n != 3 && !(n == 2 && r == ',') {
			break
		}
		sep = r
		gs = append(gs, group{s[m:d], d})
		k = d
	}
	// Drop trailing groups until the rest is a valid grouping.
	for ; len(gs) > 0; gs = gs[:len(gs)-1] {
		last := gs[len(gs)-1]
		if len(last.digits) != 3 {
			continue
		}
		indian := false
		for _, g := range gs[:len(gs)-1] {
			indian = indian || len(g.digits) == 2
		}
		if indian {
			ok := lead <= 2
			for _, g := range gs[:len(gs)-1] {
				ok = ok && len(g.digits) == 2
			}
			if !ok {
				continue
			}
		}
		if sep == '.' && len(gs) == 1 {
			// "1.234" is a decimal unless a decimal comma follows ("1.234,5").
			if !(last.end+1 < len(s) && s[last.end] == ',' && isDigit(s[last.end+1])) {
				return "", j, 0, false
			}
		}
		var b strings.Builder
		for _, g := range gs {
			b.WriteString(g.digits)
		}
		return b.String(), last.end, sep, true
	}
	return "", j, 0, false
}

// date recognises d/d/d (and d-d-d is a range, handled elsewhere): its parts
// are separate numbers, not a fraction.
func date(s string, i int) ([]number, int, bool) {
	var parts []number
	j := i
	for n := 0; n < 3; n++ {
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k == j {
			return nil, i, false
		}
		v, _ := strconv.ParseFloat(s[j:k], 64)
		parts = append(parts, number{v: v})
		j = k
		if n < 2 {
			if j >= len(s) || s[j] != '/' {
				return nil, i, false
			}
			j++
		}
	}
	return parts, j, true
}

// fraction reads "/d" or "⁄d" after the integer num ending at s[j].
func fraction(s string, j int, num float64) (float64, int, bool) {
	w := 0
	switch {
	case strings.HasPrefix(s[j:], "/"):
		w = 1
	case strings.HasPrefix(s[j:], "⁄"):
		w = len("⁄")
	default:
		return 0, j, false
	}
	k := j + w
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	if k == j+w || (k < len(s) && (s[k] == '.' || s[k] == ',') && k+1 < len(s) && isDigit(s[k+1])) {
		return 0, j, false
	}
	den, _ := strconv.ParseFloat(s[j+w:k], 64)
	if den == 0 {
		return 0, j, false
	}
	return num / den, k, true
}

var (
	// scaleWords follow a number after an optional space; a plural s is allowed.
	scaleWords = []struct {
		word string
		mult float64
	}{{"thousand", 1e3}, {"million", 1e6}, {"billion", 1e9}, {"trillion", 1e12}, {"lakh", 1e5}, {"crore", 1e7}}
	// scaleSuffixes are glued to the number and followed by a non-letter.
	scaleSuffixes = []struct {
		word string
		mult float64
	}{{"bn", 1e9}, {"mn", 1e6}, {"tn", 1e12}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"B", 1e9}, {"T", 1e12}}
	percentWords = []string{"%", "percent", "per cent", "퍼센트"}
	// East Asian units: small ones multiply within a section, big ones close it.
	smallUnits = map[rune]float64{'십': 10, '백': 100, '천': 1000, '十': 10, '百': 100, '千': 1000}
	bigUnits   = map[rune]float64{'만': 1e4, '억': 1e8, '조': 1e12, '万': 1e4, '萬': 1e4, '億': 1e8, '亿': 1e8, '兆': 1e12}
)

// suffixes applies what follows a number ending at s[end]: a percent sign or
// word, a scale word or suffix, or East Asian units. It returns the new end.
func suffixes(s string, end int, x *number) int {
	if v, e, ok := cjkUnits(s, end, x.v); ok {
		x.v = v
		end = e
	}
	sp := end
	for sp < len(s) && s[sp] == ' ' && sp-end < 1 {
		sp++
	}
	for _, w := range percentWords {
		if hasWordPrefix(s[sp:], w) {
			x.pct = true
			return sp + len(w)
		}
	}
	for _, w := range scaleSuffixes {
		if strings.HasPrefix(s[end:], w.word) && !letterAt(s, end+len(w.word)) {
			x.v *= w.mult
			return end + len(w.word)
		}
	}
	for _, w := range scaleWords {
		if len(s)-sp >= len(w.word) && strings.EqualFold(s[sp:sp+len(w.word)], w.word) {
			e := sp + len(w.word)
			if e < len(s) && s[e] == 's' {
				e++
			}
			if !letterAt(s, e) {
				x.v *= w.mult
				return e
			}
		}
	}
	return end
}

func hasWordPrefix(s, w string) bool {
	if len(s) < len(w) || !strings.EqualFold(s[:len(w)], w) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(w)
	return !unicode.IsLetter(r) || isCJK(r) || !letterAt(s, len(w))
}

func letterAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) && !isCJK(r)
}

// unitsAt reads East Asian units at s[p] (after at most one space): an
// optional small unit then an optional big one. mult is their product, 0
// when there is none.
func unitsAt(s string, p int) (mult float64, end int) {
	if p < len(s) && s[p] == ' ' {
		p++
	}
	mult = 1
	found := false
	if r, w := utf8.DecodeRuneInString(s[p:]); smallUnits[r] > 0 {
		mult *= smallUnits[r]
		p += w
		found = true
	}
	if r, w := utf8.DecodeRuneInString(s[p:]); bigUnits[r] > 0 {
		mult *= bigUnits[r]
		p += w
		found = true
	}
	if !found {
		return 0, p
	}
	return mult, p
}

// cjkUnits applies units after the number v ending at s[end], continuing
// with further terms of decreasing magnitude: "1억 2천만" is 1e8 + 2000e4,
// "3만 5천" is 35000.
func cjkUnits(s string, end int, v float64) (float64, int, bool) {
	mult, e := unitsAt(s, end)
	if mult == 0 {
		return v, end, false
	}
	total := v * mult
	end = e
	for {
		q := end
		if q < len(s) && s[q] == ' ' {
			q++
		}
		if q >= len(s) || !isDigit(s[q]) {
			break
		}
		n, nend, _ := parseNumberAt(s, q)
		m, e := unitsAt(s, nend)
		if nend == q || m == 0 || m >= mult {
			break
		}
		total += n * m
		mult, end = m, e
	}
	return total, end, true
}

// negativeBefore reports whether the text just before a number's digits is a
// minus sign (optionally followed by a currency symbol) that starts a token.
func negativeBefore(pre string) bool {
	for _, sym := range []string{"$", "€", "£", "¥", "₩", "₹"} {
		if p, ok := strings.CutSuffix(pre, sym); ok {
			pre = p
			break
		}
	}
	var ok bool
	if pre, ok = strings.CutSuffix(pre, "-"); !ok {
		if pre, ok = strings.CutSuffix(pre, "−"); !ok {
			return false
		}
	}
	if pre == "" {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(pre)
	return !(unicode.IsLetter(r) || unicode.IsDigit(r))
}
