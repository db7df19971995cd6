package finetune

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	tc := DefaultTrainConfig()
	l := DefaultLoRAConfig()
	tc.LoRA = &l
	ck := &Checkpoint{
		Step: 120, Next: Position{Epoch: 2, Batch: 3}, Epoch: 2.4, TokensSeen: 98765, MaxSteps: 300,
		Seed: 9, RNGState: []byte{0, 1, 2, 255},
		TrainLoss:       []LossPoint{{Step: 10, Loss: 3.5, LR: 1e-4, Tokens: 1000}, {Step: 20, Loss: 2.25}},
		EvalLoss:        []LossPoint{{Step: 20, Loss: 2.5}},
		ModelConfigHash: TinyConfig(263).Hash(), TrainConfigHash: tc.Hash(), TrainConfig: tc,
		BaseModel: "/models/smol", Template: TemplateChatML, Adapter: true, Files: []string{AdapterModelFile, AdapterConfigFile}, Extra: map[string]string{"k": "v"}, Tokenizer: "hf", TrainExamples: 90, EvalExamples: 10,
		Elapsed: 90 * time.Second, SavedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	if err := WriteCheckpoint(dir, ck); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Version != CheckpointVersion {
		t.Errorf("Version not set: %d", ck.Version)
	}
	if !reflect.DeepEqual(got, ck) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, ck)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}

	os.WriteFile(filepath.Join(dir, CheckpointFile), []byte(`{"version": 99}`), 0o644)
	if _, err := ReadCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "version: 99") {
		t.Errorf("future version: err = %v", err)
	}
	os.WriteFile(filepath.Join(dir, CheckpointFile), []byte("{\n\"step\": \"x\"}"), 0o644)
	var ie *InputError
	if _, err := ReadCheckpoint(dir); !errors.As(err, &ie) || ie.Field != "step" || ie.Line != 2 {
		t.Errorf("bad step: err = %v", err)
	}
}

func TestLatestCheckpoint(t *testing.T) {
	run := t.TempDir()
	if _, _, err := LatestCheckpoint(run); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("empty run: err = %v", err)
	}
	for _, step := range []int{100, 300, 200} {
		d := CheckpointDir(run, step)
		os.MkdirAll(d, 0o755)
		if err := WriteCheckpoint(d, &Checkpoint{Step: step}); err != nil {
			t.Fatal(err)
		}
	}
	// An interrupted checkpoint: weights but no metadata.
	os.MkdirAll(CheckpointDir(run, 400), 0o755)
	os.WriteFile(filepath.Join(CheckpointDir(run, 400), ModelFile), []byte("partial"), 0o644)

	dir, ck, err := LatestCheckpoint(run)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Step != 300 || dir != CheckpointDir(run, 300) || filepath.Base(dir) != "step-00000300" {
		t.Errorf("latest = %s step %d, want step 300", dir, ck.Step)
	}
	// The final export at the same step wins.
	WriteCheckpoint(run, &Checkpoint{Step: 300, Done: true})
	if dir, ck, _ = LatestCheckpoint(run); dir != run || !ck.Done {
		t.Errorf("latest = %s, want the run dir", dir)
	}

	if err := PruneCheckpoints(run, 2); err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(filepath.Join(run, CheckpointsDir))
	for _, e := range entries {
		left = append(left, e.Name())
	}
	// The incomplete newest one may still be being written: kept. 300 and 200 kept; 100 removed.
	if strings.Join(left, ",") != "step-00000200,step-00000300,step-00000400" {
		t.Errorf("after prune: %v", left)
	}
	if err := PruneCheckpoints(t.TempDir(), 1); err != nil {
		t.Errorf("prune without checkpoints: %v", err)
	}
}

func TestGenerationConfig(t *testing.T) {
	c := TinyConfig(263)
	bos, pad := 256, 258
	c.BOSTokenID, c.PadTokenID, c.EOSTokenID = &bos, &pad, TokenIDs{257}
	g := NewGenerationConfig(c, []int32{262, 257})
	if !equalInts(g.EOSTokenID, TokenIDs{257, 262}) {
		t.Errorf("EOS = %v", g.EOSTokenID)
	}
	path := filepath.Join(t.TempDir(), GenerationConfigFile)
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	golden(t, "generation_config.json", raw)
	back, err := LoadGenerationConfig(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, g) {
		t.Errorf("round trip: %+v vs %+v", back, g)
	}
}

func TestAdapterConfig(t *testing.T) {
	l := DefaultLoRAConfig()
	a := NewAdapterConfig("../base", &l)
	dir := t.TempDir()
	if err := a.Save(filepath.Join(dir, AdapterConfigFile)); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, AdapterConfigFile))
	golden(t, "adapter_config.json", raw)
	back, err := LoadAdapterConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.LoRA(), &l) {
		t.Errorf("LoRA() = %+v, want %+v", back.LoRA(), l)
	}

	tests := []struct {
		name, from, to, field string
	}{
		{"ia3", `"peft_type": "LORA"`, `"peft_type": "IA3"`, "peft_type"},
		{"bias", `"bias": "none"`, `"bias": "all"`, "bias"},
		{"dora", `"use_dora": false`, `"use_dora": true`, "use_dora"},
		{"rank", `"r": 8`, `"r": 0`, ""},
		{"module", `"q_proj"`, `"c_attn"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := bytes.Replace(raw, []byte(tc.from), []byte(tc.to), 1)
			if bytes.Equal(bad, raw) {
				t.Fatalf("%q not found in the adapter config", tc.from)
			}
			p := filepath.Join(t.TempDir(), AdapterConfigFile)
			os.WriteFile(p, bad, 0o644)
			_, err := LoadAdapterConfig(p)
			var ie *InputError
			if !errors.As(err, &ie) || ie.File != p || (tc.field != "" && (ie.Field != tc.field || ie.Line == 0)) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	p := Progress{Event: EventStep, Step: 120, MaxSteps: 300, Loss: 1.23456, LR: 2.1e-4, TokensPerSec: 1234.4, Elapsed: 90 * time.Second, ETA: ETA(90*time.Second, 120, 180)}
	if got, want := p.String(), "step 120/300  40% loss 1.2346 lr 2.10e-04 1234 tok/s 1m30s ETA 2m15s"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	var b strings.Builder
	pr := ProgressPrinter(&b, false)
	pr(p)
	pr(Progress{Event: EventEval, Step: 150, MaxSteps: 300, EvalLoss: 1.5, HasEval: true, Elapsed: 2 * time.Minute})
	pr(Progress{Event: EventDone, Step: 300, MaxSteps: 300, Loss: math.NaN(), EvalLoss: 1.25, HasEval: true, Elapsed: 4 * time.Minute, Checkpoint: "runs/x"})
	golden(t, "progress_plain.txt", []byte(b.String()))
	b.Reset()
	pr = ProgressPrinter(&b, true)
	pr(p)
	pr(Progress{Event: EventCheckpoint, Step: 200, MaxSteps: 300, Checkpoint: "runs/x/checkpoints/step-00000200", Elapsed: 3 * time.Minute})
	golden(t, "progress_tty.txt", []byte(b.String()))
	if ETA(time.Minute, 0, 10) != 0 || ETA(time.Minute, 10, 0) != 0 {
		t.Error("ETA without data should be 0")
	}
}

func TestFileHash(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d.jsonl")
	os.WriteFile(p, []byte("abc"), 0o644)
	got, err := FileHash(p)
	if err != nil || got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("FileHash = %q, %v", got, err)
	}
	if _, err := FileHash(p + ".missing"); err == nil {
		t.Error("missing file hashed")
	}
}

// TestAdapterConfigAllLinear: "all-linear" is written as the module list PEFT can load, and PEFT's own
// string form reads back.
func TestAdapterConfigAllLinear(t *testing.T) {
	l := DefaultLoRAConfig()
	l.TargetModules = []string{LoRAAllLinear}
	a := NewAdapterConfig("../base", &l)
	if !slices.Equal(a.TargetModules, LoRATargetModules) {
		t.Errorf("target_modules %q, want %q", a.TargetModules, LoRATargetModules)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, AdapterConfigFile)
	raw := `{"peft_type":"LORA","task_type":"CAUSAL_LM","base_model_name_or_path":"b","r":4,"lora_alpha":8,"target_modules":"all-linear","bias":"none"}`
	if err := os.WriteFile(p, []byte(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := LoadAdapterConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.LoRA().Targets(); !slices.Equal(got, LoRATargetModules) {
		t.Errorf("string all-linear read as %q", got)
	}
}

// TestAdapterConfigPEFTFeatures: an adapter_config.json as PEFT 0.13.2 saves it (the PEFT-written fixture
// of finetune/torch's export reference check) loads; the PEFT features that change which layers are
// adapted or by how much are refused naming the field, not ignored (ignoring alpha_pattern {"v_proj": 32}
// gave logits 1.8 away from PEFT's on the tiny fixture).
func TestAdapterConfigPEFTFeatures(t *testing.T) {
	raw, err := os.ReadFile("torch/testdata/exports/peft-all-linear/adapter_config.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, AdapterConfigFile)
	os.WriteFile(p, raw, 0o644)
	if _, err := LoadAdapterConfig(p); err != nil {
		t.Fatalf("PEFT's own config: %v", err)
	}
	tests := []struct {
		name, from, to, field string
	}{
		{"alpha_pattern", `"alpha_pattern": {}`, `"alpha_pattern": {"v_proj": 32}`, "alpha_pattern"},
		{"rank_pattern", `"rank_pattern": {}`, `"rank_pattern": {"v_proj": 2}`, "rank_pattern"},
		{"layers_to_transform", `"layers_to_transform": null`, `"layers_to_transform": [1]`, "layers_to_transform"},
		{"layers_pattern", `"layers_pattern": null`, `"layers_pattern": "layers"`, "layers_pattern"},
		{"layer_replication", `"layer_replication": null`, `"layer_replication": [[0, 2]]`, "layer_replication"},
		{"exclude_modules", `"use_rslora": false`, `"use_rslora": false, "exclude_modules": ["q_proj"]`, "exclude_modules"},
		{"lora_bias", `"use_rslora": false`, `"use_rslora": false, "lora_bias": true`, "lora_bias"},
		{"regex", `"target_modules": "all-linear"`, `"target_modules": ".*\\.(q_proj|v_proj)"`, "target_modules"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := bytes.Replace(raw, []byte(tc.from), []byte(tc.to), 1)
			if bytes.Equal(bad, raw) {
				t.Fatalf("%q not found in PEFT's adapter config", tc.from)
			}
			os.WriteFile(p, bad, 0o644)
			_, err := LoadAdapterConfig(p)
			var ie *InputError
			if !errors.As(err, &ie) || ie.File != p || ie.Field != tc.field || ie.Line == 0 {
				t.Errorf("err = %v", err)
			} else {
				t.Log(err)
			}
		})
	}
	// PEFT's defaults for the same fields load.
	for _, ok := range []string{`"layers_pattern": []`, `"rank_pattern": null`} {
		from := map[string]string{`"layers_pattern": []`: `"layers_pattern": null`, `"rank_pattern": null`: `"rank_pattern": {}`}[ok]
		os.WriteFile(p, bytes.Replace(raw, []byte(from), []byte(ok), 1), 0o644)
		if _, err := LoadAdapterConfig(p); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
