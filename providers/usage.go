package providers

import (
	"context"
	"sync"
)

// TokenCounter counts tokens locally, as bench/estimate's Tokenizer does.
type TokenCounter interface {
	// CountRequest returns the input tokens of a request.
	CountRequest(req *Request) int
	// Count returns the tokens of a text.
	Count(text string) int
}

// CountUsage returns p wrapped so that a response reporting no usage at
// all (zero input and output tokens, as from OpenAI-compatible servers that
// ignore stream_options.include_usage) gets usage counted locally with tc —
// the request's input tokens and the answer's output tokens — marked
// Usage.Estimated. onEstimate, when not nil, is called before the first
// such response is returned (once per wrapper, so once per target), for a
// warning. tc is called only when needed; errors pass through unchanged.
//
// The result implements Streamer exactly when p does. It is safe for
// concurrent use when p and tc are.
func CountUsage(p Provider, tc TokenCounter, onEstimate func()) Provider {
	c := &counter{p: p, tc: tc, warn: onEstimate}
	if s, ok := p.(Streamer); ok {
		return &streamCounter{counter: c, s: s}
	}
	return c
}

type counter struct {
	p    Provider
	tc   TokenCounter
	warn func()
	once sync.Once
}

type streamCounter struct {
	*counter
	s Streamer
}

func (c *counter) Generate(ctx context.Context, req *Request) (*Response, error) {
	resp, err := c.p.Generate(ctx, req)
	c.fill(req, resp)
	return resp, err
}

func (c *streamCounter) Stream(ctx context.Context, req *Request, fn func(Chunk) error) (*Response, error) {
	resp, err := c.s.Stream(ctx, req, fn)
	c.fill(req, resp)
	return resp, err
}

func (c *counter) fill(req *Request, resp *Response) {
	if resp == nil || resp.Cached || resp.Usage.InputTokens != 0 || resp.Usage.OutputTokens != 0 {
		return
	}
	resp.Usage = Usage{InputTokens: c.tc.CountRequest(req), OutputTokens: c.tc.Count(resp.Text), Estimated: true}
	if c.warn != nil {
		c.once.Do(c.warn)
	}
}
