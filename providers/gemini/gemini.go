// Package gemini is Yardstick's adapter for Google's Gemini models, on the
// official Go SDK google.golang.org/genai (github.com/google/generative-ai-go
// is deprecated and out of support). It serves two backends: the Gemini API
// (an API key) and Vertex AI (a Google Cloud project and location,
// authenticated with Application Default Credentials).
//
// The adapter converts a providers.Request to a generateContent call and the
// answer back to a providers.Response, and every failure to a
// *providers.Error. It implements providers.Provider and providers.Streamer,
// and Batches gives the Gemini API's Batch Mode to providers/batch (half
// price; see batch.go).
//
// What it maps where:
//
//   - Request.System and any "system" messages become the system instruction;
//     "assistant" turns become "model" turns.
//
//   - Temperature, TopP and Seed are sent only when set (pointers), so a
//     Temperature of 0 reaches the wire; MaxTokens is maxOutputTokens (0:
//     unset); Stop is stopSequences; JSONSchema is responseJsonSchema with
//     responseMimeType application/json. genai's knobs are float32 and
//     int32: 0.7 still reaches the wire as 0.7, and a Seed beyond int32 is
//     refused locally with KindInvalidRequest.
//
//   - usageMetadata: InputTokens = promptTokenCount + toolUsePromptTokenCount;
//     CachedInputTokens = cachedContentTokenCount (a part of promptTokenCount);
//     OutputTokens = candidatesTokenCount + thoughtsTokenCount, because
//     thinking tokens are billed as output. Thought parts are left out of Text.
//
//   - finishReason: STOP is "stop", MAX_TOKENS is "length", SAFETY,
//     RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII (and their image
//     variants) are "content_filter"; others are the lower-cased word. A
//     prompt blocked outright (promptFeedback.blockReason) is an error of
//     KindContentFilter, since there is no answer.
//
//   - Errors: error.status (RESOURCE_EXHAUSTED, INVALID_ARGUMENT, NOT_FOUND,
//     PERMISSION_DENIED, UNAVAILABLE, DEADLINE_EXCEEDED, …) gives the Kind,
//     refined by a google.rpc.ErrorInfo reason (API_KEY_INVALID is auth), with
//     the HTTP code as fallback. RetryAfter is the larger of
//     google.rpc.RetryInfo.retryDelay and the HTTP Retry-After header, which
//     genai drops, so the adapter records it with its own RoundTripper. A
//     prompt over the context window comes back as INVALID_ARGUMENT with no
//     structured reason; it is KindContextLength when the message is
//     Gemini's "The input token count (…) exceeds the maximum number of
//     tokens allowed (…)", the one message matched. A non-JSON error page
//     keeps its status and a short message ("Bad Gateway (text/html error
//     body)").
//
//   - Streaming: TTFT is measured at the first non-empty, non-thought text
//     part; usage comes from the last chunk that carries it; a stream that
//     ends cleanly without a finish reason is KindStreamTruncated, one cut
//     mid-body KindBadResponse.
//
//   - Images in user messages go as inline data parts; Batches (batch.go)
//     sends requests through the Gemini API's Batch Mode.
//
// What it does not do: retry, rate-limit or cache (decorators in package
// providers do), tools, audio or video input, or several candidates. genai's
// own retries are off (its default) and so is its automatic continuation, so
// one call is one HTTP request.
package gemini

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"google.golang.org/genai"

	"github.com/yardstick-eval/yardstick/internal/redact"
	"github.com/yardstick-eval/yardstick/providers"
)

// DefaultName is the adapter name errors carry unless Config.Name says otherwise.
const DefaultName = "gemini"

// Backend selects the Gemini API or Vertex AI.
type Backend string

const (
	// BackendGeminiAPI is generativelanguage.googleapis.com, authenticated
	// with an API key.
	BackendGeminiAPI Backend = "gemini"
	// BackendVertexAI is {location}-aiplatform.googleapis.com, authenticated
	// with Application Default Credentials (or a Vertex express-mode API key).
	BackendVertexAI Backend = "vertex"
)

// Auth selects how Vertex AI requests are authenticated when there is no
// API key.
type Auth string

const (
	// AuthAuto is genai's rule: Application Default Credentials when
	// Config.HTTPClient is nil; otherwise the given client authenticates.
	AuthAuto Auth = ""
	// AuthADC adds Application Default Credentials on top of Config.HTTPClient
	// too (what genai's ClientConfig.UseDefaultCredentials does), e.g. for a
	// proxy-configured client.
	AuthADC Auth = "adc"
	// AuthNone adds nothing: the HTTP client, or a proxy in front of
	// BaseURL, authenticates.
	AuthNone Auth = "none"
)

// Config configures a Client. Start from DefaultConfig or VertexDefaultConfig.
type Config struct {
	// Name is the adapter name carried by errors (Error.Provider); empty:
	// DefaultName. The registry uses "vertex" for the Vertex AI scheme.
	Name    string
	Backend Backend
	// Model is used when a Request leaves Model empty, e.g. "gemini-2.5-flash".
	Model string
	// APIKey authenticates the Gemini API backend. With Vertex AI it selects
	// express mode, and Project and Location must be empty.
	APIKey string
	// Project and Location address Vertex AI.
	Project  string
	Location string
	// BaseURL overrides the service endpoint, e.g. an httptest server's
	// URL. Empty: genai's default for the backend, or GOOGLE_GEMINI_BASE_URL
	// / GOOGLE_VERTEX_BASE_URL when set (genai reads those itself).
	BaseURL string
	// APIVersion overrides genai's default ("v1beta" for the Gemini API,
	// "v1beta1" for Vertex AI).
	APIVersion string
	// Headers are sent with every request.
	Headers http.Header
	// HTTPClient is used for every request; nil means a fresh client. It is
	// copied, never modified.
	HTTPClient *http.Client
	// Auth selects Vertex AI authentication without an APIKey (default
	// AuthAuto). genai itself looks for Application Default Credentials only
	// when ClientConfig.HTTPClient is nil; a client it is given "must handle
	// authentication". This adapter always hands genai a client (its own
	// transport records Retry-After headers), so it applies the rule itself:
	// with ADC selected, credentials are found on the first request (not in
	// New, which makes no network call: without an ADC file, detection
	// probes the GCE metadata server), every request carries a Bearer
	// token, and the credentials' quota project is sent as
	// X-Goog-User-Project, as genai does. Tests pass the fake's client with
	// AuthAuto and need no credentials.
	Auth Auth
	// Timeout bounds each call when positive; the caller's ctx deadline applies too.
	Timeout time.Duration
	// Bounds limit each HTTP exchange (headers timeout, idle timeout, total
	// time, response size); zero fields take providers' defaults.
	Bounds providers.Bounds
	// BatchInline is the largest batch, in bytes of request JSON, that
	// Batches sends inline in the create request (the API takes up to
	// 20 MB); larger ones, and every batch when it is 0, go up as a JSONL
	// file, whose output lines carry their keys (see batch.go).
	BatchInline int64
}

// DefaultConfig returns the Gemini API configuration with the key taken from
// GEMINI_API_KEY, or GOOGLE_API_KEY when that is unset.
func DefaultConfig() Config {
	key := os.Getenv("GEMINI_API_KEY")
	if key == "" {
		key = os.Getenv("GOOGLE_API_KEY")
	}
	return Config{Name: DefaultName, Backend: BackendGeminiAPI, APIKey: key}
}

// VertexDefaultConfig returns a Vertex AI configuration named "vertex" with
// the project from GOOGLE_CLOUD_PROJECT and the location from
// GOOGLE_CLOUD_LOCATION (or GOOGLE_CLOUD_REGION), defaulting to "global" as
// genai does.
func VertexDefaultConfig() Config {
	loc := os.Getenv("GOOGLE_CLOUD_LOCATION")
	if loc == "" {
		loc = os.Getenv("GOOGLE_CLOUD_REGION")
	}
	if loc == "" {
		loc = "global"
	}
	return Config{Name: "vertex", Backend: BackendVertexAI, Project: os.Getenv("GOOGLE_CLOUD_PROJECT"), Location: loc}
}

// Client is a Gemini provider. It is safe for concurrent use and keeps no
// per-call state.
type Client struct {
	gc          *genai.Client
	bgc         *genai.Client // Batch Mode's, with larger bounds
	name        string
	model       string
	timeout     time.Duration
	backend     Backend
	batchInline int64
}

var (
	_ providers.Provider = (*Client)(nil)
	_ providers.Streamer = (*Client)(nil)
)

// New returns a Client for cfg. It fails, as a *providers.Error of KindAuth
// or KindInvalidRequest, when the configuration cannot work: no API key for
// the Gemini API, no project for Vertex AI without a key, project or
// location given for the Gemini API. It makes no network call (ctx is
// passed to genai.NewClient).
func New(ctx context.Context, cfg Config) (*Client, error) {
	name := cfg.Name
	if name == "" {
		name = DefaultName
	}
	fail := func(kind providers.Kind, msg string, err error) (*Client, error) {
		return nil, &providers.Error{Kind: kind, Provider: name, Message: msg, Err: err}
	}
	cc := &genai.ClientConfig{
		APIKey:      cfg.APIKey,
		HTTPOptions: genai.HTTPOptions{BaseURL: cfg.BaseURL, APIVersion: cfg.APIVersion, Headers: cfg.Headers.Clone()},
	}
	// The backend is always explicit, so GOOGLE_GENAI_USE_VERTEXAI cannot
	// silently change what cfg says; the key comes from cfg only
	// (DefaultConfig reads the environment).
	adc := false
	switch cfg.Backend {
	case BackendGeminiAPI, "":
		cc.Backend = genai.BackendGeminiAPI
		if cfg.APIKey == "" {
			return fail(providers.KindAuth, "no API key: set GEMINI_API_KEY or GOOGLE_API_KEY", nil)
		}
		if cfg.Project != "" || cfg.Location != "" {
			return fail(providers.KindInvalidRequest, "project and location apply to Vertex AI only", nil)
		}
	case BackendVertexAI:
		cc.Backend = genai.BackendVertexAI
		if cfg.APIKey != "" {
			if cfg.Project != "" || cfg.Location != "" {
				return fail(providers.KindInvalidRequest, "vertex: an API key (express mode) excludes project and location", nil)
			}
			break
		}
		if cfg.Project == "" {
			return fail(providers.KindInvalidRequest, "vertex: no project: set GOOGLE_CLOUD_PROJECT or the project option", nil)
		}
		cc.Project, cc.Location = cfg.Project, cfg.Location
		if cc.Location == "" {
			cc.Location = "global"
		}
		switch cfg.Auth {
		case AuthAuto:
			adc = cfg.HTTPClient == nil
		case AuthADC:
			adc = true
		case AuthNone:
		default:
			return fail(providers.KindInvalidRequest, fmt.Sprintf("vertex: auth: unknown %q (want adc or none)", cfg.Auth), nil)
		}
	default:
		return fail(providers.KindInvalidRequest, fmt.Sprintf("backend: unknown %q (want gemini or vertex)", cfg.Backend), nil)
	}
	cc.HTTPClient = transportFor(cfg.HTTPClient, adc, name, cfg.Bounds)

	redact.Register(cfg.APIKey)
	gc, err := genai.NewClient(ctx, cc)
	if err != nil {
		return fail(providers.KindInvalidRequest, "", err)
	}
	// Batch Mode moves whole files: its client has providers.Bounds.ForBulk
	// (bodies up to the Files API's 2 GB, an hour per exchange; silences stay
	// bounded).
	bcc := *cc
	bcc.HTTPClient = transportFor(cfg.HTTPClient, adc, name, cfg.Bounds.ForBulk())
	bgc, err := genai.NewClient(ctx, &bcc)
	if err != nil {
		return fail(providers.KindInvalidRequest, "", err)
	}
	backend := cfg.Backend
	if backend == "" {
		backend = BackendGeminiAPI
	}
	return &Client{gc: gc, bgc: bgc, name: name, model: cfg.Model, timeout: cfg.Timeout, backend: backend, batchInline: cfg.BatchInline}, nil
}

// BaseURL returns the endpoint requests go to, as genai resolved it.
func (c *Client) BaseURL() string { return c.gc.ClientConfig().HTTPOptions.BaseURL }

// tag sets the adapter name on an error this package made.
func (c *Client) tag(err error) error {
	var pe *providers.Error
	if errors.As(err, &pe) && pe.Provider == "" {
		pe.Provider = c.name
	}
	return err
}

// prepare converts req and returns the model name and per-call genai inputs.
// A fresh config is built per call: genai mutates the HTTPOptions it is given.
func (c *Client) prepare(req *providers.Request) (string, []*genai.Content, *genai.GenerateContentConfig, error) {
	if req == nil {
		return "", nil, nil, invalid("nil request")
	}
	model := req.Model
	if model == "" {
		model = c.model
	}
	if model == "" {
		return "", nil, nil, invalid("model: empty")
	}
	contents, system, err := toContents(req)
	if err != nil {
		return "", nil, nil, err
	}
	cfg, err := toConfig(req, system)
	if err != nil {
		return "", nil, nil, err
	}
	return model, contents, cfg, nil
}

func (c *Client) callContext(ctx context.Context) (context.Context, context.CancelFunc, *exchange) {
	cancel := context.CancelFunc(func() {})
	if c.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	x := &exchange{}
	return withExchange(ctx, x), cancel, x
}

// Generate sends one generateContent request.
func (c *Client) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	model, contents, cfg, err := c.prepare(req)
	if err != nil {
		return nil, c.tag(err)
	}
	ctx, cancel, x := c.callContext(ctx)
	defer cancel()
	resp, err := c.gc.Models.GenerateContent(ctx, model, contents, cfg)
	if err != nil {
		return nil, c.tag(fromError(ctx, err, x))
	}
	out, err := toResponse(resp, model)
	return out, c.tag(err)
}

// Stream sends one streamGenerateContent request (server-sent events) and
// calls fn with each non-empty piece of answer text. TTFT is the time from
// the call to the first non-empty, non-thought text part. Usage is taken from
// the last chunk carrying usageMetadata (Gemini reports running totals), and
// the finish reason from the chunk that sets it. A stream that ends cleanly
// without a finish reason is KindStreamTruncated (a cut one KindBadResponse). An error returned by fn
// aborts the stream and is returned unchanged.
func (c *Client) Stream(ctx context.Context, req *providers.Request, fn func(providers.Chunk) error) (*providers.Response, error) {
	model, contents, cfg, err := c.prepare(req)
	if err != nil {
		return nil, c.tag(err)
	}
	ctx, cancel, x := c.callContext(ctx)
	defer cancel()

	start := time.Now()
	out := &providers.Response{}
	var text []byte
	var finish genai.FinishReason
	chunks := 0
	for chunk, err := range c.gc.Models.GenerateContentStream(ctx, model, contents, cfg) {
		if err != nil {
			return nil, c.tag(fromError(ctx, err, x))
		}
		if err := blocked(chunk); err != nil {
			return nil, c.tag(err)
		}
		if t := candidateText(chunk); t != "" {
			if out.TTFT == 0 {
				out.TTFT = max(time.Since(start), 1)
			}
			text = append(text, t...)
			chunks++
			if err := fn(providers.Chunk{Text: t}); err != nil {
				return nil, err
			}
		}
		if f := finishReason(chunk); f != "" {
			finish = f
		}
		if chunk.UsageMetadata != nil {
			out.Usage = toUsage(chunk.UsageMetadata)
		}
		if chunk.ModelVersion != "" {
			out.Model = chunk.ModelVersion
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, c.tag(fromError(ctx, err, x))
	}
	if finish == "" {
		// A cut connection surfaces as a read error above; this stream
		// ended cleanly, short of its answer.
		status, _ := x.snapshot()
		return nil, c.tag(providers.TruncatedStream(c.name, status, chunks))
	}
	out.Text = string(text)
	out.FinishReason = normFinish(finish)
	if out.Model == "" {
		out.Model = model
	}
	return out, nil
}
