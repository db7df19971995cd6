package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// memBackend is a Backend and Finder in memory: batches finish on the
// first poll with every line answered, except the ids in fail.
type memBackend struct {
	mu        sync.Mutex
	submitErr error
	lostReply bool // Submit creates the batch but returns submitErr
	findErr   error
	batches   map[string][]Line
	tags      map[string]string // tag → batch id
	fail      map[string]bool
	// afterSubmit runs once the batch exists, before Submit returns: a
	// process killed there has told the provider but recorded no id.
	afterSubmit func()
	finds       int
	statusErr   error // every Status call fails with it
	statusCalls int
}

func (m *memBackend) Submit(_ context.Context, tag string, lines []Line) (string, error) {
	m.mu.Lock()
	if m.submitErr != nil && !m.lostReply {
		m.mu.Unlock()
		return "", m.submitErr
	}
	if m.batches == nil {
		m.batches, m.tags = map[string][]Line{}, map[string]string{}
	}
	id := "b" + string(rune('0'+len(m.batches)))
	m.batches[id] = lines
	m.tags[tag] = id
	hook := m.afterSubmit
	m.mu.Unlock()
	if hook != nil {
		hook()
	}
	if m.lostReply {
		return "", m.submitErr
	}
	return id, nil
}

func (m *memBackend) Find(_ context.Context, tag string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.finds++
	if m.findErr != nil {
		return "", false, m.findErr
	}
	id, ok := m.tags[tag]
	return id, ok, nil
}

func (m *memBackend) submitted() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.batches) }

// noFinder hides memBackend's Find.
type noFinder struct{ m *memBackend }

func (n noFinder) Submit(ctx context.Context, tag string, lines []Line) (string, error) {
	return n.m.Submit(ctx, tag, lines)
}
func (n noFinder) Status(ctx context.Context, id string) (Status, error) { return n.m.Status(ctx, id) }
func (n noFinder) Results(ctx context.Context, st Status, fn func(string, *providers.Response, error)) error {
	return n.m.Results(ctx, st, fn)
}

func (m *memBackend) Status(_ context.Context, id string) (Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.statusCalls++
	if m.statusErr != nil {
		return Status{}, m.statusErr
	}
	return Status{ID: id, State: "completed", Total: len(m.batches[id]), Done: true}, nil
}

func (m *memBackend) Results(_ context.Context, st Status, fn func(string, *providers.Response, error)) error {
	m.mu.Lock()
	lines := m.batches[st.ID]
	m.mu.Unlock()
	for _, l := range lines {
		if m.fail[l.CustomID] {
			fn(l.CustomID, nil, errors.New("line failed"))
			continue
		}
		fn(l.CustomID, &providers.Response{Text: "batch:" + l.Request.Messages[0].Content}, nil)
	}
	return nil
}

type realtime struct{ n atomic.Int64 }

func (r *realtime) Generate(_ context.Context, req *providers.Request) (*providers.Response, error) {
	r.n.Add(1)
	return &providers.Response{Text: "rt:" + req.Messages[0].Content}, nil
}

type idKey struct{}

func newTest(t *testing.T, be Backend, state string) (*Provider, *realtime) {
	p, rt, _ := newWarned(t, be, state)
	return p, rt
}

// newWarned is newTest that also returns the warnings given.
func newWarned(t *testing.T, be Backend, state string) (*Provider, *realtime, *[]string) {
	rt := &realtime{}
	var mu sync.Mutex
	warnings := &[]string{}
	p, err := New(Options{Backend: be, Fallback: rt, State: state, Name: "t", Idle: 5 * time.Millisecond, PollMin: time.Millisecond,
		Warn: func(msg string) { mu.Lock(); *warnings = append(*warnings, msg); mu.Unlock() },
		ID:   func(ctx context.Context) (string, bool) { id, ok := ctx.Value(idKey{}).(string); return id, ok }})
	if err != nil {
		t.Fatal(err)
	}
	return p, rt, warnings
}

func call(p *Provider, id, q string) (string, error) {
	ctx := context.Background()
	if id != "" {
		ctx = context.WithValue(ctx, idKey{}, id)
	}
	r, err := p.Generate(ctx, &providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: q}}})
	if err != nil {
		return "", err
	}
	return r.Text, nil
}

func TestProvider(t *testing.T) {
	tests := []struct {
		name   string
		be     *memBackend
		id     string
		want   string
		rtCall int64
	}{
		{name: "batched", be: &memBackend{}, id: "k1", want: "batch:q"},
		{name: "no custom id goes real-time", be: &memBackend{}, want: "rt:q", rtCall: 1},
		{name: "failed line is retried real-time", be: &memBackend{fail: map[string]bool{"k1": true}}, id: "k1", want: "rt:q", rtCall: 1},
		{name: "submission refused: real-time", be: &memBackend{submitErr: errors.New("quota")}, id: "k1", want: "rt:q", rtCall: 1},
		{name: "created but the reply lost: found by tag", be: &memBackend{submitErr: errors.New("connection reset"), lostReply: true}, id: "k1", want: "batch:q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, rt := newTest(t, tt.be, filepath.Join(t.TempDir(), "batches.jsonl"))
			got, err := call(p, tt.id, "q")
			if err != nil || got != tt.want || rt.n.Load() != tt.rtCall {
				t.Errorf("got %q, %v with %d real-time calls; want %q with %d", got, err, rt.n.Load(), tt.want, tt.rtCall)
			}
		})
	}
}

// TestStateFile: a second Provider over the same state re-attaches (no
// second submission); a torn last line is ignored, its ids submitted anew.
func TestStateFile(t *testing.T) {
	state := filepath.Join(t.TempDir(), "batches.jsonl")
	be := &memBackend{}
	p, _ := newTest(t, be, state)
	if got, _ := call(p, "k1", "q"); got != "batch:q" {
		t.Fatalf("first run: %q", got)
	}
	p2, rt := newTest(t, be, state)
	if p2.Attached() != 1 {
		t.Fatalf("attached %d, want 1", p2.Attached())
	}
	if got, _ := call(p2, "k1", "q"); got != "batch:q" || p2.Submitted() != 0 || rt.n.Load() != 0 {
		t.Errorf("re-attached call: %q, %d submitted, %d real-time", got, p2.Submitted(), rt.n.Load())
	}
	f, _ := os.OpenFile(state, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"target":"t","batch_id":"b9","custom_`)
	f.Close()
	p3, _ := newTest(t, be, state)
	if p3.Attached() != 1 {
		t.Errorf("torn line counted: attached %d", p3.Attached())
	}
	if got, _ := call(p3, "k2", "q2"); got != "batch:q2" || p3.Submitted() != 1 {
		t.Errorf("new key after a torn state line: %q, %d submitted", got, p3.Submitted())
	}
	if p4, _ := newTest(t, be, state); p4.Attached() != 2 {
		t.Errorf("after the torn line was replaced: attached %d, want 2", p4.Attached())
	}
}

// TestKilledBeforeTheRecord: a run killed after the provider created its
// batch but before the batch id was recorded (the state file as it was when
// Submit returned) is resumed: the pending record is looked up by its tag
// and the calls re-attach to that batch; nothing is submitted twice.
func TestKilledBeforeTheRecord(t *testing.T) {
	dir := t.TempDir()
	state, snapshot := filepath.Join(dir, "batches.jsonl"), filepath.Join(dir, "killed.jsonl")
	be := &memBackend{}
	be.afterSubmit = func() {
		data, err := os.ReadFile(state)
		if err != nil {
			t.Error(err)
		}
		os.WriteFile(snapshot, data, 0o644)
	}
	p, _ := newTest(t, be, state)
	if got, _ := call(p, "k1", "q"); got != "batch:q" {
		t.Fatalf("first run: %q", got)
	}
	be.afterSubmit = nil
	data, _ := os.ReadFile(snapshot)
	if !strings.Contains(string(data), `"tag":"yardstick-`) || strings.Contains(string(data), "batch_id") {
		t.Fatalf("state when the batch was created: %s; want a pending record without a batch id", data)
	}

	p2, rt := newTest(t, be, snapshot)
	if p2.Unsettled() != 1 || p2.Attached() != 0 {
		t.Fatalf("unsettled %d, attached %d; want 1 and 0", p2.Unsettled(), p2.Attached())
	}
	if got, _ := call(p2, "k1", "q"); got != "batch:q" || be.submitted() != 1 || rt.n.Load() != 0 || be.finds != 1 {
		t.Errorf("resumed: %q, %d batches at the provider, %d real-time, %d lookups; want batch:q, 1, 0, 1", got, be.submitted(), rt.n.Load(), be.finds)
	}
	// The lookup was recorded: a third run re-attaches without one.
	p3, _ := newTest(t, be, snapshot)
	if p3.Attached() != 1 || p3.Unsettled() != 0 {
		t.Errorf("after the lookup: attached %d, unsettled %d; want 1 and 0", p3.Attached(), p3.Unsettled())
	}
	if got, _ := call(p3, "k1", "q"); got != "batch:q" || be.finds != 1 || be.submitted() != 1 {
		t.Errorf("third run: %q, %d lookups, %d batches", got, be.finds, be.submitted())
	}
}

// TestPendingRecord: pending records written by hand (the provider never
// heard of them, or the lookup fails, or the backend cannot look up), and
// records from before tags.
func TestPendingRecord(t *testing.T) {
	const pending = `{"target":"t","tag":"yardstick-1-abc","custom_ids":["k1","k2"]}` + "\n"
	tests := []struct {
		name     string
		be       func(*memBackend) Backend
		findErr  error
		state    string
		want     string
		submits  int   // batches at the provider after the call
		rt       int64 // real-time calls
		warnings string
	}{
		{name: "not found: submitted anew", state: pending, want: "batch:q", submits: 1},
		{name: "lookup fails: real time, never resubmitted", state: pending, findErr: errors.New("503"), want: "rt:q", rt: 1, warnings: "looking up interrupted batch submission yardstick-1-abc: 503; its lines run in real time"},
		{name: "no Finder: submitted again, with a warning", state: pending, be: func(m *memBackend) Backend { return noFinder{m} }, want: "batch:q", submits: 1, warnings: "cannot look it up: its lines are submitted again"},
		{name: "another target's pending record", state: `{"target":"u","tag":"yardstick-1-abc","custom_ids":["k1"]}` + "\n", want: "batch:q", submits: 1},
		{name: "resubmitted after an earlier not-found", state: pending + `{"target":"t","tag":"yardstick-2-def","custom_ids":["k1"]}` + "\n" + `{"target":"t","tag":"yardstick-2-def","batch_id":"b0"}` + "\n", want: "batch:q", submits: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "batches.jsonl")
			os.WriteFile(state, []byte(tt.state), 0o644)
			m := &memBackend{findErr: tt.findErr}
			if strings.Contains(tt.name, "earlier not-found") {
				m.batches = map[string][]Line{"b0": {{CustomID: "k1", Request: &providers.Request{Messages: []providers.Message{{Content: "q"}}}}}}
				m.tags = map[string]string{"yardstick-2-def": "b0"}
			}
			var be Backend = m
			if tt.be != nil {
				be = tt.be(m)
			}
			p, rt, warnings := newWarned(t, be, state)
			got, err := call(p, "k1", "q")
			if err != nil || got != tt.want || m.submitted() != tt.submits || rt.n.Load() != tt.rt {
				t.Errorf("got %q, %v; %d batches, %d real-time; want %q, %d, %d", got, err, m.submitted(), rt.n.Load(), tt.want, tt.submits, tt.rt)
			}
			if w := strings.Join(*warnings, "\n"); (tt.warnings == "") != (w == "") || !strings.Contains(w, tt.warnings) {
				t.Errorf("warnings %q, want %q", w, tt.warnings)
			}
		})
	}
}

func TestStateFileErrors(t *testing.T) {
	for _, line := range []string{`{"target":"t","tag":"x"}`, `{"target":"t","batch_id":"b1"}`, `{"target":"t","custom_ids":["k1"]}`, `not json`} {
		state := filepath.Join(t.TempDir(), "batches.jsonl")
		os.WriteFile(state, []byte(line+"\n"), 0o644)
		if _, err := New(Options{Backend: &memBackend{}, Fallback: &realtime{}, State: state, ID: func(context.Context) (string, bool) { return "", false }}); err == nil || !strings.Contains(err.Error(), state+":1:") {
			t.Errorf("%s: error %v, want one naming %s:1", line, err, state)
		}
	}
}

func TestTagTime(t *testing.T) {
	now := time.Unix(1764630000, 0)
	tag := newTag(now)
	if got, ok := TagTime(tag); !ok || !got.Equal(now) {
		t.Errorf("TagTime(%q) = %v, %v", tag, got, ok)
	}
	if tag == newTag(now) {
		t.Error("two tags of the same second are equal")
	}
	for _, bad := range []string{"", "other-1-x", "yardstick-abc", "yardstick-x-1"} {
		if _, ok := TagTime(bad); ok {
			t.Errorf("TagTime(%q) ok", bad)
		}
	}
}

// TestStatusRefused: a batch whose status the provider refuses (gone, key
// revoked) is not polled forever: its lines take the real-time path, with a
// warning; a temporary failure is polled again.
func TestStatusRefused(t *testing.T) {
	for _, kind := range []providers.Kind{providers.KindNotFound, providers.KindAuth} {
		be := &memBackend{statusErr: &providers.Error{Kind: kind, Message: "no such batch"}}
		p, rt, warnings := newWarned(t, be, filepath.Join(t.TempDir(), "batches.jsonl"))
		got, err := call(p, "k1", "q")
		if err != nil || got != "rt:q" || rt.n.Load() != 1 {
			t.Errorf("%s: got %q, %v, %d real-time calls", kind, got, err, rt.n.Load())
		}
		if be.statusCalls != 1 || len(*warnings) != 1 || !strings.Contains((*warnings)[0], "status refused") {
			t.Errorf("%s: %d status calls, warnings %q", kind, be.statusCalls, *warnings)
		}
	}
	// A temporary failure is polled again until the run gives up.
	be := &memBackend{statusErr: &providers.Error{Kind: providers.KindUnavailable, Message: "503"}}
	p, rt, _ := newWarned(t, be, filepath.Join(t.TempDir(), "batches.jsonl"))
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), idKey{}, "k1"), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Generate(ctx, &providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: "q"}}}); err == nil || rt.n.Load() != 0 {
		t.Errorf("temporary status failure: %v, %d real-time calls", err, rt.n.Load())
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if be.statusCalls < 2 {
		t.Errorf("temporary status failure polled %d times", be.statusCalls)
	}
}
