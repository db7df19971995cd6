package score

import (
	"fmt"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
)

var koIntents = list("교환", "환불", "배송조회", "주소변경")

// unicodeTests turn each failure quoted in issue 10 into a pass, in Korean,
// Japanese, Chinese and English, with the near misses that must still fail.
var unicodeTests = []scoreTest{
	// choice: Korean particles and copulas attach to the label.
	{name: "choice/ko copula", spec: Spec{Type: "choice", Labels: koIntents}, expected: "교환", out: "교환입니다", pass: true},
	{name: "choice/ko copula polite", spec: Spec{Type: "choice", Labels: koIntents}, expected: "교환", out: "교환이에요.", pass: true},
	{name: "choice/ko topic particle", spec: Spec{Type: "choice", Labels: koIntents}, expected: "환불", out: "고객님의 문의는 환불 요청으로 보입니다. 의도: 환불", pass: true},
	{name: "choice/ko object particle", spec: Spec{Type: "choice", Labels: koIntents}, expected: "환불", out: "환불을 원하십니다", pass: true},
	{name: "choice/ko hada verb", spec: Spec{Type: "choice", Labels: koIntents}, expected: "교환", out: "교환해 드리겠습니다", pass: true},
	{name: "choice/ko marker", spec: Spec{Type: "choice", Labels: koIntents}, expected: "교환", out: "환불보다는… 의도는 교환입니다", pass: true},
	{name: "choice/ko wrong", spec: Spec{Type: "choice", Labels: koIntents}, expected: "교환", out: "환불입니다"},
	{name: "choice/ko inside word", spec: Spec{Type: "choice", Labels: koIntents}, expected: "교환", out: "맞교환기"},
	{name: "choice/ko ambiguous", spec: Spec{Type: "choice", Labels: koIntents}, expected: "교환", out: "교환 또는 환불"},
	{name: "choice/ko latin label", spec: Spec{Type: "choice", Labels: letters}, expected: "B", out: "정답은 B입니다", pass: true},
	{name: "choice/ko option number", spec: Spec{Type: "choice", Labels: list("1", "2", "3")}, expected: "2", out: "2번", pass: true},
	{name: "choice/ja copula", spec: Spec{Type: "choice", Labels: list("返品", "交換", "配送")}, expected: "返品", out: "返品です。", pass: true},
	{name: "choice/ja marker", spec: Spec{Type: "choice", Labels: list("返品", "交換", "配送")}, expected: "交換", out: "答え：交換", pass: true},
	{name: "choice/zh in sentence", spec: Spec{Type: "choice", Labels: list("退款", "换货", "物流")}, expected: "退款", out: "我要退款。", pass: true},
	{name: "choice/zh marker", spec: Spec{Type: "choice", Labels: list("退款", "换货", "物流")}, expected: "换货", out: "不是退款，答案是换货", pass: true},
	{name: "choice/full-width letter", spec: Spec{Type: "choice", Labels: letters}, expected: "C", out: "（Ｃ）", pass: true},
	{name: "choice/word mode refuses particles", spec: Spec{Type: "choice", Labels: koIntents, Match: MatchWord}, expected: "교환", out: "교환입니다"},
	{name: "choice/word mode", spec: Spec{Type: "choice", Labels: koIntents, Match: MatchWord}, expected: "교환", out: "의도: 교환", pass: true},
	{name: "choice/prefix mode", spec: Spec{Type: "choice", Labels: intents, Match: MatchPrefix}, expected: "complaint", out: "complaints department", pass: true},
	{name: "choice/prefix mode ko", spec: Spec{Type: "choice", Labels: koIntents, Match: MatchPrefix}, expected: "교환", out: "교환기간 문의", pass: true},
	{name: "choice/exact mode", spec: Spec{Type: "choice", Labels: koIntents, Match: MatchExact}, expected: "교환", out: " 「교환」 ", pass: true},
	{name: "choice/exact mode plain", spec: Spec{Type: "choice", Labels: koIntents, Match: MatchExact}, expected: "교환", out: "교환.", pass: true},
	{name: "choice/exact mode prose", spec: Spec{Type: "choice", Labels: koIntents, Match: MatchExact}, expected: "교환", out: "교환입니다"},
	{name: "choice/extract answer", spec: Spec{Type: "choice", Labels: letters, Extract: &Extract{Answer: true}}, expected: "B", out: "A looks right, C too.\nFinal answer: B", pass: true},

	// numeric: full-width digits, CJK units, fractions, percentages, scale words.
	{name: "numeric/full-width won", spec: Spec{Type: "numeric"}, expected: "3000", out: "３,０００원", pass: true},
	{name: "numeric/ko man", spec: Spec{Type: "numeric"}, expected: "50000", out: "5만 원입니다", pass: true},
	{name: "numeric/ko cheon", spec: Spec{Type: "numeric"}, expected: "6000", out: "6천 원", pass: true},
	{name: "numeric/ko compound", spec: Spec{Type: "numeric"}, expected: "35000", out: "배송비는 3만 5천원입니다", pass: true},
	{name: "numeric/ko eok", spec: Spec{Type: "numeric"}, expected: "120000000", out: "1억 2천만 원", pass: true},
	{name: "numeric/ko grouped man", spec: Spec{Type: "numeric"}, expected: "15000000", out: "1,500만 원", pass: true},
	{name: "numeric/ko glued to hangul", spec: Spec{Type: "numeric"}, expected: "18", out: "총18개", pass: true},
	{name: "numeric/ko expected in units", spec: Spec{Type: "numeric"}, expected: "5만 원", out: "50,000원", pass: true},
	{name: "numeric/ko man is not five", spec: Spec{Type: "numeric"}, expected: "5", out: "5만 원"},
	{name: "numeric/ja man", spec: Spec{Type: "numeric"}, expected: "35000", out: "3万5千円です", pass: true},
	{name: "numeric/ja oku", spec: Spec{Type: "numeric"}, expected: "200000000", out: "２億円", pass: true},
	{name: "numeric/zh yi", spec: Spec{Type: "numeric"}, expected: "300000000", out: "约3亿人", pass: true},
	{name: "numeric/fraction", spec: Spec{Type: "numeric"}, expected: "0.2", out: "1/5", pass: true},
	{name: "numeric/fraction not five", spec: Spec{Type: "numeric"}, expected: "5", out: "1/5"},
	{name: "numeric/vulgar fraction", spec: Spec{Type: "numeric"}, expected: "0.75", out: "¾", pass: true},
	{name: "numeric/date is not a fraction", spec: Spec{Type: "numeric"}, expected: "2024", out: "on 12/25/2024", pass: true},
	{name: "numeric/percent as fraction", spec: Spec{Type: "numeric"}, expected: "0.2", out: "20%", pass: true},
	{name: "numeric/percent word", spec: Spec{Type: "numeric"}, expected: "20%", out: "20 percent", pass: true},
	{name: "numeric/percent ko", spec: Spec{Type: "numeric"}, expected: "0.15", out: "15퍼센트", pass: true},
	{name: "numeric/full-width percent", spec: Spec{Type: "numeric"}, expected: "12.5", out: "１２．５％", pass: true},
	{name: "numeric/billion", spec: Spec{Type: "numeric"}, expected: "1800000000", out: "about 1.8 billion people", pass: true},
	{name: "numeric/billion not 1.8", spec: Spec{Type: "numeric"}, expected: "1.8", out: "1.8 billion"},
	{name: "numeric/k suffix", spec: Spec{Type: "numeric"}, expected: "2500", out: "$2.5k", pass: true},
	{name: "numeric/km is not k", spec: Spec{Type: "numeric"}, expected: "5", out: "5km", pass: true},
	{name: "numeric/german", spec: Spec{Type: "numeric"}, expected: "1234567.89", out: "1.234.567,89 €", pass: true},
	{name: "numeric/french", spec: Spec{Type: "numeric"}, expected: "1234.5", out: "1\u202f234,5 €", pass: true},
	{name: "numeric/swiss", spec: Spec{Type: "numeric"}, expected: "1234567", out: "CHF 1'234'567", pass: true},
	{name: "numeric/indian", spec: Spec{Type: "numeric"}, expected: "1234567", out: "₹12,34,567", pass: true},
	{name: "numeric/arabic-indic", spec: Spec{Type: "numeric"}, expected: "3000", out: "٣٠٠٠", pass: true},
	{name: "numeric/lone dot is decimal", spec: Spec{Type: "numeric"}, expected: "1.234", out: "1.234", pass: true},

	// numeric: where the answer is.
	{name: "numeric/final answer bold", spec: Spec{Type: "numeric", Extract: &Extract{Answer: true}}, expected: "18", out: "**Final answer: 18** (9 eggs x $2)", pass: true},
	{name: "numeric/last without extract", spec: Spec{Type: "numeric"}, expected: "18", out: "**Final answer: 18** (9 eggs x $2)"},
	{name: "numeric/after hashes", spec: Spec{Type: "numeric", Extract: &Extract{After: "####"}}, expected: "18", out: "16 - 3 - 4 = 9 eggs; 9 * 2 = 18 dollars\n#### 18", pass: true},
	{name: "numeric/after missing", spec: Spec{Type: "numeric", Extract: &Extract{After: "####"}}, expected: "18", out: "The answer is 18"},
	{name: "numeric/answer hashes", spec: Spec{Type: "numeric", Extract: &Extract{Answer: true}}, expected: "18", out: "9 * 2 = 18\n#### 18", pass: true},
	{name: "numeric/answer A colon", spec: Spec{Type: "numeric", Extract: &Extract{Answer: true}}, expected: "18", out: "Q: how many dollars?\nA: 18", pass: true},
	{name: "numeric/answer boxed", spec: Spec{Type: "numeric", Extract: &Extract{Answer: true}}, expected: "0.5", out: `so x = 3 - 2.5, i.e. \boxed{\frac{1}{2}} hmm no: \boxed{0.5}`, pass: true},
	{name: "numeric/answer the answer is", spec: Spec{Type: "numeric", Extract: &Extract{Answer: true}}, expected: "18", out: "She sells 9 eggs at $2, so the answer is 18 dollars, not 20.", pass: true},
	{name: "numeric/answer ko", spec: Spec{Type: "numeric", Extract: &Extract{Answer: true}}, expected: "18", out: "9개 × 2달러 = 18달러\n정답: 18달러", pass: true},
	{name: "numeric/answer ja", spec: Spec{Type: "numeric", Extract: &Extract{Answer: true}}, expected: "18", out: "9個×2ドル\n答えは１８ドルです", pass: true},
	{name: "numeric/answer zh", spec: Spec{Type: "numeric", Extract: &Extract{Answer: true}}, expected: "18", out: "9×2=18，答案：18美元", pass: true},
	{name: "numeric/answer unmarked is read whole", spec: Spec{Type: "numeric", Extract: &Extract{Answer: true}}, expected: "18", out: "18", pass: true},
	{name: "numeric/answer unmarked last number", spec: Spec{Type: "numeric", Extract: &Extract{Answer: true}}, expected: "18", out: "9 eggs at $2 each: 9 * 2 = 18", pass: true},
	{name: "choice/answer unmarked", spec: Spec{Type: "choice", Labels: letters, Extract: &Extract{Answer: true}}, expected: "B", out: "B", pass: true},
	{name: "numeric/regex group", spec: Spec{Type: "numeric", Extract: &Extract{Regex: `Total: (\S+)`}}, expected: "42", out: "Subtotal 40\nTotal: 42 (incl. 2 shipping)", pass: true},
	{name: "numeric/regex last match", spec: Spec{Type: "numeric", Extract: &Extract{Regex: `= (\d+)`}}, expected: "18", out: "a = 9, b = 18", pass: true},
	{name: "numeric/pick last after extract", spec: Spec{Type: "numeric", Extract: &Extract{After: "####", Pick: "last"}}, expected: "2", out: "#### 18 (9 eggs x $2)", pass: true},
	{name: "numeric/pick only after extract", spec: Spec{Type: "numeric", Extract: &Extract{After: "####", Pick: "only"}}, expected: "18", out: "#### 18 (9 eggs x $2)"},
	{name: "exact/extract after", spec: Spec{Type: "exact", Extract: &Extract{After: "Answer:"}}, expected: "Paris", out: "Let me think. Answer: Paris", pass: true},

	// text normalisation.
	{name: "icontains/nospace ko", spec: Spec{Type: "icontains", Value: sp("3~5 영업일"), Normalize: list("nospace")}, out: "배송은 3~5영업일 걸립니다", pass: true},
	{name: "icontains/no nospace ko", spec: Spec{Type: "icontains", Value: sp("3~5 영업일")}, out: "배송은 3~5영업일 걸립니다"},
	{name: "icontains/nospace ja", spec: Spec{Type: "icontains", Value: sp("3 営業日"), Normalize: list("nospace")}, out: "発送まで3営業日です", pass: true},
	{name: "icontains/case folding", spec: Spec{Type: "icontains", Value: sp("STRASSE")}, out: "in der Straße", pass: true},
	{name: "icontains/nfkc full-width", spec: Spec{Type: "icontains", Value: sp("order 123"), Normalize: list("nfkc")}, out: "ＯＲＤＥＲ １２３", pass: true},
	{name: "contains/width half-width katakana", spec: Spec{Type: "contains", Value: sp("カタカナ"), Normalize: list("width")}, out: "ｶﾀｶﾅです", pass: true},
	{name: "exact/hangul nfc nfd", spec: Spec{Type: "exact"}, expected: "교환", out: "\u1100\u116d\u1112\u116a\u11ab", pass: true},
	{name: "exact/zh nospace", spec: Spec{Type: "exact", Normalize: list("nospace", "punctuation")}, expected: "退款", out: "退 款。", pass: true},
	{name: "exact/en nfkc ligature", spec: Spec{Type: "exact", Normalize: list("nfkc")}, expected: "office", out: "oﬃce", pass: true},
}

func TestUnicodeScoring(t *testing.T) {
	for _, tt := range unicodeTests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPart(tt.spec)
			if err != nil {
				t.Fatalf("NewPart: %v", err)
			}
			c := &bench.Case{ID: "c1", Expected: tt.expected, Vars: tt.vars}
			if err := p.Check(c); err != nil {
				t.Fatalf("Check: %v", err)
			}
			got, err := p.Judge(c, tt.out)
			if err != nil {
				t.Fatalf("Judge: %v", err)
			}
			if got.Pass != tt.pass {
				t.Errorf("Judge(%q) Pass = %v, want %v (reason %q)", tt.out, got.Pass, tt.pass, got.Reason)
			}
			if !got.Pass && got.Reason == "" {
				t.Errorf("failed without a reason")
			}
		})
	}
}

func TestExtractNumbersUnicode(t *testing.T) {
	tests := []struct {
		in   string
		want []float64
	}{
		{"３,０００원", []float64{3000}},
		{"5만 원, 6천 원", []float64{50000, 6000}},
		{"3만5천원", []float64{35000}},
		{"1억 2천만 원", []float64{1.2e8}},
		{"5만 3만", []float64{50000, 30000}},
		{"1/5 and 3⁄4", []float64{0.2, 0.75}},
		{"12/25/2024", []float64{12, 25, 2024}},
		{"1.8 billion, 3 millions, 2 lakh", []float64{1.8e9, 3e6, 2e5}},
		{"8B model, 7bn", []float64{8e9, 7e9}},
		{"1.234.567,89 | 1 234,5 | 1'234 | 12,34,567", []float64{1234567.89, 1234.5, 1234, 1234567}},
		{"1.234", []float64{1.234}},
		{"1,234,56", []float64{1234, 56}},
		{"約１８個", []float64{18}},
		{"A: 18", []float64{18}},
		{"-₩5,000", []float64{-5000}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ExtractNumbers(tt.in)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("ExtractNumbers(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestExtractor(t *testing.T) {
	tests := []struct {
		e        Extract
		in, want string
		err      string
	}{
		{e: Extract{After: "####"}, in: "work\n#### 1,234", want: "1,234"},
		{e: Extract{After: "####"}, in: "#### 1\n#### 2", want: "2"},
		{e: Extract{After: "####"}, in: "＃＃＃＃ 7", want: "7"},
		{e: Extract{After: "####"}, in: "7", err: `no "####" in "7"`},
		{e: Extract{Regex: `\[(\w+)\]`}, in: "[a] then [b]", want: "b"},
		{e: Extract{Regex: `\d+`}, in: "1 and 22", want: "22"},
		{e: Extract{Answer: true}, in: "**Final answer: 18** (9 eggs x $2)", want: "18** (9 eggs x $2)"},
		{e: Extract{Answer: true}, in: "The answer is: **B**.", want: "B**."},
		{e: Extract{Answer: true}, in: `\boxed{\frac{1}{2}}`, want: `\frac{1}{2}`},
		{e: Extract{Answer: true}, in: "A: 18", want: "18"},
		{e: Extract{Answer: true}, in: "정답은 18입니다", want: "18입니다"},
		{e: Extract{Answer: true}, in: "no marker", err: "no marked answer"},
		{e: Extract{}, in: "as is", want: "as is"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			x, err := NewExtractor(tt.e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := x.Apply(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Apply(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
