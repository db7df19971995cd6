package providertest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// fake is the scaffolding every fake server shares: the recorder (script,
// recorded requests, counters) and the httptest server. A fake embeds it,
// implements wire for its protocol, and serves with
// ServeHTTP(w, r) { s.serve(s, w, r) }.
type fake struct {
	recorder
	srv *httptest.Server
	ids atomic.Int64
}

// base gives newFake the embedded fake of any server type.
func (f *fake) base() *fake { return f }

// newFake applies opts to s, then starts serving s. When tb is not nil the
// server is closed by tb.Cleanup; otherwise the caller calls Close.
func newFake[S interface {
	http.Handler
	base() *fake
}, O ~func(S)](tb testing.TB, s S, opts []O) S {
	for _, o := range opts {
		o(s)
	}
	f := s.base()
	f.srv = httptest.NewServer(s)
	if tb != nil {
		tb.Cleanup(f.Close)
	}
	return s
}

// Close shuts the server down, waiting for handlers to return.
func (f *fake) Close() {
	f.srv.CloseClientConnections()
	f.srv.Close()
}

// wire is one protocol's part of a fake: what fake.serve cannot know.
type wire interface {
	// decode fills wr from the request's path, headers and body. When the
	// request goes no further it returns the answer to write, which serve
	// writes after recording wr.
	decode(r *http.Request, wr *WireRequest) (reject func(http.ResponseWriter))
	// writeError writes the protocol's error body for b.Status.
	writeError(w http.ResponseWriter, b Behavior, wr WireRequest)
	// contentType is the Content-Type of a non-streamed answer.
	contentType() string
	// body returns a non-streamed answer, or, when malformed, a body that
	// is not valid JSON.
	body(rp reply, malformed bool) []byte
	// stream writes a streamed answer (see eventWriter).
	stream(w http.ResponseWriter, r *http.Request, b Behavior, rp reply)
}

// reply is a successful answer before its protocol's encoding.
type reply struct {
	wr     WireRequest
	seq    int64  // 1 for the server's first answer, for response ids
	model  string // the model reported as having answered
	text   string
	finish string // "stop", "length", … (protocols translate)
	usage  providers.Usage
}

// serve handles one request: it counts it, decodes and records it, pops the
// next Behavior and applies its protocol-neutral fields (Delay, Header,
// RetryAfter, HTML, Status, Malformed, CutBody), leaving the protocol's
// encoding to p.
func (f *fake) serve(p wire, w http.ResponseWriter, r *http.Request) {
	defer f.enter()()
	body, _ := io.ReadAll(r.Body)
	wr := WireRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	reject := p.decode(r, &wr)
	f.record(wr)
	if reject != nil {
		reject(w)
		return
	}

	b := f.next()
	if !wait(r, b.Delay) {
		return
	}
	if b.EchoAuth {
		b.ErrorMessage = echoCredentials(r)
		if b.Status == 0 {
			b.Status = http.StatusUnauthorized
		}
	}
	writeHeaders(w, b)
	switch {
	case b.RawBody != "":
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(cmp.Or(b.Status, http.StatusOK))
		io.WriteString(w, b.RawBody)
		return
	case b.BodyBytes > 0:
		f.writeHuge(w, r, b.BodyBytes)
		return
	case b.HTML:
		writeHTML(w, b.Status)
		return
	case b.Status != 0 && (b.Status < 200 || b.Status > 299):
		p.writeError(w, b, wr)
		return
	}

	rp := reply{wr: wr, model: b.Model}
	rp.text, rp.finish = f.answer(b, wr)
	if rp.model == "" {
		rp.model = wr.Model
	}
	if rp.model == "" {
		rp.model = wr.Deployment
	}
	rp.usage = usage(b, wr, rp.text)
	rp.seq = f.ids.Add(1)
	if wr.Stream {
		p.stream(w, r, b, rp)
		return
	}
	ct, out := p.contentType(), p.body(rp, b.Malformed)
	if b.StallBody {
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.Write(out[:len(out)/2])
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
		return
	}
	if b.CutBody && !b.Malformed {
		cutBody(w, ct, out)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Write(out)
}

// writeHuge answers 200 with a JSON string of n bytes in all, written in
// 64 KiB pieces, stopping when the client goes away.
func (f *fake) writeHuge(w http.ResponseWriter, r *http.Request, n int64) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(http.StatusOK)
	piece := bytes.Repeat([]byte("x"), 64<<10)
	if _, err := io.WriteString(w, `"`); err != nil {
		return
	}
	for left := n - 2; left > 0; {
		k := min(left, int64(len(piece)))
		if _, err := w.Write(piece[:k]); err != nil || r.Context().Err() != nil {
			return
		}
		f.hugeSent.Add(k)
		left -= k
	}
	io.WriteString(w, `"`)
}

// eventWriter writes a stream of JSON events, each framed as
// prefix + JSON + suffix ("data: …\n\n" for server-sent events, "…\n" for
// NDJSON) and flushed.
type eventWriter struct {
	w              http.ResponseWriter
	rc             *http.ResponseController
	prefix, suffix string
}

// openStream sends the 200 header of a stream of contentType.
func openStream(w http.ResponseWriter, contentType, prefix, suffix string) *eventWriter {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	return &eventWriter{w: w, rc: http.NewResponseController(w), prefix: prefix, suffix: suffix}
}

// send writes one event and reports whether the client is still there.
func (e *eventWriter) send(v any) bool {
	var buf bytes.Buffer
	buf.WriteString(e.prefix)
	out, _ := json.Marshal(v)
	buf.Write(out)
	buf.WriteString(e.suffix)
	if _, err := e.w.Write(buf.Bytes()); err != nil {
		return false
	}
	return e.rc.Flush() == nil
}

// malformed writes one event that is not valid JSON, for Behavior.Malformed.
func (e *eventWriter) malformed() {
	io.WriteString(e.w, e.prefix+"{not json}"+e.suffix)
	e.rc.Flush()
}

// raw writes s as is (for example a "data: [DONE]" terminator).
func (e *eventWriter) raw(s string) {
	io.WriteString(e.w, s)
	e.rc.Flush()
}

// chunks sends event(piece) for each piece of parts, waiting b.ChunkDelay
// between them, and drops the connection after b.CutStreamAfter pieces
// (half of them, at least one, for b.CutBody). It reports whether the
// stream may go on to its final events.
func (e *eventWriter) chunks(r *http.Request, b Behavior, parts []string, event func(piece string) any) bool {
	if b.Endless {
		for i := 0; ; i++ {
			if i > 0 && !wait(r, cmp.Or(b.ChunkDelay, time.Millisecond)) {
				return false
			}
			if !e.send(event(parts[i%len(parts)])) {
				return false
			}
		}
	}
	if b.StallStreamAfter > 0 && len(parts) > b.StallStreamAfter {
		parts = parts[:b.StallStreamAfter]
		for i, c := range parts {
			if i > 0 && !wait(r, b.ChunkDelay) {
				return false
			}
			if !e.send(event(c)) {
				return false
			}
		}
		<-r.Context().Done()
		return false
	}
	cut := b.CutStreamAfter
	if b.CutBody && cut == 0 {
		cut = max(1, len(parts)/2)
	}
	for i, c := range parts {
		if cut > 0 && i >= cut {
			hijackAndClose(e.w)
			return false
		}
		if i > 0 && !wait(r, b.ChunkDelay) {
			return false
		}
		if !e.send(event(c)) {
			return false
		}
	}
	if cut > 0 {
		hijackAndClose(e.w)
		return false
	}
	return true
}
