//go:build torch

package torch

import (
	"fmt"
	"math"
	"slices"

	"github.com/yardstick-eval/yardstick/finetune"
)

// The LLaMA decoder (Hugging Face LlamaForCausalLM semantics, float32 throughout):
//
//	h = embed(ids)
//	for each layer: h = h + o(attn(rope(q(n1(h))), rope(k(n1(h))), v(n1(h))))   causal, grouped-query
//	                h = h + down(silu(gate(n2(h))) * up(n2(h)))
//	logits = lm_head(norm(h))        lm_head = embed when tie_word_embeddings
//
// RMSNorm: w * x * rsqrt(mean(x²) + eps). Rotary embeddings use HF's rotate_half convention:
// x*cos + cat(-x2, x1)*sin, with cos/sin of cat(freqs, freqs), freqs = position * inv_freq in float32.

// proj is a linear map without bias, optionally with a LoRA adapter: y = x·Wᵀ + scale·(drop(x)·Aᵀ)·Bᵀ.
type proj struct {
	name string // HF name without ".weight", e.g. "model.layers.0.self_attn.q_proj"
	w    tensor // [out, in]
	a, b tensor // LoRA: A [r, in], B [out, r]; zero when not adapted
}

type layer struct {
	inNorm, postNorm                tensor
	q, k, v, o, gate, up, down      *proj
	heads, kvHeads, headDim, hidden int64
}

// model holds the parameters. It is not safe for concurrent use; the package only uses it on the torch
// thread (thread.go).
type model struct {
	cfg    *finetune.ModelConfig
	params map[string]tensor // HF name → parameter, base weights only
	names  []string          // HF names in cfg.Tensors() order
	embed  tensor
	lmHead tensor // == embed when tied
	norm   tensor
	layers []*layer

	lora      *finetune.LoRAConfig // nil: no adapter
	loraScale float64
	training  bool // enables LoRA dropout

	ropeLen      int64
	cos, sin     tensor // [ropeLen, headDim]
	invFreq      []float32
	eps          float64
	vocab        int64
	hidden       int64
	headDim      int64
	heads, kvHds int64
}

func (m *model) free() {
	for _, t := range m.params {
		t.free()
	}
	m.params = nil
	for _, l := range m.layers {
		for _, p := range l.projs() {
			p.a.free()
			p.b.free()
		}
	}
	m.layers = nil
	m.cos.free()
	m.sin.free()
	m.cos, m.sin = tensor{}, tensor{}
}

func (l *layer) projs() []*proj { return []*proj{l.q, l.k, l.v, l.o, l.gate, l.up, l.down} }

// newModel wires parameters (already created, keyed by HF name) into the model structure.
// It validates every shape against cfg.
func newModel(cfg *finetune.ModelConfig, params map[string]tensor) (*model, error) {
	m := &model{
		cfg:     cfg,
		params:  params,
		eps:     cfg.RMSNormEps,
		vocab:   int64(cfg.VocabSize),
		hidden:  int64(cfg.HiddenSize),
		headDim: int64(cfg.HeadDimension()),
		heads:   int64(cfg.NumAttentionHeads),
		kvHds:   int64(cfg.KVHeads()),
	}
	for _, f := range cfg.RopeInvFreq() {
		m.invFreq = append(m.invFreq, float32(f))
	}
	for _, spec := range cfg.Tensors() {
		t, ok := params[spec.Name]
		if !ok {
			return nil, fmt.Errorf("weights: missing tensor %q", spec.Name)
		}
		if got := t.shape(); !slices.Equal(got, spec.Shape) {
			return nil, fmt.Errorf("weights: tensor %q has shape %v, config.json implies %v", spec.Name, got, spec.Shape)
		}
		m.names = append(m.names, spec.Name)
	}
	m.embed = params["model.embed_tokens.weight"]
	m.norm = params["model.norm.weight"]
	if cfg.TieWordEmbeddings {
		m.lmHead = m.embed
	} else {
		m.lmHead = params["lm_head.weight"]
	}
	for i := 0; i < cfg.NumHiddenLayers; i++ {
		pre := fmt.Sprintf("model.layers.%d.", i)
		p := func(n string) *proj { return &proj{name: pre + n, w: params[pre+n+".weight"]} }
		m.layers = append(m.layers, &layer{
			inNorm:   params[pre+"input_layernorm.weight"],
			postNorm: params[pre+"post_attention_layernorm.weight"],
			q:        p("self_attn.q_proj"), k: p("self_attn.k_proj"), v: p("self_attn.v_proj"), o: p("self_attn.o_proj"),
			gate: p("mlp.gate_proj"), up: p("mlp.up_proj"), down: p("mlp.down_proj"),
			heads: m.heads, kvHeads: m.kvHds, headDim: m.headDim, hidden: m.hidden,
		})
	}
	return m, nil
}

// ensureRope makes the cos/sin tables cover positions [0, n).
func (m *model) ensureRope(n int64) {
	if n <= m.ropeLen {
		return
	}
	size := m.ropeLen * 2
	if size < n {
		size = n
	}
	if size < 256 {
		size = 256
	}
	half := int64(len(m.invFreq))
	hd := m.headDim
	cosv := make([]float32, size*hd)
	sinv := make([]float32, size*hd)
	for p := int64(0); p < size; p++ {
		for j := int64(0); j < half; j++ {
			f := float32(p) * m.invFreq[j] // float32 product, as HF computes it
			c, s := float32(math.Cos(float64(f))), float32(math.Sin(float64(f)))
			cosv[p*hd+j], cosv[p*hd+j+half] = c, c
			sinv[p*hd+j], sinv[p*hd+j+half] = s, s
		}
	}
	m.cos.free()
	m.sin.free()
	m.cos = fromFloat32s(cosv, size, hd)
	m.sin = fromFloat32s(sinv, size, hd)
	m.ropeLen = size
}

func rmsNorm(s *scope, x, w tensor, eps float64) tensor {
	v := s.t(meanLastDim(s.t(square(x))))
	r := s.t(rsqrt(s.t(addScalar(v, eps))))
	return s.t(mul(s.t(mul(x, r)), w))
}

func (m *model) apply(s *scope, p *proj, x tensor) tensor {
	y := s.t(linear(x, p.w))
	if !p.a.ok() {
		return y
	}
	in := x
	if m.training && m.lora.Dropout > 0 {
		in = s.t(dropout(x, m.lora.Dropout))
	}
	d := s.t(linear(s.t(linear(in, p.a)), p.b))
	if m.loraScale != 1 {
		d = s.t(mulScalar(d, m.loraScale))
	}
	return s.t(add(y, d))
}

// rope applies rotary embeddings to x [B, H, T, D] with cos/sin [T, D].
func rope(s *scope, x, cos, sin tensor, d int64) tensor {
	x1 := s.t(narrow(x, -1, 0, d/2))
	x2 := s.t(narrow(x, -1, d/2, d/2))
	rot := s.t(cat([]tensor{s.t(neg(x2)), x1}, -1))
	return s.t(add(s.t(mul(x, cos)), s.t(mul(rot, sin))))
}

// kvCache holds each layer's keys and values for positions [0, n), preallocated to capacity.
type kvCache struct {
	k, v []tensor // [B, kvHeads, cap, D]
	n    int64
	cap  int64
}

func (m *model) newCache(batch, capacity int64) *kvCache {
	c := &kvCache{cap: capacity}
	for range m.layers {
		c.k = append(c.k, zeros(kFloat32, batch, m.kvHds, capacity, m.headDim))
		c.v = append(c.v, zeros(kFloat32, batch, m.kvHds, capacity, m.headDim))
	}
	return c
}

// keep compacts the cache to the batch rows idx (ascending), freeing the others' storage.
func (c *kvCache) keep(idx []int64) {
	it := fromInt64s(idx, int64(len(idx)))
	defer it.free()
	for i := range c.k {
		k, v := indexSelect(c.k[i], 0, it), indexSelect(c.v[i], 0, it)
		c.k[i].free()
		c.v[i].free()
		c.k[i], c.v[i] = k, v
	}
}

func (c *kvCache) free() {
	for i := range c.k {
		c.k[i].free()
		c.v[i].free()
	}
	c.k, c.v = nil, nil
}

// repeatKV expands [B, kv, T, D] to [B, kv*rep, T, D], kv head j serving query heads j*rep … j*rep+rep-1.
func repeatKV(s *scope, x tensor, b, kv, rep, t, d int64) tensor {
	if rep == 1 {
		return x
	}
	e := s.t(expand(s.t(unsqueeze(x, 2)), b, kv, rep, t, d))
	return s.t(reshape(e, b, kv*rep, t, d))
}

// fwdOpts are the optional inputs of a forward pass beyond the token ids.
type fwdOpts struct {
	// c, when set, receives the new keys and values at columns [c.n, c.n+T); attention covers [0, c.n+T).
	c *kvCache
	// cos, sin [B, 1, T, D], when set, are per-row rotary tables (rows of a batch at different positions);
	// otherwise every row uses positions c.n + [0, T).
	cos, sin tensor
	// mask, when set, is an additive float mask [B, 1, T, c.n+T] (0 attend, -inf not) replacing the causal
	// one: left padding of a batch of prompts of different lengths.
	mask tensor
}

// attention runs one layer's attention block on normalised input x [B, T, H].
func (m *model) attention(s *scope, li int, l *layer, x tensor, b, t int64, f fwdOpts) tensor {
	d, nh, nkv := l.headDim, l.heads, l.kvHeads
	rep := nh / nkv
	c := f.c
	q := s.t(transpose(s.t(view(m.apply(s, l.q, x), b, t, nh, d)), 1, 2))
	k := s.t(transpose(s.t(view(m.apply(s, l.k, x), b, t, nkv, d)), 1, 2))
	v := s.t(transpose(s.t(view(m.apply(s, l.v, x), b, t, nkv, d)), 1, 2))
	pos := int64(0)
	if c != nil {
		pos = c.n
	}
	cos, sin := f.cos, f.sin
	if !cos.ok() {
		cos = s.t(narrow(m.cos, 0, pos, t))
		sin = s.t(narrow(m.sin, 0, pos, t))
	}
	q = rope(s, q, cos, sin, d)
	k = rope(s, k, cos, sin, d)
	causal := !f.mask.ok()
	var out tensor
	switch {
	case c == nil:
		out = s.t(sdpaMasked(q, repeatKV(s, k, b, nkv, rep, t, d), repeatKV(s, v, b, nkv, rep, t, d), f.mask, causal))
	default:
		copyInto(s.t(narrow(c.k[li], 2, pos, t)), k)
		copyInto(s.t(narrow(c.v[li], 2, pos, t)), v)
		total := pos + t
		kk := s.t(narrow(c.k[li], 2, 0, total))
		vv := s.t(narrow(c.v[li], 2, 0, total))
		if t == 1 {
			// One new position sees every cached one: fold the query heads that share a kv head into the
			// query-length axis, so the cache is never copied: [B, nh, 1, D] → [B, kv, rep, D] (a mask
			// [B, 1, 1, total] broadcasts over it).
			qf := s.t(reshape(q, b, nkv, rep, d))
			o := s.t(sdpaMasked(qf, kk, vv, f.mask, false))
			out = s.t(reshape(o, b, nh, 1, d))
		} else {
			if pos != 0 {
				panic(&torchError{"kv cache: a multi-token step must start at position 0"})
			}
			out = s.t(sdpaMasked(q, repeatKV(s, kk, b, nkv, rep, total, d), repeatKV(s, vv, b, nkv, rep, total, d), f.mask, causal))
		}
	}
	o := s.t(reshape(s.t(transpose(out, 1, 2)), b, t, nh*d))
	return m.apply(s, l.o, o)
}

func (m *model) mlp(s *scope, l *layer, x tensor) tensor {
	g := s.t(silu(m.apply(s, l.gate, x)))
	u := m.apply(s, l.up, x)
	return m.apply(s, l.down, s.t(mul(g, u)))
}

// hiddenStates runs the decoder on ids [B, T] and returns the final normalised hidden states [B, T, H].
func (m *model) hiddenStates(s *scope, ids tensor, b, t int64, c *kvCache) tensor {
	return m.hiddenStatesWith(s, ids, b, t, fwdOpts{c: c})
}

// hiddenStatesWith is hiddenStates with per-row positions and a padding mask (see fwdOpts). With f.cos
// set, the caller has made the rotary tables cover the positions (ensureRope).
func (m *model) hiddenStatesWith(s *scope, ids tensor, b, t int64, f fwdOpts) tensor {
	c := f.c
	pos := int64(0)
	if c != nil {
		pos = c.n
		if pos+t > c.cap {
			panic(&torchError{fmt.Sprintf("kv cache: %d positions exceed capacity %d", pos+t, c.cap)})
		}
	}
	if !f.cos.ok() {
		m.ensureRope(pos + t)
	}
	h := s.t(embedding(m.embed, ids))
	for i := range m.layers {
		h = m.block(s, i, h, b, t, f)
	}
	if c != nil {
		c.n += t
	}
	return rmsNorm(s, h, m.norm, m.eps)
}

// block runs decoder layer i on the residual stream h [B, T, H].
func (m *model) block(s *scope, i int, h tensor, b, t int64, f fwdOpts) tensor {
	l := m.layers[i]
	a := m.attention(s, i, l, rmsNorm(s, h, l.inNorm, m.eps), b, t, f)
	h = s.t(add(h, a))
	g := m.mlp(s, l, rmsNorm(s, h, l.postNorm, m.eps))
	return s.t(add(h, g))
}

// logits returns [B, T, V] logits for ids [B, T].
func (m *model) logits(s *scope, ids tensor, b, t int64, c *kvCache) tensor {
	return s.t(linear(m.hiddenStates(s, ids, b, t, c), m.lmHead))
}

// lossChunk is how many target positions the vocabulary projection and cross-entropy handle at once:
// 256 × 49k logits are 50 MB (a few copies live during a chunk's backward), where a whole batch of 8 × 256
// positions would take 400 MB per copy.
const lossChunk = 256

// targetRows returns the flat positions of targets [B, T] that are not IgnoreIndex, and their targets.
func targetRows(targets tensor) (idx, tg []int64) {
	for i, v := range targets.int64s() {
		if v != finetune.IgnoreIndex {
			idx, tg = append(idx, int64(i)), append(tg, v)
		}
	}
	return idx, tg
}

// lossSum returns the summed cross-entropy over targets != IgnoreIndex, for ids and targets [B, T]. Only
// the target positions are projected onto the vocabulary (an assistant-only loss trains on a fraction of
// the positions), lossChunk rows at a time. With gradients on, autograd keeps each chunk's logits until
// backward: training uses trainStep, which does not.
func (m *model) lossSum(s *scope, ids, targets tensor, b, t int64) tensor {
	h := m.hiddenStates(s, ids, b, t, nil)
	idx, tg := targetRows(targets)
	sel := m.selectRows(s, h, idx, b*t)
	var sum tensor
	for i := 0; i < len(idx); i += lossChunk {
		n := min(lossChunk, len(idx)-i)
		l := m.chunkLoss(s, sel, tg, i, n)
		if sum.ok() {
			l = s.t(add(sum, l))
		}
		sum = l
	}
	if !sum.ok() {
		sum = s.t(zeros(kFloat32))
	}
	return sum
}

// selectRows gathers rows idx of h [B, T, H] viewed as [rows, H].
func (m *model) selectRows(s *scope, h tensor, idx []int64, rows int64) tensor {
	flat := s.t(view(h, rows, m.hidden))
	if len(idx) == 0 {
		return s.t(narrow(flat, 0, 0, 0))
	}
	return s.t(indexSelect(flat, 0, s.t(fromInt64s(idx, int64(len(idx))))))
}

// chunkLoss is the summed cross-entropy of rows [i, i+n) of sel against tg[i:i+n].
func (m *model) chunkLoss(s *scope, sel tensor, tg []int64, i, n int) tensor {
	x := s.t(narrow(sel, 0, int64(i), int64(n)))
	lg := s.t(linear(x, m.lmHead))
	return s.t(crossEntropySum(lg, s.t(fromInt64s(tg[i:i+n], int64(n))), finetune.IgnoreIndex))
}

// trainStep runs one micro-batch forward and backward, accumulating into the parameters' gradients the
// gradient of (summed target-token loss) × scale, and returns the summed loss. The vocabulary projection
// runs lossChunk target rows at a time, each chunk's backward right after its forward, so no logits
// outlive their chunk; the decoder's backward then runs once from the gathered hidden-state gradient.
// With checkpoint set, the decoder keeps only each layer's input during the forward pass and recomputes
// one layer at a time during the backward pass (gradient checkpointing): activation memory is one layer's
// instead of every layer's, for about one more forward pass of compute. seed reseeds libtorch's generator
// before each layer's forward (and its recomputation), so LoRA dropout masks repeat exactly.
func (m *model) trainStep(ids, targets tensor, b, t int64, scale float64, checkpoint bool, seed int64) float64 {
	idx, tg := targetRows(targets)
	if len(idx) == 0 {
		return 0
	}
	m.ensureRope(t)
	var outer scope
	defer outer.free()
	layerSeed := func(i int) int64 { return stepSeed(seed, i+1) }
	// The residual stream after the decoder, and (checkpointing) each layer's input.
	var top tensor
	var inputs []tensor
	if checkpoint {
		prev := setGradEnabled(false)
		h := outer.t(embedding(m.embed, ids))
		for i := range m.layers {
			inputs = append(inputs, h)
			manualSeed(layerSeed(i))
			var s scope
			nh := m.block(&s, i, h, b, t, fwdOpts{})
			h = outer.t(nh)
			s.owned = slices.DeleteFunc(s.owned, func(x tensor) bool { return x == nh })
			s.free()
		}
		setGradEnabled(prev)
		top = h
	} else {
		h := outer.t(embedding(m.embed, ids))
		for i := range m.layers {
			manualSeed(layerSeed(i))
			h = m.block(&outer, i, h, b, t, fwdOpts{})
		}
		top = h
	}
	// Head: norm, gather the target rows, chunked projection + loss, each chunk backward at once.
	topD := outer.t(detachGrad(top))
	hn := rmsNorm(&outer, topD, m.norm, m.eps)
	sel := m.selectRows(&outer, hn, idx, b*t)
	selD := outer.t(detachGrad(sel))
	total := 0.0
	for i := 0; i < len(idx); i += lossChunk {
		var s scope
		l := m.chunkLoss(&s, selD, tg, i, min(lossChunk, len(idx)-i))
		total += l.item()
		s.t(mulScalar(l, scale)).backward()
		s.free()
	}
	backwardFrom(&outer, sel, selD) // through the gather and the final norm into topD
	grad := outer.t(topD.grad())
	if !checkpoint {
		backwardWith(&outer, top, grad)
		return total
	}
	for i := len(m.layers) - 1; i >= 0; i-- {
		var s scope
		in := s.t(detachGrad(inputs[i]))
		manualSeed(layerSeed(i))
		out := m.block(&s, i, in, b, t, fwdOpts{})
		backwardWith(&s, out, grad)
		g := in.grad()
		s.free()
		grad = outer.t(g)
	}
	if m.embed.requiresGrad() {
		var s scope
		e := s.t(embedding(m.embed, ids))
		backwardWith(&s, e, grad)
		s.free()
	}
	return total
}

// backwardFrom back-propagates detached's accumulated gradient through x's graph.
func backwardFrom(s *scope, x, detached tensor) {
	g := detached.grad()
	if !g.ok() {
		return
	}
	s.t(g)
	backwardWith(s, x, g)
}

// backwardWith back-propagates the gradient g of x (x·g summed is the scalar whose gradient it is).
func backwardWith(s *scope, x, g tensor) {
	s.t(sumAll(s.t(mul(x, g)))).backward()
}

// trainable returns the parameters the optimiser updates, with stable names: LoRA A/B in PEFT naming when
// an adapter is attached, else every base weight in HF naming.
func (m *model) trainable() []namedTensor {
	var out []namedTensor
	if m.lora != nil {
		for _, l := range m.layers {
			for _, p := range l.projs() {
				if p.a.ok() {
					out = append(out, namedTensor{finetune.PEFTTensorName(p.name, "lora_A"), p.a},
						namedTensor{finetune.PEFTTensorName(p.name, "lora_B"), p.b})
				}
			}
		}
		return out
	}
	for _, n := range m.names {
		out = append(out, namedTensor{n, m.params[n]})
	}
	return out
}

type namedTensor struct {
	name string
	t    tensor
}
