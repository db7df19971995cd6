package registry

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/yardstick-eval/yardstick/internal/redact"
	"github.com/yardstick-eval/yardstick/providers/gemini"
)

// Schemes served by providers/gemini:
//
//   - "gemini": the Gemini API. Key from api_key_env, else GEMINI_API_KEY,
//     else GOOGLE_API_KEY.
//   - "vertex": Gemini on Vertex AI. options.project (else
//     GOOGLE_CLOUD_PROJECT), options.location (else GOOGLE_CLOUD_LOCATION,
//     GOOGLE_CLOUD_REGION, "global"), authenticated with Application Default
//     Credentials found on the first request; options.auth "none" leaves
//     authentication to the HTTP client or a proxy. With api_key_env it uses
//     Vertex express mode (an API key, no project or location).
//
// Both take base_url and api_version (genai's, e.g. "v1") and headers.
// Prices are looked up under "gemini" and "vertex" (an alias of gemini).
func init() {
	register("gemini", buildGemini)
	register("vertex", buildVertex)
}

func buildGemini(s Spec) (Adapter, error) {
	if err := optionKeysIn(s.Options); err != nil {
		return Adapter{}, err
	}
	var key string
	if s.APIKeyEnv != "" {
		k, err := s.Key("", false)
		if err != nil {
			return Adapter{}, err
		}
		key = k
	} else {
		key = strings.TrimSpace(s.Getenv("GEMINI_API_KEY"))
		if key == "" {
			key = strings.TrimSpace(s.Getenv("GOOGLE_API_KEY"))
		}
		redact.Register(key)
		if key == "" {
			return Adapter{}, fmt.Errorf("GEMINI_API_KEY is not set (nor GOOGLE_API_KEY): export it with your Gemini API key from https://aistudio.google.com/apikey")
		}
	}
	cfg := gemini.Config{
		Name:       "gemini",
		Backend:    gemini.BackendGeminiAPI,
		APIKey:     key,
		BaseURL:    s.BaseURL,
		APIVersion: s.APIVersion,
		Headers:    headersOf(s.Headers),
		HTTPClient: s.HTTPClient,
		Bounds:     s.Bounds(),
	}
	return newGemini(cfg, "gemini")
}

func buildVertex(s Spec) (Adapter, error) {
	if err := optionKeysIn(s.Options, "project", "location", "auth"); err != nil {
		return Adapter{}, err
	}
	cfg := gemini.Config{
		Name:       "vertex",
		Backend:    gemini.BackendVertexAI,
		BaseURL:    s.BaseURL,
		APIVersion: s.APIVersion,
		Headers:    headersOf(s.Headers),
		HTTPClient: s.HTTPClient,
		Bounds:     s.Bounds(),
		// A client from Options.HTTPClient (a proxy, say) must not switch
		// ADC off; options.auth "none" does that explicitly.
		Auth: gemini.AuthADC,
	}
	switch a := s.Options["auth"]; a {
	case "", "adc":
	case "none":
		cfg.Auth = gemini.AuthNone
	default:
		return Adapter{}, fmt.Errorf("options.auth: unknown %q (want adc or none)", a)
	}
	if s.APIKeyEnv != "" {
		key, err := s.Key("", false)
		if err != nil {
			return Adapter{}, err
		}
		if s.Options["project"] != "" || s.Options["location"] != "" {
			return Adapter{}, fmt.Errorf("options.project and options.location do not apply with api_key_env (Vertex express mode)")
		}
		cfg.APIKey = key
		return newGemini(cfg, "vertex")
	}
	cfg.Project = firstSet(s.Options["project"], s.Getenv("GOOGLE_CLOUD_PROJECT"))
	if cfg.Project == "" {
		return Adapter{}, fmt.Errorf("vertex needs a Google Cloud project: set options.project or GOOGLE_CLOUD_PROJECT")
	}
	cfg.Location = firstSet(s.Options["location"], s.Getenv("GOOGLE_CLOUD_LOCATION"), s.Getenv("GOOGLE_CLOUD_REGION"), "global")
	return newGemini(cfg, "vertex")
}

func newGemini(cfg gemini.Config, price string) (Adapter, error) {
	c, err := gemini.New(context.Background(), cfg) // makes no network call
	if err != nil {
		return Adapter{}, err
	}
	return Adapter{Provider: c, Name: cfg.Name, BaseURL: c.BaseURL(), PriceProvider: price}, nil
}

// optionKeysIn rejects Config.Options keys not in known.
func optionKeysIn(opts map[string]string, known ...string) error {
	for k := range opts {
		if !slices.Contains(known, k) {
			if len(known) == 0 {
				return fmt.Errorf("options.%s: unknown option (this type takes none)", k)
			}
			return fmt.Errorf("options.%s: unknown option (known: %s)", k, strings.Join(known, ", "))
		}
	}
	return nil
}

// headersOf converts Config.Headers.
func headersOf(m map[string]string) http.Header {
	if len(m) == 0 {
		return nil
	}
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

// firstSet returns the first non-blank value, trimmed.
func firstSet(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
