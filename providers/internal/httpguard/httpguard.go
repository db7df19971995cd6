// Package httpguard enforces providers.Bounds on the HTTP exchanges of a
// provider adapter: a RoundTripper that gives up when the response headers
// take too long, when the body goes silent, when the exchange as a whole
// runs too long, and that stops reading a body at its size cap.
//
// Each failure is a *providers.Error (KindTimeout or KindResponseTooLarge,
// Provider left empty for the adapter to fill; StatusCode the response's
// when the limit tripped while reading its body, 0 when no response came) returned from RoundTrip or
// from the body's Read, so it travels through the SDK's error chain; an
// adapter finds it with errors.As before its own classification. The
// request is canceled when a limit trips, so a blocked read returns at
// once.
//
// It does not retry, log, or interpret statuses.
package httpguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/yardstick-eval/yardstick/internal/redact"
	"github.com/yardstick-eval/yardstick/providers"
)

// prefixLen is how much of a body too large is kept for the error message.
const prefixLen = 160

// Wrap returns base (http.DefaultTransport when nil) guarded by b, whose
// zero fields take providers' defaults.
func Wrap(base http.RoundTripper, b providers.Bounds) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, b: b.WithDefaults()}
}

type transport struct {
	base http.RoundTripper
	b    providers.Bounds
}

// tripped is the cancellation cause the guard sets when a limit trips.
type tripped struct{ err *providers.Error }

func (t *tripped) Error() string { return t.err.Error() }

func timeoutErr(format string, args ...any) *tripped {
	return &tripped{&providers.Error{Kind: providers.KindTimeout, Message: fmt.Sprintf(format, args...)}}
}

// cause returns the guard's error when ctx was canceled by a limit.
func cause(ctx context.Context) *providers.Error {
	var t *tripped
	if errors.As(context.Cause(ctx), &t) {
		cp := *t.err
		return &cp
	}
	return nil
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	var total *time.Timer
	if d := t.b.MaxDuration; d > 0 {
		total = time.AfterFunc(d, func() {
			cancel(timeoutErr("the response took longer than %v in all (timeout: max_duration)", d))
		})
	}
	var headers *time.Timer
	if d := t.b.Timeout; d > 0 {
		headers = time.AfterFunc(d, func() {
			cancel(timeoutErr("no response within %v of sending the request (timeout: timeout)", d))
		})
	}
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if headers != nil {
		headers.Stop()
	}
	if err != nil {
		if total != nil {
			total.Stop()
		}
		if pe := cause(ctx); pe != nil {
			pe.Err = err
			cancel(nil)
			return nil, pe
		}
		cancel(nil)
		return nil, err
	}
	g := &body{rc: resp.Body, ctx: ctx, cancel: cancel, total: total, max: t.b.MaxResponseBytes, ct: resp.Header.Get("Content-Type"), status: resp.StatusCode}
	if d := t.b.IdleTimeout; d > 0 {
		g.idleD = d
		g.idle = time.AfterFunc(d, func() {
			cancel(timeoutErr("no data from the server for %v while reading the response (timeout: idle_timeout)", d))
		})
	}
	resp.Body = g
	return resp, nil
}

// body enforces the idle timeout and the size cap while the SDK reads.
type body struct {
	rc     io.ReadCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	total  *time.Timer
	idle   *time.Timer
	idleD  time.Duration
	max    int64
	ct     string
	status int // the response's; set on the errors of the body phase

	n      int64
	prefix []byte
	err    error // sticky: a limit tripped
	once   sync.Once
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.max > 0 && int64(len(p)) > b.max-b.n+1 {
		p = p[:b.max-b.n+1] // at most one byte past the cap
	}
	n, err := b.rc.Read(p)
	if n > 0 && b.idle != nil {
		b.idle.Reset(b.idleD)
	}
	if len(b.prefix) < prefixLen {
		b.prefix = append(b.prefix, p[:min(n, prefixLen-len(b.prefix))]...)
	}
	b.n += int64(n)
	if b.max > 0 && b.n > b.max {
		b.err = b.tooLarge()
		b.stop()
		b.cancel(nil)
		return n - int(b.n-b.max), b.err
	}
	if err != nil && err != io.EOF {
		if pe := cause(b.ctx); pe != nil {
			pe.Err = err
			pe.StatusCode = b.status
			b.err = pe
			b.stop()
			return n, pe
		}
	}
	if err == io.EOF {
		b.stop()
	}
	return n, err
}

func (b *body) tooLarge() *providers.Error {
	start := string(b.prefix)
	for !utf8.ValidString(start) && len(start) > 0 {
		start = start[:len(start)-1]
	}
	msg := fmt.Sprintf("response body larger than the %s cap (max_response_bytes); reading stopped there", size(b.max))
	if b.ct != "" {
		msg += ", content type " + b.ct
	}
	if start != "" {
		msg += "; it began " + strconv.Quote(redact.String(start))
	}
	return &providers.Error{Kind: providers.KindResponseTooLarge, StatusCode: b.status, Message: msg}
}

func (b *body) stop() {
	b.once.Do(func() {
		if b.idle != nil {
			b.idle.Stop()
		}
		if b.total != nil {
			b.total.Stop()
		}
	})
}

func (b *body) Close() error {
	b.stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}

// size is n bytes in the largest binary unit that divides it.
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}
