package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/providertest"
	"github.com/yardstick-eval/yardstick/providers/registry"
)

func TestBuildOllamaAgainstFake(t *testing.T) {
	srv := providertest.NewOllamaServer(t, providertest.WithOllamaModels("llama3.2:1b"))
	host := strings.TrimPrefix(srv.URL(), "http://")
	tests := []struct {
		name     string
		arg      string
		cfg      registry.Config
		env      map[string]string
		wantAuth string
		wantKeep string
	}{
		{name: "scheme string and OLLAMA_HOST", arg: "ollama:llama3.2:1b", env: map[string]string{"OLLAMA_HOST": host}},
		{name: "base_url, keep_alive, api_key_env",
			cfg: registry.Config{Type: "ollama", Model: "llama3.2:1b", BaseURL: srv.URL(), APIKeyEnv: "PROXY_KEY", Options: map[string]string{"keep_alive": "1h"}},
			env: map[string]string{"PROXY_KEY": "secret", "OLLAMA_HOST": "10.9.9.9:1"}, wantAuth: "Bearer secret", wantKeep: `"1h0m0s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if tt.arg != "" {
				var err error
				if cfg, err = registry.Parse(tt.arg); err != nil {
					t.Fatal(err)
				}
			}
			b, err := registry.Build(cfg, registry.Options{Getenv: getenvFrom(tt.env)})
			if err != nil {
				t.Fatal(err)
			}
			if b.Adapter != "ollama" || b.Scope != "ollama@"+host || b.Price != nil {
				t.Errorf("Built = %s, price %v", b, b.Price)
			}
			before := srv.Count()
			resp, err := b.Provider.Generate(context.Background(), &providers.Request{Model: b.Model, Messages: []providers.Message{{Role: "user", Content: "hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Model != "llama3.2:1b" || srv.Count() != before+1 {
				t.Errorf("resp = %+v", resp)
			}
			reqs := srv.Requests()
			w := reqs[len(reqs)-1]
			if got := w.Header.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", got, tt.wantAuth)
			}
			var body struct {
				KeepAlive json.RawMessage `json:"keep_alive"`
			}
			json.Unmarshal(w.Body, &body)
			if string(body.KeepAlive) != tt.wantKeep {
				t.Errorf("keep_alive = %s, want %s", body.KeepAlive, tt.wantKeep)
			}
		})
	}
	t.Run("unknown model is not_found, not retried", func(t *testing.T) {
		b, err := registry.Build(registry.Config{Type: "ollama", Model: "mistral", BaseURL: srv.URL()}, registry.Options{Getenv: getenvFrom(nil)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.Provider.Generate(context.Background(), &providers.Request{Model: b.Model, Messages: []providers.Message{{Role: "user", Content: "hi"}}})
		var pe *providers.Error
		if k := providers.KindOf(err); k != providers.KindNotFound {
			t.Fatalf("err = %v, want not_found", err)
		}
		if errors.As(err, &pe) && pe.Attempts != 1 {
			t.Errorf("Attempts = %d, want 1", pe.Attempts)
		}
	})
}

func TestBuildOllamaDefaultsAndErrors(t *testing.T) {
	b, err := registry.Build(registry.Config{Type: "ollama", Model: "llama3.2"}, registry.Options{Getenv: getenvFrom(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if b.Scope != "ollama@127.0.0.1:11434" {
		t.Errorf("default Scope = %q", b.Scope)
	}
	tests := []struct {
		name        string
		cfg         registry.Config
		errContains string
	}{
		{"bad keep_alive", registry.Config{Type: "ollama", Model: "m", Options: map[string]string{"keep_alive": "forever"}}, "options.keep_alive"},
		{"unknown option", registry.Config{Type: "ollama", Model: "m", Options: map[string]string{"num_ctx": "8192"}}, "options.num_ctx: unknown option"},
		{"api_key_env unset", registry.Config{Type: "ollama", Model: "m", APIKeyEnv: "PROXY_KEY"}, "PROXY_KEY is not set"},
		{"bad base_url", registry.Config{Type: "ollama", Model: "m", BaseURL: "localhost:11434"}, "base_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := registry.Build(tt.cfg, registry.Options{Getenv: getenvFrom(nil)})
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("err = %v, want %q", err, tt.errContains)
			}
		})
	}
}
