package openai_test

import (
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/openai"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

func TestConformance(t *testing.T) {
	providertest.RunConformance(t, providertest.Harness{
		Name:  "openai",
		Model: "gpt-4o-mini",
		New: func(t *testing.T, b providers.Bounds) (providers.Provider, providertest.Fake) {
			srv := providertest.NewOpenAIServer(t, providertest.WithAPIKey("sk-test-conformance"))
			c, err := openai.New(openai.Config{APIKey: "sk-test-conformance", BaseURL: srv.URL(), Bounds: b})
			if err != nil {
				t.Fatal(err)
			}
			return c, srv
		},
	})
}

func TestConformanceAzure(t *testing.T) {
	providertest.RunConformance(t, providertest.Harness{
		Name:  "azure",
		Model: "gpt-4o-mini",
		New: func(t *testing.T, b providers.Bounds) (providers.Provider, providertest.Fake) {
			srv := providertest.NewOpenAIServer(t, providertest.WithAPIKey("azure-test-key"))
			c, err := openai.New(openai.Config{
				Azure:       true,
				APIKey:      "azure-test-key",
				BaseURL:     srv.Endpoint(),
				Deployments: map[string]string{"gpt-4o-mini": "prod-mini"},
				Bounds:      b,
			})
			if err != nil {
				t.Fatal(err)
			}
			return c, srv
		},
	})
}

// A keyless OpenAI-compatible host (vLLM, llama.cpp) under a preset name.
func TestConformanceCompatibleHost(t *testing.T) {
	providertest.RunConformance(t, providertest.Harness{
		Name:  "vllm",
		Model: "meta-llama/Llama-3.1-8B-Instruct",
		New: func(t *testing.T, b providers.Bounds) (providers.Provider, providertest.Fake) {
			srv := providertest.NewOpenAIServer(t)
			c, err := openai.New(openai.Config{Name: "vllm", BaseURL: srv.URL(), Bounds: b})
			if err != nil {
				t.Fatal(err)
			}
			return c, srv
		},
	})
}
