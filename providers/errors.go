package providers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/yardstick-eval/yardstick/internal/redact"
)

// Kind classifies a provider failure. Values are stable strings used in
// results files and reports.
type Kind string

const (
	KindUnknown        Kind = "unknown"
	KindAuth           Kind = "auth"            // 401/403: bad or missing credentials
	KindRateLimit      Kind = "rate_limit"      // 429 or a provider's quota error
	KindInvalidRequest Kind = "invalid_request" // 400/422 other than the kinds below
	KindContextLength  Kind = "context_length"  // prompt plus max tokens exceed the model's window
	KindContentFilter  Kind = "content_filter"  // refused or blocked by a safety system
	KindNotFound       Kind = "not_found"       // 404: unknown model or deployment
	KindUnavailable    Kind = "unavailable"     // 5xx, connection refused or reset
	KindTimeout        Kind = "timeout"         // deadline exceeded, 408, 504
	KindCanceled       Kind = "canceled"        // the caller's context was canceled
	KindBadResponse    Kind = "bad_response"    // malformed or truncated body
	KindBudget         Kind = "budget"          // refused locally: the run's cost budget is spent
	KindCircuitOpen    Kind = "circuit_open"    // refused locally: a circuit breaker stopped the target after repeated failures
)

// Temporary reports whether a request failing with this kind may succeed if
// retried unchanged.
func (k Kind) Temporary() bool {
	switch k {
	case KindRateLimit, KindUnavailable, KindTimeout, KindBadResponse, KindStreamTruncated:
		return true
	}
	return false
}

// Kinds for servers that hang, flood or cut streams. (KindCircuitOpen, for
// servers that are down, is returned by the Breaker decorator after
// repeated connection or authentication failures; its message names the
// underlying cause; not retried.)
const (
	// KindResponseTooLarge: the body exceeded Bounds.MaxResponseBytes and
	// reading stopped at the cap. Not retried: the same request would get
	// the same answer.
	KindResponseTooLarge Kind = "response_too_large"
	// KindStreamTruncated: a stream ended cleanly (OpenAI: data: [DONE])
	// before any finish reason, i.e. the server cut it short on purpose
	// (llama.cpp's server does so to a running request when another
	// arrives). Retried like a temporary failure.
	KindStreamTruncated Kind = "stream_truncated"
)

// Error is the one error type every provider returns. Its Error text never
// holds a secret registered with internal/redact (see Redacted for Message
// and Err themselves).
type Error struct {
	Kind       Kind
	Provider   string        // adapter name: "openai", "gemini", "ollama", "local", …
	StatusCode int           // HTTP status, 0 when there was no HTTP response
	RetryAfter time.Duration // server's Retry-After hint, 0 when absent
	Message    string        // human-readable detail from the provider's error body
	Err        error         // underlying error, may be nil
	// Attempts is how many provider calls the Retry decorator made before
	// giving up; 0 when no Retry decorator was involved.
	Attempts int
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	s := e.Provider + ": " + string(e.Kind)
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if msg != "" {
		s += ": " + msg
	}
	return redact.String(s)
}

func (e *Error) Unwrap() error { return e.Err }

// TruncatedStream is the KindStreamTruncated error of a stream that ended
// cleanly, after chunks content chunks, without a finish reason; status is
// the response's HTTP status. The message carries the hint: servers such as
// llama.cpp's end a running stream this way when another request arrives.
func TruncatedStream(provider string, status, chunks int) *Error {
	return &Error{Kind: KindStreamTruncated, Provider: provider, StatusCode: status, Message: fmt.Sprintf(
		"stream ended cleanly without a finish reason after %d content chunk(s): the server cut the answer short "+
			"(llama.cpp-style servers do this to a running stream when another request arrives; "+
			"lower this target's concurrency, or start llama-cpp-python with --interrupt_requests False)", chunks)}
}

// KindOf returns the Kind of err: the Kind of a *Error in its chain, or a
// classification of context and network errors, or KindUnknown.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return classifyTransport(err)
}

// KindFromStatus maps an HTTP status code to a Kind. Adapters refine the result
// with the provider's structured error body (context length, content filter).
func KindFromStatus(code int) Kind {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return KindAuth
	case code == http.StatusTooManyRequests:
		return KindRateLimit
	case code == http.StatusNotFound:
		return KindNotFound
	case code == http.StatusRequestTimeout || code == http.StatusGatewayTimeout:
		return KindTimeout
	case code == http.StatusRequestEntityTooLarge:
		return KindContextLength
	case code >= 500:
		return KindUnavailable
	case code >= 400:
		return KindInvalidRequest
	}
	return KindUnknown
}

// classifyTransport classifies errors that carry no HTTP status.
func classifyTransport(err error) Kind {
	switch {
	case errors.Is(err, context.Canceled):
		return KindCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindTimeout
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return KindUnavailable
	}
	return KindUnknown
}

// Wrap returns err as a *Error for provider, classifying it from its chain when
// it is not one already. A nil err returns nil.
func Wrap(provider string, err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	return &Error{Kind: classifyTransport(err), Provider: provider, Err: err}
}
