package providers

import (
	"fmt"
	"time"
)

// Defaults for Bounds' zero fields.
const (
	DefaultTimeout          = 120 * time.Second
	DefaultIdleTimeout      = 60 * time.Second
	DefaultMaxDuration      = 10 * time.Minute
	DefaultMaxResponseBytes = 8 << 20 // 8 MiB
)

// Bounds limit one HTTP exchange between an adapter and its server, so that
// a server that hangs, trickles, streams forever or sends far more than an
// answer needs cannot hold or swamp a run. Each limit is per attempt: the
// Retry decorator's next attempt starts afresh.
//
// A zero field takes its default; a negative one turns that limit off.
type Bounds struct {
	// Timeout is the longest wait for the response headers after the
	// request is sent (for a non-streamed answer, usually the whole
	// generation). Default DefaultTimeout (120s). Exceeded: KindTimeout.
	Timeout time.Duration
	// IdleTimeout is the longest silence while reading the body: no byte
	// for this long ends the exchange. Default DefaultIdleTimeout (60s).
	// Exceeded: KindTimeout.
	IdleTimeout time.Duration
	// MaxDuration caps the whole exchange, request sent to last byte read,
	// however steadily the bytes come. Default DefaultMaxDuration (10m).
	// Exceeded: KindTimeout.
	MaxDuration time.Duration
	// MaxResponseBytes caps the body read; reading stops there. Default
	// DefaultMaxResponseBytes (8 MiB). Exceeded: KindResponseTooLarge.
	MaxResponseBytes int64
}

// A Batch API's whole-file transfers (input uploads, output downloads) take
// at least these bounds: the largest file the providers accept, and an hour.
const (
	BulkMaxResponseBytes = 2 << 30
	BulkMaxDuration      = time.Hour
)

// ForBulk returns b for whole-file transfers: MaxResponseBytes and
// MaxDuration raised to at least BulkMaxResponseBytes and BulkMaxDuration
// (a limit turned off stays off); Timeout and IdleTimeout are kept, so a
// silent server is still caught.
func (b Bounds) ForBulk() Bounds {
	if b.MaxResponseBytes >= 0 {
		b.MaxResponseBytes = max(b.MaxResponseBytes, BulkMaxResponseBytes)
	}
	if b.MaxDuration >= 0 {
		b.MaxDuration = max(b.MaxDuration, BulkMaxDuration)
	}
	return b
}

// WithDefaults returns b with zero fields set to their defaults and
// negative ones to 0 (no limit).
func (b Bounds) WithDefaults() Bounds {
	dur := func(v, def time.Duration) time.Duration {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	b.Timeout = dur(b.Timeout, DefaultTimeout)
	b.IdleTimeout = dur(b.IdleTimeout, DefaultIdleTimeout)
	b.MaxDuration = dur(b.MaxDuration, DefaultMaxDuration)
	switch {
	case b.MaxResponseBytes == 0:
		b.MaxResponseBytes = DefaultMaxResponseBytes
	case b.MaxResponseBytes < 0:
		b.MaxResponseBytes = 0
	}
	return b
}

// String describes the effective limits, e.g. for a manifest.
func (b Bounds) String() string {
	d := b.WithDefaults()
	return fmt.Sprintf("timeout %v, idle %v, total %v, max response %d bytes", d.Timeout, d.IdleTimeout, d.MaxDuration, d.MaxResponseBytes)
}
