// Package batch runs requests through a provider's Batch API (OpenAI's
// Files + Batches) as a providers.Provider decorator, so the runner, scorers,
// pricing and results file work unchanged: every Generate call is queued,
// the queue is submitted as one batch once no call has arrived for
// Options.Idle (or MaxLines are queued), the batch is polled with backoff,
// and each call returns its own line of the output file, found by custom id.
//
// Submitted batches are recorded in a state file (one JSON line per batch,
// synced before polling starts), so an interrupted run that is resumed
// re-attaches to its batches: a call whose custom id is in a recorded batch
// waits for that batch and is never submitted again. Lines that failed, or
// that a batch left undone (expired, cancelled, failed), are sent through
// Options.Fallback: the normal, real-time path with its retries.
//
// The package knows no provider's wire format: a Backend does (see
// providers/openai's Batches). It does not price at batch rates; the caller
// halves the target's price.
package batch

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// Line is one request of a batch.
type Line struct {
	CustomID string
	Request  *providers.Request
}

// Status is a batch's state as the provider reports it.
type Status struct {
	ID        string
	State     string // the provider's word: validating, in_progress, finalizing, completed, expired, …
	Total     int
	Completed int
	Failed    int
	Done      bool // terminal: nothing more will happen to it
	// Files holds the backend's handles of the result files (OpenAI: the
	// output and error file ids), for Results.
	Files []string
}

// Backend speaks one provider's Batch API.
type Backend interface {
	// Submit uploads lines and creates a batch, returning its id. tag is
	// unique to this submission; the backend stores it with the batch
	// (OpenAI: metadata; Gemini: the display name), so a Finder can find a
	// batch whose id was never recorded.
	Submit(ctx context.Context, tag string, lines []Line) (string, error)
	// Status reports a batch's state.
	Status(ctx context.Context, id string) (Status, error)
	// Results calls fn for every line of a done batch's output and error
	// files, in file order: a response, or the line's error.
	Results(ctx context.Context, st Status, fn func(customID string, resp *providers.Response, lineErr error)) error
}

// Finder is implemented by backends that can look a batch up by the tag it
// was submitted with: found is false when no batch carries tag.
type Finder interface {
	Find(ctx context.Context, tag string) (id string, found bool, err error)
}

// Options configures a Provider.
type Options struct {
	Backend  Backend
	Fallback providers.Provider // the real-time path for failed and undone lines
	// ID names a call's line (a custom id unique within the run); calls
	// without one go to Fallback.
	ID func(ctx context.Context) (string, bool)
	// State is the state file (batches.jsonl in the run directory).
	State string
	// Idle is how long the queue waits for another call before it is
	// submitted. Default 500ms.
	Idle time.Duration
	// MaxLines caps a batch. Default 50,000 (OpenAI's limit).
	MaxLines int
	// PollMin and PollMax bound the polling backoff (doubling). Defaults 5s
	// and 1m.
	PollMin, PollMax time.Duration
	// OnStatus, when set, receives every polled status (progress).
	OnStatus func(target string, st Status)
	// Name labels this target in OnStatus.
	Name string
}

type outcome struct {
	resp *providers.Response
	err  error // a line error, or errUndone
}

var errUndone = errors.New("batch ended without this line")

// record is one line of the state file.
type record struct {
	Target string   `json:"target"`
	Batch  string   `json:"batch_id"`
	IDs    []string `json:"custom_ids"`
}

// Provider is the decorator. Create it with New.
type Provider struct {
	o Options

	mu       sync.Mutex
	known    map[string]string        // custom id → batch id (submitted, this run or before)
	done     map[string]outcome       // results not yet taken
	waiters  map[string]chan struct{} // custom id → closed when done has it
	polling  map[string]bool          // batch ids being polled
	queue    []queued
	timer    *time.Timer
	attached int // batches re-attached from the state file
	submits  int
}

type queued struct {
	id  string
	req providers.Request
}

var _ providers.Provider = (*Provider)(nil)

// New returns the decorator, reading the state file (a missing file is an
// empty state).
func New(o Options) (*Provider, error) {
	if o.Backend == nil || o.Fallback == nil || o.ID == nil || o.State == "" {
		return nil, errors.New("batch: Backend, Fallback, ID and State are required")
	}
	if o.Idle <= 0 {
		o.Idle = 500 * time.Millisecond
	}
	if o.MaxLines <= 0 {
		o.MaxLines = 50000
	}
	if o.PollMin <= 0 {
		o.PollMin = 5 * time.Second
	}
	if o.PollMax < o.PollMin {
		o.PollMax = max(time.Minute, o.PollMin)
	}
	p := &Provider{o: o, known: map[string]string{}, done: map[string]outcome{}, waiters: map[string]chan struct{}{}, polling: map[string]bool{}}
	data, err := os.ReadFile(o.State)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	good := 0 // bytes of whole lines
	for n, rest := 1, data; len(rest) > 0; n++ {
		line, after, complete := bytes.Cut(rest, []byte("\n"))
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			if !complete {
				// A torn last line (killed while recording): that batch's ids
				// were never acknowledged, so they are submitted anew. Drop
				// it, so the next record starts on a line of its own.
				if err := os.Truncate(o.State, int64(good)); err != nil {
					return nil, err
				}
				break
			}
			return nil, fmt.Errorf("%s:%d: %v", o.State, n, err)
		}
		good += len(line) + 1
		rest = after
		if r.Target != o.Name {
			continue
		}
		for _, id := range r.IDs {
			p.known[id] = r.Batch
		}
		p.attached++
	}
	return p, nil
}

// Attached returns the number of batches re-attached from the state file.
func (p *Provider) Attached() int { p.mu.Lock(); defer p.mu.Unlock(); return p.attached }

// Submitted returns the number of batches this Provider submitted.
func (p *Provider) Submitted() int { p.mu.Lock(); defer p.mu.Unlock(); return p.submits }

// Generate queues req as a batch line (or re-attaches to the batch that
// holds it) and waits for its result; failed and undone lines go through
// the fallback.
func (p *Provider) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	id, ok := p.o.ID(ctx)
	if !ok {
		return p.o.Fallback.Generate(ctx, req)
	}
	p.mu.Lock()
	if o, ok := p.done[id]; ok {
		delete(p.done, id)
		p.mu.Unlock()
		return p.finish(ctx, req, o)
	}
	ch := p.waiters[id]
	if ch == nil {
		ch = make(chan struct{})
		p.waiters[id] = ch
	}
	if b, ok := p.known[id]; ok {
		if !p.polling[b] {
			p.polling[b] = true
			go p.poll(ctx, b)
		}
	} else {
		p.queue = append(p.queue, queued{id: id, req: *req})
		if len(p.queue) >= p.o.MaxLines {
			p.flushLocked(ctx)
		} else if p.timer == nil {
			p.timer = time.AfterFunc(p.o.Idle, func() { p.flush(ctx) })
		} else {
			p.timer.Reset(p.o.Idle)
		}
	}
	p.mu.Unlock()

	select {
	case <-ch:
	case <-ctx.Done():
		return nil, &providers.Error{Kind: providers.KindCanceled, Provider: p.o.Name, Message: "waiting for the batch: " + ctx.Err().Error(), Err: ctx.Err()}
	}
	p.mu.Lock()
	o := p.done[id]
	delete(p.done, id)
	p.mu.Unlock()
	return p.finish(ctx, req, o)
}

func (p *Provider) finish(ctx context.Context, req *providers.Request, o outcome) (*providers.Response, error) {
	if o.err != nil || o.resp == nil {
		return p.o.Fallback.Generate(ctx, req) // through the normal path, with its retries
	}
	return o.resp, nil
}

func (p *Provider) flush(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushLocked(ctx)
}

// flushLocked submits the queue. p.mu is held; the submission itself runs
// without it.
func (p *Provider) flushLocked(ctx context.Context) {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	if len(p.queue) == 0 {
		return
	}
	q := p.queue
	p.queue = nil
	go p.submit(ctx, q)
}

func (p *Provider) submit(ctx context.Context, q []queued) {
	lines := make([]Line, len(q))
	ids := make([]string, len(q))
	for i := range q {
		lines[i] = Line{CustomID: q[i].id, Request: &q[i].req}
		ids[i] = q[i].id
	}
	b, err := p.o.Backend.Submit(ctx, newTag(), lines)
	if err == nil {
		err = p.record(record{Target: p.o.Name, Batch: b, IDs: ids})
	}
	p.mu.Lock()
	if err != nil {
		// Not submitted (or not recorded): every call takes the normal path.
		for _, id := range ids {
			p.deliverLocked(id, outcome{err: err})
		}
		p.mu.Unlock()
		return
	}
	p.submits++
	for _, id := range ids {
		p.known[id] = b
	}
	p.polling[b] = true
	p.mu.Unlock()
	p.poll(ctx, b)
}

// record appends r to the state file and syncs it.
func (p *Provider) record(r record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(p.o.State, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// poll follows batch b to its end (or until ctx, the run, is done), then
// delivers its lines; lines it does not have are delivered as undone.
func (p *Provider) poll(ctx context.Context, b string) {
	wait := p.o.PollMin
	var st Status
	for {
		s, err := p.o.Backend.Status(ctx, b)
		if err == nil {
			st = s
			if p.o.OnStatus != nil {
				p.o.OnStatus(p.o.Name, st)
			}
			if st.Done {
				break
			}
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			// The run stopped; the batch goes on at the provider and a
			// resumed run re-attaches to it.
			p.mu.Lock()
			delete(p.polling, b)
			p.mu.Unlock()
			return
		}
		wait = min(wait*2, p.o.PollMax)
	}
	got := map[string]bool{}
	err := p.o.Backend.Results(ctx, st, func(id string, resp *providers.Response, lineErr error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.known[id] != b || got[id] {
			return // not ours, or a repeated line
		}
		got[id] = true
		p.deliverLocked(id, outcome{resp: resp, err: lineErr})
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, bid := range p.known {
		if bid == b && !got[id] {
			p.deliverLocked(id, outcome{err: errors.Join(errUndone, err)})
		}
	}
}

// newTag returns a random submission tag.
func newTag() string {
	var b [12]byte
	rand.Read(b[:]) // never fails: it crashes the program instead
	return "yardstick-" + hex.EncodeToString(b[:])
}

func (p *Provider) deliverLocked(id string, o outcome) {
	p.done[id] = o
	if ch := p.waiters[id]; ch != nil {
		close(ch)
		delete(p.waiters, id)
	}
}
