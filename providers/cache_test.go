package providers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
)

func baseRequest() *providers.Request {
	return &providers.Request{
		Model:       "gpt-4o-mini",
		System:      "be brief",
		Messages:    []providers.Message{{Role: "user", Content: "hi"}},
		MaxTokens:   16,
		Temperature: providers.Float64(0),
		TopP:        providers.Float64(1),
		Seed:        providers.Int64(7),
		Stop:        []string{"\n"},
		JSONSchema:  json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`),
	}
}

func TestCacheKeyCoversEveryField(t *testing.T) {
	base, err := providers.CacheKey("openai@api.openai.com", baseRequest(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(base) != 64 {
		t.Fatalf("key %q is not hex sha256", base)
	}
	changes := []struct {
		name   string
		scope  string
		repeat int
		mut    func(r *providers.Request)
	}{
		{name: "scope", scope: "openai@example.com"},
		{name: "repeat", repeat: 1},
		{name: "model", mut: func(r *providers.Request) { r.Model = "gpt-4o" }},
		{name: "system", mut: func(r *providers.Request) { r.System = "be long" }},
		{name: "message content", mut: func(r *providers.Request) { r.Messages[0].Content = "hello" }},
		{name: "message role", mut: func(r *providers.Request) { r.Messages[0].Role = "assistant" }},
		{name: "extra message", mut: func(r *providers.Request) {
			r.Messages = append(r.Messages, providers.Message{Role: "user", Content: "x"})
		}},
		{name: "image added", mut: func(r *providers.Request) {
			r.Messages[0].Images = []providers.Image{{MIMEType: "image/png", Data: []byte("png-bytes")}}
		}},
		{name: "image bytes", mut: func(r *providers.Request) {
			r.Messages[0].Images = []providers.Image{{MIMEType: "image/png", Data: []byte("png-bytez")}}
		}},
		{name: "image mime type", mut: func(r *providers.Request) {
			r.Messages[0].Images = []providers.Image{{MIMEType: "image/jpeg", Data: []byte("png-bytez")}}
		}},
		{name: "second image", mut: func(r *providers.Request) {
			r.Messages[0].Images = []providers.Image{{MIMEType: "image/jpeg", Data: []byte("png-bytez")}, {MIMEType: "image/png", Data: []byte("x")}}
		}},
		{name: "max tokens", mut: func(r *providers.Request) { r.MaxTokens = 17 }},
		{name: "temperature value", mut: func(r *providers.Request) { r.Temperature = providers.Float64(0.5) }},
		{name: "temperature unset vs 0", mut: func(r *providers.Request) { r.Temperature = nil }},
		{name: "top_p", mut: func(r *providers.Request) { r.TopP = providers.Float64(0.9) }},
		{name: "top_p unset", mut: func(r *providers.Request) { r.TopP = nil }},
		{name: "seed", mut: func(r *providers.Request) { r.Seed = providers.Int64(8) }},
		{name: "seed unset vs 7", mut: func(r *providers.Request) { r.Seed = nil }},
		{name: "stop", mut: func(r *providers.Request) { r.Stop = []string{"END"} }},
		{name: "stop removed", mut: func(r *providers.Request) { r.Stop = nil }},
		{name: "schema", mut: func(r *providers.Request) { r.JSONSchema = json.RawMessage(`{"type":"object"}`) }},
		{name: "schema removed", mut: func(r *providers.Request) { r.JSONSchema = nil }},
	}
	seen := map[string]string{base: "base"}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			r := baseRequest()
			if c.mut != nil {
				c.mut(r)
			}
			scope := "openai@api.openai.com"
			if c.scope != "" {
				scope = c.scope
			}
			k, err := providers.CacheKey(scope, r, c.repeat)
			if err != nil {
				t.Fatal(err)
			}
			if prev, dup := seen[k]; dup {
				t.Errorf("key equals the key of %q", prev)
			}
			seen[k] = c.name
		})
	}
}

func TestCacheKeyCanonical(t *testing.T) {
	a := baseRequest()
	b := baseRequest()
	b.JSONSchema = json.RawMessage(`{ "properties": {"a": {"type": "string"}}, "type": "object" }`)
	ka, _ := providers.CacheKey("s", a, 0)
	kb, _ := providers.CacheKey("s", b, 0)
	if ka != kb {
		t.Error("schema key order or spacing changed the key")
	}
	c := baseRequest()
	c.Messages = nil
	d := baseRequest()
	d.Messages = []providers.Message{}
	kc, _ := providers.CacheKey("s", c, 0)
	kd, _ := providers.CacheKey("s", d, 0)
	if kc != kd {
		t.Error("nil and empty messages give different keys")
	}
	if _, err := providers.CacheKey("s", &providers.Request{JSONSchema: json.RawMessage(`{bad`)}, 0); err == nil {
		t.Error("invalid schema accepted")
	}
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	inner := &scripted{usage: providers.Usage{InputTokens: 3, OutputTokens: 2}}
	store := &providers.MemStore{}
	c := providers.Cached(inner, store, providers.CacheConfig{Scope: "fake@local"})

	r1, err := c.Generate(ctx, baseRequest())
	if err != nil || r1.Cached {
		t.Fatalf("first call: %+v, %v", r1, err)
	}
	r2, err := c.Generate(ctx, baseRequest())
	if err != nil {
		t.Fatal(err)
	}
	if !r2.Cached || r2.Text != "ok" || r2.Model != "m-resolved" || r2.Usage != r1.Usage {
		t.Errorf("hit = %+v", r2)
	}
	if inner.Calls() != 1 {
		t.Errorf("calls = %d after a hit, want 1", inner.Calls())
	}
	// Another repeat index is another sample.
	if _, err := c.Generate(providers.WithRepeat(ctx, 1), baseRequest()); err != nil {
		t.Fatal(err)
	}
	if inner.Calls() != 2 {
		t.Errorf("calls = %d after a new repeat, want 2", inner.Calls())
	}
	if r, _ := c.Generate(providers.WithRepeat(ctx, 1), baseRequest()); !r.Cached {
		t.Error("repeat 1 not cached")
	}
	if h, m := c.Stats(); h != 2 || m != 2 {
		t.Errorf("Stats = %d hits %d misses, want 2 2", h, m)
	}
	// Hits are independent copies.
	r3, _ := c.Generate(ctx, baseRequest())
	r3.Text = "mutated"
	if r4, _ := c.Generate(ctx, baseRequest()); r4.Text != "ok" {
		t.Error("a hit shares state with an earlier hit")
	}
}

func TestCacheNeverStoresErrors(t *testing.T) {
	ctx := context.Background()
	inner := &scripted{script: []result{{err: perr(providers.KindUnavailable)}, {text: ""}}}
	store := &providers.MemStore{}
	c := providers.Cached(inner, store, providers.CacheConfig{Scope: "s"})
	if _, err := c.Generate(ctx, baseRequest()); err == nil {
		t.Fatal("want error")
	}
	if store.Len() != 0 {
		t.Fatal("error stored")
	}
	if r, err := c.Generate(ctx, baseRequest()); err != nil || r.Cached {
		t.Fatalf("second call: %+v %v", r, err)
	}
	if store.Len() != 0 {
		t.Fatal("empty answer stored")
	}
	if r, err := c.Generate(ctx, baseRequest()); err != nil || r.Cached || r.Text != "ok" {
		t.Fatalf("third call: %+v %v", r, err)
	}
	if inner.Calls() != 3 {
		t.Errorf("calls = %d, want 3", inner.Calls())
	}
	if store.Len() != 1 {
		t.Errorf("store has %d entries, want 1", store.Len())
	}
}

func TestCacheStream(t *testing.T) {
	ctx := context.Background()
	inner := &streaming{scripted{script: []result{{text: "hello world"}}}}
	c := providers.Cached(inner, &providers.MemStore{}, providers.CacheConfig{Scope: "s"})
	s, ok := c.(providers.Streamer)
	if !ok {
		t.Fatal("Cached dropped Streamer")
	}
	var chunks []string
	collect := func(ch providers.Chunk) error { chunks = append(chunks, ch.Text); return nil }
	if _, err := s.Stream(ctx, baseRequest(), collect); err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 2 {
		t.Fatalf("miss delivered %d chunks, want the inner's 2", len(chunks))
	}
	chunks = nil
	resp, err := s.Stream(ctx, baseRequest(), collect)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Cached || resp.TTFT != 0 || len(chunks) != 1 || chunks[0] != "hello world" {
		t.Errorf("hit: resp %+v chunks %q", resp, chunks)
	}
	// Generate shares entries with Stream.
	if r, _ := c.Generate(ctx, baseRequest()); !r.Cached {
		t.Error("Generate missed an entry made by Stream")
	}
	if inner.Calls() != 1 {
		t.Errorf("calls = %d, want 1", inner.Calls())
	}
	if _, ok := providers.Cached(&scripted{}, &providers.MemStore{}, providers.CacheConfig{}).(providers.Streamer); ok {
		t.Error("Cached claims Streamer for a non-streaming provider")
	}
}

type failingStore struct{}

func (failingStore) Get(context.Context, string) ([]byte, bool, error) {
	return nil, false, fmt.Errorf("disk on fire")
}
func (failingStore) Put(context.Context, string, []byte) error { return fmt.Errorf("disk on fire") }

func TestCacheStoreErrorsDoNotFailRequests(t *testing.T) {
	var errs []error
	c := providers.Cached(&scripted{}, failingStore{}, providers.CacheConfig{Scope: "s", OnStoreError: func(err error) { errs = append(errs, err) }})
	if r, err := c.Generate(context.Background(), baseRequest()); err != nil || r.Text != "ok" {
		t.Fatalf("%+v %v", r, err)
	}
	if len(errs) != 2 {
		t.Errorf("OnStoreError called %d times, want 2 (get and put)", len(errs))
	}
}

func TestCacheCorruptEntryIsAMiss(t *testing.T) {
	ctx := context.Background()
	store := &providers.MemStore{}
	key, _ := providers.CacheKey("s", baseRequest(), 0)
	store.Put(ctx, key, []byte("{not json"))
	inner := &scripted{}
	c := providers.Cached(inner, store, providers.CacheConfig{Scope: "s"})
	if r, err := c.Generate(ctx, baseRequest()); err != nil || r.Cached {
		t.Fatalf("%+v %v", r, err)
	}
	if r, _ := c.Generate(ctx, baseRequest()); !r.Cached {
		t.Error("corrupt entry was not overwritten")
	}
}

func TestDirStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := providers.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.Repeat("ab", 32)
	if _, ok, err := s.Get(ctx, key); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	if err := s.Put(ctx, key, []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, key, []byte("v2")); err != nil {
		t.Fatal(err)
	}
	v, ok, err := s.Get(ctx, key)
	if !ok || err != nil || string(v) != "v2" {
		t.Fatalf("Get = %q %v %v", v, ok, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ab", key)); err != nil {
		t.Errorf("not sharded: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "ab"))
	if len(entries) != 1 {
		t.Errorf("shard has %d files, want 1 (temporary files left behind?)", len(entries))
	}
	for _, bad := range []string{"../../etc/passwd", "a/b/c", "ab", ""} {
		if err := s.Put(ctx, bad, []byte("x")); err == nil {
			t.Errorf("Put(%q) accepted", bad)
		}
	}
}

func TestDirStoreConcurrent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// Two stores on one directory stand in for two processes.
	s1, _ := providers.NewDirStore(dir)
	s2, _ := providers.NewDirStore(dir)
	key := strings.Repeat("cd", 32)
	want := map[string]bool{}
	for i := range 8 {
		want[strings.Repeat(fmt.Sprint(i), 4096)] = true
	}
	var wg sync.WaitGroup
	for v := range want {
		for _, s := range []*providers.DirStore{s1, s2} {
			wg.Go(func() {
				for range 10 {
					if err := s.Put(ctx, key, []byte(v)); err != nil {
						t.Error(err)
					}
					got, ok, err := s.Get(ctx, key)
					if err != nil || !ok || !want[string(got)] {
						t.Errorf("torn or missing read: ok=%v err=%v len=%d", ok, err, len(got))
					}
				}
			})
		}
	}
	wg.Wait()
}

func TestCachedOnDirStore(t *testing.T) {
	ctx := context.Background()
	store, _ := providers.NewDirStore(t.TempDir())
	inner := &scripted{}
	c1 := providers.Cached(inner, store, providers.CacheConfig{Scope: "s"})
	c1.Generate(ctx, baseRequest())
	// A new Cache on the same directory (a later run) hits.
	c2 := providers.Cached(inner, store, providers.CacheConfig{Scope: "s"})
	if r, err := c2.Generate(ctx, baseRequest()); err != nil || !r.Cached {
		t.Fatalf("%+v %v", r, err)
	}
	if inner.Calls() != 1 {
		t.Errorf("calls = %d", inner.Calls())
	}
}

func TestRepeatFrom(t *testing.T) {
	ctx := context.Background()
	if got := providers.RepeatFrom(ctx); got != 0 {
		t.Errorf("RepeatFrom(empty) = %d", got)
	}
	if got := providers.RepeatFrom(providers.WithRepeat(ctx, 3)); got != 3 {
		t.Errorf("RepeatFrom = %d, want 3", got)
	}
}

// BenchmarkCacheKey measures key derivation for a typical request.
//
//	go test -run '^$' -bench CacheKey -benchmem ./providers/
func BenchmarkCacheKey(b *testing.B) {
	req := baseRequest()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := providers.CacheKey("openai@api.openai.com", req, 3); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDirStoreUsageAndClear(t *testing.T) {
	dir := t.TempDir()
	s, err := providers.NewDirStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"abc123", "abd456", "ffee00"} {
		if err := s.Put(ctx, k, []byte("value-"+k)); err != nil {
			t.Fatal(err)
		}
	}
	// A torn temporary file and a stranger's file beside the shards.
	if err := os.WriteFile(filepath.Join(dir, "ab", ".tmp-123"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, size, err := s.Usage()
	if err != nil || n != 3 || size != int64(3*len("value-abc123")) {
		t.Fatalf("Usage = %d entries, %d bytes, %v; want 3, %d", n, size, err, 3*len("value-abc123"))
	}
	cleared, err := s.Clear()
	if err != nil || cleared != 3 {
		t.Fatalf("Clear = %d, %v; want 3", cleared, err)
	}
	if _, ok, _ := s.Get(ctx, "abc123"); ok {
		t.Error("entry survived Clear")
	}
	if _, err := os.Stat(filepath.Join(dir, "ab", ".tmp-123")); !os.IsNotExist(err) {
		t.Error("temporary file survived Clear")
	}
	if _, err := os.Stat(filepath.Join(dir, "README")); err != nil {
		t.Error("Clear removed a file that is not an entry")
	}
	if n, _, _ := s.Usage(); n != 0 {
		t.Errorf("after Clear: %d entries", n)
	}
}

// TestCacheKeyTextOnlyStable pins the key of a text-only request: adding
// image parts to the protocol must not invalidate existing caches.
func TestCacheKeyTextOnlyStable(t *testing.T) {
	k, err := providers.CacheKey("openai@api.openai.com", baseRequest(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := "2a0e9a17912d73671882b768c810e28cd7d52653624f3648d1d675524bfcb397"; k != want {
		t.Errorf("text-only key = %s, want %s (unchanged since before image parts)", k, want)
	}
}
