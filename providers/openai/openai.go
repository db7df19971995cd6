// Package openai is Yardstick's adapter for the OpenAI chat completions API,
// built on github.com/sashabaranov/go-openai. One Client serves OpenAI,
// Azure OpenAI (deployments and api-version, "api-key" header) and any
// OpenAI-compatible server (vLLM, llama.cpp server, Groq, Together, Ollama's
// /v1, OpenRouter); Presets lists the known hosts as data.
//
// Two things go-openai cannot do are done in a RoundTripper installed on
// the client's HTTP client: it writes explicitly set temperature and top_p
// into the request body (go-openai's fields are float32 with omitempty, so 0
// would be dropped and 0.7 sent as 0.699999988), and it captures each
// response's status and headers (go-openai hides them) so that Retry-After
// reaches providers.Error.RetryAfter.
//
// Errors are classified from the HTTP status and the structured error body
// (error.code, error.type); see classify. Message text is read only where
// OpenAI-compatible servers give nothing else: words saying the prompt is
// over the context window (KindContextLength) or that a structured-output
// mode is unsupported (KindInvalidRequest, naming options.structured_output).
// A stream that ends cleanly without a finish reason is KindStreamTruncated.
// Each exchange is bounded by Config.Bounds (timeouts, response size).
//
// max_tokens: requests for OpenAI's reasoning models (model names starting
// o1, o3, o4 or gpt-5), which reject max_tokens, send max_completion_tokens;
// all others send max_tokens, which every OpenAI-compatible server accepts.
// Config.MaxTokensParam overrides the choice.
//
// This package does not retry, rate-limit or cache (see the decorators in
// package providers), read environment variables (see providers/registry),
// or support tools, images or the Responses API.
package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/yardstick-eval/yardstick/internal/redact"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/internal/httpguard"
)

// DefaultBaseURL is OpenAI's API.
const DefaultBaseURL = "https://api.openai.com/v1"

// DefaultAzureAPIVersion is the Azure OpenAI api-version used when
// Config.APIVersion is empty (the GA version that added structured outputs).
const DefaultAzureAPIVersion = "2024-10-21"

// Values of Config.MaxTokensParam.
const (
	MaxTokensAuto       = ""
	MaxTokens           = "max_tokens"
	MaxCompletionTokens = "max_completion_tokens"
)

// Values of Config.StructuredOutput.
const (
	StructuredJSONSchema = "json_schema"
	StructuredJSONObject = "json_object"
	StructuredNone       = "none"
)

// Config configures a Client. The zero value of every field but BaseURL
// (and, for Azure, the endpoint) is usable.
type Config struct {
	// Name is the adapter name on errors and in cache scopes, e.g. "groq".
	// Empty: "openai", or "azure" when Azure is set.
	Name string
	// APIKey is sent as "Authorization: Bearer" (Azure: "api-key"). It may
	// be empty for local servers. It is never printed: Config's String and
	// GoString redact it, and no error carries it.
	APIKey string
	// BaseURL is the API root including its version path, e.g.
	// "https://api.groq.com/openai/v1". Empty: DefaultBaseURL. For Azure it
	// is the resource endpoint, e.g. "https://NAME.openai.azure.com".
	BaseURL string
	// Organization is sent as OpenAI-Organization when set.
	Organization string
	// Azure selects Azure OpenAI's URL layout and authentication.
	Azure bool
	// APIVersion is Azure's api-version. Empty: DefaultAzureAPIVersion.
	APIVersion string
	// Deployments maps a model name to its Azure deployment name; models not
	// in it are used as deployment names unchanged.
	Deployments map[string]string
	// DeploymentFunc, when set, maps model names to Azure deployment names
	// instead of Deployments.
	DeploymentFunc func(model string) string
	// BatchDeployment is the Azure Global-Batch deployment that batch lines
	// name (Batches), when it is not the deployment serving real-time
	// requests. Empty: the real-time deployment.
	BatchDeployment string
	// HTTPClient carries the requests. Nil: a client without timeout
	// (Bounds and the request's ctx bound each exchange) on a shared
	// transport that keeps up to 256 idle connections per host. The Client copies it and
	// wraps its Transport; the value passed is not modified.
	HTTPClient *http.Client
	// Headers are extra request headers, e.g. OpenRouter's HTTP-Referer.
	Headers map[string]string
	// MaxTokensParam picks the body field for Request.MaxTokens; see the
	// package doc. Empty: automatic.
	MaxTokensParam string
	// StrictJSONSchema asks for strict structured outputs. Strict mode
	// requires schemas OpenAI accepts as strict (every property required,
	// additionalProperties false), so it is off by default.
	StrictJSONSchema bool
	// NoStreamUsage leaves out stream_options.include_usage for servers that
	// reject it; streamed responses then have no Usage.
	NoStreamUsage bool
	// StructuredOutput is how a Request's JSONSchema is asked for:
	// StructuredJSONSchema (response_format json_schema, the default),
	// StructuredJSONObject (response_format json_object: JSON, schema not
	// enforced) or StructuredNone (no response_format; the prompt alone
	// asks for JSON), for servers that reject the richer modes.
	StructuredOutput string
	// Bounds limit each HTTP exchange (headers timeout, idle timeout, total
	// time, response size); zero fields take providers' defaults.
	Bounds providers.Bounds
}

// DefaultConfig returns a Config for OpenAI's API with no key. It reads no
// environment variables.
func DefaultConfig() Config {
	return Config{Name: "openai", BaseURL: DefaultBaseURL}
}

// String describes c without its key.
func (c Config) String() string {
	key := "unset"
	if c.APIKey != "" {
		key = "set"
	}
	return fmt.Sprintf("openai.Config{Name:%q BaseURL:%q Azure:%v APIKey:%s}", c.Name, c.BaseURL, c.Azure, key)
}

// GoString describes c without its key, for %#v.
func (c Config) GoString() string { return c.String() }

// defaultTransport is shared by Clients built without an HTTPClient of
// their own. Unlike http.DefaultTransport, which keeps 2 idle connections
// per host, it keeps enough for a benchmark's worker pool, so concurrent
// calls reuse connections instead of opening new ones.
var defaultTransport http.RoundTripper = func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	return t
}()

// Client is a providers.Provider and providers.Streamer for one
// OpenAI-compatible endpoint. It is safe for concurrent use.
type Client struct {
	name    string
	baseURL string
	api     *goopenai.Client
	bulk    *goopenai.Client // the Batch API's files and batches, with bulk bounds
	conv    convertOptions
	stream  bool // send stream_options.include_usage
	// deployment maps a model to its Azure deployment; nil for other
	// servers. Batch lines name the deployment in their body.
	deployment func(model string) string
}

var (
	_ providers.Provider = (*Client)(nil)
	_ providers.Streamer = (*Client)(nil)
)

// New returns a Client for cfg. It fails only for an unusable BaseURL or
// option value; it makes no request.
func New(cfg Config) (*Client, error) {
	name := cfg.Name
	if name == "" {
		name = "openai"
		if cfg.Azure {
			name = "azure"
		}
	}
	base := cfg.BaseURL
	if base == "" {
		if cfg.Azure {
			return nil, fmt.Errorf("%s: Azure OpenAI needs BaseURL, the resource endpoint (https://NAME.openai.azure.com)", name)
		}
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: base URL %q: want an absolute http or https URL", name, redactURL(base))
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: base URL %q: credentials belong in APIKey, not in the URL", name, redactURL(base))
	}
	switch cfg.StructuredOutput {
	case "", StructuredJSONSchema, StructuredJSONObject, StructuredNone:
	default:
		return nil, fmt.Errorf("%s: structured_output %q: want %s, %s or %s", name, cfg.StructuredOutput, StructuredJSONSchema, StructuredJSONObject, StructuredNone)
	}
	redact.Register(cfg.APIKey)
	switch cfg.MaxTokensParam {
	case MaxTokensAuto, MaxTokens, MaxCompletionTokens:
	default:
		return nil, fmt.Errorf("%s: MaxTokensParam %q: want %q, %q or empty", name, cfg.MaxTokensParam, MaxTokens, MaxCompletionTokens)
	}

	var cc goopenai.ClientConfig
	if cfg.Azure {
		cc = goopenai.DefaultAzureConfig(cfg.APIKey, base)
		cc.APIVersion = cfg.APIVersion
		if cc.APIVersion == "" {
			cc.APIVersion = DefaultAzureAPIVersion
		}
		deployments := cfg.Deployments
		cc.AzureModelMapperFunc = func(model string) string {
			if d, ok := deployments[model]; ok {
				return d
			}
			return model
		}
		if cfg.DeploymentFunc != nil {
			cc.AzureModelMapperFunc = cfg.DeploymentFunc
		}
	} else {
		cc = goopenai.DefaultConfig(cfg.APIKey)
		cc.BaseURL = base
	}
	cc.OrgID = cfg.Organization
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		hc = &c
	}
	rt := hc.Transport
	if rt == nil {
		rt = defaultTransport
	}
	hc.Transport = &transport{base: httpguard.Wrap(rt, cfg.Bounds), headers: cfg.Headers}
	cc.HTTPClient = hc
	// The Batch API moves whole files: its client has Bounds.ForBulk.
	bcc, bhc := cc, *hc
	bhc.Transport = &transport{base: httpguard.Wrap(rt, cfg.Bounds.ForBulk()), headers: cfg.Headers}
	bcc.HTTPClient = &bhc

	c := &Client{
		name:    name,
		baseURL: strings.TrimRight(base, "/"),
		api:     goopenai.NewClientWithConfig(cc),
		bulk:    goopenai.NewClientWithConfig(bcc),
		conv:    convertOptions{maxTokensParam: cfg.MaxTokensParam, strictSchema: cfg.StrictJSONSchema, structuredOutput: cfg.StructuredOutput},
		stream:  !cfg.NoStreamUsage,
	}
	if cfg.Azure {
		c.deployment = cc.AzureModelMapperFunc
		if d := cfg.BatchDeployment; d != "" {
			c.deployment = func(string) string { return d }
		}
	}
	return c, nil
}

// Name returns the adapter name used on errors.
func (c *Client) Name() string { return c.name }

// BaseURL returns the API root requests go to.
func (c *Client) BaseURL() string { return c.baseURL }

// String describes the client without credentials.
func (c *Client) String() string { return fmt.Sprintf("openai.Client{%s %s}", c.name, c.baseURL) }

// Generate sends req as one chat completion.
func (c *Client) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	creq, patch, err := toChatRequest(req, c.conv)
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindInvalidRequest, Provider: c.name, Message: err.Error(), Err: err}
	}
	call := &callState{patch: patch}
	resp, err := c.api.CreateChatCompletion(withCall(ctx, call), creq)
	if err != nil {
		return nil, c.classify(ctx, call, err)
	}
	out, err := fromChatResponse(resp)
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindBadResponse, Provider: c.name, Message: err.Error(), Err: err}
	}
	return out, nil
}

// Stream sends req as a streamed chat completion (server-sent events),
// calling fn with each non-empty content delta. TTFT is measured from the
// call to the first non-empty delta; Usage comes from the stream's final
// usage chunk. A stream that ends cleanly without a finish reason is an error of
// KindStreamTruncated (a cut connection is KindBadResponse), unless it
// carried nothing but the server's own words, which are then classified
// (KindContextLength for a prompt over the context window). Usage is left
// zero when the server sends none. An error returned by fn aborts the
// stream and is returned unchanged.
func (c *Client) Stream(ctx context.Context, req *providers.Request, fn func(providers.Chunk) error) (*providers.Response, error) {
	creq, patch, err := toChatRequest(req, c.conv)
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindInvalidRequest, Provider: c.name, Message: err.Error(), Err: err}
	}
	if c.stream {
		creq.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
	}
	call := &callState{patch: patch}
	start := time.Now()
	stream, err := c.api.CreateChatCompletionStream(withCall(ctx, call), creq)
	if err != nil {
		return nil, c.classify(ctx, call, err)
	}
	defer stream.Close()

	var (
		text   strings.Builder
		out    providers.Response
		chunks int
	)
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, c.classify(ctx, call, err)
		}
		d := fromStreamChunk(chunk)
		if d.model != "" {
			out.Model = d.model
		}
		if d.usage != nil {
			out.Usage = *d.usage
		}
		if d.finish != "" {
			out.FinishReason = d.finish
		}
		if d.text == "" {
			continue
		}
		if out.TTFT == 0 {
			out.TTFT = max(time.Since(start), time.Nanosecond)
		}
		text.WriteString(d.text)
		chunks++
		if err := fn(providers.Chunk{Text: d.text}); err != nil {
			return nil, err
		}
	}
	if ce := ctx.Err(); ce != nil {
		return nil, c.classify(ctx, call, ce)
	}
	if out.FinishReason == "" {
		return nil, c.endedEarly(call, chunks)
	}
	out.Text = text.String()
	return &out, nil
}
