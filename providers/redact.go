package providers

import (
	"context"
	"errors"

	"github.com/yardstick-eval/yardstick/internal/redact"
)

// Redacted returns p wrapped so that answers (Response.Text and streamed
// chunks) and every error it returns have the secrets registered with
// internal/redact removed from their text; of an error: a *Error's Message
// and the text of its Err chain (which still unwraps, so errors.Is and
// errors.As see the original). A server that echoes the request's API key
// in an error body — some gateways and proxies repeat the Authorization
// header — cannot put the key in a result, a report or a log. Non-*Error
// errors are converted to one, as by Wrap.
//
// The result implements Streamer exactly when p does. It is safe for
// concurrent use when p is.
func Redacted(p Provider) Provider {
	r := &redacter{p: p}
	if s, ok := p.(Streamer); ok {
		return &streamRedacter{redacter: r, s: s}
	}
	return r
}

type redacter struct{ p Provider }

type streamRedacter struct {
	*redacter
	s Streamer
}

func (r *redacter) Generate(ctx context.Context, req *Request) (*Response, error) {
	resp, err := r.p.Generate(ctx, req)
	return redactResponse(resp), RedactError(err)
}

func (r *streamRedacter) Stream(ctx context.Context, req *Request, fn func(Chunk) error) (*Response, error) {
	resp, err := r.s.Stream(ctx, req, func(c Chunk) error {
		c.Text = redact.String(c.Text)
		return fn(c)
	})
	return redactResponse(resp), RedactError(err)
}

// redactResponse removes registered secrets from an answer's text: a
// gateway that echoes request headers into a 200 body must not get a key
// into results, reports or the response cache.
func redactResponse(resp *Response) *Response {
	if resp != nil {
		resp.Text = redact.String(resp.Text)
	}
	return resp
}

// RedactError returns err with registered secrets removed from its text. A
// *Error in err's chain is copied with its Message and Err redacted; when
// err wraps that *Error the wrapping text is redacted too. Errors without
// a secret in their text are returned unchanged.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if !errors.As(err, &pe) {
		return redact.Error(err)
	}
	msg := redact.String(pe.Message)
	innerDirty := pe.Err != nil && redact.String(pe.Err.Error()) != pe.Err.Error()
	if msg == pe.Message && !innerDirty {
		return redact.Error(err) // the *Error is clean; a wrapper may not be
	}
	cp := *pe
	cp.Message, cp.Err = msg, redact.Error(pe.Err)
	if error(pe) == err {
		return &cp
	}
	return &redactedWrap{msg: redact.String(err.Error()), pe: &cp, orig: err}
}

// redactedWrap stands for an error that wraps a *Error: its text is the
// redacted text of the original, errors.As finds the redacted *Error first.
type redactedWrap struct {
	msg  string
	pe   *Error
	orig error
}

func (w *redactedWrap) Error() string   { return w.msg }
func (w *redactedWrap) Unwrap() []error { return []error{w.pe, w.orig} }
