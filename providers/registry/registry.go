// Package registry builds ready-to-use providers from the app config
// (yardstick.yaml provider definitions, decoded by viper through the
// mapstructure tags on Config) or from "scheme:model" strings given on the
// command line ("-m openai:gpt-4o-mini").
//
// Build is the one place where decorators are composed. The order is
//
//	Cached(Retry(Breaker(Limit(OneAtATimeAfterTruncation(CountUsage(Redacted(adapter)))))))
//
// (an execution mode that takes calls over, such as a provider's Batch API,
// goes between Cached and Retry through Built.Insert:
// Cached(Batch(Retry(…))), the real-time chain as the batch's fallback)
// so that a cache hit costs no rate budget, no concurrency slot and no
// attempt, and enters no batch; every attempt counts toward the circuit breaker, whose
// circuit_open error (not temporary) ends the retries at once, and an open
// circuit fails fast without waiting for a rate slot; every attempt Retry
// makes, retries included, passes through Limit (retries count against
// requests and tokens per minute); and a backoff sleep does not hold a
// concurrency slot. After a stream_truncated failure (llama-cpp-python cuts
// a running stream when another request arrives) the target is sent one
// request at a time, so the retries succeed. CountUsage fills in locally counted, estimated usage
// for servers that report none, before Limit corrects its token budget with
// it. Each HTTP adapter is built with the target's Bounds
// (timeout, idle_timeout, max_duration, max_response_bytes). The architecture draft
// had Limit(Retry(Cached(adapter))), which throttles cache hits and lets
// retries bypass the rate limits.
//
// # Schemes
//
// Each scheme ("openai", "azure", "groq", …) has a Builder that turns a
// Spec into a bare adapter. Builders live one file per adapter family in
// this package and register themselves from init:
//
//	// gemini.go
//	func init() { register("gemini", buildGemini) }
//
//	func buildGemini(s Spec) (Adapter, error) {
//		key, err := s.Key("GEMINI_API_KEY", false) // error names the variable
//		…
//		return Adapter{Provider: client, Name: "gemini", BaseURL: base, PriceProvider: "gemini"}, nil
//	}
//
// Adding a scheme is adding such a file; nothing else changes. Scheme names
// are lower case; register panics on a duplicate.
//
// # Credentials
//
// Keys are read only from environment variables, through Options.Getenv
// (os.Getenv when nil): OPENAI_API_KEY, AZURE_OPENAI_API_KEY with
// AZURE_OPENAI_ENDPOINT, GROQ_API_KEY, TOGETHER_API_KEY, OPENROUTER_API_KEY,
// and optional VLLM_API_KEY, LLAMACPP_API_KEY, OLLAMA_API_KEY; a config's
// api_key_env names another variable. A missing key is an error naming the
// variable. Keys are never stored in Config or Built, never part of a cache
// scope or key, and never in an error message: every key and every
// credential header value read is registered with internal/redact, and the
// adapter's errors pass through providers.Redacted, so a server that echoes
// a key back cannot put it in a result, report or log.
//
// This package does not read files or flags; the CLI decodes yardstick.yaml
// with viper and passes the []Config here.
package registry

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/yardstick-eval/yardstick/internal/redact"
	"github.com/yardstick-eval/yardstick/internal/suggest"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/pricing"
)

// Config is one provider definition, as written under "providers:" in
// yardstick.yaml. Only Type and Model are required.
type Config struct {
	// Name is the target's display name and how -m refers to it. Empty:
	// "type:model".
	Name string `mapstructure:"name" yaml:"name" json:"name,omitempty"`
	// Type is the scheme: openai, azure, groq, together, openrouter, vllm,
	// llamacpp, ollama-openai, and those other files register (gemini,
	// ollama, local).
	Type string `mapstructure:"type" yaml:"type" json:"type"`
	// Model is the model name sent in requests (Azure: the underlying model,
	// used for pricing; see Deployment).
	Model string `mapstructure:"model" yaml:"model" json:"model"`
	// BaseURL overrides the scheme's default endpoint (Azure: the resource
	// endpoint; default from AZURE_OPENAI_ENDPOINT).
	BaseURL string `mapstructure:"base_url" yaml:"base_url" json:"base_url,omitempty"`
	// APIKeyEnv names the environment variable holding the key, replacing
	// the scheme's usual one. The key itself never appears in config.
	APIKeyEnv string `mapstructure:"api_key_env" yaml:"api_key_env" json:"api_key_env,omitempty"`
	// APIVersion is Azure's api-version.
	APIVersion string `mapstructure:"api_version" yaml:"api_version" json:"api_version,omitempty"`
	// Deployment is the Azure deployment serving Model. Empty: Model.
	Deployment string `mapstructure:"deployment" yaml:"deployment" json:"deployment,omitempty"`
	// Headers are extra HTTP headers sent with every request.
	Headers map[string]string `mapstructure:"headers" yaml:"headers" json:"headers,omitempty"`
	// Options holds adapter-specific settings (for example a Vertex AI
	// project and location); each Builder documents the keys it reads.
	Options map[string]string `mapstructure:"options" yaml:"options" json:"options,omitempty"`
	// Price overrides the price table for this target.
	Price *providers.Price `mapstructure:"price" yaml:"price" json:"price,omitempty"`
	// Limits are client-side limits; zero fields mean no limit.
	Limits Limits `mapstructure:"limits" yaml:"limits" json:"limits,omitzero"`
	// Stream asks the runner to stream, measuring time to first token.
	Stream bool `mapstructure:"stream" yaml:"stream" json:"stream,omitempty"`
	// Retry overrides the retry policy; zero fields keep Options.Retry's.
	Retry Retry `mapstructure:"retry" yaml:"retry" json:"retry,omitzero"`
	// NoCache turns the response cache off for this target.
	NoCache bool `mapstructure:"no_cache" yaml:"no_cache" json:"no_cache,omitempty"`
	// Timeout is the longest wait for a response to start (headers), per
	// attempt. Zero: providers.DefaultTimeout (120s); negative: none.
	Timeout time.Duration `mapstructure:"timeout" yaml:"timeout" json:"timeout,omitempty"`
	// IdleTimeout ends a response that sends no byte for this long. Zero:
	// providers.DefaultIdleTimeout (60s); negative: none.
	IdleTimeout time.Duration `mapstructure:"idle_timeout" yaml:"idle_timeout" json:"idle_timeout,omitempty"`
	// MaxDuration caps one response, start to last byte. Zero:
	// providers.DefaultMaxDuration (10m); negative: none.
	MaxDuration time.Duration `mapstructure:"max_duration" yaml:"max_duration" json:"max_duration,omitempty"`
	// MaxResponseBytes caps the body read of one response. Zero:
	// providers.DefaultMaxResponseBytes (8 MiB); negative: none.
	MaxResponseBytes int64 `mapstructure:"max_response_bytes" yaml:"max_response_bytes" json:"max_response_bytes,omitempty"`
	// Breaker configures the circuit breaker (providers.Breaker).
	Breaker Breaker `mapstructure:"breaker" yaml:"breaker" json:"breaker,omitzero"`
}

// Breaker is a target's circuit breaker (providers.BreakerConfig).
type Breaker struct {
	// Threshold is how many consecutive connection or auth failures open the
	// circuit. Zero: providers.DefaultBreakerThreshold (5); negative: off.
	Threshold int `mapstructure:"threshold" yaml:"threshold" json:"threshold,omitempty"`
	// Cooldown is how long an open circuit refuses calls before a trial.
	// Zero: providers.DefaultBreakerCooldown (30s).
	Cooldown time.Duration `mapstructure:"cooldown" yaml:"cooldown" json:"cooldown,omitempty"`
}

// Bounds returns the target's HTTP limits.
func (c Config) Bounds() providers.Bounds {
	return providers.Bounds{Timeout: c.Timeout, IdleTimeout: c.IdleTimeout, MaxDuration: c.MaxDuration, MaxResponseBytes: c.MaxResponseBytes}
}

// Limits are a target's client-side limits (providers.LimitConfig).
type Limits struct {
	Concurrency int `mapstructure:"concurrency" yaml:"concurrency" json:"concurrency,omitempty"`
	RPM         int `mapstructure:"rpm" yaml:"rpm" json:"rpm,omitempty"`
	TPM         int `mapstructure:"tpm" yaml:"tpm" json:"tpm,omitempty"`
}

// Retry is a target's retry policy (providers.RetryConfig). Durations decode
// from strings such as "500ms" (viper's default decode hooks).
type Retry struct {
	MaxAttempts   int           `mapstructure:"max_attempts" yaml:"max_attempts" json:"max_attempts,omitempty"`
	BaseDelay     time.Duration `mapstructure:"base_delay" yaml:"base_delay" json:"base_delay,omitempty"`
	MaxDelay      time.Duration `mapstructure:"max_delay" yaml:"max_delay" json:"max_delay,omitempty"`
	MaxRetryAfter time.Duration `mapstructure:"max_retry_after" yaml:"max_retry_after" json:"max_retry_after,omitempty"`
}

// Options are settings shared by every target of a run.
type Options struct {
	// Getenv reads environment variables. Nil: os.Getenv.
	Getenv func(string) string
	// Store holds cached responses. Nil: no response cache.
	Store providers.Store
	// OnStoreError is passed to providers.CacheConfig.
	OnStoreError func(error)
	// Prices override and extend the built-in table (pricing.Default).
	Prices pricing.Table
	// Retry is the default retry policy; zero fields take
	// providers.DefaultRetryConfig's.
	Retry providers.RetryConfig
	// HTTPClient is given to adapters that take one (tests, proxies). Nil:
	// each adapter's default.
	HTTPClient *http.Client
	// OnEstimatedUsage, when not nil, is called once per target, with the
	// target's name and the counting method, the first time the target
	// answers without reporting token usage and Yardstick counts the tokens
	// itself (providers.CountUsage), so the caller can warn.
	OnEstimatedUsage func(target, method string)
	// OnSerialized, when not nil, is called once per target when the target
	// cuts a stream short (stream_truncated) and is sent one request at a
	// time from then on (providers.OneAtATimeAfterTruncation).
	OnSerialized func(target string)
}

// Built is a target ready for the runner.
type Built struct {
	// Name is Config.Name, or "type:model".
	Name string
	// Model is the model name to put in Request.Model.
	Model string
	// Provider is the adapter wrapped in its decorators.
	Provider providers.Provider
	// Adapter is the adapter name ("openai", "groq", …).
	Adapter string
	// Price is the model's price, nil when unknown.
	Price *providers.Price
	// Scope is the cache scope: adapter name and endpoint host.
	Scope string
	// Stream is Config.Stream.
	Stream bool
	// Cache is the response cache layer, for its Stats; nil when caching is
	// off.
	Cache providers.Cache
	// Bare is the adapter without decorators, for execution modes that
	// need the adapter's own API (provider Batch APIs).
	Bare providers.Provider

	// realtime is the chain below the cache; store and cacheCfg rebuild the
	// cache around an inserted layer.
	realtime providers.Provider
	store    providers.Store
	cacheCfg providers.CacheConfig
}

// Insert puts a layer between the response cache and the rest of the chain
// (Cached(layer(Retry(…)))), replacing Provider and Cache: layer receives
// the chain below the cache, the real-time path, and returns the provider
// the cache wraps. A cached request is then answered without reaching the
// layer, and the layer's answers are stored as real-time answers are. It is
// for execution modes that take calls over (provider Batch APIs), and must
// be called before the target is used; a layer that fails leaves b as it
// was.
func (b *Built) Insert(layer func(realtime providers.Provider) (providers.Provider, error)) error {
	p, err := layer(b.realtime)
	if err != nil {
		return err
	}
	if b.store == nil {
		b.Provider = p
		return nil
	}
	b.Cache = providers.Cached(p, b.store, b.cacheCfg)
	b.Provider = b.Cache
	return nil
}

// String describes b without credentials.
func (b *Built) String() string {
	return fmt.Sprintf("registry.Built{Name:%q Model:%q Adapter:%q Scope:%q Stream:%v Cached:%v}", b.Name, b.Model, b.Adapter, b.Scope, b.Stream, b.Cache != nil)
}

// Spec is what a Builder gets: the target's Config (Type lower-cased, Model
// set) and the run's environment.
type Spec struct {
	Config
	// Getenv reads environment variables; never nil.
	Getenv func(string) string
	// HTTPClient is Options.HTTPClient; may be nil.
	HTTPClient *http.Client
}

// Key returns the API key from the config's api_key_env variable, or from
// defaultEnv. A missing key is an error naming the variable unless optional.
func (s Spec) Key(defaultEnv string, optional bool) (string, error) {
	env := s.APIKeyEnv
	if env == "" {
		env = defaultEnv
	}
	if env == "" {
		return "", nil
	}
	key := strings.TrimSpace(s.Getenv(env))
	if key == "" && !optional {
		return "", fmt.Errorf("%s is not set: export it with your %s API key", env, s.Type)
	}
	redact.Register(key)
	return key, nil
}

// Adapter is what a Builder returns.
type Adapter struct {
	// Provider is the bare adapter, without decorators.
	Provider providers.Provider
	// Name is the adapter name carried by its errors ("openai", "groq").
	Name string
	// BaseURL is where requests go, without credentials; its host is part of
	// the cache scope. Empty for in-process providers.
	BaseURL string
	// PriceProvider is the pricing table to look Model up in ("" for none).
	PriceProvider string
}

// Builder makes the bare adapter for one scheme. It must not make network
// calls and must not put keys in errors.
type Builder func(s Spec) (Adapter, error)

// builders is filled by init functions in this package's files.
var builders = map[string]Builder{}

// register adds a scheme. It is called from init and panics on a duplicate.
func register(scheme string, b Builder) {
	scheme = strings.ToLower(scheme)
	if _, dup := builders[scheme]; dup {
		panic("registry: scheme registered twice: " + scheme)
	}
	builders[scheme] = b
}

// Schemes returns the registered schemes, sorted.
func Schemes() []string {
	out := make([]string, 0, len(builders))
	for s := range builders {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Parse reads a "scheme:model" string such as "openai:gpt-4o-mini",
// "azure:my-deployment", "ollama:llama3.2:1b" (the model is everything after
// the first colon) or "local:./checkpoints/run1". The Config's Name is s.
func Parse(s string) (Config, error) {
	scheme, model, ok := strings.Cut(strings.TrimSpace(s), ":")
	scheme = strings.ToLower(strings.TrimSpace(scheme))
	model = strings.TrimSpace(model)
	if !ok || scheme == "" {
		return Config{}, fmt.Errorf("model %q: want scheme:model, e.g. openai:gpt-4o-mini (schemes: %s)", s, strings.Join(Schemes(), ", "))
	}
	if model == "" {
		return Config{}, fmt.Errorf("model %q: missing the model name after %q", s, scheme+":")
	}
	return Config{Name: strings.TrimSpace(s), Type: scheme, Model: model}, nil
}

// Resolve returns the Config for a command-line -m argument: the defined
// provider whose Name is arg, or else Parse(arg).
func Resolve(arg string, defined []Config) (Config, error) {
	for _, c := range defined {
		if c.Name != "" && c.Name == arg {
			return c, nil
		}
	}
	return Parse(arg)
}

// Build turns cfg into a decorated provider ready for the runner; see the
// package doc for the decorator order. It makes no network calls.
func Build(cfg Config, opts Options) (*Built, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg.Type = strings.ToLower(strings.TrimSpace(cfg.Type))
	label := cfg.Name
	if label == "" {
		label = cfg.Type + ":" + cfg.Model
	}
	if cfg.Type == "" {
		return nil, fmt.Errorf("provider %q: type is empty (one of: %s)", label, strings.Join(Schemes(), ", "))
	}
	build, ok := builders[cfg.Type]
	if !ok {
		msg := fmt.Sprintf("provider %q: unknown type %q (one of: %s)", label, cfg.Type, strings.Join(Schemes(), ", "))
		if near := suggest.Closest(cfg.Type, Schemes()); near != "" {
			msg += fmt.Sprintf("; did you mean %q?", near)
		}
		return nil, errors.New(msg)
	}
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, fmt.Errorf("provider %q: model is empty", label)
	}
	if cfg.Limits.Concurrency < 0 || cfg.Limits.RPM < 0 || cfg.Limits.TPM < 0 {
		return nil, fmt.Errorf("provider %q: limits must not be negative", label)
	}
	if cfg.Breaker.Cooldown < 0 {
		return nil, fmt.Errorf("provider %q: breaker.cooldown must not be negative", label)
	}
	if cfg.Retry.MaxAttempts < 0 || cfg.Retry.BaseDelay < 0 || cfg.Retry.MaxDelay < 0 || cfg.Retry.MaxRetryAfter < 0 {
		return nil, fmt.Errorf("provider %q: retry settings must not be negative", label)
	}
	for k, v := range cfg.Headers {
		redact.RegisterHeader(k, v)
	}
	a, err := build(Spec{Config: cfg, Getenv: getenv, HTTPClient: opts.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", label, err)
	}
	if a.Provider == nil {
		return nil, fmt.Errorf("provider %q: builder returned no provider", label)
	}
	if a.Name == "" {
		a.Name = cfg.Type
	}

	b := &Built{Name: label, Model: cfg.Model, Adapter: a.Name, Stream: cfg.Stream, Scope: scope(a), Bare: a.Provider}
	switch {
	case cfg.Price != nil:
		pr := *cfg.Price
		b.Price = &pr
	case a.PriceProvider != "":
		table := pricing.Default
		if opts.Prices != nil {
			table = table.Merge(opts.Prices)
		}
		if pr, ok := table.Lookup(a.PriceProvider, cfg.Model); ok {
			b.Price = &pr
		}
	}

	p := providers.Redacted(a.Provider)
	tok := &lazyTokenizer{provider: orName(a.PriceProvider, a.Name), model: cfg.Model}
	var warn func()
	if opts.OnEstimatedUsage != nil {
		warn = func() { opts.OnEstimatedUsage(label, tok.Method()) }
	}
	p = providers.CountUsage(p, tok, warn)
	var serialWarn func()
	if opts.OnSerialized != nil {
		serialWarn = func() { opts.OnSerialized(label) }
	}
	p = providers.OneAtATimeAfterTruncation(p, serialWarn)
	if l := cfg.Limits; l.Concurrency > 0 || l.RPM > 0 || l.TPM > 0 {
		p = providers.Limit(p, providers.LimitConfig{Name: a.Name, Concurrency: l.Concurrency, RequestsPerMinute: l.RPM, TokensPerMinute: l.TPM})
	}
	p = providers.Breaker(p, providers.BreakerConfig{Name: a.Name, Threshold: cfg.Breaker.Threshold, Cooldown: cfg.Breaker.Cooldown})
	rc := opts.Retry
	if cfg.Retry.MaxAttempts > 0 {
		rc.MaxAttempts = cfg.Retry.MaxAttempts
	}
	if cfg.Retry.BaseDelay > 0 {
		rc.BaseDelay = cfg.Retry.BaseDelay
	}
	if cfg.Retry.MaxDelay > 0 {
		rc.MaxDelay = cfg.Retry.MaxDelay
	}
	if cfg.Retry.MaxRetryAfter > 0 {
		rc.MaxRetryAfter = cfg.Retry.MaxRetryAfter
	}
	p = providers.Retry(p, rc)
	b.realtime = p
	if opts.Store != nil && !cfg.NoCache {
		b.store, b.cacheCfg = opts.Store, providers.CacheConfig{Scope: b.Scope, OnStoreError: opts.OnStoreError}
		b.Cache = providers.Cached(p, b.store, b.cacheCfg)
		p = b.Cache
	}
	b.Provider = p
	return b, nil
}

// BuildAll resolves each -m argument against the defined providers and
// builds it; with no arguments it builds every defined provider. Errors
// for all failing targets are joined.
func BuildAll(args []string, defined []Config, opts Options) ([]*Built, error) {
	var cfgs []Config
	var errs []error
	if len(args) == 0 {
		cfgs = defined
	}
	for _, a := range args {
		c, err := Resolve(a, defined)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cfgs = append(cfgs, c)
	}
	var out []*Built
	seen := map[string]bool{}
	for _, c := range cfgs {
		b, err := Build(c, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[b.Name] {
			errs = append(errs, fmt.Errorf("provider %q: defined twice", b.Name))
			continue
		}
		seen[b.Name] = true
		out = append(out, b)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// scope is "name@host" (just the name for in-process adapters). It holds
// no credentials: the URL's user info, path and query are dropped.
func scope(a Adapter) string {
	if a.BaseURL == "" {
		return a.Name
	}
	u, err := url.Parse(a.BaseURL)
	if err != nil || u.Host == "" {
		return a.Name
	}
	return a.Name + "@" + strings.ToLower(u.Host)
}

// orName returns s, or name when s is empty.
func orName(s, name string) string {
	if s == "" {
		return name
	}
	return s
}
