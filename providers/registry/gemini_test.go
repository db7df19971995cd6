package registry_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/providertest"
	"github.com/yardstick-eval/yardstick/providers/registry"
)

func getenvFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestBuildGeminiAgainstFake(t *testing.T) {
	tests := []struct {
		name      string
		cfg       registry.Config
		env       map[string]string
		key       string // the fake demands it
		wantPath  string
		wantScope string
	}{
		{
			name:     "gemini with GEMINI_API_KEY",
			cfg:      registry.Config{Type: "gemini", Model: "gemini-2.5-flash"},
			env:      map[string]string{"GEMINI_API_KEY": "g-key", "GOOGLE_API_KEY": "other"},
			key:      "g-key",
			wantPath: "/v1beta/models/gemini-2.5-flash:generateContent",
		},
		{
			name:     "gemini with GOOGLE_API_KEY and api_version",
			cfg:      registry.Config{Type: "gemini", Model: "gemini-2.0-flash", APIVersion: "v1"},
			env:      map[string]string{"GOOGLE_API_KEY": "google-key"},
			key:      "google-key",
			wantPath: "/v1/models/gemini-2.0-flash:generateContent",
		},
		{
			name:     "gemini with api_key_env",
			cfg:      registry.Config{Type: "gemini", Model: "gemini-2.5-pro", APIKeyEnv: "TEAM_GEMINI"},
			env:      map[string]string{"TEAM_GEMINI": "team-key", "GEMINI_API_KEY": "personal"},
			key:      "team-key",
			wantPath: "/v1beta/models/gemini-2.5-pro:generateContent",
		},
		{
			name:     "vertex from options, auth none",
			cfg:      registry.Config{Type: "vertex", Model: "gemini-2.5-flash", Options: map[string]string{"project": "proj-a", "location": "europe-west4", "auth": "none"}},
			env:      map[string]string{"GOOGLE_CLOUD_PROJECT": "ignored"},
			wantPath: "/v1beta1/projects/proj-a/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent",
		},
		{
			name:     "vertex from the environment",
			cfg:      registry.Config{Type: "vertex", Model: "gemini-2.5-flash", Options: map[string]string{"auth": "none"}},
			env:      map[string]string{"GOOGLE_CLOUD_PROJECT": "proj-b", "GOOGLE_CLOUD_REGION": "us-east5"},
			wantPath: "/v1beta1/projects/proj-b/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent",
		},
		{
			name:     "vertex express mode",
			cfg:      registry.Config{Type: "vertex", Model: "gemini-2.5-flash", APIKeyEnv: "VERTEX_KEY"},
			env:      map[string]string{"VERTEX_KEY": "v-key"},
			key:      "v-key",
			wantPath: "/v1beta1/publishers/google/models/gemini-2.5-flash:generateContent",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []providertest.GeminiOption
			if tt.key != "" {
				opts = append(opts, providertest.WithGeminiAPIKey(tt.key))
			}
			srv := providertest.NewGeminiServer(t, opts...)
			cfg := tt.cfg
			cfg.BaseURL = srv.URL()
			cfg.Headers = map[string]string{"X-Bench": "yardstick"}
			b, err := registry.Build(cfg, registry.Options{Getenv: getenvFrom(tt.env), HTTPClient: srv.Client(),
				Retry: providers.RetryConfig{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			srv.Script(providertest.Behavior{Status: 503}) // retried by the decorator
			resp, err := b.Provider.Generate(context.Background(), &providers.Request{Model: b.Model, Messages: []providers.Message{{Role: "user", Content: "hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Attempts != 2 || resp.Text == "" {
				t.Errorf("resp = %+v, want a success on the 2nd attempt", resp)
			}
			reqs := srv.Requests()
			if w := reqs[len(reqs)-1]; w.Path != tt.wantPath || w.Header.Get("X-Bench") != "yardstick" {
				t.Errorf("path %s header %q, want %s", w.Path, w.Header.Get("X-Bench"), tt.wantPath)
			}
			if b.Adapter != cfg.Type || !strings.HasPrefix(b.Scope, cfg.Type+"@127.0.0.1:") {
				t.Errorf("Adapter %q Scope %q", b.Adapter, b.Scope)
			}
			if b.Price == nil || b.Price.InputPerM <= 0 {
				t.Errorf("no price for %s", cfg.Model)
			}
			if _, ok := b.Provider.(providers.Streamer); !ok {
				t.Error("built provider lost the Streamer capability")
			}
		})
	}
}

func TestBuildGeminiErrors(t *testing.T) {
	tests := []struct {
		name        string
		cfg         registry.Config
		env         map[string]string
		errContains string
	}{
		{"no key", registry.Config{Type: "gemini", Model: "gemini-2.5-flash"}, nil, "GEMINI_API_KEY is not set"},
		{"api_key_env unset", registry.Config{Type: "gemini", Model: "m", APIKeyEnv: "MY_KEY"}, map[string]string{"GEMINI_API_KEY": "sk-secret-1"}, "MY_KEY is not set"},
		{"unknown gemini option", registry.Config{Type: "gemini", Model: "m", Options: map[string]string{"project": "p"}}, map[string]string{"GEMINI_API_KEY": "sk-secret-2"}, "options.project: unknown option"},
		{"vertex without project", registry.Config{Type: "vertex", Model: "m"}, nil, "GOOGLE_CLOUD_PROJECT"},
		{"vertex bad auth", registry.Config{Type: "vertex", Model: "m", Options: map[string]string{"project": "p", "auth": "oauth"}}, nil, "options.auth"},
		{"vertex unknown option", registry.Config{Type: "vertex", Model: "m", Options: map[string]string{"region": "x"}}, nil, "known: project, location, auth"},
		{"vertex express with project", registry.Config{Type: "vertex", Model: "m", APIKeyEnv: "K", Options: map[string]string{"project": "p"}}, map[string]string{"K": "sk-secret-3"}, "express mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := registry.Build(tt.cfg, registry.Options{Getenv: getenvFrom(tt.env)})
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("err = %v, want %q", err, tt.errContains)
			}
			for _, v := range tt.env {
				if strings.Contains(err.Error(), v) {
					t.Errorf("error leaks a secret: %v", err)
				}
			}
		})
	}
}

func TestBuildVertexScope(t *testing.T) {
	tests := []struct {
		location  string
		wantScope string
	}{
		{"us-central1", "vertex@us-central1-aiplatform.googleapis.com"},
		{"", "vertex@aiplatform.googleapis.com"}, // global
	}
	for _, tt := range tests {
		t.Run(tt.wantScope, func(t *testing.T) {
			b, err := registry.Build(registry.Config{Type: "vertex", Model: "gemini-2.5-pro", Options: map[string]string{"project": "p", "location": tt.location}},
				registry.Options{Getenv: getenvFrom(nil)})
			if err != nil {
				t.Fatal(err)
			}
			if b.Scope != tt.wantScope {
				t.Errorf("Scope = %q, want %q", b.Scope, tt.wantScope)
			}
		})
	}
	b, err := registry.Build(registry.Config{Type: "gemini", Model: "gemini-2.5-flash"}, registry.Options{Getenv: getenvFrom(map[string]string{"GEMINI_API_KEY": "k"})})
	if err != nil {
		t.Fatal(err)
	}
	if b.Scope != "gemini@generativelanguage.googleapis.com" {
		t.Errorf("gemini Scope = %q", b.Scope)
	}
}
