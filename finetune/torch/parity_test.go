//go:build torch

package torch

import (
	"encoding/json"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/safetensors"
)

// Fixtures: testdata/make_fixtures.py (PyTorch 2.1.2, float64 reference; cross-checked against
// transformers' LlamaForCausalLM when available).
var fixtures = []string{"tiny", "tiny-tied"}

const parityTol = 1e-4

// lockThread pins the test goroutine to its OS thread (libtorch's grad mode and error slot are
// thread-local) and fails the test on a libtorch panic.
func lockThread(t testing.TB) {
	t.Helper()
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
}

type fixture struct {
	dir string
	cfg *finetune.ModelConfig
	ref *safetensors.File
}

func openFixture(t testing.TB, name string) *fixture {
	t.Helper()
	dir := filepath.Join("testdata", name)
	cfg, err := finetune.LoadModelConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := safetensors.Open(filepath.Join(dir, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close() })
	return &fixture{dir: dir, cfg: cfg, ref: ref}
}

func (f *fixture) model(t testing.TB) *model {
	t.Helper()
	params, err := loadParams(f.dir, f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newModel(f.cfg, params)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.free)
	return m
}

func (f *fixture) floats(t testing.TB, name string) ([]float32, []int64) {
	t.Helper()
	st, err := f.ref.Tensor(name)
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	return v, st.Shape
}

func (f *fixture) ints(t testing.TB, name string) ([]int64, []int64) {
	t.Helper()
	st, err := f.ref.Tensor(name)
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.Int64s()
	if err != nil {
		t.Fatal(err)
	}
	return v, st.Shape
}

// batch returns the fixture's input ids and targets as tensors, owned by s.
func (f *fixture) batch(t testing.TB, s *scope) (ids, targets tensor, b, n int64, count float64) {
	iv, sh := f.ints(t, "input_ids")
	tv, _ := f.ints(t, "targets")
	for _, x := range tv {
		if x != finetune.IgnoreIndex {
			count++
		}
	}
	return s.t(fromInt64s(iv, sh...)), s.t(fromInt64s(tv, sh...)), sh[0], sh[1], count
}

func compare(t *testing.T, what string, got []float32, want []float32, tol float64) {
	t.Helper()
	d := maxAbsDiff(got, want)
	if d > tol {
		t.Errorf("%s: max |Δ| = %.3g > %g", what, d, tol)
	} else {
		t.Logf("%s: max |Δ| = %.3g", what, d)
	}
}

func TestForwardParity(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			lockThread(t)
			f := openFixture(t, name)
			m := f.model(t)
			var s scope
			defer s.free()
			prev := setGradEnabled(false)
			defer setGradEnabled(prev)
			ids, _, b, n, _ := f.batch(t, &s)
			got := m.logits(&s, ids, b, n, nil)
			want, shape := f.floats(t, "logits")
			if !slices.Equal(got.shape(), shape) {
				t.Fatalf("logits shape %v, want %v", got.shape(), shape)
			}
			compare(t, "logits", got.float32s(), want, parityTol)
		})
	}
}

func TestFullGradientParity(t *testing.T) {
	for _, mode := range lossModes {
		for _, name := range fixtures {
			t.Run(mode+"/"+name, func(t *testing.T) {
				lockThread(t)
				f := openFixture(t, name)
				m := f.model(t)
				for _, p := range m.params {
					setRequiresGrad(p, true)
				}
				var s scope
				defer s.free()
				ids, targets, b, n, count := f.batch(t, &s)
				loss := lossBackward(&s, m, ids, targets, b, n, count, mode)
				want, _ := f.floats(t, "loss")
				compare(t, "loss", []float32{float32(loss)}, want, parityTol)
				for _, name := range m.names {
					g := s.t(m.params[name].grad())
					if !g.ok() {
						t.Errorf("%s: no gradient", name)
						continue
					}
					w, _ := f.floats(t, "grad."+name)
					compare(t, "grad "+name, g.float32s(), w, parityTol)
				}
			})
		}
	}
}

func TestLoRAStepParity(t *testing.T) {
	for _, mode := range lossModes {
		for _, name := range fixtures {
			t.Run(mode+"/"+name, func(t *testing.T) {
				lockThread(t)
				f := openFixture(t, name)
				meta := f.ref.Metadata()
				var lc struct {
					R       int      `json:"r"`
					Alpha   float64  `json:"alpha"`
					Targets []string `json:"targets"`
				}
				var ac struct {
					LR          float64    `json:"lr"`
					Betas       [2]float64 `json:"betas"`
					Eps         float64    `json:"eps"`
					WeightDecay float64    `json:"weight_decay"`
				}
				if err := json.Unmarshal([]byte(meta["lora"]), &lc); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal([]byte(meta["adamw"]), &ac); err != nil {
					t.Fatal(err)
				}
				clip, err := strconv.ParseFloat(meta["clip"], 64)
				if err != nil {
					t.Fatal(err)
				}
				m := f.model(t)
				if err := m.attachLoRA(finetune.LoRAConfig{Rank: lc.R, Alpha: lc.Alpha, TargetModules: lc.Targets}, 1); err != nil {
					t.Fatal(err)
				}
				// Start from the fixture's A and B (B is not zero there, so A gets a gradient too).
				params := m.trainable()
				if want := 2 * len(lc.Targets) * f.cfg.NumHiddenLayers; len(params) != want {
					t.Fatalf("%d trainable tensors, want %d", len(params), want)
				}
				prev := setGradEnabled(false)
				for _, p := range params {
					v, sh := f.floats(t, "lora."+p.name)
					src := fromFloat32s(v, sh...)
					copyInto(p.t, src)
					src.free()
				}
				setGradEnabled(prev)
				var s scope
				defer s.free()
				ids, targets, b, n, count := f.batch(t, &s)
				loss := lossBackward(&s, m, ids, targets, b, n, count, mode)
				want, _ := f.floats(t, "lora_loss")
				compare(t, "lora loss", []float32{float32(loss)}, want, parityTol)
				for _, p := range params {
					g := s.t(p.t.grad())
					w, _ := f.floats(t, "lora_grad."+p.name)
					compare(t, "grad "+p.name, g.float32s(), w, parityTol)
				}
				for _, pn := range m.names {
					if g := m.params[pn].grad(); g.ok() {
						g.free()
						t.Errorf("frozen base weight %s got a gradient", pn)
					}
				}
				opt := newAdamW(params, ac.Betas[0], ac.Betas[1], ac.Eps, ac.WeightDecay)
				defer opt.free()
				opt.clipGradNorm(clip)
				opt.stepAt(ac.LR)
				for _, p := range params {
					w, _ := f.floats(t, "lora_step."+p.name)
					compare(t, "after AdamW "+p.name, p.t.float32s(), w, parityTol)
				}
			})
		}
	}
}

// lossModes are the ways a training loss and its gradients are computed: lossSum then backward (as eval
// does, logits kept), trainStep (chunked head, backward per chunk), trainStep with gradient checkpointing.
var lossModes = []string{"lossSum", "trainStep", "checkpointed"}

// lossBackward computes the mean target loss and accumulates its gradients the mode's way.
func lossBackward(s *scope, m *model, ids, targets tensor, b, n int64, count float64, mode string) float64 {
	if mode == "lossSum" {
		loss := s.t(mulScalar(m.lossSum(s, ids, targets, b, n), 1/count))
		loss.backward()
		return loss.item()
	}
	return m.trainStep(ids, targets, b, n, 1/count, mode == "checkpointed", 1) / count
}
