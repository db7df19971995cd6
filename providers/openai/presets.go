package openai

// Preset describes a known OpenAI-compatible host.
type Preset struct {
	// BaseURL is the API root, including the version path.
	BaseURL string
	// KeyEnv is the environment variable holding the API key.
	KeyEnv string
	// KeyOptional reports that the host works without a key (local
	// servers); the key is still sent when KeyEnv is set.
	KeyOptional bool
	// BaseURLEnv, when set in the environment, replaces BaseURL (for
	// example to point at a server on another port, or a test fake).
	BaseURLEnv string
}

// Presets are the OpenAI-compatible hosts known by name; the registry
// exposes each as a scheme ("groq:llama-3.3-70b-versatile"). Azure OpenAI
// is not a preset: it needs an endpoint and deployments (see
// providers/registry).
var Presets = map[string]Preset{
	"openai":        {BaseURL: DefaultBaseURL, KeyEnv: "OPENAI_API_KEY", BaseURLEnv: "OPENAI_BASE_URL"},
	"groq":          {BaseURL: "https://api.groq.com/openai/v1", KeyEnv: "GROQ_API_KEY", BaseURLEnv: "GROQ_BASE_URL"},
	"together":      {BaseURL: "https://api.together.xyz/v1", KeyEnv: "TOGETHER_API_KEY", BaseURLEnv: "TOGETHER_BASE_URL"},
	"openrouter":    {BaseURL: "https://openrouter.ai/api/v1", KeyEnv: "OPENROUTER_API_KEY", BaseURLEnv: "OPENROUTER_BASE_URL"},
	"vllm":          {BaseURL: "http://localhost:8000/v1", KeyEnv: "VLLM_API_KEY", KeyOptional: true, BaseURLEnv: "VLLM_BASE_URL"},
	"llamacpp":      {BaseURL: "http://localhost:8080/v1", KeyEnv: "LLAMACPP_API_KEY", KeyOptional: true, BaseURLEnv: "LLAMACPP_BASE_URL"},
	"ollama-openai": {BaseURL: "http://localhost:11434/v1", KeyEnv: "OLLAMA_API_KEY", KeyOptional: true, BaseURLEnv: "OLLAMA_OPENAI_BASE_URL"},
}
