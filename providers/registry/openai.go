package registry

import (
	"fmt"
	"strings"

	"github.com/yardstick-eval/yardstick/providers/openai"
)

// Schemes served by providers/openai: one per openai.Presets entry
// (openai, groq, together, openrouter, vllm, llamacpp, ollama-openai) and
// azure.
func init() {
	for name, preset := range openai.Presets {
		register(name, presetBuilder(name, preset))
	}
	register("azure", buildAzure)
}

// pricedPresets are the presets whose models are in the pricing table
// under the preset's name.
var pricedPresets = map[string]bool{"openai": true, "groq": true, "together": true}

// presetBuilder builds an OpenAI-compatible client for a preset. The base
// URL is the config's base_url, else the preset's BaseURLEnv variable, else
// the preset's default. Config.Options: "max_tokens_param" (max_tokens or
// max_completion_tokens), "strict_json_schema" ("true"), "stream_usage"
// ("false" for servers that reject stream_options), "structured_output"
// (json_schema, the default; json_object or none for servers that reject
// response_format json_schema, such as llama-cpp-python).
func presetBuilder(name string, preset openai.Preset) Builder {
	return func(s Spec) (Adapter, error) {
		key, err := s.Key(preset.KeyEnv, preset.KeyOptional)
		if err != nil {
			return Adapter{}, err
		}
		base := s.BaseURL
		if base == "" && preset.BaseURLEnv != "" {
			base = strings.TrimSpace(s.Getenv(preset.BaseURLEnv))
		}
		if base == "" {
			base = preset.BaseURL
		}
		cfg := openai.Config{
			Name:       name,
			APIKey:     key,
			BaseURL:    base,
			HTTPClient: s.HTTPClient,
			Bounds:     s.Bounds(),
			Headers:    s.Headers,
		}
		if err := applyOptions(&cfg, s.Options); err != nil {
			return Adapter{}, err
		}
		c, err := openai.New(cfg)
		if err != nil {
			return Adapter{}, err
		}
		a := Adapter{Provider: c, Name: name, BaseURL: c.BaseURL()}
		if pricedPresets[name] {
			a.PriceProvider = name
		}
		return a, nil
	}
}

// buildAzure builds an Azure OpenAI client: key from AZURE_OPENAI_API_KEY
// (or api_key_env), endpoint from base_url or AZURE_OPENAI_ENDPOINT,
// api-version from api_version, AZURE_OPENAI_API_VERSION or
// OPENAI_API_VERSION, else openai.DefaultAzureAPIVersion. Model is the
// underlying model (used for pricing) and Deployment the deployment serving
// it; "azure:NAME" uses NAME for both. options.batch_deployment names the
// Global-Batch deployment --batch lines go to, when it is another one.
func buildAzure(s Spec) (Adapter, error) {
	key, err := s.Key("AZURE_OPENAI_API_KEY", false)
	if err != nil {
		return Adapter{}, err
	}
	endpoint := s.BaseURL
	if endpoint == "" {
		endpoint = strings.TrimSpace(s.Getenv("AZURE_OPENAI_ENDPOINT"))
	}
	if endpoint == "" {
		return Adapter{}, fmt.Errorf("AZURE_OPENAI_ENDPOINT is not set and base_url is empty: set one to https://YOUR-RESOURCE.openai.azure.com")
	}
	version := s.APIVersion
	for _, env := range []string{"AZURE_OPENAI_API_VERSION", "OPENAI_API_VERSION"} {
		if version == "" {
			version = strings.TrimSpace(s.Getenv(env))
		}
	}
	cfg := openai.Config{
		Name:       "azure",
		Azure:      true,
		APIKey:     key,
		BaseURL:    endpoint,
		APIVersion: version,
		HTTPClient: s.HTTPClient,
		Bounds:     s.Bounds(),
		Headers:    s.Headers,
	}
	if s.Deployment != "" {
		cfg.Deployments = map[string]string{s.Model: s.Deployment}
	}
	if err := applyOptions(&cfg, s.Options); err != nil {
		return Adapter{}, err
	}
	c, err := openai.New(cfg)
	if err != nil {
		return Adapter{}, err
	}
	return Adapter{Provider: c, Name: "azure", BaseURL: c.BaseURL(), PriceProvider: "azure"}, nil
}

// applyOptions reads the openai adapter's Config.Options keys.
func applyOptions(cfg *openai.Config, opts map[string]string) error {
	for k, v := range opts {
		switch k {
		case "max_tokens_param":
			cfg.MaxTokensParam = v
		case "strict_json_schema":
			cfg.StrictJSONSchema = v == "true"
		case "stream_usage":
			cfg.NoStreamUsage = v == "false"
		case "organization":
			cfg.Organization = v
		case "batch_deployment":
			if !cfg.Azure {
				return fmt.Errorf("options.batch_deployment: only azure targets have deployments")
			}
			cfg.BatchDeployment = v
		case "structured_output":
			switch v {
			case openai.StructuredJSONSchema, openai.StructuredJSONObject, openai.StructuredNone:
				cfg.StructuredOutput = v
			default:
				return fmt.Errorf("options.structured_output: %q: want %s, %s or %s", v, openai.StructuredJSONSchema, openai.StructuredJSONObject, openai.StructuredNone)
			}
		default:
			return fmt.Errorf("options.%s: unknown option (known: max_tokens_param, strict_json_schema, stream_usage, organization, structured_output, batch_deployment)", k)
		}
	}
	return nil
}
