// Package batch runs requests through a provider's Batch API (OpenAI's
// Files + Batches) as a providers.Provider decorator, so the runner, scorers,
// pricing and results file work unchanged: every Generate call is queued,
// the queue is submitted as one batch once no call has arrived for
// Options.Idle (or MaxLines are queued), the batch is polled with backoff,
// and each call returns its own line of the output file, found by custom id.
//
// Submissions are recorded in a state file (JSON lines, each synced): before
// a batch is submitted, a pending record with its submission tag and custom
// ids; once the provider has answered, a record of the tag's batch id. An
// interrupted run that is resumed re-attaches to its batches: a call whose
// custom id is in a recorded batch waits for that batch and is never
// submitted again. A pending record without a batch id (the run was killed
// between the provider's answer and the record) is looked up by its tag
// through the Backend's Finder: found, the calls re-attach to that batch;
// not found, the ids were never submitted and go in a new batch. A Backend
// without a Finder cannot tell, so those ids are submitted again, with a
// warning (Options.Warn): the provider may then run them twice. Lines that
// failed, or that a batch left undone (expired, cancelled, failed), are sent
// through Options.Fallback: the normal, real-time path with its retries.
//
// State files written before tags existed (one record per batch, with its
// id and custom ids) are read as they are.
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
	"strconv"
	"strings"
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

// TagTime returns when tag was made (to the second), for a Finder that can
// stop looking among batches created well before it; ok is false for a tag
// this package did not make.
func TagTime(tag string) (t time.Time, ok bool) {
	rest, ok := strings.CutPrefix(tag, tagPrefix)
	if !ok {
		return time.Time{}, false
	}
	sec, _, ok := strings.Cut(rest, "-")
	n, err := strconv.ParseInt(sec, 10, 64)
	if !ok || err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
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
	// Name labels this target in OnStatus and in the state file.
	Name string
	// Warn, when set, receives warnings: a submission that cannot be
	// looked up and is submitted again, one whose lookup failed (its lines
	// run in real time), a batch id that could not be recorded.
	Warn func(msg string)
}

type outcome struct {
	resp *providers.Response
	err  error // a line error, or errUndone
}

var errUndone = errors.New("batch ended without this line")

// record is one line of the state file: a pending submission (Tag and
// IDs), its batch id (Tag and Batch), or, in files written before tags, a
// submitted batch (Batch and IDs).
type record struct {
	Target string   `json:"target"`
	Tag    string   `json:"tag,omitempty"`
	Batch  string   `json:"batch_id,omitempty"`
	IDs    []string `json:"custom_ids,omitempty"`
}

// Provider is the decorator. Create it with New.
type Provider struct {
	o Options

	mu        sync.Mutex
	known     map[string]string        // custom id → batch id (submitted, this run or before)
	pending   map[string]string        // custom id → tag of a submission whose batch id was never recorded
	tagIDs    map[string][]string      // tag → its pending record's custom ids
	parked    map[string][]queued      // tag → calls waiting for the tag's lookup
	looking   map[string]bool          // tags being looked up
	lost      map[string]error         // tags whose lookup failed: their calls run in real time
	done      map[string]outcome       // results not yet taken
	waiters   map[string]chan struct{} // custom id → closed when done has it
	polling   map[string]bool          // batch ids being polled
	queue     []queued
	timer     *time.Timer
	attached  int // batches re-attached from the state file
	unsettled int // pending submissions found in the state file
	submits   int
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
	p := &Provider{o: o, known: map[string]string{}, pending: map[string]string{}, tagIDs: map[string][]string{},
		parked: map[string][]queued{}, looking: map[string]bool{}, lost: map[string]error{},
		done: map[string]outcome{}, waiters: map[string]chan struct{}{}, polling: map[string]bool{}}
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
		err := json.Unmarshal(line, &r)
		if err == nil && (r.Batch == "" || len(r.IDs) == 0) && (r.Tag == "" || (r.Batch == "") == (len(r.IDs) == 0)) {
			err = errors.New("want tag and custom_ids, tag and batch_id, or batch_id and custom_ids")
		}
		if err != nil {
			if !complete {
				// A torn last line (killed while recording): a pending
				// record never written means the batch was never
				// submitted; a batch id never written leaves the pending
				// record, resolved by lookup. Drop it, so the next record
				// starts on a line of its own.
				if err := os.Truncate(o.State, int64(good)); err != nil {
					return nil, err
				}
				break
			}
			return nil, fmt.Errorf("%s:%d: %v", o.State, n, err)
		}
		good += len(line) + 1
		rest = after
		if r.Target == o.Name {
			p.load(r)
		}
	}
	batches, tags := map[string]bool{}, map[string]bool{}
	for _, b := range p.known {
		batches[b] = true
	}
	for _, t := range p.pending {
		tags[t] = true
	}
	p.attached, p.unsettled = len(batches), len(tags)
	return p, nil
}

// load applies one record of this target's state: the latest record of an
// id wins.
func (p *Provider) load(r record) {
	switch {
	case len(r.IDs) > 0 && r.Batch != "": // before tags: a submitted batch
		for _, id := range r.IDs {
			p.known[id] = r.Batch
			delete(p.pending, id)
		}
	case len(r.IDs) > 0: // pending
		p.tagIDs[r.Tag] = r.IDs
		for _, id := range r.IDs {
			p.pending[id] = r.Tag
			delete(p.known, id)
		}
	default: // the tag's batch id
		for _, id := range p.tagIDs[r.Tag] {
			if p.pending[id] == r.Tag {
				p.known[id] = r.Batch
				delete(p.pending, id)
			}
		}
		delete(p.tagIDs, r.Tag)
	}
}

// Attached returns the number of batches re-attached from the state file.
func (p *Provider) Attached() int { p.mu.Lock(); defer p.mu.Unlock(); return p.attached }

// Unsettled returns the number of submissions in the state file whose batch
// id was never recorded; they are looked up (Finder) when their calls come.
func (p *Provider) Unsettled() int { p.mu.Lock(); defer p.mu.Unlock(); return p.unsettled }

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
	} else if tag, ok := p.pending[id]; ok {
		if err := p.lost[tag]; err != nil {
			p.deliverLocked(id, outcome{err: err})
		} else {
			p.parked[tag] = append(p.parked[tag], queued{id: id, req: *req})
			if !p.looking[tag] {
				p.looking[tag] = true
				go p.settle(ctx, tag)
			}
		}
	} else {
		p.enqueueLocked(ctx, queued{id: id, req: *req})
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

// enqueueLocked queues q for the next submission. p.mu is held.
func (p *Provider) enqueueLocked(ctx context.Context, q queued) {
	p.queue = append(p.queue, q)
	if len(p.queue) >= p.o.MaxLines {
		p.flushLocked(ctx)
	} else if p.timer == nil {
		p.timer = time.AfterFunc(p.o.Idle, func() { p.flush(ctx) })
	} else {
		p.timer.Reset(p.o.Idle)
	}
}

// settle resolves tag, a submission recorded as pending by an interrupted
// run, through the Backend's Finder: found, its ids re-attach to the batch;
// not found (or no Finder), they are free and the parked calls are queued
// anew; a failed lookup sends them through the fallback, since submitting
// them again might run them twice.
func (p *Provider) settle(ctx context.Context, tag string) {
	var (
		b     string
		found bool
		err   error
	)
	if f, ok := p.o.Backend.(Finder); ok {
		b, found, err = f.Find(ctx, tag)
		if err == nil && found {
			if rerr := p.record(record{Target: p.o.Name, Tag: tag, Batch: b}); rerr != nil {
				p.warn(fmt.Sprintf("%s: recording batch %s: %v", p.o.Name, b, rerr))
			}
		}
	} else {
		p.warn(fmt.Sprintf("%s: an interrupted run submitted a batch (tag %s) without recording its id, and this Batch API cannot look it up: its lines are submitted again, and the provider may run them twice", p.o.Name, tag))
	}
	if err != nil {
		err = fmt.Errorf("looking up interrupted batch submission %s: %w", tag, err)
		if ctx.Err() == nil {
			p.warn(fmt.Sprintf("%s: %v; its lines run in real time", p.o.Name, err))
		}
	}
	p.mu.Lock()
	parked := p.parked[tag]
	delete(p.parked, tag)
	delete(p.looking, tag)
	if err != nil {
		p.lost[tag] = err
		for _, q := range parked {
			p.deliverLocked(q.id, outcome{err: err})
		}
		p.mu.Unlock()
		return
	}
	for _, id := range p.tagIDs[tag] {
		if p.pending[id] != tag {
			continue
		}
		delete(p.pending, id)
		if found {
			p.known[id] = b
		}
	}
	delete(p.tagIDs, tag)
	if !found {
		for _, q := range parked {
			p.enqueueLocked(ctx, q)
		}
		p.mu.Unlock()
		return
	}
	if p.polling[b] {
		p.mu.Unlock()
		return
	}
	p.polling[b] = true
	p.mu.Unlock()
	p.poll(ctx, b)
}

func (p *Provider) warn(msg string) {
	if p.o.Warn != nil {
		p.o.Warn(msg)
	}
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
	tag := newTag(time.Now())
	// The pending record goes to disk before the provider hears of the
	// batch: killed at any point after Submit, the resumed run finds it.
	err := p.record(record{Target: p.o.Name, Tag: tag, IDs: ids})
	var b string
	if err == nil {
		b, err = p.o.Backend.Submit(ctx, tag, lines)
		if err != nil {
			// The provider may have created the batch all the same (the
			// answer lost on the way back): look before falling back.
			if f, ok := p.o.Backend.(Finder); ok && ctx.Err() == nil {
				if fb, found, ferr := f.Find(ctx, tag); ferr == nil && found {
					b, err = fb, nil
				}
			}
		}
		if err == nil {
			if rerr := p.record(record{Target: p.o.Name, Tag: tag, Batch: b}); rerr != nil {
				// The batch is followed all the same; a resumed run finds
				// it by its tag.
				p.warn(fmt.Sprintf("%s: recording batch %s: %v", p.o.Name, b, rerr))
			}
		}
	}
	p.mu.Lock()
	if err != nil {
		// Not submitted: every call takes the normal path.
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
		} else if pe := (*providers.Error)(nil); errors.As(err, &pe) && !pe.Kind.Temporary() && ctx.Err() == nil {
			// The provider refuses to say (the batch is gone, the key
			// revoked): polling again cannot help. Its lines take the
			// real-time path, which reports the cause if it persists.
			p.warn(fmt.Sprintf("batch %s: status refused (%v): its lines run in real time", b, err))
			p.mu.Lock()
			defer p.mu.Unlock()
			for id, bid := range p.known {
				if bid == b {
					p.deliverLocked(id, outcome{err: errors.Join(errUndone, err)})
				}
			}
			return
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

const tagPrefix = "yardstick-"

// newTag returns a unique submission tag: the time (see TagTime) and 96
// random bits.
func newTag(now time.Time) string {
	var b [12]byte
	rand.Read(b[:]) // never fails: it crashes the program instead
	return tagPrefix + strconv.FormatInt(now.Unix(), 10) + "-" + hex.EncodeToString(b[:])
}

func (p *Provider) deliverLocked(id string, o outcome) {
	p.done[id] = o
	if ch := p.waiters[id]; ch != nil {
		close(ch)
		delete(p.waiters, id)
	}
}
