package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/yardstick-eval/yardstick/internal/redact"
	"github.com/yardstick-eval/yardstick/providers"
)

// maxMessage bounds the provider message kept on an error.
const maxMessage = 300

// classify turns any failure of a go-openai call into a *providers.Error.
// The order matters: the caller's ctx first, then a structured API error
// body, then a non-JSON error body, then failures with no response, then
// bodies that broke after a 2xx status.
func (c *Client) classify(ctx context.Context, call *callState, err error) *providers.Error {
	snap := call.snapshot()
	e := &providers.Error{Provider: c.name, Err: err}
	if snap.status >= 400 {
		e.StatusCode = snap.status
		e.RetryAfter = providers.ParseRetryAfter(snap.header, time.Now())
	}

	if ce := ctx.Err(); ce != nil {
		e.Kind = providers.KindCanceled
		e.Message = "request canceled"
		if errors.Is(ce, context.DeadlineExceeded) {
			e.Kind = providers.KindTimeout
			e.Message = "deadline exceeded"
		}
		if !errors.Is(err, ce) {
			e.Err = fmt.Errorf("%w (%w)", ce, err)
		}
		return e
	}

	var pe *providers.Error
	if errors.As(err, &pe) {
		// A limit of the transport tripped (providers.Bounds).
		cp := *pe
		cp.Provider = c.name
		if cp.StatusCode == 0 {
			cp.StatusCode = e.StatusCode
		}
		return &cp
	}
	var apiErr *goopenai.APIError
	var reqErr *goopenai.RequestError
	switch {
	case errors.As(err, &apiErr):
		status := apiErr.HTTPStatusCode
		if status != 0 {
			e.StatusCode = status
		}
		e.Kind = kindFromAPIError(apiErr, status)
		e.Message = shorten(apiErr.Message)
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
		if e.Kind == providers.KindInvalidRequest && unsupportedStructured(apiErr.Message) {
			e.Message += " " + structuredHint
		}
	case errors.As(err, &reqErr):
		e.StatusCode = reqErr.HTTPStatusCode
		e.Kind = providers.KindFromStatus(reqErr.HTTPStatusCode)
		e.Message = describeBody(reqErr.HTTPStatusCode, snap.header, reqErr.Body)
		if words := string(reqErr.Body); mentionsContextLength(words) {
			e.Kind = providers.KindContextLength
		} else if unsupportedStructured(words) {
			e.Kind = providers.KindInvalidRequest
			e.Message += " " + structuredHint
		}
	case snap.sendErr != nil:
		// No response at all: connection refused, reset, DNS, TLS.
		e.Kind = providers.KindUnavailable
		var ne net.Error
		if (errors.As(err, &ne) && ne.Timeout()) || (errors.As(snap.sendErr, &ne) && ne.Timeout()) {
			e.Kind = providers.KindTimeout
		}
		e.Message = transportMessage(err)
	case !snap.sent:
		// go-openai refused the request before sending it.
		e.Kind = providers.KindInvalidRequest
		e.Message = shorten(err.Error())
	case snap.status >= 400:
		// The error body itself could not be read.
		e.Kind = providers.KindFromStatus(snap.status)
		e.Message = fmt.Sprintf("%s (error body unreadable: %v)", http.StatusText(snap.status), rootCause(err))
	default:
		// A 2xx response whose body broke: truncated, malformed or cut.
		e.Kind = providers.KindBadResponse
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			// The HTTP client's own Timeout fired while reading the body.
			e.Kind = providers.KindTimeout
			e.Message = "timed out reading the response"
		case errors.As(err, &se), errors.As(err, &te):
			e.Message = fmt.Sprintf("malformed JSON in the %d response (%s): %s; it began %s", snap.status, bodySize(snap), shorten(err.Error()), excerpt(snap.head))
		case (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) && snap.eof:
			// The body arrived whole; the JSON in it stops mid-value.
			e.Message = fmt.Sprintf("malformed JSON in the %d response: the body (%s) ends inside a JSON value; it began %s", snap.status, bodySize(snap), excerpt(snap.head))
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			e.Message = fmt.Sprintf("response cut short: the connection closed after %d bytes of the body", snap.read)
		default:
			e.Message = "reading response: " + shorten(rootCause(err).Error())
		}
	}
	return e
}

// kindFromAPIError classifies a structured OpenAI error body. Specific
// error codes win; then the HTTP status; then, for errors that arrived
// inside a stream without a status, the error type.
func kindFromAPIError(e *goopenai.APIError, status int) providers.Kind {
	code := ""
	if e.Code != nil {
		code = strings.ToLower(fmt.Sprint(e.Code))
	}
	typ := strings.ToLower(e.Type)
	inner := ""
	if e.InnerError != nil {
		inner = strings.ToLower(e.InnerError.Code)
	}
	switch {
	case code == "context_length_exceeded" || code == "string_above_max_length" || typ == "exceed_context_size_error":
		return providers.KindContextLength
	case code == "content_filter" || code == "content_policy_violation" || inner == "responsibleaipolicyviolation":
		return providers.KindContentFilter
	case code == "insufficient_quota" || typ == "insufficient_quota":
		// The account is out of credit: retrying cannot help until billing
		// changes, so this is an account (auth) problem, not a rate limit.
		return providers.KindAuth
	case code == "model_not_found" || code == "deploymentnotfound" || code == "deployment_not_found":
		return providers.KindNotFound
	case code == "invalid_api_key" || code == "invalid_authentication" || typ == "authentication_error":
		return providers.KindAuth
	case code == "rate_limit_exceeded" || typ == "rate_limit_error":
		return providers.KindRateLimit
	}
	// OpenAI-compatible servers (llama.cpp, vLLM) often give no code: their
	// words are all there is.
	if mentionsContextLength(e.Message) {
		return providers.KindContextLength
	}
	if unsupportedStructured(e.Message) {
		return providers.KindInvalidRequest // a 500 from llama-cpp-python; retrying cannot help
	}
	if status != 0 {
		return providers.KindFromStatus(status)
	}
	switch typ {
	case "server_error", "api_error":
		return providers.KindUnavailable
	case "invalid_request_error":
		return providers.KindInvalidRequest
	case "requests", "tokens":
		return providers.KindRateLimit
	}
	return providers.KindUnknown
}

// describeBody summarises a non-JSON error body in one short line: a short
// plain-text body is quoted, anything else (an HTML page from a proxy) is
// described by type and size only.
func describeBody(status int, h http.Header, body []byte) string {
	msg := http.StatusText(status)
	if msg == "" {
		msg = fmt.Sprintf("HTTP %d", status)
	}
	ct := ""
	if h != nil {
		ct, _, _ = mime.ParseMediaType(h.Get("Content-Type"))
	}
	text := strings.TrimSpace(string(body))
	switch {
	case len(text) == 0:
		return msg + " (empty body)"
	case (ct == "text/plain" || ct == "") && len(text) <= 120 && utf8.ValidString(text) && !strings.Contains(text, "<"):
		return msg + ": " + strings.Join(strings.Fields(text), " ")
	}
	if ct == "" {
		ct = "unknown type"
	}
	what := "non-JSON " + ct + " body"
	if ct == "application/json" || strings.HasSuffix(ct, "+json") {
		what = "a body declared " + ct + " that is not JSON"
	}
	switch {
	case strings.Contains(text, "<html") || strings.Contains(text, "<!DOCTYPE") || strings.Contains(text, "<!doctype"):
		return fmt.Sprintf("%s (%s: an HTML page, %d bytes, title %s)", msg, what, len(body), excerpt(htmlTitle(text)))
	case utf8.ValidString(text):
		return fmt.Sprintf("%s (%s, %d bytes: %s)", msg, what, len(body), excerpt(text))
	}
	return fmt.Sprintf("%s (%s, %d bytes of binary data)", msg, what, len(body))
}

// htmlTitle is the text of an HTML page's <title>, or "" when it has none.
func htmlTitle(page string) string {
	lower := strings.ToLower(page)
	i := strings.Index(lower, "<title>")
	j := strings.Index(lower, "</title>")
	if i < 0 || j < i {
		return ""
	}
	return strings.TrimSpace(page[i+len("<title>") : j])
}

// excerpt quotes the start of s on one line, at most 120 bytes, with
// registered secrets removed.
func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		cut := 120
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(redact.String(s))
}

// bodySize describes the size and type of the body snap recorded.
func bodySize(snap callSnapshot) string {
	ct := ""
	if snap.header != nil {
		ct, _, _ = mime.ParseMediaType(snap.header.Get("Content-Type"))
	}
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("%d bytes, %s", snap.read, ct)
}

// structuredHint tells the user what to change when a server rejects the
// structured-output mode.
const structuredHint = "(the server does not support this structured-output mode: set options.structured_output to json_object or none for this provider)"

// mentionsContextLength reports whether a server's words say the prompt is
// over the context window. Message text is matched only for servers that
// send no error code (llama.cpp, llama-cpp-python, vLLM): "the request
// exceeds the available context size", "Requested tokens (5000) exceed
// context window of 2048", "This model's maximum context length is 4096
// tokens".
func mentionsContextLength(s string) bool {
	s = strings.ToLower(s)
	if strings.Contains(s, "exceed_context_size") || strings.Contains(s, "context_length_exceeded") {
		return true
	}
	if !strings.Contains(s, "context") {
		return false
	}
	for _, w := range []string{"context length", "context window", "context size", "context_length", "n_ctx"} {
		if strings.Contains(s, w) {
			return strings.Contains(s, "exceed") || strings.Contains(s, "maximum") || strings.Contains(s, "too long") || strings.Contains(s, "larger than") || strings.Contains(s, "greater than")
		}
	}
	return false
}

// unsupportedStructured reports whether a server's words say it does not
// support the requested structured-output feature (response_format,
// json_schema, a grammar).
func unsupportedStructured(s string) bool {
	s = strings.ToLower(s)
	feature := false
	for _, w := range []string{"response_format", "response format", "json_schema", "json schema", "json_object", "structured output", "grammar"} {
		feature = feature || strings.Contains(s, w)
	}
	if !feature {
		return false
	}
	for _, w := range []string{"not supported", "unsupported", "not implemented", "does not support", "doesn't support", "cannot be used", "not available"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// endedEarly classifies a stream that ended cleanly without a finish
// reason after chunks content chunks. When it carried no content but the
// server put words in it (llama.cpp's "error: {...}" event), those words
// decide; otherwise the server cut the answer short.
func (c *Client) endedEarly(call *callState, chunks int) *providers.Error {
	snap := call.snapshot()
	if words := serverWords(snap.head); chunks == 0 && words != "" {
		e := &providers.Error{Kind: providers.KindBadResponse, Provider: c.name, StatusCode: snap.status,
			Message: fmt.Sprintf("the %d stream carried no answer, only the server's words: %s", snap.status, excerpt(words))}
		switch {
		case mentionsContextLength(words):
			e.Kind = providers.KindContextLength
		case unsupportedStructured(words):
			e.Kind = providers.KindInvalidRequest
			e.Message += " " + structuredHint
		}
		return e
	}
	return providers.TruncatedStream(c.name, snap.status, chunks)
}

// serverWords returns what an event stream says besides its chunks: the
// text of lines that are not "data:" events ("error: {...}"), and the
// message of any error object, joined by spaces.
func serverWords(stream string) string {
	var words []string
	for _, line := range strings.Split(stream, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line == "data: [DONE]" || strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		if field == "data" && !strings.Contains(value, `"error"`) {
			continue // an ordinary chunk
		}
		var ev struct {
			Error   json.RawMessage `json:"error"`
			Message string          `json:"message"`
		}
		if json.Unmarshal([]byte(value), &ev) == nil {
			var inner struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(ev.Error, &inner) == nil && inner.Message != "" {
				words = append(words, inner.Message)
				continue
			}
			var plain string
			if json.Unmarshal(ev.Error, &plain) == nil && plain != "" {
				words = append(words, plain)
				continue
			}
			if ev.Message != "" {
				words = append(words, ev.Message)
				continue
			}
		}
		words = append(words, line)
	}
	return strings.Join(words, " ")
}

// transportMessage describes a failure to get any response, without the
// URL's query or credentials.
func transportMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return shorten(fmt.Sprintf("%s %s: %v", ue.Op, redactURL(ue.URL), rootCause(ue.Err)))
	}
	return shorten(rootCause(err).Error())
}

// rootCause unwraps err to its innermost error.
func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// shorten trims s to maxMessage bytes on a rune boundary.
func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
