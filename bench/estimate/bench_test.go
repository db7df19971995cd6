package estimate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pkoukk/tiktoken-go"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

// benchCases builds n cases shaped like a typical Q&A suite: a shared ~400
// byte system prompt, a ~450 byte question that differs per case (prose,
// numbers, some code and a non-Latin phrase) and a short expected answer.
func benchCases(n int) []*bench.Case {
	system := strings.Repeat("You are a precise assistant. Answer with the final value only, no explanation. ", 5)
	cases := make([]*bench.Case, n)
	for i := range cases {
		q := fmt.Sprintf("Question %d: A warehouse ships %d boxes on Monday and %d on Tuesday; each box weighs %d.%d kg. "+
			"The manifest reads `total := mon*w + tue*w // kg` and the label says \"Größe: %d — 数量 %d\". "+
			"Customers asked twice about order #%06d, so what's the combined shipped weight, rounded to the nearest kilogram? "+
			"Give only the number.", i, 100+i%977, 50+i%313, 3+i%17, i%10, i%7, i%13, i)
		cases[i] = &bench.Case{
			ID:       fmt.Sprint(i),
			Request:  providers.Request{System: system, Messages: user(q), MaxTokens: 64},
			Expected: fmt.Sprint((100+i%977+50+i%313)*(3+i%17) + i%10),
		}
	}
	return cases
}

// BenchmarkEstimator reports cases/s for five targets spanning every method
// (o200k exact, cl100k exact, o200k and cl100k proxies, bytes/4), i.e. three
// distinct tokenizers per case:
//
//	go test -run XXX -bench Estimator -benchmem ./bench/estimate
func BenchmarkEstimator(b *testing.B) {
	targets := []Target{
		{Name: "a", Model: "gpt-4o-mini", Provider: "openai", Price: &priceMini},
		{Name: "b", Model: "gpt-4", Provider: "openai", Price: &priceGPT4},
		{Name: "c", Model: "gemini-2.5-flash", Provider: "gemini", Price: &priceFlash},
		{Name: "d", Model: "llama3.2", Provider: "ollama"},
		{Name: "e", Model: "mistral", Provider: "ollama"},
	}
	cases := benchCases(10_000)
	if _, err := New(targets, Config{}); err != nil { // load the encodings outside the timer
		b.Fatal(err)
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		e, err := New(targets, Config{Repeats: 3})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range cases {
			e.Add(c)
		}
		e.Close()
		n += len(cases)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "cases/s")
}

// BenchmarkCount compares this package's counter with tiktoken-go's
// EncodeOrdinary on the same text, in MB/s:
//
//	go test -run XXX -bench Count -benchmem ./bench/estimate
func BenchmarkCount(b *testing.B) {
	text := benchCases(1)[0].Request.System + benchCases(1)[0].Request.Messages[0].Content
	for _, name := range []string{CL100KBase, O200KBase} {
		b.Run("estimate/"+name, func(b *testing.B) {
			enc := mustBPE(b, name)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				enc.count(text)
			}
		})
		b.Run("tiktoken-go/"+name, func(b *testing.B) {
			var enc *tiktoken.Tiktoken = tiktokenGo(b)[name]
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				enc.EncodeOrdinary(text)
			}
		})
	}
}

// BenchmarkLoad measures loading an encoding's embedded ranks (done once per
// process; the cache is bypassed here).
func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{CL100KBase, O200KBase} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				bpeMu.Lock()
				delete(bpeCache, name)
				bpeMu.Unlock()
				if _, err := loadBPE(name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
