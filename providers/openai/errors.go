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
	"strings"
	"time"
	"unicode/utf8"

	goopenai "github.com/sashabaranov/go-openai"

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
	case errors.As(err, &reqErr):
		e.StatusCode = reqErr.HTTPStatusCode
		e.Kind = providers.KindFromStatus(reqErr.HTTPStatusCode)
		e.Message = describeBody(reqErr.HTTPStatusCode, snap.header, reqErr.Body)
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
			e.Message = "malformed JSON in response: " + shorten(err.Error())
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			e.Message = "response cut short (connection closed mid-body)"
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
	case code == "context_length_exceeded" || code == "string_above_max_length":
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
	return fmt.Sprintf("%s (non-JSON %s body, %d bytes)", msg, ct, len(body))
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
