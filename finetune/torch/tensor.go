//go:build torch

package torch

// A thin layer over gotch's libtch (the cgo binding of libtorch's C API).
//
// Why not gotch's ts package: every ts.Tensor allocates a 100 KB Go object (so the Go GC notices C memory),
// takes a global lock to register a name, and each generated op leaks the malloc(0) block it passes as the
// output pointer. Over a long training run that is steady RSS growth and GC churn. Here a tensor is a bare
// C handle (value type, no Go allocation), every op writes into a Go array, and ownership is explicit: a
// scope owns the tensors made through it and frees them all at once. libtorch's autograd keeps whatever the
// backward pass needs alive through its own reference counts, so handles may be freed as soon as the
// forward code is done with them.
//
// Errors: libtorch reports failures through a thread-local string. Every op checks it and panics with a
// *torchError; onTorchThread (thread.go), through which every exported function runs, converts that panic
// into an error. Running everything on that one locked OS thread also keeps the thread-local grad mode and
// thread count the ones the calls set.

/*
#cgo CXXFLAGS: -std=c++17 -O2
#cgo LDFLAGS: -lc10 -ltorch_cpu -lstdc++
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
)

// dtype codes (c10::ScalarType).
const (
	kInt64   int32 = 4
	kFloat32 int32 = 6
	kFloat64 int32 = 7
	cpu      int32 = -1 // gotch's device code for the CPU
)

// tensor is a handle to a libtorch tensor. The zero value is "no tensor" (an undefined optional argument).
type tensor struct{ c lib.Ctensor }

func (t tensor) ok() bool { return t.c != nil }

// torchError is a libtorch exception message.
type torchError struct{ msg string }

func (e *torchError) Error() string { return "libtorch: " + e.msg }

// check panics with the pending libtorch error, if any.
func check() {
	p := unsafe.Pointer(lib.GetAndResetLastErr())
	if p == nil {
		return
	}
	msg := C.GoString((*C.char)(p))
	C.free(p)
	// Keep the first line: libtorch appends a C++ backtrace.
	for i := 0; i < len(msg); i++ {
		if msg[i] == '\n' {
			msg = msg[:i]
			break
		}
	}
	panic(&torchError{msg})
}

func cerr(p *C.char) {
	if p == nil {
		return
	}
	msg := C.GoString(p)
	C.free(unsafe.Pointer(p))
	panic(&torchError{msg})
}

func manualSeed(seed int64) { cerr(C.yst_manual_seed(C.int64_t(seed))) }

func setNumThreads(n int) { cerr(C.yst_set_num_threads(C.int(n))) }

func numThreads() int { return int(C.yst_get_num_threads()) }

// setGradEnabled sets the calling OS thread's grad mode and returns the previous one.
func setGradEnabled(on bool) bool {
	v := 0
	if on {
		v = 1
	}
	prev := lib.AtGradSetEnabled(v)
	check()
	return prev != 0
}

// free releases the handle (not necessarily the storage: views and autograd may still hold it).
func (t tensor) free() {
	if t.c != nil {
		lib.AtFree(t.c)
	}
}

func (t tensor) dim() int {
	d := lib.AtDim(t.c)
	check()
	return int(d)
}

func (t tensor) shape() []int64 {
	n := t.dim()
	s := make([]int64, n)
	if n > 0 {
		lib.AtShape(t.c, unsafe.Pointer(&s[0]))
		check()
	}
	return s
}

func (t tensor) numel() int64 {
	n := int64(1)
	for _, d := range t.shape() {
		n *= d
	}
	return n
}

// grad returns a new handle to t's gradient, or the zero tensor when there is none.
func (t tensor) grad() tensor {
	o := outBuf()
	lib.AtgGrad(&o[0], t.c)
	g := done(o)
	if !lib.AtDefined(g.c) {
		g.free()
		return tensor{}
	}
	return g
}

// requiresGrad reports whether autograd tracks t.
func (t tensor) requiresGrad() bool {
	v := lib.AtRequiresGrad(t.c)
	check()
	return v
}

func (t tensor) backward() {
	lib.AtBackward(t.c, 0, 0)
	check()
}

// float32s copies a float32 tensor's values out (made contiguous first).
func (t tensor) float32s() []float32 { return t.float32sInto(nil) }

// float32sInto is float32s reusing buf's storage when it is large enough.
func (t tensor) float32sInto(buf []float32) []float32 {
	c := contiguous(t)
	defer c.free()
	n := int(c.numel())
	if cap(buf) < n {
		buf = make([]float32, n)
	}
	buf = buf[:n]
	if n > 0 {
		lib.AtCopyData(c.c, unsafe.Pointer(&buf[0]), uint(n), 4)
		check()
	}
	return buf
}

func (t tensor) int64s() []int64 {
	c := contiguous(t)
	defer c.free()
	n := c.numel()
	out := make([]int64, n)
	if n > 0 {
		lib.AtCopyData(c.c, unsafe.Pointer(&out[0]), uint(n), 8)
		check()
	}
	return out
}

// item returns the value of a one-element floating tensor as float64.
func (t tensor) item() float64 {
	d := totype(t, kFloat64)
	defer d.free()
	v := lib.AtDoubleValueAtIndexes(d.c, nil, 0)
	check()
	return v
}

func fromFloat32s(v []float32, shape ...int64) tensor { return fromData(v, kFloat32, shape) }

func fromInt64s(v []int64, shape ...int64) tensor { return fromData(v, kInt64, shape) }

// fromData copies v into a new tensor of the given kind and shape.
func fromData[T float32 | int64](v []T, kind int32, shape []int64) tensor {
	if int64(len(v)) != prod(shape) {
		panic(&torchError{fmt.Sprintf("tensor of %T: %d values for shape %v", v, len(v), shape)})
	}
	var p unsafe.Pointer
	if len(v) > 0 {
		p = unsafe.Pointer(&v[0])
	}
	c := lib.AtTensorOfData(p, shape, uint(len(shape)), uint(unsafe.Sizeof(v[0])), int(kind))
	check()
	return tensor{c}
}

func fromInt32sAsInt64(v []int32, shape ...int64) tensor {
	w := make([]int64, len(v))
	for i, x := range v {
		w[i] = int64(x)
	}
	return fromInt64s(w, shape...)
}

func prod(s []int64) int64 {
	n := int64(1)
	for _, d := range s {
		n *= d
	}
	return n
}

// ---- scalars ----

func scalarF(v float64) lib.Cscalar {
	s := lib.AtsFloat(v)
	check()
	return s
}

func freeScalar(s lib.Cscalar) { lib.AtsFree(s) }

// ---- ops returning new tensors (caller owns the result) ----

// outBufs recycles the output arrays libtch writes result handles into: a cgo argument escapes to the heap,
// so a fresh array per op would be one allocation per tensor op (and GC cycles competing with libtorch's
// OpenMP threads for the cores).
var outBufs = sync.Pool{New: func() any { return new([4]lib.Ctensor) }}

func outBuf() *[4]lib.Ctensor { return outBufs.Get().(*[4]lib.Ctensor) }

// done checks for a libtorch error, returns the first result handle and recycles o.
func done(o *[4]lib.Ctensor) tensor {
	check()
	t := tensor{o[0]}
	*o = [4]lib.Ctensor{}
	outBufs.Put(o)
	return t
}

func contiguous(t tensor) tensor {
	o := outBuf()
	lib.AtgContiguous(&o[0], t.c)
	return done(o)
}
func totype(t tensor, k int32) tensor {
	o := outBuf()
	lib.AtgTotype(&o[0], t.c, k)
	return done(o)
}
func zerosLike(t tensor) tensor {
	o := outBuf()
	lib.AtgZerosLike(&o[0], t.c)
	return done(o)
}
func zeros(k int32, shape ...int64) tensor {
	o := outBuf()
	lib.AtgZeros(&o[0], shape, len(shape), k, cpu)
	return done(o)
}
func matmul(a, b tensor) tensor {
	o := outBuf()
	lib.AtgMatmul(&o[0], a.c, b.c)
	return done(o)
}

func mm(a, b tensor) tensor {
	o := outBuf()
	lib.AtgMm(&o[0], a.c, b.c)
	return done(o)
}

// linear computes x·wᵀ (no bias).
func linear(x, w tensor) tensor {
	o := outBuf()
	lib.AtgLinear(&o[0], x.c, w.c, nil)
	return done(o)
}
func embedding(w, ids tensor) tensor {
	o := outBuf()
	lib.AtgEmbedding(&o[0], w.c, ids.c, -1, 0, 0)
	return done(o)
}
func add(a, b tensor) tensor {
	o := outBuf()
	lib.AtgAdd(&o[0], a.c, b.c)
	return done(o)
}
func mul(a, b tensor) tensor {
	o := outBuf()
	lib.AtgMul(&o[0], a.c, b.c)
	return done(o)
}
func mulScalar(a tensor, v float64) tensor {
	s := scalarF(v)
	defer freeScalar(s)
	o := outBuf()
	lib.AtgMulScalar(&o[0], a.c, s)
	return done(o)
}
func addScalar(a tensor, v float64) tensor {
	s := scalarF(v)
	defer freeScalar(s)
	o := outBuf()
	lib.AtgAddScalar(&o[0], a.c, s)
	return done(o)
}
func neg(a tensor) tensor {
	o := outBuf()
	lib.AtgNeg(&o[0], a.c)
	return done(o)
}
func rsqrt(a tensor) tensor {
	o := outBuf()
	lib.AtgRsqrt(&o[0], a.c)
	return done(o)
}
func silu(a tensor) tensor {
	o := outBuf()
	lib.AtgSilu(&o[0], a.c)
	return done(o)
}
func square(a tensor) tensor {
	o := outBuf()
	lib.AtgSquare(&o[0], a.c)
	return done(o)
}
func meanLastDim(a tensor) tensor {
	dims := []int64{-1}
	o := outBuf()
	lib.AtgMeanDim(&o[0], a.c, dims, 1, 1, -1)
	return done(o)
}
func view(a tensor, shape ...int64) tensor {
	o := outBuf()
	lib.AtgView(&o[0], a.c, shape, len(shape))
	return done(o)
}
func reshape(a tensor, shape ...int64) tensor {
	o := outBuf()
	lib.AtgReshape(&o[0], a.c, shape, len(shape))
	return done(o)
}
func transpose(a tensor, d0, d1 int64) tensor {
	o := outBuf()
	lib.AtgTranspose(&o[0], a.c, d0, d1)
	return done(o)
}
func narrow(a tensor, dim, start, length int64) tensor {
	o := outBuf()
	lib.AtgNarrow(&o[0], a.c, dim, start, length)
	return done(o)
}
func unsqueeze(a tensor, dim int64) tensor {
	o := outBuf()
	lib.AtgUnsqueeze(&o[0], a.c, dim)
	return done(o)
}
func expand(a tensor, shape ...int64) tensor {
	o := outBuf()
	lib.AtgExpand(&o[0], a.c, shape, len(shape), 0)
	return done(o)
}
func cat(ts []tensor, dim int64) tensor {
	cs := make([]lib.Ctensor, len(ts))
	for i, t := range ts {
		cs[i] = t.c
	}
	o := outBuf()
	lib.AtgCat(&o[0], cs, len(cs), dim)
	return done(o)
}

// sdpa is scaled_dot_product_attention without dropout (through the shim; see shim.cpp), causal or with
// an additive float mask broadcastable to the scores (the zero tensor: no mask).
func sdpa(q, k, v tensor, causal bool) tensor { return sdpaMasked(q, k, v, tensor{}, causal) }

func sdpaMasked(q, k, v, mask tensor, causal bool) tensor {
	c := C.int(0)
	if causal {
		c = 1
	}
	var out unsafe.Pointer
	cerr(C.yst_sdpa(&out, unsafe.Pointer(q.c), unsafe.Pointer(k.c), unsafe.Pointer(v.c), unsafe.Pointer(mask.c), c))
	return tensor{lib.Ctensor(out)}
}

// indexSelect picks the entries idx (int64 [N]) of a along dim.
func indexSelect(a tensor, dim int64, idx tensor) tensor {
	o := outBuf()
	lib.AtgIndexSelect(&o[0], a.c, dim, idx.c)
	return done(o)
}

// detachGrad returns a leaf copy-free view of a that requires grad, cut from a's graph.
func detachGrad(a tensor) tensor {
	o := outBuf()
	lib.AtgDetach(&o[0], a.c)
	d := done(o)
	setRequiresGrad(d, true)
	return d
}

func sumAll(a tensor) tensor {
	o := outBuf()
	lib.AtgSum(&o[0], a.c, kFloat32)
	return done(o)
}

func handlesOf(ts []tensor) []unsafe.Pointer {
	hs := make([]unsafe.Pointer, len(ts))
	for i, t := range ts {
		hs[i] = unsafe.Pointer(t.c)
	}
	return hs
}

func ptrs(hs []unsafe.Pointer) *unsafe.Pointer {
	if len(hs) == 0 {
		return nil
	}
	return &hs[0]
}

// adamwStep runs one AdamW update (decay only on matrices) and zeroes the gradients; see shim.cpp.
func adamwStep(params, m, v []unsafe.Pointer, lr, beta1, beta2, eps, wd float64, step int) {
	if len(params) == 0 {
		return
	}
	cerr(C.yst_adamw_step(ptrs(params), ptrs(m), ptrs(v), C.int(len(params)), C.double(lr), C.double(beta1),
		C.double(beta2), C.double(eps), C.double(wd), C.int64_t(step), 1))
}

// clipGradNorm is clip_grad_norm_ over the parameters' gradients; it returns the norm before clipping.
func clipGradNorm(params []unsafe.Pointer, max float64) float64 {
	if len(params) == 0 {
		return 0
	}
	var total C.double
	cerr(C.yst_clip_grad_norm(ptrs(params), C.int(len(params)), C.double(max), &total))
	return float64(total)
}

// crossEntropySum is the summed token cross-entropy of logits [N,V] against targets [N], skipping
// ignoreIndex.
func crossEntropySum(logits, targets tensor, ignoreIndex int64) tensor {
	o := outBuf()
	lib.AtgCrossEntropyLoss(&o[0], logits.c, targets.c, nil, 2 /* sum */, ignoreIndex, 0)
	return done(o)
}
func dropout(a tensor, p float64) tensor {
	o := outBuf()
	lib.AtgDropout(&o[0], a.c, p, 1)
	return done(o)
}

// argmaxLast is the index of the largest element along the last dimension (first one on ties).
func argmaxLast(a tensor) tensor {
	o := outBuf()
	lib.AtgArgmax(&o[0], a.c, -1, 0, 0)
	return done(o)
}

// ---- in-place ops (no result handle) ----

func copyInto(dst, src tensor) { lib.AtCopy_(dst.c, src.c); check() }
func zero_(a tensor) {
	o := outBuf()
	lib.AtgZero_(&o[0], a.c)
	done(o).free()
}
func setRequiresGrad(a tensor, on bool) {
	v := int32(0)
	if on {
		v = 1
	}
	o := outBuf()
	lib.AtgRequiresGrad_(&o[0], a.c, v)
	done(o).free()
}

// ---- scope ----

// scope owns the tensors created through s.t and frees them in free. Not safe for concurrent use.
type scope struct{ owned []tensor }

// t registers x with the scope and returns it.
func (s *scope) t(x tensor) tensor {
	s.owned = append(s.owned, x)
	return x
}

func (s *scope) free() {
	for i := len(s.owned) - 1; i >= 0; i-- {
		s.owned[i].free()
	}
	s.owned = s.owned[:0]
}

// maxAbsDiff is a test and debugging helper: max |a-b| over all elements, computed on the Go side.
func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if d > m || math.IsNaN(d) {
			m = d
		}
	}
	return m
}
