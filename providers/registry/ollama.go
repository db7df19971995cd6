package registry

import (
	"fmt"
	"net/http"
	"time"

	"github.com/yardstick-eval/yardstick/providers/ollama"
)

// Scheme "ollama": models served by Ollama, on its native /api/chat
// (providers/ollama; "ollama-openai" is the OpenAI-compatible endpoint
// instead). The server is base_url, else OLLAMA_HOST parsed as the ollama
// CLI does, else http://127.0.0.1:11434. No key is needed; with
// api_key_env the key is sent as "Authorization: Bearer …" (for a proxy in
// front of Ollama). options.keep_alive (a duration such as "30m") keeps
// the model loaded between calls. headers are sent with every request.
// Self-hosted models have no price.
func init() { register("ollama", buildOllama) }

func buildOllama(s Spec) (Adapter, error) {
	if err := optionKeysIn(s.Options, "keep_alive"); err != nil {
		return Adapter{}, err
	}
	cfg := ollama.Config{
		BaseURL:    s.BaseURL,
		HTTPClient: s.HTTPClient,
		Bounds:     s.Bounds(),
		Headers:    headersOf(s.Headers),
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = ollama.HostURL(s.Getenv("OLLAMA_HOST"))
	}
	if v := s.Options["keep_alive"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return Adapter{}, fmt.Errorf("options.keep_alive: %q is not a duration such as 30m", v)
		}
		cfg.KeepAlive = d
	}
	if s.APIKeyEnv != "" {
		key, err := s.Key("", false)
		if err != nil {
			return Adapter{}, err
		}
		if cfg.Headers == nil {
			cfg.Headers = http.Header{}
		}
		cfg.Headers.Set("Authorization", "Bearer "+key)
	}
	c, err := ollama.New(cfg)
	if err != nil {
		return Adapter{}, err
	}
	return Adapter{Provider: c, Name: "ollama", BaseURL: c.BaseURL()}, nil
}
