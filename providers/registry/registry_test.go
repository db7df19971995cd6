package registry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/viper"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/pricing"
	"github.com/yardstick-eval/yardstick/providers/providertest"
	"github.com/yardstick-eval/yardstick/providers/registry"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParse(t *testing.T) {
	tests := []struct {
		in          string
		typ, model  string
		errContains string
	}{
		{in: "openai:gpt-4o-mini", typ: "openai", model: "gpt-4o-mini"},
		{in: "OpenAI:gpt-4o-mini", typ: "openai", model: "gpt-4o-mini"},
		{in: "azure:my-deployment", typ: "azure", model: "my-deployment"},
		{in: "groq:llama-3.3-70b-versatile", typ: "groq", model: "llama-3.3-70b-versatile"},
		{in: "together:meta-llama/Llama-3.3-70B-Instruct-Turbo", typ: "together", model: "meta-llama/Llama-3.3-70B-Instruct-Turbo"},
		{in: "ollama:llama3.2:1b", typ: "ollama", model: "llama3.2:1b"},
		{in: "local:./ckpt/run1", typ: "local", model: "./ckpt/run1"},
		{in: "gpt-4o-mini", errContains: "want scheme:model"},
		{in: ":gpt-4o", errContains: "want scheme:model"},
		{in: "openai:", errContains: "missing the model name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := registry.Parse(tt.in)
			if tt.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errContains) {
					t.Fatalf("err = %v, want %q", err, tt.errContains)
				}
				return
			}
			if err != nil || c.Type != tt.typ || c.Model != tt.model || c.Name != tt.in {
				t.Errorf("got %+v %v", c, err)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	defined := []registry.Config{{Name: "fast", Type: "groq", Model: "llama-3.1-8b-instant"}}
	if c, _ := registry.Resolve("fast", defined); c.Type != "groq" {
		t.Errorf("named target not found: %+v", c)
	}
	if c, _ := registry.Resolve("openai:gpt-4o", defined); c.Type != "openai" {
		t.Errorf("scheme string: %+v", c)
	}
}

func TestSchemes(t *testing.T) {
	got := strings.Join(registry.Schemes(), ",")
	for _, s := range []string{"openai", "azure", "groq", "together", "vllm", "llamacpp", "ollama-openai", "openrouter"} {
		if !strings.Contains(","+got+",", ","+s+",") {
			t.Errorf("scheme %s not registered (have %s)", s, got)
		}
	}
}

func TestBuildPresets(t *testing.T) {
	keys := map[string]string{
		"OPENAI_API_KEY": "sk-o", "GROQ_API_KEY": "gsk-g", "TOGETHER_API_KEY": "tk", "OPENROUTER_API_KEY": "or",
		"AZURE_OPENAI_API_KEY": "az", "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com",
	}
	tests := []struct {
		spec    string
		scope   string
		priced  bool
		missing string // with no env at all: the variable the error must name ("" = builds)
	}{
		{"openai:gpt-4o-mini", "openai@api.openai.com", true, "OPENAI_API_KEY"},
		{"groq:llama-3.3-70b-versatile", "groq@api.groq.com", true, "GROQ_API_KEY"},
		{"together:meta-llama/Llama-3.3-70B-Instruct-Turbo", "together@api.together.xyz", true, "TOGETHER_API_KEY"},
		{"openrouter:openai/gpt-4o-mini", "openrouter@openrouter.ai", false, "OPENROUTER_API_KEY"},
		{"azure:gpt-4o", "azure@res.openai.azure.com", true, "AZURE_OPENAI_API_KEY"},
		{"vllm:meta-llama/Llama-3.1-8B-Instruct", "vllm@localhost:8000", false, ""},
		{"llamacpp:any", "llamacpp@localhost:8080", false, ""},
		{"ollama-openai:llama3.2", "ollama-openai@localhost:11434", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			cfg, err := registry.Parse(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			b, err := registry.Build(cfg, registry.Options{Getenv: env(keys)})
			if err != nil {
				t.Fatal(err)
			}
			if b.Scope != tt.scope || b.Name != tt.spec || b.Model != cfg.Model {
				t.Errorf("built %v", b)
			}
			if (b.Price != nil) != tt.priced {
				t.Errorf("price = %v, want priced=%v", b.Price, tt.priced)
			}
			if _, ok := b.Provider.(providers.Streamer); !ok {
				t.Error("decorated provider lost Streamer")
			}
			_, err = registry.Build(cfg, registry.Options{Getenv: env(nil)})
			switch {
			case tt.missing == "" && err != nil:
				t.Errorf("keyless host failed: %v", err)
			case tt.missing != "" && (err == nil || !strings.Contains(err.Error(), tt.missing)):
				t.Errorf("missing key: err = %v, want it to name %s", err, tt.missing)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	e := env(map[string]string{"OPENAI_API_KEY": "k"})
	tests := []struct {
		cfg  registry.Config
		want string
	}{
		{registry.Config{Type: "opnai", Model: "m"}, `did you mean "openai"`},
		{registry.Config{Type: "", Model: "m"}, "type is empty"},
		{registry.Config{Type: "openai"}, "model is empty"},
		{registry.Config{Type: "openai", Model: "m", BaseURL: "ftp://x"}, "base URL"},
		{registry.Config{Type: "openai", Model: "m", Limits: registry.Limits{RPM: -1}}, "negative"},
		{registry.Config{Type: "openai", Model: "m", Options: map[string]string{"colour": "blue"}}, "options.colour"},
		{registry.Config{Type: "openai", Model: "m", Options: map[string]string{"batch_deployment": "b"}}, "options.batch_deployment: only azure targets"},
		{registry.Config{Type: "azure", Model: "m", APIKeyEnv: "MY_AZ_KEY"}, "MY_AZ_KEY"},
		{registry.Config{Type: "azure", Model: "m", APIKeyEnv: "OPENAI_API_KEY"}, "AZURE_OPENAI_ENDPOINT"},
		{registry.Config{Name: "mine", Type: "groq", Model: "m", APIKeyEnv: "MY_GROQ"}, `provider "mine": MY_GROQ is not set`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := registry.Build(tt.cfg, registry.Options{Getenv: e})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestPricePrecedence(t *testing.T) {
	e := env(map[string]string{"OPENAI_API_KEY": "k"})
	b, _ := registry.Build(registry.Config{Type: "openai", Model: "gpt-4o-mini-2024-07-18"}, registry.Options{Getenv: e})
	if b.Price == nil || b.Price.InputPerM != 0.15 {
		t.Errorf("table price: %v", b.Price)
	}
	over := pricing.Table{"openai": {"gpt-4o-mini": {InputPerM: 9, OutputPerM: 9}}}
	b, _ = registry.Build(registry.Config{Type: "openai", Model: "gpt-4o-mini"}, registry.Options{Getenv: e, Prices: over})
	if b.Price == nil || b.Price.InputPerM != 9 {
		t.Errorf("options override: %v", b.Price)
	}
	b, _ = registry.Build(registry.Config{Type: "openai", Model: "gpt-4o-mini", Price: &providers.Price{InputPerM: 1, OutputPerM: 2}}, registry.Options{Getenv: e, Prices: over})
	if b.Price == nil || b.Price.InputPerM != 1 {
		t.Errorf("config override: %v", b.Price)
	}
	b, _ = registry.Build(registry.Config{Type: "vllm", Model: "gpt-4o-mini"}, registry.Options{Getenv: e})
	if b.Price != nil {
		t.Errorf("self-hosted model priced: %v", b.Price)
	}
}

// TestBuiltAgainstFake drives the whole decorated chain built from a
// scheme:model string at a fake pointed to by OPENAI_BASE_URL.
func TestBuiltAgainstFake(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.WithAPIKey("sk-fake"))
	store := &providers.MemStore{}
	cfg, _ := registry.Parse("openai:gpt-4o-mini")
	cfg.Retry = registry.Retry{MaxAttempts: 3, BaseDelay: time.Millisecond}
	b, err := registry.Build(cfg, registry.Options{
		Getenv: env(map[string]string{"OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": srv.URL()}),
		Store:  store,
	})
	if err != nil {
		t.Fatal(err)
	}
	req := &providers.Request{Model: b.Model, Messages: []providers.Message{{Role: "user", Content: "hi"}}, Temperature: providers.Float64(0)}
	ctx := context.Background()

	srv.Script(providertest.Behavior{Status: 503})
	resp, err := b.Provider.Generate(ctx, req)
	if err != nil || resp.Attempts != 2 {
		t.Fatalf("retry through the chain: %+v %v", resp, err)
	}
	if srv.Count() != 2 {
		t.Fatalf("requests = %d, want 2", srv.Count())
	}
	resp, err = b.Provider.Generate(ctx, req)
	if err != nil || !resp.Cached || resp.Attempts != 0 {
		t.Fatalf("cache hit: %+v %v", resp, err)
	}
	if srv.Count() != 2 {
		t.Errorf("a cache hit made a request")
	}
	if h, m := b.Cache.Stats(); h != 1 || m != 1 {
		t.Errorf("stats %d/%d", h, m)
	}
	if _, err := b.Provider.Generate(providers.WithRepeat(ctx, 1), req); err != nil || srv.Count() != 3 {
		t.Errorf("repeat 1 did not reach the server: %v, %d requests", err, srv.Count())
	}
	if !strings.HasPrefix(b.Scope, "openai@127.0.0.1:") {
		t.Errorf("scope = %q", b.Scope)
	}
}

func TestBuiltLimitsConcurrency(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.WithDefault(providertest.Behavior{Delay: 20 * time.Millisecond}))
	b, err := registry.Build(registry.Config{Type: "vllm", Model: "m", BaseURL: srv.URL(), Limits: registry.Limits{Concurrency: 2, RPM: 60000}}, registry.Options{Getenv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			req := &providers.Request{Model: b.Model, Messages: []providers.Message{{Role: "user", Content: fmt.Sprint(i)}}}
			if _, err := b.Provider.Generate(context.Background(), req); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := srv.PeakInFlight(); p > 2 || srv.Count() != 16 {
		t.Errorf("peak in flight %d (limit 2), requests %d", p, srv.Count())
	}
}

func TestAzureFromEnv(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.WithAPIKey("az-secret"))
	e := env(map[string]string{"AZURE_OPENAI_API_KEY": "az-secret", "AZURE_OPENAI_ENDPOINT": srv.Endpoint(), "OPENAI_API_VERSION": "2024-06-01"})
	b, err := registry.Build(registry.Config{Name: "az", Type: "azure", Model: "gpt-4o-mini", Deployment: "prod-mini"}, registry.Options{Getenv: e})
	if err != nil {
		t.Fatal(err)
	}
	if b.Price == nil || b.Price.InputPerM != 0.15 {
		t.Errorf("azure price for the underlying model: %v", b.Price)
	}
	if _, err := b.Provider.Generate(context.Background(), &providers.Request{Model: b.Model, Messages: []providers.Message{{Role: "user", Content: "x"}}}); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Path != "/openai/deployments/prod-mini/chat/completions" || r.Query.Get("api-version") != "2024-06-01" || r.Header.Get("api-key") != "az-secret" {
		t.Errorf("wire: %s ?%s api-key=%q", r.Path, r.Query.Encode(), r.Header.Get("api-key"))
	}
	// azure:NAME uses NAME as the deployment.
	cfg, _ := registry.Parse("azure:my-deploy")
	b, _ = registry.Build(cfg, registry.Options{Getenv: e})
	b.Provider.Generate(context.Background(), &providers.Request{Model: b.Model, Messages: []providers.Message{{Role: "user", Content: "x"}}})
	if p := srv.Requests()[1].Path; p != "/openai/deployments/my-deploy/chat/completions" {
		t.Errorf("path = %s", p)
	}
}

func TestViperConfig(t *testing.T) {
	yaml := `
providers:
  - name: gpt
    type: openai
    model: gpt-4o-mini
    stream: true
    limits: {concurrency: 4, rpm: 500, tpm: 200000}
    retry: {max_attempts: 5, base_delay: 250ms, max_retry_after: 30s}
    price: {input_per_m: 0.1, cached_input_per_m: 0.05, output_per_m: 0.4}
  - name: az
    type: azure
    model: gpt-4o
    deployment: prod-4o
    api_version: "2024-10-21"
    base_url: https://res.openai.azure.com
    api_key_env: MY_AZURE_KEY
    headers: {X-Team: evals}
    options: {max_tokens_param: max_completion_tokens}
`
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(strings.NewReader(yaml)); err != nil {
		t.Fatal(err)
	}
	var cfgs []registry.Config
	if err := v.UnmarshalKey("providers", &cfgs); err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 2 {
		t.Fatalf("%d configs", len(cfgs))
	}
	g, a := cfgs[0], cfgs[1]
	if g.Limits != (registry.Limits{Concurrency: 4, RPM: 500, TPM: 200000}) || !g.Stream ||
		g.Retry != (registry.Retry{MaxAttempts: 5, BaseDelay: 250 * time.Millisecond, MaxRetryAfter: 30 * time.Second}) ||
		g.Price == nil || g.Price.CachedInputPerM != 0.05 {
		t.Errorf("gpt = %+v", g)
	}
	if a.Deployment != "prod-4o" || a.APIVersion != "2024-10-21" || a.APIKeyEnv != "MY_AZURE_KEY" || strings.ToLower(fmt.Sprint(a.Headers)) != "map[x-team:evals]" || a.Options["max_tokens_param"] != "max_completion_tokens" {
		t.Errorf("az = %+v", a)
	}
	built, err := registry.BuildAll(nil, cfgs, registry.Options{Getenv: env(map[string]string{"OPENAI_API_KEY": "k", "MY_AZURE_KEY": "k"})})
	if err != nil || len(built) != 2 || !built[0].Stream || built[0].Price.InputPerM != 0.1 {
		t.Fatalf("BuildAll: %v %v", built, err)
	}
	_, err = registry.BuildAll([]string{"az", "groq:llama-3.1-8b-instant", "nope"}, cfgs, registry.Options{Getenv: env(map[string]string{"MY_AZURE_KEY": "k"})})
	if err == nil || !strings.Contains(err.Error(), "GROQ_API_KEY") || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("BuildAll errors: %v", err)
	}
}

// TestKeysNeverLeak builds targets with recognisable keys, drives them into
// every kind of failure, and looks for the keys in every string a user or a
// log could see, in the cache scope and in the cache files on disk.
func TestKeysNeverLeak(t *testing.T) {
	const secret = "sk-LEAKCHECK-7d1e9b"
	const azSecret = "az-LEAKCHECK-55aa01"
	srv := providertest.NewOpenAIServer(t)
	dir := t.TempDir()
	store, err := providers.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := env(map[string]string{
		"OPENAI_API_KEY": secret, "OPENAI_BASE_URL": srv.URL(), "GROQ_API_KEY": secret, "GROQ_BASE_URL": srv.URL(),
		"AZURE_OPENAI_API_KEY": azSecret, "AZURE_OPENAI_ENDPOINT": srv.Endpoint(),
	})
	var seen []string
	note := func(v ...any) {
		for _, x := range v {
			seen = append(seen, fmt.Sprintf("%v|%+v|%#v", x, x, x))
		}
	}
	for _, spec := range []string{"openai:gpt-4o-mini", "groq:llama-3.3-70b-versatile", "azure:dep"} {
		cfg, _ := registry.Parse(spec)
		cfg.Retry = registry.Retry{MaxAttempts: 1}
		b, err := registry.Build(cfg, registry.Options{Getenv: e, Store: store})
		if err != nil {
			t.Fatal(err)
		}
		note(b, *b, b.Scope, cfg)
		req := &providers.Request{Model: b.Model, Messages: []providers.Message{{Role: "user", Content: "hello " + spec}}}
		for _, beh := range []providertest.Behavior{
			{}, {Status: 401}, {Status: 429, RetryAfter: "1"}, {Status: 500}, {Status: 502, HTML: true},
			{Malformed: true}, {CutBody: true}, {Status: 400, ErrorMessage: "Incorrect API key provided: sk-LEA***9b"},
		} {
			srv.Script(beh)
			resp, err := b.Provider.Generate(providers.WithRepeat(context.Background(), len(seen)), req)
			note(resp, err)
			var pe *providers.Error
			if errors.As(err, &pe) {
				note(pe.Message, pe.Err)
			}
		}
		key, _ := providers.CacheKey(b.Scope, req, 0)
		note(key)
	}
	// Build errors must not echo keys either.
	_, err = registry.Build(registry.Config{Type: "openai", Model: "m", BaseURL: "http://u:" + secret + "@h/v1"}, registry.Options{Getenv: e})
	note(err)

	for _, s := range seen {
		if strings.Contains(s, secret) || strings.Contains(s, azSecret) {
			t.Errorf("key leaked: %s", s)
		}
	}
	files := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(azSecret)) || bytes.Contains(b, []byte("LEAKCHECK")) {
			t.Errorf("key in cache file %s", path)
		}
		return nil
	})
	if files != 3 {
		t.Errorf("%d cache files, want 3 (one success per target)", files)
	}
	// The keys did reach the server, so the check above is not vacuous.
	auth := map[string]bool{}
	for _, r := range srv.Requests() {
		auth[r.Header.Get("Authorization")+r.Header.Get("api-key")] = true
	}
	if !auth["Bearer "+secret] || !auth[azSecret] {
		t.Errorf("keys were not sent: %v", auth)
	}
}

// layer counts the calls an inserted layer takes and answers them itself.
type layer struct {
	n        int
	realtime providers.Provider
}

func (l *layer) Generate(_ context.Context, req *providers.Request) (*providers.Response, error) {
	l.n++
	return &providers.Response{Text: "from the layer: " + req.Messages[0].Content}, nil
}

// TestInsert: a layer inserted below the cache gets the real-time chain,
// answers misses (stored in the cache) and never sees a cached request.
func TestInsert(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.WithAPIKey("sk-fake"))
	for _, cached := range []bool{true, false} {
		t.Run(fmt.Sprintf("cache=%v", cached), func(t *testing.T) {
			opts := registry.Options{Getenv: env(map[string]string{"OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": srv.URL()})}
			if cached {
				opts.Store = &providers.MemStore{}
			}
			cfg, _ := registry.Parse("openai:gpt-4o-mini")
			b, err := registry.Build(cfg, opts)
			if err != nil {
				t.Fatal(err)
			}
			l := &layer{}
			if err := b.Insert(func(rt providers.Provider) (providers.Provider, error) { l.realtime = rt; return l, nil }); err != nil {
				t.Fatal(err)
			}
			before := srv.Count()
			if _, err := l.realtime.Generate(context.Background(), &providers.Request{Model: b.Model, Messages: []providers.Message{{Role: "user", Content: "rt"}}}); err != nil || srv.Count() != before+1 {
				t.Fatalf("the layer's real-time path: %v, %d requests", err, srv.Count()-before)
			}
			req := &providers.Request{Model: b.Model, Messages: []providers.Message{{Role: "user", Content: "q"}}}
			for i := range 2 {
				resp, err := b.Provider.Generate(context.Background(), req)
				if err != nil || resp.Text != "from the layer: q" {
					t.Fatalf("call %d: %+v, %v", i, resp, err)
				}
			}
			want := 2
			if cached {
				want = 1
				if h, m := b.Cache.Stats(); h != 1 || m != 1 {
					t.Errorf("cache stats %d hits, %d misses; want 1 and 1", h, m)
				}
			} else if b.Cache != nil {
				t.Error("a cache appeared")
			}
			if l.n != want {
				t.Errorf("the layer took %d calls, want %d", l.n, want)
			}
		})
	}
	b, _ := registry.Build(registry.Config{Type: "openai", Model: "m"}, registry.Options{Getenv: env(map[string]string{"OPENAI_API_KEY": "k"}), Store: &providers.MemStore{}})
	p := b.Provider
	if err := b.Insert(func(providers.Provider) (providers.Provider, error) { return nil, errors.New("no") }); err == nil || b.Provider != p {
		t.Errorf("a failing layer: %v, provider replaced %v", err, b.Provider != p)
	}
}
