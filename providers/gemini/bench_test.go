package gemini_test

import (
	"context"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/gemini"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// BenchmarkGenerate measures the adapter's per-call cost through real HTTP
// on loopback (genai's map-based request building, the recording transport,
// the fake server), plain and streamed.
//
//	go test -run '^$' -bench . -benchmem ./providers/gemini/
func BenchmarkGenerate(b *testing.B) {
	srv := providertest.NewGeminiServer(b, providertest.WithoutGeminiRecording())
	c, err := gemini.New(context.Background(), gemini.Config{APIKey: "k", BaseURL: srv.URL(), HTTPClient: srv.Client()})
	if err != nil {
		b.Fatal(err)
	}
	req := &providers.Request{
		Model:       "gemini-2.5-flash",
		System:      "Classify the intent.",
		Messages:    []providers.Message{{Role: "user", Content: "I want my money back for order 1234."}},
		Temperature: providers.Float64(0),
		MaxTokens:   16,
	}
	for _, stream := range []bool{false, true} {
		b.Run(map[bool]string{false: "generate", true: "stream"}[stream], func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					var err error
					if stream {
						_, err = c.Stream(context.Background(), req, func(providers.Chunk) error { return nil })
					} else {
						_, err = c.Generate(context.Background(), req)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
