package providers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"
)

// CacheConfig configures the Cached decorator.
type CacheConfig struct {
	// Scope names where answers come from: the provider name and the host of
	// its base URL, e.g. "openai@api.openai.com". It is part of every key, so
	// the same model name served by two hosts never shares entries. It must
	// never hold credentials.
	Scope string
	// OnStoreError, when set, is called with each Store failure. A failed
	// Get is treated as a miss and a failed Put loses only the entry; neither
	// fails the request.
	OnStoreError func(error)
}

// Cache is a Provider that serves repeated requests from a Store, made by
// Cached. Stats reports hits and misses since it was made.
type Cache interface {
	Provider
	Stats() (hits, misses int64)
}

// cacheKeyVersion changes whenever the key document or entry layout
// changes, so old entries are never misread.
const cacheKeyVersion = 1

// keyDoc is the canonical document hashed into a cache key. Field order is
// fixed by the struct, so its JSON encoding is deterministic.
type keyDoc struct {
	Version     int             `json:"v"`
	Scope       string          `json:"scope"`
	Model       string          `json:"model"`
	System      string          `json:"system"`
	Messages    []keyMessage    `json:"messages"`
	MaxTokens   int             `json:"max_tokens"`
	Temperature *float64        `json:"temperature"`
	TopP        *float64        `json:"top_p"`
	Seed        *int64          `json:"seed"`
	Stop        []string        `json:"stop"`
	JSONSchema  json.RawMessage `json:"json_schema"`
	Repeat      int             `json:"repeat"`
}

// keyMessage is a message in a keyDoc: images stand as their MIME type and
// the hex SHA-256 of their bytes. Text-only messages encode as before, so
// their keys do not change.
type keyMessage struct {
	Role    string     `json:"role"`
	Content string     `json:"content"`
	Images  []keyImage `json:"images,omitempty"`
}

type keyImage struct {
	MIMEType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
}

// CacheKey returns the cache key for req under scope at repeat index repeat:
// the hex SHA-256 of a canonical JSON document holding the scope, the
// requested model, every sampling parameter, the system prompt, the full
// messages, the stop sequences, the JSON schema (re-encoded with sorted keys)
// and the repeat index. It fails only for a JSONSchema that is not valid JSON.
func CacheKey(scope string, req *Request, repeat int) (string, error) {
	d := keyDoc{
		Version:     cacheKeyVersion,
		Scope:       scope,
		Model:       req.Model,
		System:      req.System,
		Messages:    make([]keyMessage, 0, len(req.Messages)),
		MaxTokens:   req.MaxTokens,
		Temperature: req.Temperature,
		TopP:        req.TopP,
		Seed:        req.Seed,
		Stop:        req.Stop,
		Repeat:      repeat,
	}
	for _, m := range req.Messages {
		km := keyMessage{Role: m.Role, Content: m.Content}
		for _, im := range m.Images {
			sum := sha256.Sum256(im.Data)
			km.Images = append(km.Images, keyImage{MIMEType: im.MIMEType, SHA256: hex.EncodeToString(sum[:])})
		}
		d.Messages = append(d.Messages, km)
	}
	if len(d.Stop) == 0 {
		d.Stop = nil
	}
	if len(bytes.TrimSpace(req.JSONSchema)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(req.JSONSchema))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return "", fmt.Errorf("json_schema: %w", err)
		}
		canon, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("json_schema: %w", err)
		}
		d.JSONSchema = canon
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// cacheEntry is what the store holds for one key.
type cacheEntry struct {
	Version  int      `json:"v"`
	Response Response `json:"response"`
	// Original is the timing of the call that answered; nil in entries
	// written before it was recorded.
	Original *Original `json:"original,omitempty"`
}

// Original is how the call that produced a cached response went: its
// latency (the wrapped provider's call, retries included), time to first
// token (streamed calls) and provider calls made. A cache hit carries it in
// Response.Original, so reports can show, or on request count, the model's
// real timing instead of the cache's microseconds.
type Original struct {
	Latency  time.Duration `json:"latency_ns"`
	TTFT     time.Duration `json:"ttft_ns,omitempty"`
	Attempts int           `json:"attempts,omitempty"`
}

// Cached returns p wrapped with a response cache in store. The key is
// CacheKey(cfg.Scope, req, RepeatFrom(ctx)).
//
// On a hit no call is made: the stored response is returned with Cached set,
// Attempts and TTFT zero, Original the timing of the call that answered, and
// Model the model that originally answered.
// Usage is what the original call reported; a hit costs nothing, so callers
// accounting cost must check Cached. On a miss, a successful response with
// non-empty text is stored; errors and empty answers are never stored.
// Unreadable entries count as misses and are overwritten.
//
// The result implements Streamer exactly when p does. A hit on Stream calls
// fn once with the whole text. The result is safe for concurrent use when p
// and store are.
func Cached(p Provider, store Store, cfg CacheConfig) Cache {
	c := &cache{p: p, store: store, cfg: cfg}
	if s, ok := p.(Streamer); ok {
		return &streamCache{cache: c, s: s}
	}
	return c
}

type cache struct {
	p      Provider
	store  Store
	cfg    CacheConfig
	hits   atomic.Int64
	misses atomic.Int64
}

type streamCache struct {
	*cache
	s Streamer
}

var (
	_ Cache    = (*cache)(nil)
	_ Cache    = (*streamCache)(nil)
	_ Streamer = (*streamCache)(nil)
)

func (c *cache) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

func (c *cache) Generate(ctx context.Context, req *Request) (*Response, error) {
	key, resp := c.lookup(ctx, req)
	if resp != nil {
		return resp, nil
	}
	start := time.Now()
	resp, err := c.p.Generate(ctx, req)
	if err != nil {
		return nil, err
	}
	c.save(ctx, key, resp, time.Since(start))
	return resp, nil
}

func (c *streamCache) Stream(ctx context.Context, req *Request, fn func(Chunk) error) (*Response, error) {
	key, resp := c.lookup(ctx, req)
	if resp != nil {
		if err := fn(Chunk{Text: resp.Text}); err != nil {
			return nil, err
		}
		return resp, nil
	}
	start := time.Now()
	resp, err := c.s.Stream(ctx, req, fn)
	elapsed := time.Since(start)
	if err != nil {
		return nil, err
	}
	c.save(ctx, key, resp, elapsed)
	return resp, nil
}

// lookup returns the request's key ("" when it cannot be cached) and the
// cached response on a hit.
func (c *cache) lookup(ctx context.Context, req *Request) (string, *Response) {
	key, err := CacheKey(c.cfg.Scope, req, RepeatFrom(ctx))
	if err != nil {
		// Not cacheable (bad schema): let the provider report the problem.
		c.misses.Add(1)
		return "", nil
	}
	b, ok, err := c.store.Get(ctx, key)
	if err != nil {
		c.storeError(err)
	}
	if ok {
		var e cacheEntry
		if json.Unmarshal(b, &e) == nil && e.Version == cacheKeyVersion {
			c.hits.Add(1)
			r := e.Response
			r.Cached = true
			r.Attempts = 0
			r.TTFT = 0
			r.Original = e.Original
			return key, &r
		}
	}
	c.misses.Add(1)
	return key, nil
}

func (c *cache) save(ctx context.Context, key string, resp *Response, elapsed time.Duration) {
	if key == "" || resp == nil || resp.Text == "" {
		return
	}
	e := cacheEntry{Version: cacheKeyVersion, Response: *resp,
		Original: &Original{Latency: elapsed, TTFT: resp.TTFT, Attempts: resp.Attempts}}
	e.Response.Original = nil
	e.Response.Cached = false
	e.Response.Attempts = 0
	e.Response.TTFT = 0
	b, err := json.Marshal(e)
	if err == nil {
		err = c.store.Put(ctx, key, b)
	}
	if err != nil {
		c.storeError(err)
	}
}

func (c *cache) storeError(err error) {
	if c.cfg.OnStoreError != nil {
		c.cfg.OnStoreError(err)
	}
}
