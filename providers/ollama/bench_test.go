package ollama_test

import (
	"context"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/ollama"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// BenchmarkGenerate measures the adapter's per-call cost through real HTTP
// on loopback (api.Client, the recording transport, the fake server), plain
// (stream: false) and streamed (NDJSON).
//
//	go test -run '^$' -bench . -benchmem ./providers/ollama/
func BenchmarkGenerate(b *testing.B) {
	srv := providertest.NewOllamaServer(b, providertest.WithoutOllamaRecording())
	c, err := ollama.New(ollama.Config{BaseURL: srv.URL(), HTTPClient: srv.Client()})
	if err != nil {
		b.Fatal(err)
	}
	req := &providers.Request{
		Model:       "llama3.2",
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
