// Package ollama is Yardstick's adapter for models served by Ollama (LLaMA
// and other open-weight models) on Ollama's own Go client,
// github.com/ollama/ollama/api, speaking POST /api/chat.
//
// The adapter converts a providers.Request to a chat request and the answer
// back to a providers.Response, and every failure to a *providers.Error. It
// implements providers.Provider (stream=false: one JSON object) and
// providers.Streamer (NDJSON chunks ending with done:true).
//
// What it maps where:
//   - Request.System becomes a leading "system" message; messages keep their roles.
//   - options: temperature, top_p, seed, num_predict (MaxTokens, 0 unset) and
//     stop, each sent only when set, so a Temperature of 0 reaches the wire;
//     JSONSchema is the "format" field (structured outputs).
//   - Usage: prompt_eval_count is InputTokens, eval_count is OutputTokens;
//     Ollama has no cached-token count.
//   - done_reason is the finish reason ("stop", "length", or Ollama's word).
//   - Server timings (total_duration, load_duration, prompt_eval_duration,
//     eval_duration) are not fields of providers.Response; they reach a
//     caller who asks with WithTimings. Response.TTFT is client-measured, set
//     only when streaming, at the first non-empty content.
//   - Errors: api.StatusError by its status code (404 "model 'x' not found"
//     is KindNotFound, 429 carries Retry-After), api.AuthorizationError is
//     KindAuth; an error status with an empty body, a stream cut before its
//     done message, and a malformed line are classified from the HTTP
//     exchange, which the adapter records with its own RoundTripper because
//     api.Client drops status and read errors in those cases.
//
// What it does not do: retry, rate-limit or cache (decorators in package
// providers do), pull models, tools, images or thinking.
package ollama

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/yardstick-eval/yardstick/providers"
)

const providerName = "ollama"

// Config configures a Client.
type Config struct {
	// BaseURL is the Ollama server, e.g. "http://127.0.0.1:11434".
	BaseURL string
	// Model is used when a Request leaves Model empty, e.g. "llama3.2".
	Model string
	// HTTPClient is used for every request; nil means a fresh client. It is
	// copied, never modified.
	HTTPClient *http.Client
	// Headers are sent with every request (e.g. a proxy's Authorization),
	// replacing api.Client's values for the same names.
	Headers http.Header
	// KeepAlive asks the server to keep the model loaded this long after a
	// call; 0 leaves the server's default (5m). A benchmark that should not
	// pay load time on each case sets it longer than the gap between calls.
	KeepAlive time.Duration
	// Timeout bounds each call when positive; the caller's ctx deadline applies too.
	Timeout time.Duration
	// Bounds limit each HTTP exchange (headers timeout, idle timeout, total
	// time, response size); zero fields take providers' defaults.
	Bounds providers.Bounds
}

// DefaultConfig returns a configuration whose BaseURL comes from OLLAMA_HOST
// (see HostURL), defaulting to http://127.0.0.1:11434.
func DefaultConfig() Config {
	return Config{BaseURL: HostURL(os.Getenv("OLLAMA_HOST"))}
}

// HostURL turns an OLLAMA_HOST value into a base URL exactly as the ollama
// CLI does (github.com/ollama/ollama/envconfig.Host): "host", "host:port",
// "scheme://host[:port][/path]"; surrounding quotes and spaces are ignored;
// the port defaults to 11434 without a scheme, else 80 or 443; an empty
// value is http://127.0.0.1:11434. It takes the value as an argument so
// callers with their own environment (the registry's Getenv) use it too.
func HostURL(v string) string {
	v = strings.Trim(strings.TrimSpace(v), "\"'")
	defaultPort := "11434"
	scheme, hostport, ok := strings.Cut(v, "://")
	switch {
	case !ok:
		scheme, hostport = "http", v
		if v == "ollama.com" {
			scheme, hostport = "https", "ollama.com:443"
		}
	case scheme == "http":
		defaultPort = "80"
	case scheme == "https":
		defaultPort = "443"
	}
	hostport, path, _ := strings.Cut(hostport, "/")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = "127.0.0.1", defaultPort
		if ip := net.ParseIP(strings.Trim(hostport, "[]")); ip != nil {
			host = ip.String()
		} else if hostport != "" {
			host = hostport
		}
	}
	if n, err := strconv.ParseInt(port, 10, 32); err != nil || n > 65535 || n < 0 {
		port = defaultPort
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: path}
	return u.String()
}

// Client is an Ollama provider. It is safe for concurrent use and keeps no
// per-call state.
type Client struct {
	api       *api.Client
	base      string
	model     string
	keepAlive *api.Duration
	timeout   time.Duration
}

var (
	_ providers.Provider = (*Client)(nil)
	_ providers.Streamer = (*Client)(nil)
)

// New returns a Client for cfg. It fails with KindInvalidRequest when
// BaseURL is not an absolute http(s) URL. It makes no call.
func New(cfg Config) (*Client, error) {
	raw := cfg.BaseURL
	if raw == "" {
		raw = DefaultConfig().BaseURL
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &providers.Error{Kind: providers.KindInvalidRequest, Provider: providerName,
			Message: "base_url: want an absolute http(s) URL, got " + raw, Err: err}
	}
	c := &Client{api: api.NewClient(u, withRecording(cfg.HTTPClient, cfg.Headers, cfg.Bounds)), base: u.String(), model: cfg.Model, timeout: cfg.Timeout}
	if cfg.KeepAlive > 0 {
		c.keepAlive = &api.Duration{Duration: cfg.KeepAlive}
	}
	return c, nil
}

// BaseURL returns the server requests go to.
func (c *Client) BaseURL() string { return c.base }

// Timings are Ollama's server-side measurements of one call, from its final
// (done) message. Durations are as reported by the server.
type Timings struct {
	Total           time.Duration `json:"total_ns"`       // total_duration: the whole request on the server
	Load            time.Duration `json:"load_ns"`        // load_duration: loading the model; ~0 when it was warm
	PromptEval      time.Duration `json:"prompt_eval_ns"` // prompt_eval_duration: processing the prompt
	Eval            time.Duration `json:"eval_ns"`        // eval_duration: generating the output tokens
	PromptEvalCount int           `json:"prompt_eval_count"`
	EvalCount       int           `json:"eval_count"`
}

// ServerTTFT approximates the server's time to first token: model load plus
// prompt processing. It excludes network and queueing time.
func (t Timings) ServerTTFT() time.Duration { return t.Load + t.PromptEval }

// OutputTokensPerSecond is eval_count / eval_duration, 0 when unknown.
func (t Timings) OutputTokensPerSecond() float64 {
	if t.Eval <= 0 {
		return 0
	}
	return float64(t.EvalCount) / t.Eval.Seconds()
}

type timingsKey struct{}

// WithTimings returns ctx asking the adapter to store the server timings of
// the call made with it in *dst. dst is written at most once per successful
// call, before Generate or Stream returns; a call served by a cache or one
// that fails leaves it untouched. One dst per call: do not share it between
// concurrent calls.
func WithTimings(ctx context.Context, dst *Timings) context.Context {
	return context.WithValue(ctx, timingsKey{}, dst)
}

// Generate sends one non-streaming chat request (stream: false).
func (c *Client) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	return c.chat(ctx, req, false, nil)
}

// Stream sends one streaming chat request and calls fn with each non-empty
// piece of content. TTFT is the time from the call to the first non-empty
// content. Usage and timings come from the final done:true message; a
// stream that ends cleanly without one is KindStreamTruncated, one cut
// mid-body KindBadResponse. An error
// returned by fn aborts the stream and is returned unchanged.
func (c *Client) Stream(ctx context.Context, req *providers.Request, fn func(providers.Chunk) error) (*providers.Response, error) {
	return c.chat(ctx, req, true, fn)
}

func (c *Client) chat(ctx context.Context, req *providers.Request, stream bool, fn func(providers.Chunk) error) (*providers.Response, error) {
	if req == nil {
		return nil, invalid("nil request")
	}
	model := req.Model
	if model == "" {
		model = c.model
	}
	if model == "" {
		return nil, invalid("model: empty")
	}
	cr, err := toChatRequest(req, model, stream, c.keepAlive)
	if err != nil {
		return nil, err
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	x := &exchange{}
	ctx = withExchange(ctx, x)

	start := time.Now()
	out := &providers.Response{}
	var text strings.Builder
	var final *api.ChatResponse
	chunks := 0
	err = c.api.Chat(ctx, cr, func(r api.ChatResponse) error {
		if final != nil {
			return nil // nothing is expected after done
		}
		if s := r.Message.Content; s != "" {
			if stream && out.TTFT == 0 {
				out.TTFT = max(time.Since(start), 1)
			}
			text.WriteString(s)
			chunks++
			if fn != nil {
				if err := fn(providers.Chunk{Text: s}); err != nil {
					return callbackError{err}
				}
			}
		}
		if r.Done {
			final = &r
		}
		return nil
	})
	if err != nil {
		return nil, fromError(ctx, err, x)
	}
	if final == nil {
		return nil, incomplete(ctx, x, chunks)
	}
	out.Text = text.String()
	out.FinishReason = final.DoneReason
	out.Model = final.Model
	if out.Model == "" {
		out.Model = model
	}
	out.Usage = toUsage(final.Metrics)
	if dst, ok := ctx.Value(timingsKey{}).(*Timings); ok && dst != nil {
		*dst = toTimings(final.Metrics)
	}
	return out, nil
}
