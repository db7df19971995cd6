package ollama

// Every conversion to and from the ollama api types lives in this file: the
// chat request and its options map, the final (done) message to Response,
// Usage and Timings, and errors to *providers.Error.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/ollama/ollama/api"

	"github.com/yardstick-eval/yardstick/providers"
)

// toChatRequest converts req. Options carry only the knobs that are set, so
// a Temperature of 0 is sent as "temperature": 0 and an unset one leaves the
// model's Modelfile default in force.
func toChatRequest(req *providers.Request, model string, stream bool, keepAlive *api.Duration) (*api.ChatRequest, error) {
	cr := &api.ChatRequest{
		Model:     model,
		Stream:    &stream,
		KeepAlive: keepAlive,
		Options:   map[string]any{},
	}
	if req.System != "" {
		cr.Messages = append(cr.Messages, api.Message{Role: "system", Content: req.System})
	}
	nonSystem := 0
	for i, m := range req.Messages {
		role := m.Role
		switch role {
		case "":
			role = providers.RoleUser
		case providers.RoleSystem, providers.RoleUser, providers.RoleAssistant:
		default:
			return nil, invalid(fmt.Sprintf("messages[%d].role: unknown role %q (want system, user or assistant)", i, m.Role))
		}
		if role != providers.RoleSystem {
			nonSystem++
		}
		msg := api.Message{Role: role, Content: m.Content}
		if len(m.Images) > 0 && role != providers.RoleUser {
			return nil, invalid(fmt.Sprintf("messages[%d].images: role %q cannot carry images (only user messages can)", i, m.Role))
		}
		for j, im := range m.Images {
			if len(im.Data) == 0 {
				return nil, invalid(fmt.Sprintf("messages[%d].images[%d]: empty image", i, j))
			}
			// Ollama's chat API takes raw image bytes, sent base64 in "images".
			msg.Images = append(msg.Images, api.ImageData(im.Data))
		}
		cr.Messages = append(cr.Messages, msg)
	}
	if nonSystem == 0 {
		return nil, invalid("messages: at least one user or assistant message is required")
	}
	if req.Temperature != nil {
		cr.Options["temperature"] = *req.Temperature
	}
	if req.TopP != nil {
		cr.Options["top_p"] = *req.TopP
	}
	if req.Seed != nil {
		cr.Options["seed"] = *req.Seed
	}
	if req.MaxTokens < 0 {
		return nil, invalid(fmt.Sprintf("max_tokens: %d out of range", req.MaxTokens))
	}
	if req.MaxTokens > 0 {
		cr.Options["num_predict"] = req.MaxTokens
	}
	if len(req.Stop) > 0 {
		cr.Options["stop"] = req.Stop
	}
	if len(req.JSONSchema) > 0 {
		if !json.Valid(req.JSONSchema) {
			return nil, invalid("json_schema: not valid JSON")
		}
		cr.Format = json.RawMessage(req.JSONSchema)
	}
	return cr, nil
}

// toUsage maps the final message's counters: prompt_eval_count is input,
// eval_count is output. Ollama reports no cached-token count (a prompt
// prefix reused from the KV cache is simply not counted in
// prompt_eval_count).
func toUsage(m api.Metrics) providers.Usage {
	return providers.Usage{InputTokens: m.PromptEvalCount, OutputTokens: m.EvalCount}
}

func toTimings(m api.Metrics) Timings {
	return Timings{
		Total:           m.TotalDuration,
		Load:            m.LoadDuration,
		PromptEval:      m.PromptEvalDuration,
		Eval:            m.EvalDuration,
		PromptEvalCount: m.PromptEvalCount,
		EvalCount:       m.EvalCount,
	}
}

// callbackError carries an error returned by the caller's chunk function
// through api.Client.Chat so it is returned unchanged.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }
func (e callbackError) Unwrap() error { return e.err }

const maxMessage = 512 // bytes of an error message kept in Error.Message

// errorMessage is the message of an error response: Ollama's {"error": …}
// text, or, for a body that is not JSON (api.Client then passes its first
// line, e.g. "<!DOCTYPE html>"), the status text, keeping markup out of
// reports.
func errorMessage(status int, msg string, x *exchange) string {
	if mt := x.nonJSON(); mt != "" {
		return fmt.Sprintf("%s (%s error body)", http.StatusText(status), mt)
	}
	return trimMessage(msg)
}

func trimMessage(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxMessage {
		s = s[:maxMessage] + "…"
	}
	return s
}

// fromError converts an error from api.Client.Chat. The caller's context
// decides cancellation; api.StatusError and api.AuthorizationError are
// classified by status code (404 "model not found" is KindNotFound); a
// connection failure before any response is KindUnavailable; anything else
// after a 2xx response (a malformed line, an error event inside the stream)
// is KindBadResponse.
func fromError(ctx context.Context, err error, x *exchange) error {
	var cb callbackError
	if errors.As(err, &cb) {
		return cb.err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxError(ctxErr, err)
	}
	status, retryAfter, readErr := x.snapshot()
	var pe *providers.Error
	if errors.As(err, &pe) || errors.As(readErr, &pe) {
		// A limit of the transport (providers.Bounds); api.Client may report
		// only what it made of the body it got before the limit.
		return named(pe, x)
	}
	var se api.StatusError
	if errors.As(err, &se) {
		return &providers.Error{Kind: providers.KindFromStatus(se.StatusCode), Provider: providerName,
			StatusCode: se.StatusCode, RetryAfter: retryAfter, Message: errorMessage(se.StatusCode, se.ErrorMessage, x), Err: err}
	}
	var ae api.AuthorizationError
	if errors.As(err, &ae) {
		// api.Client keeps no message for a 401; say what happened.
		msg := http.StatusText(http.StatusUnauthorized)
		if ae.SigninURL != "" {
			msg += ": sign in at " + ae.SigninURL
		}
		return &providers.Error{Kind: providers.KindAuth, Provider: providerName, StatusCode: ae.StatusCode, Message: msg, Err: err}
	}
	if status == 0 {
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return &providers.Error{Kind: providers.KindTimeout, Provider: providerName, Err: err}
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
			return &providers.Error{Kind: providers.KindUnavailable, Provider: providerName, Message: "connection closed before a response", Err: err}
		}
		var oe *net.OpError
		if errors.As(err, &oe) {
			return &providers.Error{Kind: providers.KindUnavailable, Provider: providerName, Err: err}
		}
		return providers.Wrap(providerName, err)
	}
	if status >= http.StatusBadRequest {
		return &providers.Error{Kind: providers.KindFromStatus(status), Provider: providerName, StatusCode: status, RetryAfter: retryAfter, Message: errorMessage(status, err.Error(), x), Err: err}
	}
	return &providers.Error{Kind: providers.KindBadResponse, Provider: providerName, StatusCode: status, Message: trimMessage(err.Error()), Err: err}
}

// incomplete classifies a Chat call that returned nil without a done
// message: an error status with an empty body (api.Client then returns
// nil), a body cut mid-stream (api.Client ignores the read error), or a
// stream that simply stopped after chunks content messages
// (KindStreamTruncated).
func incomplete(ctx context.Context, x *exchange, chunks int) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxError(ctxErr, ctxErr)
	}
	status, retryAfter, readErr := x.snapshot()
	var pe *providers.Error
	if errors.As(readErr, &pe) {
		return named(pe, x) // api.Client drops read errors; the recorder kept it
	}
	if status >= http.StatusBadRequest {
		return &providers.Error{Kind: providers.KindFromStatus(status), Provider: providerName, StatusCode: status, RetryAfter: retryAfter, Message: http.StatusText(status)}
	}
	if readErr == nil {
		// The body ended cleanly, short of its final message.
		return providers.TruncatedStream(providerName, status, chunks)
	}
	return &providers.Error{Kind: providers.KindBadResponse, Provider: providerName, StatusCode: status, Message: "response body cut short", Err: readErr}
}

// named returns a copy of pe carrying the adapter name and the status.
func named(pe *providers.Error, x *exchange) *providers.Error {
	cp := *pe
	if cp.Provider == "" {
		cp.Provider = providerName
	}
	if status, _, _ := x.snapshot(); cp.StatusCode == 0 && status >= http.StatusBadRequest {
		cp.StatusCode = status
	}
	return &cp
}

func ctxError(ctxErr, err error) error {
	kind := providers.KindCanceled
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		kind = providers.KindTimeout
	}
	return &providers.Error{Kind: kind, Provider: providerName, Err: err}
}

func invalid(msg string) error {
	return &providers.Error{Kind: providers.KindInvalidRequest, Provider: providerName, Message: msg}
}
