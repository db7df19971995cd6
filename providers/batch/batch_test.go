package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// memBackend is a Backend in memory: batches finish on the first poll with
// every line answered, except the ids in fail.
type memBackend struct {
	mu        sync.Mutex
	submitErr error
	batches   map[string][]Line
	fail      map[string]bool
}

func (m *memBackend) Submit(_ context.Context, _ string, lines []Line) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.submitErr != nil {
		return "", m.submitErr
	}
	if m.batches == nil {
		m.batches = map[string][]Line{}
	}
	id := "b" + string(rune('0'+len(m.batches)))
	m.batches[id] = lines
	return id, nil
}

func (m *memBackend) Status(_ context.Context, id string) (Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
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
	rt := &realtime{}
	p, err := New(Options{Backend: be, Fallback: rt, State: state, Name: "t", Idle: 5 * time.Millisecond, PollMin: time.Millisecond,
		ID: func(ctx context.Context) (string, bool) { id, ok := ctx.Value(idKey{}).(string); return id, ok }})
	if err != nil {
		t.Fatal(err)
	}
	return p, rt
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
