//go:build torch

package torch

import (
	"fmt"
	"strconv"
	"unsafe"

	"github.com/yardstick-eval/yardstick/finetune/safetensors"
)

// adamW is torch.optim.AdamW (single-tensor, non-amsgrad) with its moments held as tensors here, so its
// state can be saved and restored exactly (gotch's optimizer keeps its state inside C++ where it cannot be
// serialised). The update runs in the shim (shim.cpp), one cgo call per step:
//
//	p ← p·(1 − lr·wd)                       (decay only for matrices: norms are not decayed, as HF does)
//	m ← β1·m + (1−β1)·g ;  v ← β2·v + (1−β2)·g²
//	p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
type adamW struct {
	params            []namedTensor
	m, v              []tensor
	step              int
	beta1, beta2, eps float64
	weightDecay       float64
}

func newAdamW(params []namedTensor, beta1, beta2, eps, wd float64) *adamW {
	o := &adamW{params: params, beta1: beta1, beta2: beta2, eps: eps, weightDecay: wd}
	for _, p := range params {
		o.m = append(o.m, zerosLike(p.t))
		o.v = append(o.v, zerosLike(p.t))
	}
	return o
}

func (o *adamW) free() {
	for i := range o.m {
		o.m[i].free()
		o.v[i].free()
	}
	o.m, o.v = nil, nil
}

// clipGradNorm scales all gradients so their global L2 norm is at most max (max ≤ 0: no clipping) and
// returns the norm before clipping, as torch.nn.utils.clip_grad_norm_ does (one call into the shim).
func (o *adamW) clipGradNorm(max float64) float64 {
	return clipGradNorm(o.handles(), max)
}

// stepAt applies one AdamW update with learning rate lr and zeroes the gradients (one call into the shim,
// which runs torch.optim.AdamW's single-tensor math). Parameters without a gradient are left alone.
func (o *adamW) stepAt(lr float64) {
	o.step++
	ps, ms, vs := o.handles(), handlesOf(o.m), handlesOf(o.v)
	adamwStep(ps, ms, vs, lr, o.beta1, o.beta2, o.eps, o.weightDecay, o.step)
}

func (o *adamW) handles() []unsafe.Pointer {
	hs := make([]unsafe.Pointer, len(o.params))
	for i, p := range o.params {
		hs[i] = unsafe.Pointer(p.t.c)
	}
	return hs
}

// zeroGrad zeroes every parameter's gradient (used after a step is abandoned, and by tests).
func (o *adamW) zeroGrad() {
	for _, p := range o.params {
		if g := p.t.grad(); g.ok() {
			zero_(g)
			g.free()
		}
	}
}

// state returns the optimizer state as named tensors + metadata for optimizer.safetensors.
func (o *adamW) state() ([]namedTensor, map[string]string) {
	var ts []namedTensor
	for i, p := range o.params {
		ts = append(ts, namedTensor{"exp_avg." + p.name, o.m[i]}, namedTensor{"exp_avg_sq." + p.name, o.v[i]})
	}
	return ts, map[string]string{"step": strconv.Itoa(o.step), "optimizer": "adamw"}
}

// load restores moments and step count written by state.
func (o *adamW) load(path string) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	step, err := strconv.Atoi(f.Metadata()["step"])
	if err != nil {
		return fmt.Errorf("%s: metadata step: %w", path, err)
	}
	for i, p := range o.params {
		sh := p.t.shape()
		for _, mv := range []struct {
			prefix string
			dst    tensor
		}{{"exp_avg.", o.m[i]}, {"exp_avg_sq.", o.v[i]}} {
			t, err := readF32(f, mv.prefix+p.name, sh)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			copyInto(mv.dst, t)
			t.free()
		}
	}
	o.step = step
	return nil
}
