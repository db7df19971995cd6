//go:build torch

package torch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune/tokenize"
	"github.com/yardstick-eval/yardstick/providers"
)

var fixturePrompt = []int32{1, 17, 33, 90, 5, 64, 101, 7}

// TestKVCacheMatchesFullRecompute: cached decoding (one new position at a time, grouped-query heads folded
// into the query axis) gives the logits a full forward pass over the whole sequence gives.
func TestKVCacheMatchesFullRecompute(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			lockThread(t)
			f := openFixture(t, name)
			m := f.model(t)
			prev := setGradEnabled(false)
			defer setGradEnabled(prev)
			c := m.newCache(1, 64)
			defer c.free()
			seq := append([]int32(nil), fixturePrompt...)
			cached := func(ids []int32) []float32 {
				var s scope
				defer s.free()
				return m.lastLogits(&s, ids, c).float32s()
			}
			logits := cached(seq)
			worst := 0.0
			for range 24 {
				var s scope
				full := m.logits(&s, s.t(fromInt32sAsInt64(seq, 1, int64(len(seq)))), 1, int64(len(seq)), nil)
				want := s.t(narrow(full, 1, int64(len(seq))-1, 1)).float32s()
				s.free()
				worst = max(worst, maxAbsDiff(logits, want))
				next := (&sampler{}).pick(logits)
				if (&sampler{}).pick(want) != next {
					t.Fatalf("position %d: cached argmax %d, full argmax %d", len(seq), next, (&sampler{}).pick(want))
				}
				seq = append(seq, next)
				logits = cached([]int32{next})
			}
			t.Logf("max |Δlogit| cached vs full over 24 positions: %.3g", worst)
			if worst > parityTol {
				t.Errorf("cached logits differ from full recompute by %g", worst)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	lockThread(t)
	f := openFixture(t, "tiny")
	m := f.model(t)
	prev := setGradEnabled(false)
	defer setGradEnabled(prev)
	tok := tokenize.NewBytes() // decodes ids < 128 as ASCII
	gen := func(o genOptions) *generation {
		t.Helper()
		g, err := m.generate(context.Background(), tok, fixturePrompt, o)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	greedy := gen(genOptions{MaxTokens: 20})
	if len(greedy.IDs) != 20 || greedy.FinishReason != "length" || greedy.PromptTokens != len(fixturePrompt) {
		t.Fatalf("greedy: %d ids, finish %q, prompt %d", len(greedy.IDs), greedy.FinishReason, greedy.PromptTokens)
	}
	ids := fmt.Sprint(greedy.IDs)
	t.Run("greedy is deterministic", func(t *testing.T) {
		if got := fmt.Sprint(gen(genOptions{MaxTokens: 20}).IDs); got != ids {
			t.Errorf("second greedy run %s, first %s", got, ids)
		}
	})
	t.Run("tiny top-p is greedy", func(t *testing.T) {
		if got := fmt.Sprint(gen(genOptions{MaxTokens: 20, Temperature: 1, TopP: 1e-9, Seed: 3}).IDs); got != ids {
			t.Errorf("top-p 1e-9 gave %s, greedy %s", got, ids)
		}
	})
	t.Run("seeded sampling", func(t *testing.T) {
		o := genOptions{MaxTokens: 20, Temperature: 1.0, TopP: 0.95, Seed: 7}
		a, b := fmt.Sprint(gen(o).IDs), fmt.Sprint(gen(o).IDs)
		if a != b {
			t.Errorf("same seed, different samples: %s vs %s", a, b)
		}
		distinct := map[string]bool{a: true}
		for seed := int64(1); seed <= 3; seed++ {
			o.Seed = seed
			distinct[fmt.Sprint(gen(o).IDs)] = true
		}
		if len(distinct) < 2 {
			t.Errorf("four seeds gave one sample: sampling ignores the seed")
		}
	})
	t.Run("stop token", func(t *testing.T) {
		g := gen(genOptions{MaxTokens: 20, StopIDs: []int32{greedy.IDs[4]}})
		first := 0
		for first < 4 && greedy.IDs[first] != greedy.IDs[4] {
			first++
		}
		if g.FinishReason != "stop" || fmt.Sprint(g.IDs) != fmt.Sprint(greedy.IDs[:first]) {
			t.Errorf("got %v (%s), want %v (stop)", g.IDs, g.FinishReason, greedy.IDs[:first])
		}
	})
	t.Run("stop sequence", func(t *testing.T) {
		text := tok.Decode(greedy.IDs)
		stop := text[6:8]
		want := text[:strings.Index(text, stop)]
		g := gen(genOptions{MaxTokens: 20, Stop: []string{"never-there", stop}})
		if g.Text != want || g.FinishReason != "stop" {
			t.Errorf("got %q (%s), want %q (stop)", g.Text, g.FinishReason, want)
		}
	})
	t.Run("context window", func(t *testing.T) {
		g := gen(genOptions{MaxTokens: 1000})
		if len(g.IDs)+len(fixturePrompt) != f.cfg.MaxPositionEmbeddings || g.FinishReason != "length" {
			t.Errorf("%d tokens (%s); want to stop at the %d-position window", len(g.IDs), g.FinishReason, f.cfg.MaxPositionEmbeddings)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := m.generate(ctx, tok, fixturePrompt, genOptions{MaxTokens: 5}); !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want context.Canceled", err)
		}
	})
}

// TestGenerateBatchMatchesAlone: a batch of prompts of different lengths (left-padded, masked, with
// per-row positions), different lengths to generate, a stop token, a sampling row and a row whose ctx is
// already over gives each row exactly what generate gives it alone.
func TestGenerateBatchMatchesAlone(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			lockThread(t)
			f := openFixture(t, name)
			m := f.model(t)
			prev := setGradEnabled(false)
			defer setGradEnabled(prev)
			tok := tokenize.NewBytes()
			long := append(append([]int32(nil), fixturePrompt...), 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54)
			canceled, cancel := context.WithCancel(context.Background())
			cancel()
			reqs := []genRequest{
				{Prompt: fixturePrompt, Opts: genOptions{MaxTokens: 20}},
				{Prompt: long, Opts: genOptions{MaxTokens: 12}},
				{Prompt: fixturePrompt[:3], Opts: genOptions{MaxTokens: 25}},
				{Prompt: long[5:], Opts: genOptions{MaxTokens: 16, Temperature: 0.9, TopP: 0.9, Seed: 5}},
				{Prompt: []int32{1, 99}, Opts: genOptions{MaxTokens: 30}},
				{Prompt: fixturePrompt, Opts: genOptions{MaxTokens: 20}, Ctx: canceled},
				{Prompt: long[2:], Opts: genOptions{MaxTokens: 1000}}, // to the window
			}
			// A stop token the first row meets on its way.
			alone0, err := m.generate(context.Background(), tok, fixturePrompt, genOptions{MaxTokens: 20})
			if err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, genRequest{Prompt: fixturePrompt, Opts: genOptions{MaxTokens: 20, StopIDs: []int32{alone0.IDs[6]}}})
			got := m.generateBatch(tok, reqs)
			for i, r := range reqs {
				ctx := r.Ctx
				if ctx == nil {
					ctx = context.Background()
				}
				want, werr := m.generate(ctx, tok, r.Prompt, r.Opts)
				if werr != nil || got[i].Err != nil {
					if !errors.Is(got[i].Err, werr) {
						t.Errorf("row %d: error %v, alone %v", i, got[i].Err, werr)
					}
					continue
				}
				g := got[i].G
				if fmt.Sprint(g.IDs) != fmt.Sprint(want.IDs) || g.Text != want.Text || g.FinishReason != want.FinishReason || g.PromptTokens != want.PromptTokens {
					t.Errorf("row %d batched: %v %q %s %d\n      alone: %v %q %s %d", i, g.IDs, g.Text, g.FinishReason, g.PromptTokens,
						want.IDs, want.Text, want.FinishReason, want.PromptTokens)
				}
			}
			if got[len(reqs)-1].G.FinishReason != "stop" {
				t.Errorf("stop-token row finished with %q", got[len(reqs)-1].G.FinishReason)
			}
		})
	}
}

// TestBatchedLogitsMatch: the left-padded batched prefill and decode give each row the logits of its
// unpadded run alone.
func TestBatchedLogitsMatch(t *testing.T) {
	lockThread(t)
	f := openFixture(t, "tiny")
	m := f.model(t)
	prev := setGradEnabled(false)
	defer setGradEnabled(prev)
	short := fixturePrompt[:4]
	c := m.newCache(2, 32)
	defer c.free()
	T := int64(len(fixturePrompt))
	ids := make([]int64, 2*T)
	pos := make([]int64, 2*T)
	mask := make([]float32, 2*T*T)
	for j, id := range short {
		ids[4+j], pos[4+j] = int64(id), int64(j)
	}
	for j, id := range fixturePrompt {
		ids[T+int64(j)], pos[T+int64(j)] = int64(id), int64(j)
	}
	for q := int64(0); q < T; q++ {
		for k := int64(0); k < T; k++ {
			if k > q || (k < 4 && k != q) {
				mask[q*T+k] = negInf
			}
			if k > q {
				mask[T*T+q*T+k] = negInf
			}
		}
	}
	m.ensureRope(64)
	var s scope
	defer s.free()
	pt := s.t(fromInt64s(pos, 2, T))
	fo := fwdOpts{c: c, cos: s.t(unsqueeze(s.t(embedding(m.cos, pt)), 1)), sin: s.t(unsqueeze(s.t(embedding(m.sin, pt)), 1)),
		mask: s.t(fromFloat32s(mask, 2, 1, T, T))}
	h := m.hiddenStatesWith(&s, s.t(fromInt64s(ids, 2, T)), 2, T, fo)
	lg := s.t(linear(s.t(narrow(h, 1, T-1, 1)), m.lmHead))
	for i, p := range [][]int32{short, fixturePrompt} {
		var s2 scope
		want := m.logits(&s2, s2.t(fromInt32sAsInt64(p, 1, int64(len(p)))), 1, int64(len(p)), nil)
		want = s2.t(narrow(want, 1, int64(len(p))-1, 1))
		compare(t, fmt.Sprintf("row %d prefill logits", i), s.t(narrow(lg, 0, int64(i), 1)).float32s(), want.float32s(), parityTol)
		s2.free()
	}
}

// TestProviderConcurrent: the local provider serves many goroutines at once (requests queue for the model)
// and each gets exactly the answer it gets alone.
func TestProviderConcurrent(t *testing.T) {
	dir := t.TempDir()
	data := writeChatData(t, dir, 24)
	out := filepath.Join(dir, "run")
	if _, err := Train(context.Background(), TrainOptions{Data: data, Base: "scratch", Out: out, Config: smallConfig(30)}); err != nil {
		t.Fatal(err)
	}
	p, err := NewProvider(out, ProviderOptions{Name: "support-ft", Threads: 1, MaxTokens: 12})
	if err != nil {
		t.Fatal(err)
	}
	defer p.(interface{ Close() error }).Close()
	reqs := make([]*providers.Request, 4)
	for i := range reqs {
		reqs[i] = &providers.Request{
			System:   "You answer order questions.",
			Messages: []providers.Message{{Role: providers.RoleUser, Content: fmt.Sprintf("Where is order %d?", i)}},
		}
	}
	reqs[3].Temperature, reqs[3].Seed = providers.Float64(0.8), providers.Int64(42)
	serial := make([]*providers.Response, len(reqs))
	for i, r := range reqs {
		if serial[i], err = p.Generate(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		resp := serial[i]
		t.Logf("%d: %q %s %+v", i, resp.Text, resp.FinishReason, resp.Usage)
		if resp.Model != "support-ft" || resp.Usage.InputTokens == 0 || resp.Usage.OutputTokens == 0 ||
			(resp.FinishReason != "stop" && resp.FinishReason != "length") {
			t.Errorf("response %d: %+v", i, resp)
		}
		if resp.FinishReason == "length" && resp.Usage.OutputTokens != 12 {
			t.Errorf("response %d: length finish after %d tokens, MaxTokens 12", i, resp.Usage.OutputTokens)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for k := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := k % len(reqs)
			resp, err := p.Generate(context.Background(), reqs[i])
			if err != nil {
				errs <- err
				return
			}
			if resp.Text != serial[i].Text || resp.Usage != serial[i].Usage {
				errs <- fmt.Errorf("request %d concurrently: %q %+v, alone: %q %+v", i, resp.Text, resp.Usage, serial[i].Text, serial[i].Usage)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := p.(*localProvider).largest.Load(); n < 2 {
		t.Errorf("32 concurrent requests ran in batches of at most %d", n)
	} else {
		t.Logf("largest batch: %d", n)
	}

	t.Run("errors", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := p.Generate(ctx, reqs[0])
		if providers.KindOf(err) != providers.KindCanceled {
			t.Errorf("canceled: err %v kind %q", err, providers.KindOf(err))
		}
		// A text model refuses images rather than dropping them.
		withImage := &providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: "q",
			Images: []providers.Image{{MIMEType: "image/png", Data: []byte("\x89PNG")}}}}}
		if _, err := p.Generate(context.Background(), withImage); providers.KindOf(err) != providers.KindInvalidRequest {
			t.Errorf("image request: err %v kind %q", err, providers.KindOf(err))
		}
		// The run trained from scratch on 65-token sequences whose long prompts were cut to promptBudget(64)
		// tokens: a long prompt is cut the same way (it would fit 65-12 otherwise).
		long := &providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: strings.Repeat("x", 600)}}}
		resp, err := p.Generate(context.Background(), long)
		if want := promptBudget(64); err != nil || resp.Usage.InputTokens != want {
			t.Errorf("over-long prompt: %v, usage %+v; want %d prompt tokens", err, resp, want)
		}
		_, err = p.Generate(context.Background(), &providers.Request{MaxTokens: 60, Messages: reqs[0].Messages})
		var pe *providers.Error
		if !errors.As(err, &pe) || pe.Kind != providers.KindContextLength || pe.Provider != "local" {
			t.Errorf("max_tokens beyond the window: %v", err)
		}
		if _, err := NewProvider(filepath.Join(dir, "missing"), ProviderOptions{}); err == nil {
			t.Error("NewProvider on a missing directory succeeded")
		}
	})
}
