package score

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Number extraction modes for the numeric scorer's `extract` field.
const (
	ExtractLast  = "last"  // the last number in the answer (default; reasoning usually ends with the result)
	ExtractFirst = "first" // the first number
	ExtractOnly  = "only"  // the answer must contain exactly one distinct number
)

type numeric struct {
	abs, rel float64
	extract  string
}

func buildNumeric(s *Spec) (judge, error) {
	n := numeric{extract: ExtractLast}
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
	switch s.Extract {
	case "":
	case ExtractLast, ExtractFirst, ExtractOnly:
		n.extract = s.Extract
	default:
		return nil, fieldErr(FieldExtract, "must be %s, %s or %s, got %q", ExtractLast, ExtractFirst, ExtractOnly, s.Extract)
	}
	return n, nil
}

func (n numeric) checkRefs(refs []string) error {
	_, err := pickNumber(refs[0], ExtractOnly)
	return err
}

func (n numeric) judge(out string, refs []string) verdict {
	want, _ := pickNumber(refs[0], ExtractOnly)
	got, err := pickNumber(out, n.extract)
	if err != nil {
		return verdict{reason: err.Error()}
	}
	diff := math.Abs(got - want)
	limit := n.abs + n.rel*math.Abs(want)
	ws := fmtNum(want)
	if limit > 0 {
		ws += " ± " + fmtNum(limit)
	}
	if diff <= limit+1e-12*math.Max(1, math.Abs(want)) {
		return verdict{value: 1, pass: true, reason: fmt.Sprintf("got %s, expected %s", fmtNum(got), ws)}
	}
	return verdict{reason: fmt.Sprintf("expected %s, got %s", ws, fmtNum(got))}
}

func fmtNum(f float64) string {
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e15) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// pickNumber extracts the numbers in s and picks one according to mode.
func pickNumber(s, mode string) (float64, error) {
	nums := ExtractNumbers(s)
	if len(nums) == 0 {
		return 0, fmt.Errorf("no number in %s", q(s))
	}
	switch mode {
	case ExtractFirst:
		return nums[0], nil
	case ExtractOnly:
		for _, x := range nums[1:] {
			if x != nums[0] {
				return 0, fmt.Errorf("several numbers in %s", q(s))
			}
		}
		return nums[0], nil
	default:
		return nums[len(nums)-1], nil
	}
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// ExtractNumbers returns the numbers written in s, in order: integers and
// decimals with optional sign, thousands separators ("1,234.50"), a currency
// symbol between sign and digits ("-$5"), and exponents ("1e-3"). Digits glued
// to a preceding letter ("A12345", "v2") are part of a name, not a number; a
// hyphen between digits ("1990-2000") is a range, not a sign.
func ExtractNumbers(s string) []float64 {
	var out []float64
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
			if unicode.IsLetter(r) || r == '_' || (s[start] == '.' && isDigit(s[start-1])) {
				for i < len(s) && (isDigit(s[i]) || s[i] == '.' || s[i] == ',') {
					i++
				}
				continue
			}
		}
		var b strings.Builder
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		b.WriteString(s[i:j])
		lead := j - i
		// Thousands groups: ",ddd" not followed by another digit.
		for lead <= 3 && j < len(s) && s[j] == ',' && j+4 <= len(s) && isDigit(s[j+1]) && isDigit(s[j+2]) && isDigit(s[j+3]) &&
			(j+4 == len(s) || !isDigit(s[j+4])) {
			b.WriteString(s[j+1 : j+4])
			j += 4
		}
		if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			k := j + 1
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			b.WriteString(s[j:k])
			j = k
		}
		if j+1 < len(s) && (s[j] == 'e' || s[j] == 'E') {
			k := j + 1
			if k < len(s) && (s[k] == '+' || s[k] == '-') {
				k++
			}
			if k < len(s) && isDigit(s[k]) {
				for k < len(s) && isDigit(s[k]) {
					k++
				}
				b.WriteString(s[j:k])
				j = k
			}
		}
		i = j
		f, err := strconv.ParseFloat(b.String(), 64)
		if err != nil {
			continue
		}
		if negativeBefore(s[:start]) {
			f = -f
		}
		out = append(out, f)
	}
	return out
}

// negativeBefore reports whether the text just before a number's digits is a
// minus sign (optionally followed by a currency symbol) that starts a token.
func negativeBefore(pre string) bool {
	for _, sym := range []string{"$", "€", "£", "¥"} {
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
