package estimate

import (
	"encoding/json"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
)

func mustTokenizer(t testing.TB, provider, model string) *Tokenizer {
	t.Helper()
	tk, err := ForModel(provider, model)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestForModel(t *testing.T) {
	tests := []struct {
		provider, model string
		method          string
		approx          bool
	}{
		// OpenAI, exact; dated snapshots and variants match their family.
		{"openai", "gpt-4o", MethodO200K, false},
		{"openai", "gpt-4o-mini-2024-07-18", MethodO200K, false},
		{"openai", "GPT-4o-2024-08-06", MethodO200K, false},
		{"openai", "chatgpt-4o-latest", MethodO200K, false},
		{"openai", "gpt-4.1-nano", MethodO200K, false},
		{"openai", "gpt-4.5-preview", MethodO200K, false},
		{"openai", "gpt-5", MethodO200K, false},
		{"openai", "gpt-5-nano-2025-08-07", MethodO200K, false},
		{"openai", "o1", MethodO200K, false},
		{"openai", "o1-preview", MethodO200K, false},
		{"openai", "o3-mini", MethodO200K, false},
		{"openai", "o4-mini-2025-04-16", MethodO200K, false},
		{"openai", "gpt-4", MethodCL100K, false},
		{"openai", "gpt-4-0613", MethodCL100K, false},
		{"openai", "gpt-4-turbo", MethodCL100K, false},
		{"openai", "gpt-3.5-turbo-0125", MethodCL100K, false},
		{"azure", "gpt-35-turbo", MethodCL100K, false},
		{"openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123", MethodO200K, false},
		{"openai", "ft:gpt-4.1-mini-2025-04-14:acme:x:id", MethodO200K, false}, // Python tiktoken's ft:gpt-4 prefix would say cl100k
		{"openai", "ft:gpt-3.5-turbo-0125:acme::id", MethodCL100K, false},
		// OpenAI-looking but unknown: o200k, approximate.
		{"openai", "gpt-6", MethodApproxO200K, true},
		{"openai", "o5-mini", MethodApproxO200K, true},
		{"ollama", "gpt-oss:20b", MethodApproxO200K, true},
		{"groq", "openai/gpt-oss-120b", MethodApproxO200K, true},
		// Unknown names on OpenAI-family providers: o200k, approximate.
		{"azure", "my-prod-deployment", MethodApproxO200K, true},
		{"openai", "davinci-002", MethodApproxO200K, true},
		// Llama 3 → cl100k; Llama 4 → o200k.
		{"ollama", "llama3.2", MethodApproxCL100, true},
		{"ollama", "llama3.1:8b-instruct-q4_K_M", MethodApproxCL100, true},
		{"groq", "llama-3.3-70b-versatile", MethodApproxCL100, true},
		{"together", "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", MethodApproxCL100, true},
		{"together", "meta-llama/Llama-3.3-70B-Instruct-Turbo", MethodApproxCL100, true},
		{"groq", "meta-llama/llama-4-scout-17b-16e-instruct", MethodApproxO200K, true},
		{"ollama", "llama4:scout", MethodApproxO200K, true},
		// Gemini and Gemma → o200k.
		{"gemini", "gemini-2.5-flash", MethodApproxO200K, true},
		{"vertex", "models/gemini-2.0-flash-001", MethodApproxO200K, true},
		{"ollama", "gemma3:4b", MethodApproxO200K, true},
		{"gemini", "tunedModels/my-model", MethodApproxO200K, true},
		// Anything else → bytes/4.
		{"ollama", "mistral", MethodApproxBytes, true},
		{"ollama", "llama2", MethodApproxBytes, true},
		{"vllm", "Qwen/Qwen2.5-7B-Instruct", MethodApproxBytes, true},
		{"torch", "local-finetune", MethodApproxBytes, true},
		{"", "", MethodApproxBytes, true},
		{"ollama", "openchat", MethodApproxBytes, true}, // not an o-series model
	}
	for _, tt := range tests {
		t.Run(tt.provider+":"+tt.model, func(t *testing.T) {
			tk := mustTokenizer(t, tt.provider, tt.model)
			if tk.Method() != tt.method || tk.Approximate() != tt.approx {
				t.Errorf("ForModel(%q, %q) = %q approx=%v, want %q approx=%v",
					tt.provider, tt.model, tk.Method(), tk.Approximate(), tt.method, tt.approx)
			}
		})
	}
}

// TestCookbookExample reproduces the example of OpenAI's Cookbook, "How to
// count tokens with tiktoken" (section 6, "Counting tokens for chat
// completions API calls"), whose num_tokens_from_messages prints 129 prompt
// tokens for gpt-3.5-turbo-0613, gpt-4-0613 and gpt-4, and 124 for gpt-4o
// and gpt-4o-mini, each matching the API's reported prompt_tokens. The example
// names its messages; a name costs its tokens plus tokensPerName (the
// cookbook's tokens_per_name = 1). providers.Message has no name field, so
// the framing is summed here from the package's constants.
func TestCookbookExample(t *testing.T) {
	const tokensPerName = 1
	messages := []struct{ role, name, content string }{
		{"system", "", "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
		{"system", "example_user", "New synergies will help drive top-line growth."},
		{"system", "example_assistant", "Things working well together will increase revenue."},
		{"system", "example_user", "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
		{"system", "example_assistant", "Let's talk later when we're less busy about how to do better."},
		{"user", "", "This late pivot means we don't have time to boil the ocean for the client deliverable."},
	}
	tests := []struct {
		model string
		want  int
	}{
		{"gpt-3.5-turbo-0613", 129},
		{"gpt-4-0613", 129},
		{"gpt-4", 129},
		{"gpt-4o", 124},
		{"gpt-4o-mini", 124},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			tk := mustTokenizer(t, "openai", tt.model)
			got := ReplyPriming
			for _, m := range messages {
				got += TokensPerMessage + tk.Count(m.role) + tk.Count(m.content)
				if m.name != "" {
					got += tk.Count(m.name) + tokensPerName
				}
			}
			if got != tt.want {
				t.Errorf("prompt tokens = %d, the cookbook (and the API) say %d", got, tt.want)
			}
			// Without names, CountMessages must agree with the same sum.
			var msgs []providers.Message
			wantNoNames := ReplyPriming
			for _, m := range messages {
				msgs = append(msgs, providers.Message{Role: m.role, Content: m.content})
				wantNoNames += TokensPerMessage + tk.Count(m.role) + tk.Count(m.content)
			}
			if n := tk.CountMessages("", msgs); n != wantNoNames {
				t.Errorf("CountMessages = %d, want %d", n, wantNoNames)
			}
		})
	}
}

// TestCountRequest checks the framing formula on prompts whose text counts
// are in testdata/tiktoken_ref.json ("hello world" 2, "Hello, world!" 4,
// "The quick brown fox jumps over the lazy dog." 10, "You are terse." 4 and
// each role 1, in both encodings).
func TestCountRequest(t *testing.T) {
	schema := json.RawMessage(`{"type":"object"}`)
	tests := []struct {
		name string
		req  providers.Request
		want int
	}{
		{"empty", providers.Request{}, 3},
		{"one user message", providers.Request{Messages: []providers.Message{{Role: "user", Content: "hello world"}}}, 3 + 1 + 2 + 3},
		{"system and user", providers.Request{
			System:   "You are terse.",
			Messages: []providers.Message{{Role: "user", Content: "hello world"}},
		}, (3 + 1 + 4) + (3 + 1 + 2) + 3},
		{"multi-turn", providers.Request{Messages: []providers.Message{
			{Role: "user", Content: "hello world"},
			{Role: "assistant", Content: "Hello, world!"},
			{Role: "user", Content: "The quick brown fox jumps over the lazy dog."},
		}}, (3 + 1 + 2) + (3 + 1 + 4) + (3 + 1 + 10) + 3},
		{"json schema adds its text", providers.Request{
			Messages:   []providers.Message{{Role: "user", Content: "hello world"}},
			JSONSchema: schema,
		}, 3 + 1 + 2 + 3 + 5}, // {"type":"object"} = {" type ":" object "} in both encodings
	}
	for _, model := range []string{"gpt-4o", "gpt-4"} {
		tk := mustTokenizer(t, "openai", model)
		for _, tt := range tests {
			t.Run(model+"/"+tt.name, func(t *testing.T) {
				if got := tk.CountRequest(&tt.req); got != tt.want {
					t.Errorf("CountRequest = %d, want %d", got, tt.want)
				}
			})
		}
	}
}

func TestBytesApproximation(t *testing.T) {
	tk := mustTokenizer(t, "ollama", "mistral")
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"a", 1},
		{"abcd", 1},
		{"abcde", 2},
		{"hello world", 3}, // 11 bytes
		{"日本語", 3},         // 9 bytes: non-Latin scripts cost more per character
		{"système", 2},     // 8 bytes
		{"0123456789abcdef", 4},
	}
	for _, tt := range tests {
		t.Run(short(tt.text), func(t *testing.T) {
			if got := tk.Count(tt.text); got != tt.want {
				t.Errorf("Count = %d, want %d", got, tt.want)
			}
		})
	}
	// Framing uses the same count: "user" is 1, "hello world" 3.
	req := providers.Request{Messages: []providers.Message{{Role: "user", Content: "hello world"}}}
	if got, want := tk.CountRequest(&req), 3+1+3+3; got != want {
		t.Errorf("CountRequest = %d, want %d", got, want)
	}
}

func TestNormalizeModel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GPT-4o", "gpt-4o"},
		{" gpt-4o ", "gpt-4o"},
		{"ft:gpt-4o-mini-2024-07-18:acme::abc", "gpt-4o-mini-2024-07-18"},
		{"meta-llama/Llama-3.3-70B-Instruct-Turbo", "llama-3.3-70b-instruct-turbo"},
		{"models/gemini-2.5-pro", "gemini-2.5-pro"},
		{"llama3.2:3b", "llama3.2"},
		{"hf.co/org/model:Q4", "model"},
	}
	for _, tt := range tests {
		if got := normalizeModel(tt.in); got != tt.want {
			t.Errorf("normalizeModel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
