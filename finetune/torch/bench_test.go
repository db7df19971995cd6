//go:build torch

package torch

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/safetensors"
)

// benchModels are the model shapes BenchmarkThroughput measures (random weights).
var benchModels = map[string]func() *finetune.ModelConfig{
	// The model the demo trains from scratch (byte tokenizer).
	"tiny":  func() *finetune.ModelConfig { return finetune.TinyConfig(263) },
	"small": func() *finetune.ModelConfig { return finetune.SmallConfig(263) },
	// SmolLM2-135M's architecture (config.json of HuggingFaceTB/SmolLM2-135M-Instruct).
	"smollm2-135m": func() *finetune.ModelConfig {
		c := finetune.TinyConfig(49152)
		c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers = 576, 1536, 30
		c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim = 9, 3, 64
		c.RopeTheta, c.MaxPositionEmbeddings, c.InitializerRange = 100000, 2048, 0.041666666666666664
		return c
	},
}

// benchShape: batch × seq tokens per training step; steps timed training steps and gens timed generations
// (each side reports its fastest, which is robust to other processes on a shared machine).
type benchShape struct {
	batch, seq, steps, prompt, newTokens, gens int
}

var benchShapes = map[string]benchShape{
	"tiny":         {batch: 8, seq: 128, steps: 20, prompt: 32, newTokens: 64, gens: 5},
	"small":        {batch: 8, seq: 128, steps: 10, prompt: 32, newTokens: 64, gens: 5},
	"smollm2-135m": {batch: 4, seq: 128, steps: 3, prompt: 32, newTokens: 64, gens: 3},
}

type benchResult struct {
	TrainTokS float64 `json:"train_tok_s"`
	GenTokS   float64 `json:"gen_tok_s"`
	FirstLoss float64 `json:"first_loss"`
	GenIDs    []int32 `json:"gen_ids"`
	Torch     string  `json:"torch"`
	Threads   int     `json:"threads"`
}

// BenchmarkThroughput compares training-step and generation throughput with PyTorch eager
// (scripts/torch_bench.py) on the same random model, batch, tokens and thread count. Each side times
// several training steps and generations and reports its fastest; the sides alternate for
// YARDSTICK_BENCH_ROUNDS rounds (default 2) and each keeps its best round, so a busy shared machine
// penalises both alike. Run it with `make bench-torch`, or:
//
//	YARDSTICK_TORCH_PYTHON=/tmp/torchvenv/bin/python go test -tags torch -run '^$' -bench Throughput \
//	    -benchtime 1x ./finetune/torch/
//
// YARDSTICK_BENCH_MODELS (default "tiny,smollm2-135m"), YARDSTICK_TORCH_THREADS (default 2). Without
// YARDSTICK_TORCH_PYTHON only the Go side runs.
func BenchmarkThroughput(b *testing.B) {
	models := strings.Split(envOr("YARDSTICK_BENCH_MODELS", "tiny,smollm2-135m"), ",")
	threads, _ := strconv.Atoi(envOr("YARDSTICK_TORCH_THREADS", "2"))
	rounds, _ := strconv.Atoi(envOr("YARDSTICK_BENCH_ROUNDS", "2"))
	python := os.Getenv("YARDSTICK_TORCH_PYTHON")
	for _, name := range models {
		mk, ok := benchModels[name]
		if !ok {
			b.Fatalf("unknown model %q", name)
		}
		b.Run(name, func(b *testing.B) {
			sh := benchShapes[name]
			cfg := mk()
			dir := b.TempDir()
			// The Go side runs on the torch thread, as Train and the provider do.
			onGo := func(f func()) {
				if err := onTorchThread(context.Background(), func() error { setThreads(threads); f(); return nil }); err != nil {
					b.Fatal(err)
				}
			}
			onGo(func() { writeBenchModel(b, dir, cfg, sh) })
			var best, py benchResult
			for r := range rounds {
				var g benchResult
				onGo(func() { g = runGoBench(b, dir, cfg, sh) })
				b.Logf("round %d go:      train %.0f tok/s, generate %.1f tok/s, first loss %.5f", r, g.TrainTokS, g.GenTokS, g.FirstLoss)
				best = maxResult(best, g)
				if python == "" {
					continue
				}
				p, err := runPyBench(python, dir, threads, sh)
				if err != nil {
					b.Fatalf("PyTorch side: %v", err)
				}
				b.Logf("round %d pytorch: train %.0f tok/s, generate %.1f tok/s, first loss %.5f (torch %s, %d threads)", r, p.TrainTokS, p.GenTokS, p.FirstLoss, p.Torch, p.Threads)
				py = maxResult(py, p)
			}
			b.ReportMetric(best.TrainTokS, "go-train-tok/s")
			b.ReportMetric(best.GenTokS, "go-gen-tok/s")
			if python == "" {
				b.Logf("YARDSTICK_TORCH_PYTHON not set: PyTorch side skipped")
				return
			}
			b.ReportMetric(py.TrainTokS, "pytorch-train-tok/s")
			b.ReportMetric(py.GenTokS, "pytorch-gen-tok/s")
			b.ReportMetric(best.TrainTokS/py.TrainTokS, "train-ratio")
			b.ReportMetric(best.GenTokS/py.GenTokS, "gen-ratio")
			b.Logf("%s (%d params, batch %dx%d, %d threads): train %.0f vs %.0f tok/s (%.2fx), generate %.1f vs %.1f tok/s (%.2fx)",
				name, cfg.NumParams(), sh.batch, sh.seq, threads, best.TrainTokS, py.TrainTokS, best.TrainTokS/py.TrainTokS,
				best.GenTokS, py.GenTokS, best.GenTokS/py.GenTokS)
			// Same weights and tokens: the first step's loss agrees, and greedy decoding agrees on its first tokens.
			if d := math.Abs(best.FirstLoss - py.FirstLoss); d > 1e-3 {
				b.Errorf("first-step loss: go %.6f, pytorch %.6f", best.FirstLoss, py.FirstLoss)
			}
			if n := commonPrefix(best.GenIDs, py.GenIDs); n < 8 {
				b.Errorf("greedy tokens agree for only %d positions: go %v, pytorch %v", n, best.GenIDs[:8], py.GenIDs[:8])
			}
		})
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func maxResult(a, b benchResult) benchResult {
	if b.TrainTokS > a.TrainTokS {
		a.TrainTokS = b.TrainTokS
	}
	if b.GenTokS > a.GenTokS {
		a.GenTokS = b.GenTokS
	}
	a.FirstLoss, a.GenIDs, a.Torch, a.Threads = b.FirstLoss, b.GenIDs, b.Torch, b.Threads
	return a
}

func commonPrefix(a, b []int32) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// writeBenchModel writes a random model directory plus batch.safetensors (input_ids, targets, prompt).
func writeBenchModel(b *testing.B, dir string, cfg *finetune.ModelConfig, sh benchShape) {
	params := initParams(cfg, 1)
	m, err := newModel(cfg, params)
	if err != nil {
		b.Fatal(err)
	}
	defer m.free()
	if err := m.saveModel(dir, false); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	rnd := func(n int) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(r.IntN(cfg.VocabSize))
		}
		return v
	}
	var ts []safetensors.Tensor
	for _, x := range []struct {
		name  string
		shape []int64
	}{{"input_ids", []int64{int64(sh.batch), int64(sh.seq)}}, {"targets", []int64{int64(sh.batch), int64(sh.seq)}}, {"prompt", []int64{1, int64(sh.prompt)}}} {
		t, err := safetensors.FromInt64s(x.name, x.shape, rnd(int(prod(x.shape))))
		if err != nil {
			b.Fatal(err)
		}
		ts = append(ts, t)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "batch.safetensors"), ts, nil); err != nil {
		b.Fatal(err)
	}
}

func runGoBench(b *testing.B, dir string, cfg *finetune.ModelConfig, sh benchShape) benchResult {
	params, err := loadParams(dir, cfg)
	if err != nil {
		b.Fatal(err)
	}
	m, err := newModel(cfg, params)
	if err != nil {
		b.Fatal(err)
	}
	defer m.free()
	bf, err := safetensors.Open(filepath.Join(dir, "batch.safetensors"))
	if err != nil {
		b.Fatal(err)
	}
	defer bf.Close()
	load := func(name string) ([]int64, []int64) {
		t, _ := bf.Tensor(name)
		v, err := t.Int64s()
		if err != nil {
			b.Fatal(err)
		}
		return v, t.Shape
	}
	iv, ish := load("input_ids")
	tv, _ := load("targets")
	pv, _ := load("prompt")

	// Training: full fine-tuning step, as the Python side does it.
	for _, t := range m.params {
		setRequiresGrad(t, true)
	}
	opt := newAdamW(m.trainable(), 0.9, 0.95, 1e-8, 0.01)
	defer opt.free()
	ids, tg := fromInt64s(iv, ish...), fromInt64s(tv, ish...)
	defer ids.free()
	defer tg.free()
	bsz, seq := ish[0], ish[1]
	// The step Train runs (model.trainStep: chunked vocabulary head, backward per chunk).
	step := func() float64 {
		n := float64(bsz * seq)
		l := m.trainStep(ids, tg, bsz, seq, 1/n, false, 1) / n
		opt.clipGradNorm(1.0)
		opt.stepAt(1e-4)
		return l
	}
	var res benchResult
	res.FirstLoss = step() // warm-up
	fastest := time.Duration(math.MaxInt64)
	for range sh.steps {
		start := time.Now()
		step()
		fastest = min(fastest, time.Since(start))
	}
	res.TrainTokS = float64(bsz*seq) / fastest.Seconds()

	// Generation: greedy with the KV cache.
	for _, t := range m.params {
		setRequiresGrad(t, false)
	}
	prev := setGradEnabled(false)
	defer setGradEnabled(prev)
	prompt := make([]int32, len(pv))
	for i, x := range pv {
		prompt[i] = int32(x)
	}
	gen := func() *generation {
		g, err := m.generate(context.Background(), nil, prompt, genOptions{MaxTokens: sh.newTokens})
		if err != nil {
			b.Fatal(err)
		}
		return g
	}
	gen() // warm-up
	fastest = time.Duration(math.MaxInt64)
	var g *generation
	for range sh.gens {
		start := time.Now()
		g = gen()
		fastest = min(fastest, time.Since(start))
	}
	res.GenTokS = float64(len(g.IDs)) / fastest.Seconds()
	res.GenIDs = g.IDs
	return res
}

func runPyBench(python, dir string, threads int, sh benchShape) (benchResult, error) {
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "torch_bench.py"))
	if err != nil {
		return benchResult{}, err
	}
	cmd := exec.Command(python, script, dir, "--threads", strconv.Itoa(threads),
		"--steps", strconv.Itoa(sh.steps), "--new", strconv.Itoa(sh.newTokens), "--gens", strconv.Itoa(sh.gens))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return benchResult{}, fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	var r benchResult
	if err := json.Unmarshal(out, &r); err != nil {
		return benchResult{}, fmt.Errorf("output %q: %w", out, err)
	}
	return r, nil
}

// BenchmarkBatchedGeneration measures prefill and greedy decode throughput of generateBatch on a random
// model (YARDSTICK_BENCH_MODEL, default smollm2-135m) at batch 1 and 8: 8 different 32-token prompts, 64
// new tokens each. Prefill is timed with one new token; decode tokens/s is the extra tokens over the
// extra time. Each figure is the fastest of YARDSTICK_BENCH_ROUNDS (default 3) runs. With
// YARDSTICK_TORCH_PYTHON set, PyTorch eager (scripts/torch_bench.py --batched) runs the same model on the
// same prompts and the ratios are reported (`make bench-torch` runs both):
//
//	go test -tags torch -run '^$' -bench BatchedGeneration -benchtime 1x ./finetune/torch/
func BenchmarkBatchedGeneration(b *testing.B) {
	name := envOr("YARDSTICK_BENCH_MODEL", "smollm2-135m")
	threads, _ := strconv.Atoi(envOr("YARDSTICK_TORCH_THREADS", "2"))
	rounds, _ := strconv.Atoi(envOr("YARDSTICK_BENCH_ROUNDS", "3"))
	python := os.Getenv("YARDSTICK_TORCH_PYTHON")
	const promptLen, newTokens = 32, 64
	cfg := benchModels[name]()
	dir := b.TempDir()
	r := rand.New(rand.NewPCG(3, 3))
	prompts := make([][]int32, 8)
	flat := make([]int64, 0, 8*promptLen)
	for i := range prompts {
		prompts[i] = make([]int32, promptLen)
		for j := range prompts[i] {
			prompts[i][j] = int32(r.IntN(cfg.VocabSize))
			flat = append(flat, int64(prompts[i][j]))
		}
	}
	goRes := map[string]float64{}
	goIDs := map[int][][]int32{}
	err := onTorchThread(context.Background(), func() error {
		setThreads(threads)
		m, err := newModel(cfg, initParams(cfg, 1))
		if err != nil {
			return err
		}
		defer m.free()
		if python != "" {
			if err := m.saveModel(dir, false); err != nil {
				return err
			}
			t, err := safetensors.FromInt64s("prompts", []int64{8, promptLen}, flat)
			if err != nil {
				return err
			}
			if err := safetensors.WriteFile(filepath.Join(dir, "prompts.safetensors"), []safetensors.Tensor{t}, nil); err != nil {
				return err
			}
		}
		prev := setGradEnabled(false)
		defer setGradEnabled(prev)
		for _, batch := range []int{1, 8} {
			reqs := func(n int) []genRequest {
				out := make([]genRequest, batch)
				for i := range out {
					out[i] = genRequest{Prompt: prompts[i], Opts: genOptions{MaxTokens: n}}
				}
				return out
			}
			timeIt := func(n int) time.Duration {
				best := time.Duration(math.MaxInt64)
				for range rounds {
					start := time.Now()
					res := m.generateBatch(nil, reqs(n))
					best = min(best, time.Since(start))
					if n > 1 {
						goIDs[batch] = nil
						for _, r := range res {
							goIDs[batch] = append(goIDs[batch], r.G.IDs)
						}
					}
				}
				return best
			}
			timeIt(2) // warm-up
			pre := timeIt(1)
			all := timeIt(1 + newTokens)
			goRes[fmt.Sprintf("prefill_b%d", batch)] = float64(batch*promptLen) / pre.Seconds()
			goRes[fmt.Sprintf("decode_b%d", batch)] = float64(batch*newTokens) / (all - pre).Seconds()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []string{"prefill_b1", "decode_b1", "prefill_b8", "decode_b8"} {
		b.ReportMetric(goRes[k], "go-"+k+"-tok/s")
	}
	b.ReportMetric(goRes["decode_b8"]/goRes["decode_b1"], "go-decode-b8/b1")
	b.Logf("%s (%d threads) go: prefill %.0f / %.0f tok/s, decode %.1f / %.1f tok/s at batch 1 / 8; decode batch 8 / batch 1: %.2fx",
		name, threads, goRes["prefill_b1"], goRes["prefill_b8"], goRes["decode_b1"], goRes["decode_b8"], goRes["decode_b8"]/goRes["decode_b1"])
	if python == "" {
		b.Logf("YARDSTICK_TORCH_PYTHON not set: PyTorch side skipped")
		return
	}
	script, _ := filepath.Abs(filepath.Join("..", "..", "scripts", "torch_bench.py"))
	cmd := exec.Command(python, script, dir, "--batched", "--threads", strconv.Itoa(threads), "--new", strconv.Itoa(newTokens), "--gens", strconv.Itoa(rounds))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("PyTorch side: %v", err)
	}
	var py map[string]any
	if err := json.Unmarshal(out, &py); err != nil {
		b.Fatalf("PyTorch output %q: %v", out, err)
	}
	for _, k := range []string{"prefill_b1", "decode_b1", "prefill_b8", "decode_b8"} {
		v, _ := py[k].(float64)
		b.ReportMetric(v, "pytorch-"+k+"-tok/s")
		b.ReportMetric(goRes[k]/v, k+"-ratio")
		b.Logf("%-10s go %8.1f tok/s  pytorch %8.1f tok/s  ratio %.2fx", k, goRes[k], v, goRes[k]/v)
	}
	// Same weights and prompts: greedy decoding agrees on its first tokens, row by row.
	pyIDs, _ := py["ids_b8"].([]any)
	for i, row := range pyIDs {
		var ids []int32
		for _, x := range row.([]any) {
			ids = append(ids, int32(x.(float64)))
		}
		if n := commonPrefix(goIDs[8][i], ids); n < 8 {
			b.Errorf("batch 8 row %d: greedy tokens agree for only %d positions", i, n)
		}
	}
}

// BenchmarkLoRAMemory trains LoRA (rank 16, all linear layers, AdamW) on a random SmolLM2-135M-shape model
// at batch 8 × seq 256 with every position a target (the vocabulary head's worst case) and reports the
// process's peak RSS and the step time. Peak RSS is per process: run it alone, once per setting:
//
//	go test -tags torch -run '^$' -bench LoRAMemory -benchtime 1x ./finetune/torch/
//	YARDSTICK_BENCH_CHECKPOINT=1 go test -tags torch -run '^$' -bench LoRAMemory -benchtime 1x ./finetune/torch/
func BenchmarkLoRAMemory(b *testing.B) {
	threads, _ := strconv.Atoi(envOr("YARDSTICK_TORCH_THREADS", "2"))
	ckpt := os.Getenv("YARDSTICK_BENCH_CHECKPOINT") == "1"
	const batch, seq, steps = 8, 256, 3
	cfg := benchModels["smollm2-135m"]()
	err := onTorchThread(context.Background(), func() error {
		setThreads(threads)
		m, err := newModel(cfg, initParams(cfg, 1))
		if err != nil {
			return err
		}
		defer m.free()
		lc := finetune.LoRAConfig{Rank: 16, Alpha: 32, TargetModules: []string{finetune.LoRAAllLinear}}
		if err := m.attachLoRA(lc, 1); err != nil {
			return err
		}
		m.training = true
		opt := newAdamW(m.trainable(), 0.9, 0.999, 1e-8, 0)
		defer opt.free()
		r := rand.New(rand.NewPCG(5, 5))
		v := make([]int64, batch*seq)
		for i := range v {
			v[i] = int64(r.IntN(cfg.VocabSize))
		}
		ids, tg := fromInt64s(v, batch, seq), fromInt64s(v, batch, seq)
		defer ids.free()
		defer tg.free()
		before := peakRSS()
		fastest := time.Duration(math.MaxInt64)
		for range steps {
			start := time.Now()
			m.trainStep(ids, tg, batch, seq, 1.0/float64(batch*seq), ckpt, 1)
			opt.clipGradNorm(1)
			opt.stepAt(1e-4)
			fastest = min(fastest, time.Since(start))
		}
		peak := peakRSS()
		b.ReportMetric(float64(peak)/1e9, "peak-RSS-GB")
		b.ReportMetric(float64(batch*seq)/fastest.Seconds(), "train-tok/s")
		b.Logf("LoRA r16 all-linear, batch %d × seq %d, checkpointing %v: peak RSS %.2f GB (%.2f GB before training), fastest step %s (%.0f tok/s)",
			batch, seq, ckpt, float64(peak)/1e9, float64(before)/1e9, fastest.Round(time.Millisecond), float64(batch*seq)/fastest.Seconds())
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
