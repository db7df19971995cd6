package openai_test

import (
	"context"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/openai"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// BenchmarkGenerate measures the adapter's per-call cost through real HTTP
// on loopback (go-openai, the body-patching transport, the fake server),
// with and without a temperature (the body-patch path).
//
//	go test -run '^$' -bench Generate -benchmem ./providers/openai/
func BenchmarkGenerate(b *testing.B) {
	srv := providertest.NewOpenAIServer(b, providertest.WithoutRecording())
	c, err := openai.New(openai.Config{BaseURL: srv.URL()})
	if err != nil {
		b.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		temp *float64
	}{{"temperature_set", providers.Float64(0)}, {"no_patch", nil}} {
		b.Run(tt.name, func(b *testing.B) {
			req := &providers.Request{
				Model:       "gpt-4o-mini",
				System:      "Classify the intent.",
				Messages:    []providers.Message{{Role: "user", Content: "I want my money back for order 1234."}},
				Temperature: tt.temp,
				MaxTokens:   16,
			}
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Generate(context.Background(), req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
