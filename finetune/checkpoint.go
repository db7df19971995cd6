package finetune

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CheckpointVersion is the yardstick_checkpoint.json format version.
const CheckpointVersion = 1

// Checkpoint is yardstick_checkpoint.json: where a run stands and how it got
// there. The trainer writes it after every other file of a checkpoint, so a
// directory with a readable one is complete.
type Checkpoint struct {
	Version    int      `json:"version"`
	Step       int      `json:"step"`        // optimizer steps completed
	Next       Position `json:"next"`        // data position of the next batch to train on
	Epoch      float64  `json:"epoch"`       // fractional epochs completed, for display
	TokensSeen int64    `json:"tokens_seen"` // trained (target) tokens so far
	MaxSteps   int      `json:"max_steps"`   // the run's total steps, as resolved by StepsFor
	Done       bool     `json:"done"`        // training finished (not stopped early)

	Seed     int64  `json:"seed"`
	RNGState []byte `json:"rng_state,omitempty"` // opaque generator state (e.g. libtorch's), base64 in JSON

	TrainLoss []LossPoint `json:"train_loss"`
	EvalLoss  []LossPoint `json:"eval_loss"`

	ModelConfigHash string      `json:"model_config_hash"` // ModelConfig.Hash
	TrainConfigHash string      `json:"train_config_hash"` // TrainConfig.Hash
	DataHash        string      `json:"data_hash,omitempty"`
	TrainConfig     TrainConfig `json:"train_config"`

	BaseModel     string        `json:"base_model,omitempty"` // directory of the model fine-tuned, or "scratch:PRESET"
	Template      string        `json:"template"`             // chat template name
	DefaultSystem string        `json:"default_system,omitempty"`
	Tokenizer     string        `json:"tokenizer"`      // "bytes" or "hf"
	TrainExamples int           `json:"train_examples"` // examples in the training split
	EvalExamples  int           `json:"eval_examples"`  // examples in the eval split
	Elapsed       time.Duration `json:"elapsed_ns"`     // training wall time so far
	SavedAt       time.Time     `json:"saved_at"`

	// Adapter reports that the directory holds a LoRA adapter
	// (adapter_model.safetensors + adapter_config.json, applied to BaseModel),
	// instead of or besides a full model.safetensors.
	Adapter bool `json:"adapter,omitempty"`
	// Files lists the files of this checkpoint, relative to its directory.
	Files []string `json:"files,omitempty"`
	// Extra is free-form trainer bookkeeping.
	Extra map[string]string `json:"extra,omitempty"`
}

// LossPoint is one point of a loss curve.
type LossPoint struct {
	Step   int     `json:"step"`
	Loss   float64 `json:"loss"`
	LR     float64 `json:"lr,omitempty"`
	Tokens int64   `json:"tokens,omitempty"` // tokens seen at this step
}

// WriteCheckpoint writes ck as dir/yardstick_checkpoint.json atomically.
// Call it after the checkpoint's other files are written.
func WriteCheckpoint(dir string, ck *Checkpoint) error {
	if ck.Version == 0 {
		ck.Version = CheckpointVersion
	}
	b, err := json.MarshalIndent(ck, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, CheckpointFile), append(b, '\n')); err != nil {
		return fmt.Errorf("finetune: write checkpoint: %w", err)
	}
	return nil
}

// ReadCheckpoint reads dir/yardstick_checkpoint.json.
func ReadCheckpoint(dir string) (*Checkpoint, error) {
	path := filepath.Join(dir, CheckpointFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &InputError{File: path, Err: err}
	}
	var ck Checkpoint
	if err := json.Unmarshal(b, &ck); err != nil {
		return nil, jsonInputError(b, path, err)
	}
	if ck.Version != CheckpointVersion {
		return nil, &InputError{File: path, Field: "version", Err: fmt.Errorf("%d, this build reads version %d", ck.Version, CheckpointVersion)}
	}
	return &ck, nil
}

// CheckpointDir is the directory of the intermediate checkpoint at step.
func CheckpointDir(runDir string, step int) string {
	return filepath.Join(runDir, CheckpointsDir, fmt.Sprintf("step-%08d", step))
}

// ErrNoCheckpoint is returned by LatestCheckpoint when a run has none.
var ErrNoCheckpoint = errors.New("finetune: no complete checkpoint")

// LatestCheckpoint finds the run's most advanced complete checkpoint: runDir
// itself (the final export) or one of runDir/checkpoints/step-*, whichever has
// the highest step (the final export wins a tie). Directories without a
// readable yardstick_checkpoint.json (interrupted writes) are skipped.
func LatestCheckpoint(runDir string) (dir string, ck *Checkpoint, err error) {
	if c, err := ReadCheckpoint(runDir); err == nil {
		dir, ck = runDir, c
	}
	entries, err := os.ReadDir(filepath.Join(runDir, CheckpointsDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", nil, err
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "step-") {
			continue
		}
		d := filepath.Join(runDir, CheckpointsDir, e.Name())
		c, err := ReadCheckpoint(d)
		if err != nil {
			continue
		}
		if ck == nil || c.Step > ck.Step {
			dir, ck = d, c
		}
	}
	if ck == nil {
		return "", nil, fmt.Errorf("%w in %s", ErrNoCheckpoint, runDir)
	}
	return dir, ck, nil
}

// PruneCheckpoints removes all but the newest keep intermediate checkpoints
// (by step) under runDir/checkpoints. Incomplete checkpoint directories older
// than the newest kept one are removed too.
func PruneCheckpoints(runDir string, keep int) error {
	base := filepath.Join(runDir, CheckpointsDir)
	entries, err := os.ReadDir(base)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	type cp struct {
		name string
		step int
	}
	var all []cp
	for _, e := range entries {
		if s, ok := strings.CutPrefix(e.Name(), "step-"); ok && e.IsDir() {
			if n, err := strconv.Atoi(s); err == nil {
				all = append(all, cp{e.Name(), n})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].step > all[j].step })
	kept := 0
	for _, c := range all {
		d := filepath.Join(base, c.name)
		if kept < keep {
			if _, err := ReadCheckpoint(d); err == nil {
				kept++
				continue
			}
			if kept == 0 {
				continue // possibly being written right now
			}
		}
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	return nil
}

// GenerationConfig is generation_config.json: the token ids and sampling
// defaults transformers reads for generate(). Nil pointers are omitted.
type GenerationConfig struct {
	BOSTokenID   *int     `json:"bos_token_id,omitempty"`
	EOSTokenID   TokenIDs `json:"eos_token_id,omitempty"`
	PadTokenID   *int     `json:"pad_token_id,omitempty"`
	DoSample     bool     `json:"do_sample"`
	Temperature  *float64 `json:"temperature,omitempty"`
	TopP         *float64 `json:"top_p,omitempty"`
	MaxNewTokens int      `json:"max_new_tokens,omitempty"`
}

// NewGenerationConfig takes the ids from a model config; stop lists extra
// stop ids (StopIDs) merged into eos_token_id. Greedy decoding by default.
func NewGenerationConfig(c *ModelConfig, stop []int32) *GenerationConfig {
	g := &GenerationConfig{BOSTokenID: c.BOSTokenID, PadTokenID: c.PadTokenID}
	g.EOSTokenID = append(TokenIDs(nil), c.EOSTokenID...)
	for _, id := range stop {
		found := false
		for _, x := range g.EOSTokenID {
			found = found || x == int(id)
		}
		if !found {
			g.EOSTokenID = append(g.EOSTokenID, int(id))
		}
	}
	return g
}

// Save writes generation_config.json atomically.
func (g *GenerationConfig) Save(path string) error {
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// LoadGenerationConfig reads a generation_config.json (path: file or dir).
func LoadGenerationConfig(path string) (*GenerationConfig, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, GenerationConfigFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &InputError{File: path, Err: err}
	}
	var g GenerationConfig
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, jsonInputError(b, path, err)
	}
	return &g, nil
}

// AdapterConfig is PEFT's adapter_config.json for a LoRA adapter, so an
// adapter trained here loads with peft.PeftModel.from_pretrained and vice
// versa.
type AdapterConfig struct {
	PEFTType            string   `json:"peft_type"` // "LORA"
	TaskType            string   `json:"task_type"` // "CAUSAL_LM"
	BaseModelNameOrPath string   `json:"base_model_name_or_path"`
	R                   int      `json:"r"`
	LoRAAlpha           float64  `json:"lora_alpha"`
	LoRADropout         float64  `json:"lora_dropout"`
	TargetModules       []string `json:"target_modules"`
	Bias                string   `json:"bias"` // "none"
	FanInFanOut         bool     `json:"fan_in_fan_out"`
	InferenceMode       bool     `json:"inference_mode"`
	InitLoRAWeights     bool     `json:"init_lora_weights"`
	UseRSLoRA           bool     `json:"use_rslora"`
	UseDoRA             bool     `json:"use_dora"`
	ModulesToSave       []string `json:"modules_to_save"`
}

// NewAdapterConfig describes a LoRA adapter trained on top of base.
// "all-linear" is written as the explicit module list it stands for: PEFT
// reads a list as module names, and has no module named "all-linear" (only
// the string form means every linear layer, and only in PEFT ≥ 0.8).
func NewAdapterConfig(base string, l *LoRAConfig) *AdapterConfig {
	targets := append([]string(nil), l.TargetModules...)
	if slices.Contains(targets, LoRAAllLinear) {
		targets = l.Targets()
	}
	return &AdapterConfig{
		PEFTType: "LORA", TaskType: "CAUSAL_LM", BaseModelNameOrPath: base,
		R: l.Rank, LoRAAlpha: l.Alpha, LoRADropout: l.Dropout,
		TargetModules: targets,
		Bias:          "none", InferenceMode: true, InitLoRAWeights: true,
	}
}

// UnmarshalJSON accepts target_modules as PEFT writes it: a list of module
// names, or one string ("all-linear", or a single module name).
func (a *AdapterConfig) UnmarshalJSON(b []byte) error {
	type plain AdapterConfig
	var v struct {
		*plain
		TargetModules json.RawMessage `json:"target_modules"`
	}
	v.plain = (*plain)(a)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	a.TargetModules = nil
	if len(v.TargetModules) == 0 || string(v.TargetModules) == "null" {
		return nil
	}
	var one string
	if err := json.Unmarshal(v.TargetModules, &one); err == nil {
		a.TargetModules = []string{one}
		return nil
	}
	return json.Unmarshal(v.TargetModules, &a.TargetModules)
}

// LoRA converts back to a LoRAConfig (Merge false).
func (a *AdapterConfig) LoRA() *LoRAConfig {
	return &LoRAConfig{Rank: a.R, Alpha: a.LoRAAlpha, Dropout: a.LoRADropout, TargetModules: append([]string(nil), a.TargetModules...)}
}

// Save writes adapter_config.json atomically.
func (a *AdapterConfig) Save(path string) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// LoadAdapterConfig reads an adapter_config.json (path: file or dir) and
// rejects what finetune/torch cannot apply: other PEFT types, biases, DoRA,
// rsLoRA, fan_in_fan_out, modules_to_save, unknown target modules, a regular
// expression as target_modules, per-module ranks or alphas, layer selection
// or replication, excluded modules, LoRA biases.
func LoadAdapterConfig(path string) (*AdapterConfig, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, AdapterConfigFile)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &InputError{File: path, Err: err}
	}
	var a AdapterConfig
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, jsonInputError(b, path, err)
	}
	fail := func(field, format string, args ...any) error {
		return &InputError{File: path, Line: fieldLine(b, field), Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case a.PEFTType != "LORA":
		return nil, fail("peft_type", "%q: only LORA is supported", a.PEFTType)
	case a.Bias != "" && a.Bias != "none":
		return nil, fail("bias", "%q: only none is supported", a.Bias)
	case a.UseDoRA:
		return nil, fail("use_dora", "DoRA is not supported")
	case a.UseRSLoRA:
		return nil, fail("use_rslora", "rank-stabilised LoRA is not supported")
	case a.FanInFanOut:
		return nil, fail("fan_in_fan_out", "not supported")
	case len(a.ModulesToSave) > 0:
		return nil, fail("modules_to_save", "not supported")
	}
	// PEFT features that change which layers are adapted or how strongly: applying the adapter without
	// them would give other outputs than PEFT's, so they are refused rather than ignored.
	var peftOnly struct {
		RankPattern       json.RawMessage `json:"rank_pattern"`
		AlphaPattern      json.RawMessage `json:"alpha_pattern"`
		LayersToTransform json.RawMessage `json:"layers_to_transform"`
		LayersPattern     json.RawMessage `json:"layers_pattern"`
		LayerReplication  json.RawMessage `json:"layer_replication"`
		ExcludeModules    json.RawMessage `json:"exclude_modules"`
		LoRABias          bool            `json:"lora_bias"`
		TargetModules     json.RawMessage `json:"target_modules"`
	}
	_ = json.Unmarshal(b, &peftOnly)
	for _, f := range []struct {
		field, what string
		raw         json.RawMessage
	}{
		{"rank_pattern", "per-module ranks", peftOnly.RankPattern},
		{"alpha_pattern", "per-module alphas", peftOnly.AlphaPattern},
		{"layers_to_transform", "adapting only some layers", peftOnly.LayersToTransform},
		{"layers_pattern", "adapting only some layers", peftOnly.LayersPattern},
		{"layer_replication", "layer replication", peftOnly.LayerReplication},
		{"exclude_modules", "excluded modules", peftOnly.ExcludeModules},
	} {
		switch strings.TrimSpace(string(f.raw)) {
		case "", "null", "{}", "[]", `""`:
		default:
			var c bytes.Buffer
			if json.Compact(&c, f.raw) != nil {
				c.Reset()
				c.Write(f.raw)
			}
			return nil, fail(f.field, "%s: not supported (%s)", c.Bytes(), f.what)
		}
	}
	if peftOnly.LoRABias {
		return nil, fail("lora_bias", "true: not supported (a trained bias on LoRA B)")
	}
	var one string
	if json.Unmarshal(peftOnly.TargetModules, &one) == nil && one != LoRAAllLinear && !slices.Contains(LoRATargetModules, one) {
		return nil, fail("target_modules", "%q: a single string is a regular expression over module paths to PEFT, which is not supported; list the module names (from %q) or write %q", one, LoRATargetModules, LoRAAllLinear)
	}
	l := a.LoRA()
	tc := TrainConfig{LoRA: l}
	var errs []error
	for _, e := range flatten(tc.Validate()) {
		var ie *InputError
		if errors.As(e, &ie) && strings.HasPrefix(ie.Field, "lora.") {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, &InputError{File: path, Err: errors.Join(errs...)}
	}
	return &a, nil
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// FileHash is the hex SHA-256 of a file's content, for Checkpoint.DataHash.
func FileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
