package score

import (
	"math"
	"strings"
	"testing"
)

// FuzzExtractNumbers: any text scans without panicking, to finite or
// infinite numbers but never NaN, and the answer finder returns a substring
// of the NFKC text or an error.
func FuzzExtractNumbers(f *testing.F) {
	for _, s := range []string{"３,０００원", "1억 2천만 원", "1.234.567,89 €", "12,34,567", "1/0", "12/25/2024", "1.8 billion", "#### 18",
		`\boxed{\frac{1}{2}`, "정답: 18", "1,2,3", "-₩5,000", "5만 3만", "1e999", "٣٠٠٠", "¾", "9e", ".5.5", "1 234 567,89"} {
		f.Add(s)
	}
	x, err := NewExtractor(Extract{Answer: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, n := range scanNumbers(s) {
			if math.IsNaN(n.v) {
				t.Fatalf("NaN from %q", s)
			}
		}
		_, _ = x.Apply(s)
		_, _ = pickNumber(s, ExtractOnly)
	})
}

// BenchmarkScanNumbersLong reads 80 KB answers built to be slow: long digit
// lists, separators and units. Scanning is linear; a quadratic regression
// (each number re-reading the rest of the text) shows as seconds per op.
func BenchmarkScanNumbersLong(b *testing.B) {
	inputs := []string{strings.Repeat("1,23", 20000), strings.Repeat("１２,", 20000), strings.Repeat("5만 ", 20000),
		strings.Repeat("1/2/", 20000), strings.Repeat("12.345.", 12000), strings.Repeat("3 000 ", 14000)}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range inputs {
			scanNumbers(s)
		}
	}
}

// BenchmarkChoiceLong scores a 60 KB answer naming labels thousands of times.
func BenchmarkChoiceLong(b *testing.B) {
	p, err := NewPart(Spec{Type: "choice", Labels: []string{"교환", "환불", "A", "B"}})
	if err != nil {
		b.Fatal(err)
	}
	out := strings.Repeat("교환 환불 A B ", 5000)
	for b.Loop() {
		p.j.judge(out, []string{"교환"})
	}
}
