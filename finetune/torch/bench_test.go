//go:build torch

package torch

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/gguf"
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
	TrainTokS, GenTokS, FirstLoss float64
	GenIDs                        []int32
}

// BenchmarkThroughput compares training-step and generation throughput with PyTorch eager
// (scripts/torch_bench.py, a long-lived worker) on the same random model, batch, tokens and thread count.
// The sides alternate for YARDSTICK_BENCH_ROUNDS rounds (default 3): Go, PyTorch, Go, PyTorch, ... In a
// round each side starts from the same fresh weights and a fresh AdamW, takes one warm-up step and reports
// its fastest of several timed steps, then one warm-up and several timed batch-1 greedy generations (its
// fastest). The log has every round's figures, and the ratio of the medians with the smallest and largest
// per-round ratio. Run it with `make bench-torch`, or:
//
//	eval "$(scripts/libtorch.sh env)"; OMP_WAIT_POLICY=PASSIVE YARDSTICK_TORCH_PYTHON=~/.cache/yardstick/torch-venv/bin/python \
//	    go test -tags torch -run '^$' -bench Throughput -benchtime 1x ./finetune/torch/
//
// YARDSTICK_BENCH_MODELS (default "tiny,smollm2-135m"), YARDSTICK_TORCH_THREADS (default 2). Without
// YARDSTICK_TORCH_PYTHON only the Go side runs.
func BenchmarkThroughput(b *testing.B) {
	models := strings.Split(envOr("YARDSTICK_BENCH_MODELS", "tiny,smollm2-135m"), ",")
	threads, _ := strconv.Atoi(envOr("YARDSTICK_TORCH_THREADS", "2"))
	rounds, _ := strconv.Atoi(envOr("YARDSTICK_BENCH_ROUNDS", "3"))
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
			var prompt []int32
			onGo(func() { prompt = writeBenchModel(b, dir, cfg, sh) })
			var py *benchWorker
			if python != "" {
				py = startTorchWorker(b, python, dir, threads)
			}
			fig := newRoundFigures("go", "pytorch")
			var goFirst benchResult
			var pyFirst struct {
				FirstLoss float64 `json:"first_loss"`
			}
			var pyIDs []int32
			for r := range rounds {
				var g benchResult
				onGo(func() { g = runGoBench(b, dir, cfg, sh) })
				b.Logf("round %d go:      train %.0f tok/s, generate %.1f tok/s, first loss %.5f", r, g.TrainTokS, g.GenTokS, g.FirstLoss)
				fmt.Fprintf(os.Stderr, "%s round %d go:      train %.0f tok/s, generate %.1f tok/s (load %s)\n", time.Now().UTC().Format("15:04:05"), r, g.TrainTokS, g.GenTokS, loadAvg())
				fig.add("train", "go", g.TrainTokS)
				fig.add("generate", "go", g.GenTokS)
				if r == 0 {
					goFirst = g
				}
				if py == nil {
					continue
				}
				var tr struct {
					TrainTokS float64 `json:"train_tok_s"`
					FirstLoss float64 `json:"first_loss"`
				}
				if err := py.call(map[string]any{"op": "train", "batch": filepath.Join(dir, "batch.safetensors"), "steps": sh.steps}, &tr); err != nil {
					b.Fatal(err)
				}
				fastest := math.Inf(1)
				for i := range sh.gens + 1 { // the first is the warm-up
					var gr genReply
					if err := py.call(map[string]any{"op": "gen", "prompts": [][]int32{prompt}, "new": sh.newTokens}, &gr); err != nil {
						b.Fatal(err)
					}
					if i > 0 {
						fastest = min(fastest, gr.Seconds)
					}
					pyIDs = gr.IDs[0]
				}
				genTokS := float64(sh.newTokens) / fastest
				b.Logf("round %d pytorch: train %.0f tok/s, generate %.1f tok/s, first loss %.5f", r, tr.TrainTokS, genTokS, tr.FirstLoss)
				fmt.Fprintf(os.Stderr, "%s round %d pytorch: train %.0f tok/s, generate %.1f tok/s (load %s)\n", time.Now().UTC().Format("15:04:05"), r, tr.TrainTokS, genTokS, loadAvg())
				fig.add("train", "pytorch", tr.TrainTokS)
				fig.add("generate", "pytorch", genTokS)
				if r == 0 {
					pyFirst.FirstLoss = tr.FirstLoss
				}
			}
			b.Logf("%s (%d params, train batch %dx%d, generate batch 1 × %d new tokens, %d threads, %d interleaved rounds):",
				name, cfg.NumParams(), sh.batch, sh.seq, sh.newTokens, threads, rounds)
			fig.report(b, "tok/s")
			if py == nil {
				b.Logf("YARDSTICK_TORCH_PYTHON not set: PyTorch side skipped")
				return
			}
			if err := py.close(); err != nil {
				b.Errorf("PyTorch worker: %v", err)
			}
			// Same weights and tokens: the first step's loss agrees, and greedy decoding agrees on its first tokens.
			if d := math.Abs(goFirst.FirstLoss - pyFirst.FirstLoss); d > 1e-3 {
				b.Errorf("first-step loss: go %.6f, pytorch %.6f", goFirst.FirstLoss, pyFirst.FirstLoss)
			}
			if n := commonPrefix(goFirst.GenIDs, pyIDs); n < 8 {
				b.Errorf("greedy tokens agree for only %d positions: go %v, pytorch %v", n, goFirst.GenIDs, pyIDs)
			}
		})
	}
}

// genReply is a worker's answer to a "gen" request.
type genReply struct {
	Seconds float64   `json:"seconds"`
	IDs     [][]int32 `json:"ids"`
}

// startTorchWorker starts scripts/torch_bench.py and loads the model directory dir into it.
func startTorchWorker(b *testing.B, python, dir string, threads int) *benchWorker {
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "torch_bench.py"))
	if err != nil {
		b.Fatal(err)
	}
	w, err := startWorker("pytorch", benchEnv(threads), python, script)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.in.Close(); w.cmd.Process.Kill(); w.cmd.Wait() })
	var info struct {
		Torch   string `json:"torch"`
		Threads int    `json:"threads"`
	}
	if err := w.call(map[string]any{"op": "load", "model": dir, "threads": threads}, &info); err != nil {
		b.Fatal(err)
	}
	b.Logf("pytorch worker: torch %s, %d threads", info.Torch, info.Threads)
	return w
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func commonPrefix(a, b []int32) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// writeBenchModel writes a random model directory plus batch.safetensors (input_ids, targets, prompt) and
// returns the prompt.
func writeBenchModel(b *testing.B, dir string, cfg *finetune.ModelConfig, sh benchShape) []int32 {
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
	pv, err := ts[2].Int64s()
	if err != nil {
		b.Fatal(err)
	}
	prompt := make([]int32, len(pv))
	for i, x := range pv {
		prompt[i] = int32(x)
	}
	return prompt
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

// BenchmarkBatchedGeneration measures prefill and greedy decode throughput at batch 1 and 8 (8 different
// 32-token prompts, 64 new tokens each, no stop tokens) of Yardstick's generateBatch and, side by side, of
// PyTorch eager (scripts/torch_bench.py) and llama.cpp (scripts/llamacpp_bench.mjs, node-llama-cpp's
// prebuilt llama.cpp) on the same weights, prompt tokens and thread count. The model is the GGUF file
// YARDSTICK_BENCH_GGUF (the real SmolLM2-135M-Instruct Q4_1 in `make bench-llamacpp`) or, without it, a
// random model of SmolLM2-135M's shape (no llama.cpp then).
//
// What each engine computes with: Yardstick dequantises the GGUF to float32 (float32 KV cache); PyTorch
// runs those float32 weights (the directory Yardstick saves); llama.cpp runs once on the file as it is
// (Q4_1 weights, Q8_0 embeddings: its native quantised kernels) and once on the very float32 weights
// Yardstick computes with (exportGGUF to f32; YARDSTICK_BENCH_LLAMACPP_TYPES, default "file,f32", may add
// "f16" or "q8_0"), each with its default F16 KV cache. Batch 8 in llama.cpp is 8 sequences of one context,
// whose pending tokens node-llama-cpp decodes as one batch per step.
//
// Every engine is loaded once (the other two are long-lived worker processes), warmed up, and then the
// engines alternate for YARDSTICK_BENCH_ROUNDS rounds (default 3): in each round and batch size, each engine
// in turn times its fastest of 3 prefills (generating 1 token) and one generation of 1+64 tokens; prefill
// tokens/s is batch×32 / the prefill time, decode tokens/s batch×64 / (generation − prefill). Every engine
// measures its own wall time the same way, around the whole call. The log has every round's figures and, per
// metric, the ratio of Yardstick's median to each other engine's with the smallest and largest per-round
// ratio. `make bench-torch` / `make bench-llamacpp` run it; by hand:
//
//	eval "$(scripts/libtorch.sh env)"; OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 \
//	YARDSTICK_TORCH_PYTHON=~/.cache/yardstick/torch-venv/bin/python \
//	YARDSTICK_BENCH_GGUF=$(scripts/smollm2.sh path) YARDSTICK_LLAMACPP_DIR=$(scripts/llamacpp.sh dir) \
//	go test -tags torch -run '^$' -bench BatchedGeneration -benchtime 1x -timeout 60m -v ./finetune/torch/
func BenchmarkBatchedGeneration(b *testing.B) {
	threads, _ := strconv.Atoi(envOr("YARDSTICK_TORCH_THREADS", "2"))
	rounds, _ := strconv.Atoi(envOr("YARDSTICK_BENCH_ROUNDS", "3"))
	python := os.Getenv("YARDSTICK_TORCH_PYTHON")
	ggufPath := os.Getenv("YARDSTICK_BENCH_GGUF")
	llamaDir := os.Getenv("YARDSTICK_LLAMACPP_DIR")
	llamaTypes := strings.Split(envOr("YARDSTICK_BENCH_LLAMACPP_TYPES", "file,f32"), ",")
	const promptLen, newTokens, prefills = 32, 64, 3
	if os.Getenv("OMP_WAIT_POLICY") != "PASSIVE" {
		b.Logf("warning: OMP_WAIT_POLICY is not PASSIVE in this process: idle OpenMP threads may spin while the workers run")
	}
	dir := b.TempDir()
	ctx := context.Background()
	var m *model
	var cfg *finetune.ModelConfig
	exports := map[string]string{} // llama.cpp type → GGUF file
	what := "random weights, SmolLM2-135M shape"
	err := onTorchThread(ctx, func() error {
		setThreads(threads)
		if ggufPath != "" {
			g, err := loadGGUF(ggufPath, false)
			if err != nil {
				return err
			}
			cfg = g.cfg
			if m, err = newModel(cfg, g.params); err != nil {
				return err
			}
			what = ggufPath + " (" + ggufTypeMix(b, ggufPath) + "), dequantised to float32"
		} else {
			cfg = benchModels["smollm2-135m"]()
			var err error
			if m, err = newModel(cfg, initParams(cfg, 1)); err != nil {
				return err
			}
		}
		if python != "" {
			if err := m.saveModel(dir, false); err != nil {
				return err
			}
		}
		if ggufPath == "" || llamaDir == "" {
			return nil
		}
		for _, t := range llamaTypes {
			if t == "file" {
				exports[t] = ggufPath
				continue
			}
			out := filepath.Join(dir, "model-"+t+".gguf")
			if err := exportGGUF(ggufPath, out, t, false); err != nil {
				return err
			}
			exports[t] = out
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	defer onTorchThread(ctx, func() error { m.free(); return nil })

	r := rand.New(rand.NewPCG(3, 3))
	prompts := make([][]int32, 8)
	for i := range prompts {
		prompts[i] = make([]int32, promptLen)
		for j := range prompts[i] {
			prompts[i][j] = int32(r.IntN(cfg.VocabSize))
		}
	}

	type engine struct {
		name, what string
		gen        func(prompts [][]int32, n int) (genReply, error)
	}
	engines := []engine{{name: "go", what: "Yardstick: " + what + ", float32 KV cache", gen: func(ps [][]int32, n int) (genReply, error) {
		var out genReply
		err := onTorchThread(ctx, func() error {
			prev := setGradEnabled(false)
			defer setGradEnabled(prev)
			reqs := make([]genRequest, len(ps))
			for i := range reqs {
				reqs[i] = genRequest{Prompt: ps[i], Opts: genOptions{MaxTokens: n}}
			}
			start := time.Now()
			res := m.generateBatch(nil, reqs)
			out.Seconds = time.Since(start).Seconds()
			for _, r := range res {
				out.IDs = append(out.IDs, r.G.IDs)
			}
			return nil
		})
		return out, err
	}}}
	workerGen := func(w *benchWorker) func([][]int32, int) (genReply, error) {
		return func(ps [][]int32, n int) (genReply, error) {
			var out genReply
			err := w.call(map[string]any{"op": "gen", "prompts": ps, "new": n}, &out)
			return out, err
		}
	}
	var workers []*benchWorker
	if python != "" {
		w := startTorchWorker(b, python, dir, threads)
		workers = append(workers, w)
		engines = append(engines, engine{name: "pytorch", what: "PyTorch eager: the same float32 weights, float32 KV cache", gen: workerGen(w)})
	} else {
		b.Logf("YARDSTICK_TORCH_PYTHON not set: PyTorch side skipped")
	}
	switch {
	case ggufPath == "":
		b.Logf("YARDSTICK_BENCH_GGUF not set: llama.cpp side skipped (it needs a GGUF file with a tokenizer)")
	case llamaDir == "":
		b.Logf("YARDSTICK_LLAMACPP_DIR not set (scripts/llamacpp.sh dir): llama.cpp side skipped")
	default:
		script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "llamacpp_bench.mjs"))
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range llamaTypes {
			w, err := startWorker("llama.cpp-"+t, benchEnv(threads), "node", script, llamaDir)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { w.in.Close(); w.cmd.Process.Kill(); w.cmd.Wait() })
			var info struct {
				LlamaCpp string `json:"llama_cpp"`
				Build    string `json:"build"`
				Context  int    `json:"context"`
				Batch    int    `json:"batch"`
				Flash    any    `json:"flash_attention"`
				Threads  int    `json:"threads"`
				System   string `json:"system"`
			}
			if err := w.call(map[string]any{"op": "load", "model": exports[t], "threads": threads, "sequences": 8, "context": 256}, &info); err != nil {
				b.Fatal(err)
			}
			label, desc := t, "the same float32 weights as Yardstick, written as "+strings.ToUpper(t)+" by exportGGUF"
			if t == "file" {
				label = strings.ToLower(ggufMainType(b, ggufPath))
				desc = "the file's own " + ggufTypeMix(b, ggufPath) + " weights, native quantised kernels"
			}
			b.Logf("llama.cpp-%s worker: llama.cpp %s (%s), context %d, batch %d, flash attention %v, %d threads; %s",
				label, info.LlamaCpp, info.Build, info.Context, info.Batch, info.Flash, info.Threads, info.System)
			workers = append(workers, w)
			engines = append(engines, engine{name: "llama.cpp-" + label, what: "llama.cpp (node-llama-cpp): " + desc + ", F16 KV cache", gen: workerGen(w)})
		}
	}
	names := make([]string, len(engines))
	for i, e := range engines {
		names[i] = e.name
		b.Logf("%-16s %s", e.name, e.what)
	}

	for _, e := range engines { // warm-up
		for _, batch := range []int{1, 8} {
			if _, err := e.gen(prompts[:batch], 2); err != nil {
				b.Fatal(err)
			}
		}
	}
	fig := newRoundFigures(names...)
	ids := map[string]map[int][][]int32{} // engine → batch → greedy ids of round 0
	for round := range rounds {
		for _, batch := range []int{1, 8} {
			for _, e := range engines {
				pre := math.Inf(1)
				for range prefills {
					g, err := e.gen(prompts[:batch], 1)
					if err != nil {
						b.Fatal(err)
					}
					pre = min(pre, g.Seconds)
				}
				g, err := e.gen(prompts[:batch], 1+newTokens)
				if err != nil {
					b.Fatal(err)
				}
				if len(g.IDs) != batch {
					b.Fatalf("%s: %d rows for batch %d", e.name, len(g.IDs), batch)
				}
				for i, row := range g.IDs {
					if len(row) != 1+newTokens {
						b.Fatalf("%s batch %d row %d: %d tokens, want %d", e.name, batch, i, len(row), 1+newTokens)
					}
				}
				pf, dc := float64(batch*promptLen)/pre, float64(batch*newTokens)/(g.Seconds-pre)
				fig.add(fmt.Sprintf("prefill_b%d", batch), e.name, pf)
				fig.add(fmt.Sprintf("decode_b%d", batch), e.name, dc)
				// Progress as it happens (b.Logf prints only at the end), with the load it ran under.
				fmt.Fprintf(os.Stderr, "%s round %d batch %d %-16s prefill %7.1f tok/s  decode %6.1f tok/s  (load %s)\n",
					time.Now().UTC().Format("15:04:05"), round, batch, e.name, pf, dc, loadAvg())
				if round == 0 {
					if ids[e.name] == nil {
						ids[e.name] = map[int][][]int32{}
					}
					ids[e.name][batch] = g.IDs
				}
			}
		}
		b.Logf("round %d done", round)
	}
	b.Logf("%d prompts × %d tokens, %d new tokens, greedy, %d threads, %d interleaved rounds (engine order %s in each round and batch size):",
		len(prompts), promptLen, newTokens, threads, rounds, strings.Join(names, ", "))
	fig.report(b, "tok/s")
	for _, e := range engines {
		d1, d8 := median(fig.vals["decode_b1"][e.name]), median(fig.vals["decode_b8"][e.name])
		b.ReportMetric(d8/d1, e.name+"-decode-b8/b1")
		b.Logf("%-16s decode batch 8 / batch 1: %.2fx (medians)", e.name, d8/d1)
	}
	// Batched equals unbatched (row 0), and the engines agree with Yardstick's greedy tokens: PyTorch on the
	// same float32 weights must agree for at least 8 tokens per row; llama.cpp's agreement is reported (its
	// F16 KV cache and quantised activations round differently, so long greedy runs may part).
	goIDs := ids["go"]
	b.Logf("go batch 1 vs batch 8 row 0: greedy tokens agree for %d of %d", commonPrefix(goIDs[1][0], goIDs[8][0]), 1+newTokens)
	for _, e := range engines[1:] {
		var agree []string
		for i, row := range ids[e.name][8] {
			n := commonPrefix(goIDs[8][i], row)
			agree = append(agree, strconv.Itoa(n))
			if e.name == "pytorch" && n < 8 {
				b.Errorf("pytorch batch 8 row %d: greedy tokens agree with Yardstick's for only %d positions", i, n)
			}
		}
		b.Logf("%-16s batch 8 greedy tokens equal to Yardstick's, per row (of %d): %s", e.name, 1+newTokens, strings.Join(agree, " "))
	}
	for _, w := range workers {
		if err := w.close(); err != nil {
			b.Errorf("%s worker: %v", w.name, err)
		}
	}
}

// loadAvg is the 1-minute load average (Linux), or "?".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// ggufTypeMix describes a GGUF file's tensor types by element count, largest first ("Q4_1 88%, Q8_0 12%, ...").
func ggufTypeMix(b *testing.B, path string) string {
	f, err := gguf.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	n := map[string]int64{}
	var total int64
	for _, t := range f.Tensors() {
		n[t.Type.String()] += t.Elements()
		total += t.Elements()
	}
	types := make([]string, 0, len(n))
	for t := range n {
		types = append(types, t)
	}
	slices.SortFunc(types, func(x, y string) int { return cmp.Compare(n[y], n[x]) })
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%s %.1f%%", t, 100*float64(n[t])/float64(total))
	}
	return strings.Join(parts, ", ")
}

// ggufMainType is the tensor type holding most of a GGUF file's elements.
func ggufMainType(b *testing.B, path string) string {
	mix := ggufTypeMix(b, path)
	return mix[:strings.IndexByte(mix, ' ')]
}

// BenchmarkLoRAMemory trains LoRA (rank 16, all linear layers, AdamW) on SmolLM2-135M — the GGUF file
// YARDSTICK_BENCH_GGUF, or without it a random model of its shape — at batch 8 × seq 256 with every
// position a target (the vocabulary head's worst case) and reports the process's peak RSS and the step
// time. Peak RSS is per process: run it alone, once per setting:
//
//	go test -tags torch -run '^$' -bench LoRAMemory -benchtime 1x ./finetune/torch/
//	YARDSTICK_BENCH_CHECKPOINT=1 YARDSTICK_BENCH_GGUF=$(scripts/smollm2.sh path) \
//	    go test -tags torch -run '^$' -bench LoRAMemory -benchtime 1x ./finetune/torch/
func BenchmarkLoRAMemory(b *testing.B) {
	threads, _ := strconv.Atoi(envOr("YARDSTICK_TORCH_THREADS", "2"))
	ckpt := os.Getenv("YARDSTICK_BENCH_CHECKPOINT") == "1"
	ggufPath := os.Getenv("YARDSTICK_BENCH_GGUF")
	const batch, seq, steps = 8, 256, 3
	cfg := benchModels["smollm2-135m"]()
	what := "random SmolLM2-135M-shape model"
	err := onTorchThread(context.Background(), func() error {
		setThreads(threads)
		params := map[string]tensor(nil)
		if ggufPath != "" {
			g, err := loadGGUF(ggufPath, false)
			if err != nil {
				return err
			}
			cfg, params, what = g.cfg, g.params, ggufPath
		} else {
			params = initParams(cfg, 1)
		}
		m, err := newModel(cfg, params)
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
		b.Logf("%s: LoRA r16 all-linear, batch %d × seq %d, checkpointing %v: peak RSS %.2f GB (%.2f GB before training), fastest step %s (%.0f tok/s)",
			what, batch, seq, ckpt, float64(peak)/1e9, float64(before)/1e9, fastest.Round(time.Millisecond), float64(batch*seq)/fastest.Seconds())
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
