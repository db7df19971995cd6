//go:build torch

package torch

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/gguf"
	"github.com/yardstick-eval/yardstick/providers"
)

// The reference check of every export: TestExportReference re-creates, from tiny_llama.gguf and adapters
// with fixed weights, each file `yardstick finetune export` writes (PEFT adapter for every --lora-targets
// form, GGUF LoRA adapter, merged GGUF F16, Q8_0, F32 and BF16, merged safetensors directory; and, on a
// tied-embeddings base written by gguf.WriteModel, adapter, merged F16 and GGUF LoRA) and checks that
//
//   - it is byte-identical to the file the reference implementations read when
//     testdata/exports/{reference,llamacpp}.json were recorded (sha256), so a writer change fails here
//     until `make export-fixtures` has the references read the new bytes;
//   - this package's logits on it equal what peft (PeftModel.from_pretrained on transformers'
//     LlamaForCausalLM), transformers (the merged directory) and llama.cpp (node-llama-cpp: the merged
//     GGUFs, and the base GGUF with the GGUF LoRA adapter) computed from the same bytes;
//   - its own GGUF reader sees the metadata, tensor names, types, shapes and dequantised values the
//     Python gguf package (GGUFReader, gguf.quants.dequantize) recorded.
//
// `go test -tags torch -run TestExportReference -export-ref DIR` writes the exports and plan.json into DIR
// for finetune/torch/testdata/make_export_fixtures.py and llamacpp_check.mjs (make export-fixtures).
var exportRefOut = flag.String("export-ref", "", "write the reference exports and plan.json into this directory and stop (make export-fixtures)")

const (
	refFixtures = "testdata/exports"
	refBase     = "tiny_llama.gguf"
	// refTiedBase is tiny_llama.gguf with tied embeddings (no output.weight, as SmolLM2 and most small
	// LLaMAs ship), written by gguf.WriteModel in F32: itself an export the references read.
	refTiedBase = "tiny_llama_tied.gguf"
	refRank     = 4
	refAlpha    = 8
	// refStride: logits are recorded at vocabulary ids 0, refStride, 2·refStride, … of every position (and
	// the full row's argmax), which keeps the JSON small and still covers every output row block.
	refStride = 7
)

// refForms are the --lora-targets forms the CLI accepts: the default list, one module, an explicit list
// (attention with the permuted Q/K, and MLP), and "all-linear"; and the default list on the tied base.
var refForms = []struct {
	name    string
	targets []string
	base    string
}{
	{"default", finetune.DefaultLoRAConfig().TargetModules, refBase},
	{"single", []string{"up_proj"}, refBase},
	{"list", []string{"q_proj", "k_proj", "down_proj"}, refBase},
	{"all-linear", []string{finetune.LoRAAllLinear}, refBase},
	{"tied", finetune.DefaultLoRAConfig().TargetModules, refTiedBase},
}

var refIDs = []int32{1, 17, 33, 90, 5, 64, 101, 7, 300, 599}

// refTexts are tokenized by transformers (the merged directory's tokenizer) and llama.cpp (each merged
// GGUF's) and by this package's tokenizers of the same exports.
var refTexts = []string{"Hello world, how are you?", "  leading spaces and\ttabs\n\nnew lines", "numbers 12345 and 3.14",
	"<|im_start|>user\nhi<|im_end|>\n", "Korean 안녕하세요 and emoji 🙂", "   "}

// refPlan is plan.json: what the fixture scripts load and run.
type refPlan struct {
	IDs      []int32             `json:"ids"`
	Stride   int                 `json:"vocab_stride"`
	Vocab    int                 `json:"vocab_size"`
	Base     string              `json:"base"`
	TiedBase string              `json:"tied_base"`
	Bases    map[string]string   `json:"bases"`     // adapter directory → its base GGUF
	Adapters map[string][]string `json:"adapters"`  // adapter directory → --lora-targets
	LoRAGGUF map[string]string   `json:"lora_gguf"` // GGUF LoRA file → adapter directory it came from
	Merged   []string            `json:"merged_gguf"`
	MergedHF []string            `json:"merged_hf"`
	Files    []string            `json:"files"` // every export file, hashed
	Texts    []string            `json:"texts"`
}

// refValue is the deterministic adapter weight number i of tensor seed: a small dyadic rational
// (k/64, |k| ≤ 7), so B·A and (alpha/r)·B·A are exact in float32 whatever the summation order and the
// merged weights are the same bits on every machine.
func refValue(seed, i int) float32 {
	return float32((i*37+seed*11)%15-7) / 64
}

// writeRefExports writes the base (copied), one adapter directory per form and every export into dir.
func writeRefExports(t *testing.T, dir string) refPlan {
	t.Helper()
	b, err := os.ReadFile(ggufFixture)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, refBase), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := finetune.LoadModelConfig("../gguf/testdata/tiny_llama_config.json")
	if err != nil {
		t.Fatal(err)
	}
	plan := refPlan{IDs: refIDs, Stride: refStride, Vocab: cfg.VocabSize, Texts: refTexts, Base: refBase, TiedBase: refTiedBase,
		Adapters: map[string][]string{}, LoRAGGUF: map[string]string{}, Bases: map[string]string{}}
	ctx := context.Background()
	err = onTorchThread(ctx, func() error {
		g, err := loadGGUF(filepath.Join(dir, refBase), false)
		if err != nil {
			return err
		}
		defer func() {
			for _, t := range g.params {
				t.free()
			}
		}()
		tied := *g.cfg
		tied.TieWordEmbeddings = true
		src := func(name string, shape []int64) ([]float32, error) {
			w, ok := g.params[name]
			if !ok {
				return nil, fmt.Errorf("no tensor %s", name)
			}
			return w.float32s(), nil
		}
		return gguf.WriteModel(filepath.Join(dir, refTiedBase), &tied, src, gguf.ModelOptions{Type: gguf.F32, Tokenizer: g.tok, Name: "tiny_llama_tied"})
	})
	if err != nil {
		t.Fatal(err)
	}
	plan.Files = append(plan.Files, refTiedBase)
	for _, f := range refForms {
		ad := filepath.Join(dir, f.name)
		if err := os.MkdirAll(ad, 0o755); err != nil {
			t.Fatal(err)
		}
		err := onTorchThread(ctx, func() error {
			prev := setGradEnabled(false)
			defer setGradEnabled(prev)
			l, err := loadDir(filepath.Join(dir, f.base))
			if err != nil {
				return err
			}
			defer l.free()
			lc := finetune.DefaultLoRAConfig()
			lc.Rank, lc.Alpha, lc.TargetModules = refRank, refAlpha, f.targets
			if err := l.m.attachLoRA(lc, 1); err != nil {
				return err
			}
			for li, ly := range l.m.layers {
				for pi, p := range ly.projs() {
					if !p.a.ok() {
						continue
					}
					seed := li*7 + pi
					for _, ab := range []*tensor{&p.a, &p.b} {
						sh := ab.shape()
						v := make([]float32, sh[0]*sh[1])
						for i := range v {
							v[i] = refValue(seed, i)
						}
						ab.free()
						*ab = fromFloat32s(v, sh...)
						seed += 1000
					}
				}
			}
			return l.m.saveAdapter(ad, filepath.Join("..", f.base))
		})
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		plan.Adapters[f.name] = f.targets
		plan.Bases[f.name] = f.base
		plan.Files = append(plan.Files, f.name+"/"+adapterCfgFile, f.name+"/"+adapterFile)
		types := []string{"f16"}
		loras := []string{"f32"}
		if f.name == "default" {
			types, loras = []string{"f16", "q8_0", "f32", "bf16"}, []string{"f32", "f16"}
		}
		for _, typ := range types {
			out := f.name + "-merged-" + typ + ".gguf"
			if err := ExportGGUF(ctx, ad, filepath.Join(dir, out), typ, false); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			plan.Merged = append(plan.Merged, out)
			plan.Files = append(plan.Files, out)
		}
		for _, typ := range loras {
			out := f.name + "-lora-" + typ + ".gguf"
			if err := ExportGGUF(ctx, ad, filepath.Join(dir, out), typ, true); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			plan.LoRAGGUF[out] = f.name
			plan.Files = append(plan.Files, out)
		}
		if f.name == "default" {
			out := f.name + "-merged"
			if err := ExportMerged(ctx, ad, filepath.Join(dir, out)); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			plan.MergedHF = append(plan.MergedHF, out)
			// yardstick_checkpoint.json records when it was saved; the rest is deterministic.
			for _, name := range []string{configFile, modelFile, "tokenizer.json", "tokenizer_config.json", finetune.GenerationConfigFile} {
				if _, err := os.Stat(filepath.Join(dir, out, name)); err == nil {
					plan.Files = append(plan.Files, out+"/"+name)
				}
			}
		}
	}
	return plan
}

// refLogits are the sampled logits of one model on refIDs: Values[p] holds the logits (or log-probs) at
// ids 0, refStride, … of position p; Argmax[p] is the full row's argmax.
type refLogits struct {
	Values [][]float64 `json:"values"`
	Argmax []int       `json:"argmax"`
}

// ggufRecord is what the Python gguf package read from one GGUF export.
type ggufRecord struct {
	Metadata map[string]json.RawMessage `json:"metadata"`
	Tensors  []struct {
		Name   string  `json:"name"`
		Type   string  `json:"type"`
		Shape  []int64 `json:"shape"`
		SHA256 string  `json:"sha256"` // of the little-endian float32 bytes of gguf.quants.dequantize's output
	} `json:"tensors"`
}

type refRecord struct {
	Versions    map[string]string             `json:"versions"`
	Files       map[string]string             `json:"files"`
	PEFT        map[string]refLogits          `json:"peft"`
	PEFTModules map[string][]string           `json:"peft_modules"`
	PEFTWritten map[string]refLogits          `json:"peft_written"`
	HF          map[string]refLogits          `json:"transformers"`
	HFTokens    map[string]map[string][]int32 `json:"transformers_tokens"`
	HFChat      map[string]struct {
		Text string  `json:"text"`
		IDs  []int32 `json:"ids"`
	} `json:"transformers_chat"`
	GGUF map[string]ggufRecord `json:"gguf"`
}

type llamaRecord struct {
	Versions map[string]string `json:"versions"`
	Runs     map[string]struct {
		Files    []string           `json:"files"`
		LogProbs refLogits          `json:"logprobs"`
		Greedy   []int              `json:"greedy"`
		Tokens   map[string][]int32 `json:"tokens"`
	} `json:"runs"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `make export-fixtures`)", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// logitsAt runs the model at path (adapter directory, model directory or GGUF file) on refIDs and
// returns the raw logits, one row per position.
func logitsAt(t *testing.T, path string) [][]float32 {
	t.Helper()
	rows, _ := runRef(t, path, 0)
	return rows
}

// runRef loads the model at path, returns its logits on refIDs (one row per position) and its greedy
// continuation of refIDs, steps tokens long, each step with the margin between its two best logits.
func runRef(t *testing.T, path string, steps int) (rows [][]float32, greedy []greedyStep) {
	t.Helper()
	err := onTorchThread(context.Background(), func() error {
		prev := setGradEnabled(false)
		defer setGradEnabled(prev)
		l, err := loadDir(path)
		if err != nil {
			return err
		}
		defer l.free()
		run := func(ids []int32) [][]float32 {
			var s scope
			defer s.free()
			n := int64(len(ids))
			all := l.m.logits(&s, s.t(fromInt32sAsInt64(ids, 1, n)), 1, n, nil).float32s()
			v := len(all) / len(ids)
			var out [][]float32
			for p := range ids {
				out = append(out, all[p*v:(p+1)*v])
			}
			return out
		}
		rows = run(refIDs)
		seq := slices.Clone(refIDs)
		last := rows[len(rows)-1]
		for range steps {
			best, second := top2(last)
			greedy = append(greedy, greedyStep{best, float64(last[best] - last[second])})
			seq = append(seq, int32(best))
			r := run(seq)
			last = r[len(r)-1]
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows, greedy
}

type greedyStep struct {
	token  int
	margin float64
}

func top2(row []float32) (best, second int) {
	best, second = -1, -1
	for i := range row {
		if best < 0 || row[i] > row[best] {
			best, second = i, best
		} else if second < 0 || row[i] > row[second] {
			second = i
		}
	}
	return best, second
}

func logSoftmax(row []float32) []float32 {
	m := math.Inf(-1)
	for _, x := range row {
		m = math.Max(m, float64(x))
	}
	var z float64
	for _, x := range row {
		z += math.Exp(float64(x) - m)
	}
	lz := m + math.Log(z)
	out := make([]float32, len(row))
	for i, x := range row {
		out[i] = float32(float64(x) - lz)
	}
	return out
}

// compareLogits checks got (full rows) against a record and returns the largest difference; the argmax
// must agree wherever got's top two are further apart than tol.
func compareLogits(t *testing.T, what string, got [][]float32, want refLogits, tol float64) float64 {
	t.Helper()
	if len(want.Values) != len(got) {
		t.Errorf("%s: %d positions recorded, want %d (rerun `make export-fixtures`)", what, len(want.Values), len(got))
		return math.Inf(1)
	}
	worst := 0.0
	for p, row := range got {
		for j, w := range want.Values[p] {
			worst = math.Max(worst, math.Abs(float64(row[j*refStride])-w))
		}
		best, second := top2(row)
		if p < len(want.Argmax) && want.Argmax[p] != best && float64(row[best]-row[second]) > tol {
			t.Errorf("%s: position %d: argmax %d, the reference's %d", what, p, best, want.Argmax[p])
		}
	}
	if worst > tol {
		t.Errorf("%s: max |Δ| %.3g > tolerance %g", what, worst, tol)
	} else {
		t.Logf("%s: max |Δ| %.3g (tolerance %g)", what, worst, tol)
	}
	return worst
}

func maxRowDiff(a, b [][]float32) float64 {
	d := 0.0
	for p := range a {
		d = math.Max(d, maxAbsDiff(a[p], b[p]))
	}
	return d
}

func TestExportReference(t *testing.T) {
	if *exportRefOut != "" {
		dir, err := filepath.Abs(*exportRefOut)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		plan := writeRefExports(t, dir)
		b, _ := json.MarshalIndent(plan, "", "  ")
		if err := os.WriteFile(filepath.Join(dir, "plan.json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote the reference exports into %s", dir)
		return
	}
	var ref refRecord
	var llama llamaRecord
	readJSON(t, filepath.Join(refFixtures, "reference.json"), &ref)
	readJSON(t, filepath.Join(refFixtures, "llamacpp.json"), &llama)
	dir := t.TempDir()
	plan := writeRefExports(t, dir)
	const rerun = "the export writer changed: if that is intended, rerun `make export-fixtures` so peft, gguf and llama.cpp read the new bytes"

	t.Run("bytes", func(t *testing.T) {
		for _, f := range plan.Files {
			sum, err := finetune.FileHash(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			switch want, ok := ref.Files[f]; {
			case !ok:
				t.Errorf("%s: not checked by the reference implementations (%s)", f, rerun)
			case want != sum:
				t.Errorf("%s: sha256 %s, the references read %s (%s)", f, sum[:12], want[:12], rerun)
			}
		}
		for name, r := range llama.Runs {
			for _, f := range r.Files {
				if _, ok := ref.Files[f]; !ok && f != refBase {
					t.Errorf("llamacpp.json run %s read %s, which reference.json does not know (rerun `make export-fixtures`)", name, f)
				}
			}
		}
	})

	bases := map[string][][]float32{}
	for _, b := range []string{refBase, refTiedBase} {
		bases[b] = logitsAt(t, filepath.Join(dir, b))
	}
	adapters := map[string][][]float32{}
	t.Run("peft", func(t *testing.T) {
		for _, f := range refForms {
			got := logitsAt(t, filepath.Join(dir, f.name))
			adapters[f.name] = got
			if d := maxRowDiff(got, bases[f.base]); d < 0.05 {
				t.Errorf("%s: the adapter hardly changes the model (max |Δlogit| %g): the check could not fail", f.name, d)
			}
			want, ok := ref.PEFT[f.name]
			if !ok {
				t.Errorf("%s: no peft logits recorded", f.name)
				continue
			}
			compareLogits(t, f.name+": Yardstick vs peft", got, want, 1e-4)
			lc := finetune.LoRAConfig{TargetModules: f.targets}
			var mods []string
			for i := range l0Layers(t) {
				for _, m := range lc.Targets() {
					mods = append(mods, fmt.Sprintf("%d.%s", i, m))
				}
			}
			if got := ref.PEFTModules[f.name]; !slices.Equal(got, mods) {
				t.Errorf("%s: peft adapted %q, want %q", f.name, got, mods)
			}
		}
	})
	if len(adapters) != len(refForms) {
		t.FailNow()
	}

	// The other direction: an adapter PEFT wrote (target_modules "all-linear" as PEFT's string) loads here
	// with PEFT's logits.
	t.Run("peft-written", func(t *testing.T) {
		if len(ref.PEFTWritten) == 0 {
			t.Error("no PEFT-written adapter recorded (rerun `make export-fixtures`)")
		}
		for name, want := range ref.PEFTWritten {
			ac, err := finetune.LoadAdapterConfig(filepath.Join(refFixtures, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := ac.LoRA().Targets(); !slices.Equal(got, finetune.LoRATargetModules) {
				t.Errorf("%s: target_modules %q read as %q, want every linear layer", name, ac.TargetModules, got)
			}
			got := logitsAt(t, filepath.Join(refFixtures, name))
			if d := maxRowDiff(got, bases[refBase]); d < 0.05 {
				t.Errorf("%s: the adapter hardly changes the model (max |Δlogit| %g)", name, d)
			}
			compareLogits(t, name+": Yardstick vs peft on PEFT's own adapter", got, want, 1e-4)
		}
	})

	t.Run("transformers", func(t *testing.T) {
		for _, d := range plan.MergedHF {
			want, ok := ref.HF[d]
			if !ok {
				t.Errorf("%s: no transformers logits recorded", d)
				continue
			}
			got := logitsAt(t, filepath.Join(dir, d))
			compareLogits(t, d+": Yardstick vs transformers", got, want, 1e-4)
			compareLogits(t, d+": Yardstick's merged vs its adapter", got, refLogitsOf(adapters[strings.TrimSuffix(d, "-merged")], false), 1e-4)
			checkTokens(t, filepath.Join(dir, d), ref.HFTokens[d], ref.HFChat[d].IDs)
		}
	})

	t.Run("gguf-py", func(t *testing.T) {
		for _, name := range append(append([]string{refTiedBase}, plan.Merged...), sortedKeys(plan.LoRAGGUF)...) {
			rec, ok := ref.GGUF[name]
			if !ok {
				t.Errorf("%s: not read by gguf-py", name)
				continue
			}
			checkGGUFRecord(t, filepath.Join(dir, name), rec)
		}
	})

	t.Run("llama.cpp", func(t *testing.T) {
		// Tolerances on log-probs: llama.cpp multiplies F16/Q8_0/K-quant weights with activations rounded
		// to F16/Q8_0/Q8_K, Yardstick with the exact dequantised weights in float32. tiny_llama.gguf holds
		// K-quants, which moves llama.cpp's log-probs by up to ~2.5e-2; the tied base is F32, where only
		// llama.cpp's F16 KV cache rounds (~1e-3).
		tol := map[string]float64{"f16": 5e-3, "q8_0": 5e-2, "f32": 5e-3, "bf16": 2e-2, refBase: 4e-2, refTiedBase: 5e-3}
		for name, r := range llama.Runs {
			var src, base string
			var tl float64
			switch {
			case len(r.Files) == 1 && (name == refBase || name == refTiedBase):
				src, tl = filepath.Join(dir, name), tol[name]
			case len(r.Files) == 2 && plan.LoRAGGUF[name] != "":
				form := plan.LoRAGGUF[name]
				src, base = filepath.Join(dir, form), plan.Bases[form]
				tl = tol[base]
				if r.Files[0] != base {
					t.Errorf("%s: applied to %s, not to its base %s", name, r.Files[0], base)
				}
			case len(r.Files) == 1 && slices.Contains(plan.Merged, name):
				form, typ, _ := strings.Cut(strings.TrimSuffix(name, ".gguf"), "-merged-")
				src, base, tl = filepath.Join(dir, name), plan.Bases[form], tol[typ]
			}
			if src == "" || tl == 0 {
				t.Errorf("run %s: files %q are not exports of this plan (rerun `make export-fixtures`)", name, r.Files)
				continue
			}
			got, greedy := runRef(t, src, len(r.Greedy))
			lp := make([][]float32, len(got))
			for p := range got {
				lp[p] = logSoftmax(got[p])
			}
			compareLogits(t, name+": Yardstick vs llama.cpp log-probs", lp, r.LogProbs, tl)
			if base != "" {
				// llama.cpp's own view of the export must differ from its base by far more than the
				// tolerance, or a dropped adapter would pass.
				d := maxRecordDiff(r.LogProbs, llama.Runs[base].LogProbs)
				t.Logf("%s: llama.cpp's log-probs move by up to %.3g from %s's", name, d, base)
				if d < 5*tl {
					t.Errorf("%s: llama.cpp's log-probs differ from the base's by only %g", name, d)
				}
			}
			checkGreedy(t, name, greedy, r.Greedy, tl)
			if len(r.Files) == 1 {
				checkTokens(t, src, r.Tokens, nil)
			}
		}
		for _, want := range append(append([]string{refBase, refTiedBase}, plan.Merged...), sortedKeys(plan.LoRAGGUF)...) {
			if _, ok := llama.Runs[want]; !ok {
				t.Errorf("%s: not loaded by llama.cpp (rerun `make export-fixtures`)", want)
			}
		}
	})
	t.Logf("references: %v; %v", ref.Versions, llama.Versions)
}

// checkGreedy compares llama.cpp's greedy continuation of refIDs with this package's, computed by
// re-running the model (rows are its logits on refIDs; more steps run forward on the grown sequence). A
// step where this package's two best tokens are within tol of each other ends the comparison: float
// rounding may pick either.
func checkGreedy(t *testing.T, name string, got []greedyStep, want []int, tol float64) {
	t.Helper()
	if len(want) == 0 {
		t.Errorf("%s: llama.cpp produced no greedy continuation", name)
		return
	}
	for i, g := range got {
		if g.token == want[i] {
			continue
		}
		if g.margin > tol {
			t.Errorf("%s: greedy token %d is %d, llama.cpp's %d (Yardstick's margin %.3g > %g)", name, i, g.token, want[i], g.margin, tol)
		} else {
			t.Logf("%s: greedy continuations part at step %d on a near tie (margin %.3g)", name, i, g.margin)
		}
		return
	}
	t.Logf("%s: greedy continuation %v equals llama.cpp's", name, want)
}

// checkTokens: the tokenizer of the export at path (loaded as `local:` loads it) gives a reference's ids
// for every refText, and, when chat is set, renders a one-message conversation with the generation prompt
// as those ids.
func checkTokens(t *testing.T, path string, want map[string][]int32, chat []int32) {
	t.Helper()
	name := filepath.Base(path)
	if len(want) != len(refTexts) {
		t.Errorf("%s: %d tokenized texts recorded, want %d (rerun `make export-fixtures`)", name, len(want), len(refTexts))
	}
	err := onTorchThread(context.Background(), func() error {
		l, err := loadDir(path)
		if err != nil {
			return err
		}
		defer l.free()
		for s, ids := range want {
			if got := l.tok.Encode(s); !slices.Equal(got, ids) {
				t.Errorf("%s: %q tokenizes as %v, the reference as %v", name, s, got, ids)
			}
		}
		if chat != nil {
			got, err := finetune.RenderPrompt(l.tok, l.tmpl, "", []providers.Message{{Role: providers.RoleUser, Content: "Hi!"}}, 0)
			if err != nil {
				return err
			}
			if !slices.Equal(got, chat) {
				t.Errorf("%s: the chat prompt renders as %q, transformers' apply_chat_template as %q", name, l.tok.Decode(got), l.tok.Decode(chat))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func refLogitsOf(rows [][]float32, _ bool) refLogits {
	var r refLogits
	for _, row := range rows {
		var v []float64
		for j := 0; j < len(row); j += refStride {
			v = append(v, float64(row[j]))
		}
		r.Values = append(r.Values, v)
		best := 0
		for i := range row {
			if row[i] > row[best] {
				best = i
			}
		}
		r.Argmax = append(r.Argmax, best)
	}
	return r
}

func maxRecordDiff(a, b refLogits) float64 {
	d := 0.0
	for p := range a.Values {
		if p >= len(b.Values) {
			return math.Inf(1)
		}
		for j := range a.Values[p] {
			d = math.Max(d, math.Abs(a.Values[p][j]-b.Values[p][j]))
		}
	}
	return d
}

func l0Layers(t *testing.T) []struct{} {
	cfg, err := finetune.LoadModelConfig("../gguf/testdata/tiny_llama_config.json")
	if err != nil {
		t.Fatal(err)
	}
	return make([]struct{}, cfg.NumHiddenLayers)
}

func sortedKeys[V any](m map[string]V) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

// checkGGUFRecord compares this package's reading of a GGUF file with gguf-py's.
func checkGGUFRecord(t *testing.T, path string, rec ggufRecord) {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	name := filepath.Base(path)
	md := f.Metadata()
	keys := md.Keys()
	if len(keys) != len(rec.Metadata) {
		t.Errorf("%s: %d metadata keys, gguf-py read %d", name, len(keys), len(rec.Metadata))
	}
	for _, k := range keys {
		want, ok := rec.Metadata[k]
		if !ok {
			t.Errorf("%s: gguf-py did not see key %s", name, k)
			continue
		}
		v, _ := md.Value(k)
		if got := ggufValueJSON(v); string(got) != string(compactJSON(want)) {
			t.Errorf("%s: %s = %s, gguf-py read %s", name, k, trunc(got), trunc(compactJSON(want)))
		}
	}
	ts := f.Tensors()
	if len(ts) != len(rec.Tensors) {
		t.Errorf("%s: %d tensors, gguf-py read %d", name, len(ts), len(rec.Tensors))
		return
	}
	for i, ti := range ts {
		w := rec.Tensors[i]
		if ti.Name != w.Name || ti.Type.String() != w.Type || !slices.Equal(ti.Shape, w.Shape) {
			t.Errorf("%s: tensor %d is %s %s %v, gguf-py read %s %s %v", name, i, ti.Name, ti.Type, ti.Shape, w.Name, w.Type, w.Shape)
			continue
		}
		data, err := f.ReadTensor(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		for _, x := range data {
			binary.Write(h, binary.LittleEndian, math.Float32bits(x))
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != w.SHA256 {
			t.Errorf("%s: %s dequantises to other values than gguf.quants.dequantize's", name, ti.Name)
		}
	}
}

// ggufValueJSON renders a metadata value as the fixture script does: {"type": t, "value": v} for a
// scalar, {"type": "array", "elem": t, "len": n, "sha256": h} for an array, h over the elements' binary
// form (strings: u64 length + bytes; integers int64, floats float64, bools one byte, little-endian).
func ggufValueJSON(v gguf.Value) []byte {
	if v.Type() != gguf.TypeArray {
		b, _ := json.Marshal(map[string]any{"type": v.Type().String(), "value": v.Any()})
		return b
	}
	h := sha256.New()
	switch a := v.Any().(type) {
	case []string:
		for _, s := range a {
			binary.Write(h, binary.LittleEndian, uint64(len(s)))
			io.WriteString(h, s)
		}
	case []int64:
		binary.Write(h, binary.LittleEndian, a)
	case []float64:
		binary.Write(h, binary.LittleEndian, a)
	case []bool:
		binary.Write(h, binary.LittleEndian, a)
	default:
		io.WriteString(h, fmt.Sprintf("%T", a))
	}
	b, _ := json.Marshal(map[string]any{"type": "array", "elem": v.Elem().String(), "len": v.Len(), "sha256": hex.EncodeToString(h.Sum(nil))})
	return b
}

func compactJSON(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	out, _ := json.Marshal(v)
	return out
}

func trunc(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
