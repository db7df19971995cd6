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

// genRequest is one sequence of a batched generation.
type genRequest struct {
	Ctx    context.Context // ends this sequence alone (nil: never)
	Prompt []int32
	Opts   genOptions
}

// genResult is one sequence's outcome: a generation or an error (the sequence's ctx ended).
type genResult struct {
	G   *generation
	Err error
}

// genRow is a sequence being decoded in a batch.
type genRow struct {
	out     int // index into the results
	req     *genRequest
	g       *generation
	maxNew  int
	pos     int64 // rotary position of the next token
	start   int64 // first cache column of the sequence (left padding before it)
	smp     *sampler
	stopID  map[int32]bool
	maxStop int
	checked int // bytes of text already searched for stop sequences
	next    int32
}

// negInf is the additive mask value for a position not attended to.
var negInf = float32(math.Inf(-1))

// generateBatch runs several generations at once: one batched prefill of the left-padded prompts (each row
// with its own positions and a mask hiding the padding), then one batched decode step per token, all rows
// sharing one KV cache. A row that finishes (stop token, stop sequence, its MaxTokens, the window, or its
// ctx ending) leaves the batch, which is compacted, so the remaining rows cost what they would alone.
// Greedy rows take the argmax inside libtorch; only sampling rows copy their logits out. Each row's result
// equals model.generate's for it alone, up to float rounding. Call it on the torch thread with grad off.
func (m *model) generateBatch(tok tokenize.Tokenizer, reqs []genRequest) []genResult {
	res := make([]genResult, len(reqs))
	window := m.cfg.MaxPositionEmbeddings
	var rows []*genRow
	for i := range reqs {
		r := &reqs[i]
		maxNew := r.Opts.MaxTokens
		if maxNew <= 0 {
			maxNew = defaultMaxTokens
		}
		g := &generation{PromptTokens: len(r.Prompt), FinishReason: "length"}
		res[i].G = g
		if window > 0 && len(r.Prompt)+maxNew > window {
			maxNew = window - len(r.Prompt)
		}
		if maxNew <= 0 || len(r.Prompt) == 0 {
			continue
		}
		row := &genRow{out: i, req: r, g: g, maxNew: maxNew, pos: int64(len(r.Prompt)), smp: newSampler(r.Opts), stopID: map[int32]bool{}}
		for _, id := range r.Opts.StopIDs {
			row.stopID[id] = true
		}
		for _, st := range r.Opts.Stop {
			row.maxStop = max(row.maxStop, len(st))
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return res
	}
	// Prefill: prompts right-aligned at columns [T-len, T).
	T, capacity := int64(0), int64(0)
	for _, r := range rows {
		T = max(T, int64(len(r.req.Prompt)))
	}
	for _, r := range rows {
		r.start = T - int64(len(r.req.Prompt))
		capacity = max(capacity, T+int64(r.maxNew))
	}
	c := m.newCache(int64(len(rows)), capacity)
	defer func() { c.free() }()
	m.ensureRope(capacity + 1)
	b := int64(len(rows))
	ids := make([]int64, b*T)
	pos := make([]int64, b*T)
	padded := false
	for i, r := range rows {
		for j, id := range r.req.Prompt {
			ids[int64(i)*T+r.start+int64(j)] = int64(id)
			pos[int64(i)*T+r.start+int64(j)] = int64(j)
		}
		padded = padded || r.start > 0
	}
	var mask []float32
	if padded {
		// Row i, query column q attends key column k ≤ q of its own prompt; a padding query attends itself
		// only (its output is never used, but a row of -inf would make NaNs).
		mask = make([]float32, b*T*T)
		for i, r := range rows {
			for q := int64(0); q < T; q++ {
				for k := int64(0); k < T; k++ {
					if k != q && (k > q || k < r.start) {
						mask[(int64(i)*T+q)*T+k] = negInf
					}
				}
			}
		}
	}
	m.step(c, rows, ids, pos, mask, T)
	for {
		// Consume each row's new token; drop the rows that are done.
		keep := rows[:0:0]
		for _, r := range rows {
			if m.advance(tok, r, &res[r.out]) {
				keep = append(keep, r)
			}
		}
		if len(keep) == 0 {
			break
		}
		if len(keep) < len(rows) {
			idx := make([]int64, 0, len(keep))
			j := 0
			for i, r := range rows {
				if j < len(keep) && keep[j] == r {
					idx = append(idx, int64(i))
					j++
				}
			}
			c.keep(idx)
		}
		rows = keep
		b := int64(len(rows))
		total := c.n + 1
		ids := make([]int64, b)
		pos := make([]int64, b)
		var mask []float32
		padded := false
		for i, r := range rows {
			ids[i], pos[i] = int64(r.next), r.pos
			r.pos++
			padded = padded || r.start > 0
		}
		if padded {
			mask = make([]float32, b*total)
			for i, r := range rows {
				for k := int64(0); k < r.start; k++ {
					mask[int64(i)*total+k] = negInf
				}
			}
		}
		m.step(c, rows, ids, pos, mask, 1)
	}
	return res
}

// step runs ids [B, t] at per-row rotary positions pos [B, t] through the model, appending to c, with the
// additive mask [B, 1, t, c.n+t] (nil: causal), and sets each row's next token from the last position.
func (m *model) step(c *kvCache, rows []*genRow, ids, pos []int64, mask []float32, t int64) {
	var s scope
	defer s.free()
	b := int64(len(rows))
	in := s.t(fromInt64s(ids, b, t))
	pt := s.t(fromInt64s(pos, b, t))
	f := fwdOpts{c: c,
		cos: s.t(unsqueeze(s.t(embedding(m.cos, pt)), 1)),
		sin: s.t(unsqueeze(s.t(embedding(m.sin, pt)), 1)),
	}
	if mask != nil {
		f.mask = s.t(fromFloat32s(mask, b, 1, t, c.n+t))
	}
	h := m.hiddenStatesWith(&s, in, b, t, f)
	last := h
	if t > 1 {
		last = s.t(narrow(h, 1, t-1, 1))
	}
	// Logits [B, V] as (W · hᵀ)ᵀ: for a few rows against the 49k-row head, MKL runs W·hᵀ (hᵀ contiguous)
	// 2–4× faster than h·Wᵀ (measured at batch 8: 8 ms vs 36 ms for SmolLM2's head on two cores).
	ht := s.t(contiguous(s.t(transpose(s.t(view(last, b, m.hidden)), 0, 1)))) // [H, B]
	lg := s.t(transpose(s.t(mm(m.lmHead, ht)), 0, 1))                         // [B, V], a view
	greedy := true
	for _, r := range rows {
		greedy = greedy && r.smp.temp <= 0
	}
	if greedy {
		for i, id := range s.t(argmaxLast(lg)).int64s() {
			rows[i].next = int32(id)
		}
		return
	}
	var buf []float32
	for i, r := range rows {
		row := s.t(narrow(lg, 0, int64(i), 1))
		if r.smp.temp <= 0 {
			r.next = int32(s.t(argmaxLast(row)).int64s()[0])
			continue
		}
		buf = row.float32sInto(buf)
		r.next = r.smp.pick(buf)
	}
}

// advance takes row r's freshly picked token, as generate's loop does, and reports whether the row goes on.
func (m *model) advance(tok tokenize.Tokenizer, r *genRow, res *genResult) bool {
	g := r.g
	if r.req.Ctx != nil {
		if err := r.req.Ctx.Err(); err != nil {
			res.G, res.Err = nil, err
			return false
		}
	}
	next := r.next
	if r.stopID[next] {
		g.FinishReason = "stop"
		m.finish(tok, r)
		return false
	}
	g.IDs = append(g.IDs, next)
	if len(r.req.Opts.Stop) > 0 && tok != nil {
		text := tok.Decode(g.IDs)
		from := max(0, r.checked-r.maxStop)
		if cut, ok := findStop(text, from, r.req.Opts.Stop); ok {
			g.Text = text[:cut]
			g.FinishReason = "stop"
			return false
		}
		r.checked = len(text)
	}
	if len(g.IDs) == r.maxNew {
		m.finish(tok, r)
		return false
	}
	return true
}

func (m *model) finish(tok tokenize.Tokenizer, r *genRow) {
	if tok != nil {
		r.g.Text = tok.Decode(r.g.IDs)
	}
}
