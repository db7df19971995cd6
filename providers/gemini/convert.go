package gemini

// Every conversion to and from genai's types lives in this file: the request
// (contents, system instruction, sampling knobs, JSON schema), the response
// (text, finish reason, usage) and errors (genai.APIError and transport
// failures to *providers.Error).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"cloud.google.com/go/auth"
	"google.golang.org/genai"

	"github.com/yardstick-eval/yardstick/providers"
)

// toContents converts the request's messages. Gemini has no "system" role in
// contents, so system messages (and Request.System, first) are gathered into
// the system instruction; "assistant" becomes "model".
func toContents(req *providers.Request) (contents []*genai.Content, system *genai.Content, err error) {
	var sys []*genai.Part
	if req.System != "" {
		sys = append(sys, &genai.Part{Text: req.System})
	}
	for i, m := range req.Messages {
		if len(m.Images) > 0 && m.Role != providers.RoleUser && m.Role != "" {
			return nil, nil, invalid(fmt.Sprintf("messages[%d].images: role %q cannot carry images (only user messages can)", i, m.Role))
		}
		switch m.Role {
		case providers.RoleSystem:
			sys = append(sys, &genai.Part{Text: m.Content})
		case providers.RoleUser, "":
			parts := []*genai.Part{{Text: m.Content}}
			if m.Content == "" && len(m.Images) > 0 {
				parts = nil
			}
			for j, im := range m.Images {
				if im.MIMEType == "" || len(im.Data) == 0 {
					return nil, nil, invalid(fmt.Sprintf("messages[%d].images[%d]: empty image or MIME type", i, j))
				}
				// Inline data, as the API documents for images under 20 MB.
				parts = append(parts, &genai.Part{InlineData: &genai.Blob{MIMEType: im.MIMEType, Data: im.Data}})
			}
			contents = append(contents, &genai.Content{Role: genai.RoleUser, Parts: parts})
		case providers.RoleAssistant:
			contents = append(contents, &genai.Content{Role: genai.RoleModel, Parts: []*genai.Part{{Text: m.Content}}})
		default:
			return nil, nil, invalid(fmt.Sprintf("messages[%d].role: unknown role %q (want system, user or assistant)", i, m.Role))
		}
	}
	if len(contents) == 0 {
		return nil, nil, invalid("messages: at least one user or assistant message is required")
	}
	if len(sys) > 0 {
		system = &genai.Content{Role: genai.RoleUser, Parts: sys}
	}
	return contents, system, nil
}

// toConfig converts the request's knobs. Pointer knobs stay pointers, so a
// Temperature of 0 is sent as "temperature": 0. Automatic continuation is
// turned off: one Generate is one HTTP request, and retries belong to the
// Retry decorator.
func toConfig(req *providers.Request, system *genai.Content) (*genai.GenerateContentConfig, error) {
	cfg := &genai.GenerateContentConfig{
		SystemInstruction:     system,
		StopSequences:         req.Stop,
		AutomaticContinuation: genai.Ptr(false),
	}
	if req.Temperature != nil {
		cfg.Temperature = genai.Ptr(float32(*req.Temperature))
	}
	if req.TopP != nil {
		cfg.TopP = genai.Ptr(float32(*req.TopP))
	}
	if req.Seed != nil {
		s := *req.Seed
		if s < math.MinInt32 || s > math.MaxInt32 {
			return nil, invalid(fmt.Sprintf("seed: %d does not fit Gemini's 32-bit seed", s))
		}
		cfg.Seed = genai.Ptr(int32(s))
	}
	if req.MaxTokens < 0 || req.MaxTokens > math.MaxInt32 {
		return nil, invalid(fmt.Sprintf("max_tokens: %d out of range", req.MaxTokens))
	}
	cfg.MaxOutputTokens = int32(req.MaxTokens)
	if len(req.JSONSchema) > 0 {
		if !json.Valid(req.JSONSchema) {
			return nil, invalid("json_schema: not valid JSON")
		}
		cfg.ResponseMIMEType = "application/json"
		cfg.ResponseJsonSchema = json.RawMessage(req.JSONSchema)
	}
	return cfg, nil
}

// candidateText returns the text of the first candidate, without thought
// parts (a thinking model's reasoning is not its answer).
func candidateText(r *genai.GenerateContentResponse) string {
	if r == nil || len(r.Candidates) == 0 || r.Candidates[0] == nil || r.Candidates[0].Content == nil {
		return ""
	}
	var b strings.Builder
	for _, p := range r.Candidates[0].Content.Parts {
		if p != nil && !p.Thought {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// finishReason returns the first candidate's raw finish reason, "" when unset.
func finishReason(r *genai.GenerateContentResponse) genai.FinishReason {
	if r == nil || len(r.Candidates) == 0 || r.Candidates[0] == nil {
		return ""
	}
	if f := r.Candidates[0].FinishReason; f != genai.FinishReasonUnspecified {
		return f
	}
	return ""
}

// normFinish maps Gemini's finish reasons to the shared vocabulary: STOP is
// "stop", MAX_TOKENS is "length", the safety family is "content_filter", and
// anything else is the provider's word in lower case ("language", "other",
// "malformed_function_call", …).
func normFinish(f genai.FinishReason) string {
	switch f {
	case "":
		return ""
	case genai.FinishReasonStop:
		return "stop"
	case genai.FinishReasonMaxTokens:
		return "length"
	case genai.FinishReasonSafety, genai.FinishReasonRecitation, genai.FinishReasonBlocklist,
		genai.FinishReasonProhibitedContent, genai.FinishReasonSPII, genai.FinishReasonImageSafety,
		genai.FinishReasonImageProhibitedContent, genai.FinishReasonImageRecitation:
		return "content_filter"
	}
	return strings.ToLower(string(f))
}

// toUsage maps usageMetadata. InputTokens is promptTokenCount plus
// toolUsePromptTokenCount (both billed as input); CachedInputTokens is
// cachedContentTokenCount, which promptTokenCount already includes;
// OutputTokens is candidatesTokenCount plus thoughtsTokenCount, because
// thinking tokens are billed at the output rate.
func toUsage(u *genai.GenerateContentResponseUsageMetadata) providers.Usage {
	if u == nil {
		return providers.Usage{}
	}
	return providers.Usage{
		InputTokens:       int(u.PromptTokenCount) + int(u.ToolUsePromptTokenCount),
		CachedInputTokens: int(u.CachedContentTokenCount),
		OutputTokens:      int(u.CandidatesTokenCount) + int(u.ThoughtsTokenCount),
	}
}

// blocked returns a content-filter error when the prompt itself was blocked
// (promptFeedback.blockReason set), nil otherwise.
func blocked(r *genai.GenerateContentResponse) error {
	if r == nil || r.PromptFeedback == nil || r.PromptFeedback.BlockReason == "" ||
		r.PromptFeedback.BlockReason == genai.BlockedReasonUnspecified {
		return nil
	}
	msg := "prompt blocked: " + string(r.PromptFeedback.BlockReason)
	if r.PromptFeedback.BlockReasonMessage != "" {
		msg += ": " + r.PromptFeedback.BlockReasonMessage
	}
	return &providers.Error{Kind: providers.KindContentFilter, Message: msg}
}

// toResponse converts a complete (non-streamed) response.
func toResponse(r *genai.GenerateContentResponse, model string) (*providers.Response, error) {
	if err := blocked(r); err != nil {
		return nil, err
	}
	if r == nil || len(r.Candidates) == 0 {
		return nil, &providers.Error{Kind: providers.KindBadResponse, Message: "response has no candidates"}
	}
	out := &providers.Response{
		Text:         candidateText(r),
		FinishReason: normFinish(finishReason(r)),
		Model:        r.ModelVersion,
		Usage:        toUsage(r.UsageMetadata),
	}
	if out.Model == "" {
		out.Model = model
	}
	return out, nil
}

// canonical gRPC status names (google.rpc.Code) as the REST API spells them
// in error.status, mapped to Kinds.
var statusKinds = map[string]providers.Kind{
	"INVALID_ARGUMENT":    providers.KindInvalidRequest,
	"FAILED_PRECONDITION": providers.KindInvalidRequest,
	"OUT_OF_RANGE":        providers.KindInvalidRequest,
	"ALREADY_EXISTS":      providers.KindInvalidRequest,
	"UNAUTHENTICATED":     providers.KindAuth,
	"PERMISSION_DENIED":   providers.KindAuth,
	"NOT_FOUND":           providers.KindNotFound,
	"RESOURCE_EXHAUSTED":  providers.KindRateLimit,
	"UNAVAILABLE":         providers.KindUnavailable,
	"INTERNAL":            providers.KindUnavailable,
	"UNKNOWN":             providers.KindUnavailable,
	"ABORTED":             providers.KindUnavailable,
	"CANCELLED":           providers.KindUnavailable,
	"DATA_LOSS":           providers.KindUnavailable,
	"UNIMPLEMENTED":       providers.KindInvalidRequest,
	"DEADLINE_EXCEEDED":   providers.KindTimeout,
}

// errorInfoKinds maps google.rpc.ErrorInfo reasons that refine a status.
// The Gemini API answers a bad key with 400 INVALID_ARGUMENT and reason
// API_KEY_INVALID.
var errorInfoKinds = map[string]providers.Kind{
	"API_KEY_INVALID":               providers.KindAuth,
	"API_KEY_SERVICE_BLOCKED":       providers.KindAuth,
	"API_KEY_HTTP_REFERRER_BLOCKED": providers.KindAuth,
	"SERVICE_DISABLED":              providers.KindAuth,
	"ACCESS_TOKEN_EXPIRED":          providers.KindAuth,
	"CREDENTIALS_MISSING":           providers.KindAuth,
	"RATE_LIMIT_EXCEEDED":           providers.KindRateLimit,
	"RESOURCE_EXHAUSTED":            providers.KindRateLimit,
}

const (
	typeRetryInfo = "type.googleapis.com/google.rpc.RetryInfo"
	typeErrorInfo = "type.googleapis.com/google.rpc.ErrorInfo"
	maxMessage    = 512 // bytes of a non-JSON error body kept in Error.Message
)

// fromAPIError classifies a Google error body: error.status first (the
// canonical code), refined by a google.rpc.ErrorInfo reason, then the HTTP
// code. RetryAfter is the larger of google.rpc.RetryInfo.retryDelay and the
// HTTP Retry-After header.
func fromAPIError(ae genai.APIError, x *exchange) *providers.Error {
	status, headerDelay := x.snapshot()
	code := ae.Code
	if code == 0 {
		code = status
	}
	kind, ok := statusKinds[ae.Status]
	if !ok {
		kind = providers.KindFromStatus(code)
	}
	var retryDelay time.Duration
	for _, d := range ae.Details {
		switch d["@type"] {
		case typeErrorInfo:
			if reason, _ := d["reason"].(string); reason != "" {
				if k, ok := errorInfoKinds[reason]; ok {
					kind = k
				}
			}
		case typeRetryInfo:
			if s, _ := d["retryDelay"].(string); s != "" {
				if v, err := time.ParseDuration(s); err == nil && v > 0 {
					retryDelay = v
				}
			}
		}
	}
	if code == 0 && kind == providers.KindUnknown {
		// An error event inside a 200 stream without a code.
		kind = providers.KindUnavailable
	}
	msg := strings.TrimSpace(ae.Message)
	if kind == providers.KindInvalidRequest && overContextWindow(msg) {
		kind = providers.KindContextLength
	}
	if mt := x.nonJSON(); !ok && mt != "" {
		// genai puts a non-JSON body (a proxy's HTML error page) in
		// Message; keep markup out of reports.
		msg = fmt.Sprintf("%s (%s error body)", http.StatusText(code), mt)
	} else if len(msg) > maxMessage {
		msg = msg[:maxMessage] + "…"
	}
	return &providers.Error{
		Kind:       kind,
		StatusCode: code,
		RetryAfter: max(retryDelay, headerDelay),
		Message:    msg,
		Err:        ae,
	}
}

// fromError converts any error from genai into a *providers.Error. The
// caller's context decides cancellation and deadlines; genai.APIError is
// classified by its structured body; a malformed or truncated body after a
// response arrived is KindBadResponse; a connection that failed before any
// response is KindUnavailable.
func fromError(ctx context.Context, err error, x *exchange) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		kind := providers.KindCanceled
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			kind = providers.KindTimeout
		}
		return &providers.Error{Kind: kind, Err: err}
	}
	var pe *providers.Error
	if errors.As(err, &pe) {
		// From adcTransport or the transport's limits (providers.Bounds),
		// inside genai's wrapping.
		cp := *pe
		if status, _ := x.snapshot(); cp.StatusCode == 0 && status >= http.StatusBadRequest {
			cp.StatusCode = status
		}
		return &cp
	}
	var ae genai.APIError
	if errors.As(err, &ae) {
		return fromAPIError(ae, x)
	}
	var aep *genai.APIError
	if errors.As(err, &aep) && aep != nil {
		return fromAPIError(*aep, x)
	}
	var tokErr *auth.Error
	if errors.As(err, &tokErr) {
		// Fetching an access token for Vertex AI failed.
		return &providers.Error{Kind: providers.KindAuth, Message: "Vertex AI access token", Err: err}
	}
	status, _ := x.snapshot()
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.As(err, &typ):
		return &providers.Error{Kind: providers.KindBadResponse, StatusCode: status, Message: "malformed response body", Err: err}
	case status != 0 && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)):
		return &providers.Error{Kind: providers.KindBadResponse, StatusCode: status, Message: "response body cut short", Err: err}
	case status == 0 && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)):
		return &providers.Error{Kind: providers.KindUnavailable, Message: "connection closed before a response", Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &providers.Error{Kind: providers.KindTimeout, StatusCode: status, Err: err}
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return &providers.Error{Kind: providers.KindUnavailable, Err: err}
	}
	if status >= http.StatusBadRequest {
		return &providers.Error{Kind: providers.KindFromStatus(status), StatusCode: status, Err: err}
	}
	return providers.Wrap("", err)
}

// overContextWindow reports whether an INVALID_ARGUMENT message is Gemini's
// prompt-too-long one, which carries no structured reason: "The input token
// count (1234567) exceeds the maximum number of tokens allowed (1048576)."
func overContextWindow(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "input token count") && strings.Contains(m, "exceeds the maximum number of tokens")
}

func invalid(msg string) error {
	return &providers.Error{Kind: providers.KindInvalidRequest, Message: msg}
}
