//go:build torch

package torch

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/yardstick-eval/yardstick/finetune/tokenize"
)

const defaultMaxTokens = 256

// genOptions controls one generation.
type genOptions struct {
	MaxTokens   int      // tokens to generate at most; ≤ 0 means 256
	Temperature float64  // 0: greedy (argmax); otherwise logits are divided by it before sampling
	TopP        float64  // nucleus sampling mass in (0, 1); 0 or ≥ 1 disables it
	Seed        int64    // sampling PRNG seed; the same seed gives the same text
	Stop        []string // stop sequences: generation ends before the first occurrence
	StopIDs     []int32  // stop tokens (end of turn, EOS): generation ends when one is sampled
}

// generation is the result of model.generate.
type generation struct {
	Text         string  // decoded output, stop sequence and stop token excluded
	IDs          []int32 // generated token ids, stop token excluded
	FinishReason string  // "stop" (stop token or sequence) or "length"
	PromptTokens int
}

// lastLogits runs ids [1, T] through the model (appending to c) and returns the last position's logits
// [1, 1, V], owned by s.
func (m *model) lastLogits(s *scope, ids []int32, c *kvCache) tensor {
	t := int64(len(ids))
	in := s.t(fromInt32sAsInt64(ids, 1, t))
	h := m.hiddenStates(s, in, 1, t, c)
	last := s.t(narrow(h, 1, t-1, 1))
	return s.t(linear(last, m.lmHead))
}

// nextToken runs ids through the model and picks the next token: the argmax is taken inside libtorch for
// greedy decoding; sampling copies the logits into buf.
func (m *model) nextToken(ids []int32, c *kvCache, smp *sampler, buf *[]float32) int32 {
	var s scope
	defer s.free()
	lg := m.lastLogits(&s, ids, c)
	if smp.temp <= 0 {
		return int32(s.t(argmaxLast(s.t(view(lg, -1)))).int64s()[0])
	}
	*buf = lg.float32sInto(*buf)
	return smp.pick(*buf)
}

// sampler picks the next token from logits.
type sampler struct {
	temp, topP float64
	rng        *rand.Rand
	probs      []float64
	idx        []int
}

func newSampler(o genOptions) *sampler {
	return &sampler{temp: o.Temperature, topP: o.TopP, rng: rand.New(rand.NewPCG(uint64(o.Seed), 0x73616d706c65))}
}

func (s *sampler) pick(logits []float32) int32 {
	if s.temp <= 0 {
		best := 0
		for i, v := range logits {
			if v > logits[best] {
				best = i
			}
		}
		return int32(best)
	}
	n := len(logits)
	if cap(s.probs) < n {
		s.probs = make([]float64, n)
		s.idx = make([]int, n)
	}
	p, idx := s.probs[:n], s.idx[:n]
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	sum := 0.0
	for i, v := range logits {
		p[i] = math.Exp((float64(v) - mx) / s.temp)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
		idx[i] = i
	}
	if s.topP > 0 && s.topP < 1 {
		// Keep the most probable tokens whose cumulative mass reaches topP (at least one); ties broken by id.
		sort.Slice(idx, func(a, b int) bool {
			if p[idx[a]] != p[idx[b]] {
				return p[idx[a]] > p[idx[b]]
			}
			return idx[a] < idx[b]
		})
		cum, k := 0.0, 0
		for k < n {
			cum += p[idx[k]]
			k++
			if cum >= s.topP {
				break
			}
		}
		idx = idx[:k]
		sum = cum
	} else {
		sum = 1
	}
	u := s.rng.Float64() * sum
	acc := 0.0
	for _, i := range idx {
		acc += p[i]
		if u < acc {
			return int32(i)
		}
	}
	return int32(idx[len(idx)-1])
}

// generate continues prompt with KV caching, stopping at a stop token, a stop sequence, o.MaxTokens or the
// model's context window. It checks ctx between tokens. Call it on the torch thread with grad mode off.
// With tok nil nothing is decoded (Text stays empty and Stop is ignored).
func (m *model) generate(ctx context.Context, tok tokenize.Tokenizer, prompt []int32, o genOptions) (*generation, error) {
	maxNew := o.MaxTokens
	if maxNew <= 0 {
		maxNew = defaultMaxTokens
	}
	window := m.cfg.MaxPositionEmbeddings
	g := &generation{PromptTokens: len(prompt), FinishReason: "length"}
	if window > 0 && len(prompt)+maxNew > window {
		maxNew = window - len(prompt)
	}
	if maxNew <= 0 || len(prompt) == 0 {
		return g, nil
	}
	c := m.newCache(1, int64(len(prompt)+maxNew))
	defer c.free()
	stopID := map[int32]bool{}
	for _, id := range o.StopIDs {
		stopID[id] = true
	}
	smp := newSampler(o)
	maxStop := 0
	for _, st := range o.Stop {
		maxStop = max(maxStop, len(st))
	}
	var buf []float32
	next := m.nextToken(prompt, c, smp, &buf)
	checked := 0 // bytes of text already searched for stop sequences
	for len(g.IDs) < maxNew {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if stopID[next] {
			g.FinishReason = "stop"
			break
		}
		g.IDs = append(g.IDs, next)
		if len(o.Stop) > 0 && tok != nil {
			text := tok.Decode(g.IDs)
			from := max(0, checked-maxStop)
			if cut, ok := findStop(text, from, o.Stop); ok {
				g.Text = text[:cut]
				g.FinishReason = "stop"
				return g, nil
			}
			checked = len(text)
		}
		if len(g.IDs) == maxNew {
			break
		}
		next = m.nextToken([]int32{next}, c, smp, &buf)
	}
	if tok != nil {
		g.Text = tok.Decode(g.IDs)
	}
	return g, nil
}

// findStop returns the earliest index ≥ from where any stop sequence starts.
func findStop(text string, from int, stops []string) (int, bool) {
	best, found := len(text), false
	for _, st := range stops {
		if st == "" {
			continue
		}
		if i := strings.Index(text[from:], st); i >= 0 && from+i < best {
			best, found = from+i, true
		}
	}
	return best, found
}
