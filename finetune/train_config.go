package finetune

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// TrainConfig holds the trainer's hyperparameters. Steps count optimizer
// updates; one update consumes GradAccumulation batches of BatchSize
// sequences. The zero value is not useful: start from DefaultTrainConfig.
type TrainConfig struct {
	LearningRate     float64     `json:"learning_rate"`     // peak learning rate
	MinLRRatio       float64     `json:"min_lr_ratio"`      // cosine decay floor, as a fraction of LearningRate
	WarmupSteps      int         `json:"warmup_steps"`      // linear warmup length
	MaxSteps         int         `json:"max_steps"`         // total optimizer steps; 0: derived from Epochs by StepsFor
	Epochs           float64     `json:"epochs"`            // passes over the training split when MaxSteps is 0
	BatchSize        int         `json:"batch_size"`        // sequences per micro-batch
	GradAccumulation int         `json:"grad_accumulation"` // micro-batches per optimizer step
	SeqLen           int         `json:"seq_len"`           // maximum tokens per training sequence (model input length)
	WeightDecay      float64     `json:"weight_decay"`      // AdamW decoupled weight decay (not applied to norms)
	Beta1            float64     `json:"beta1"`
	Beta2            float64     `json:"beta2"`
	Eps              float64     `json:"eps"`
	GradClip         float64     `json:"grad_clip"`          // max global gradient L2 norm; 0 disables clipping
	Seed             int64       `json:"seed"`               // initialisation, shuffling, dropout and the train/eval split
	EvalFraction     float64     `json:"eval_fraction"`      // share of examples held out for eval loss, by IsEval
	EvalEvery        int         `json:"eval_every"`         // steps between eval-loss measurements; 0: only at the end
	CheckpointEvery  int         `json:"checkpoint_every"`   // steps between checkpoints; 0: only at the end
	LogEvery         int         `json:"log_every"`          // steps between recorded train-loss points
	LoRA             *LoRAConfig `json:"lora,omitempty"`     // nil: full fine-tuning
	Threads          int         `json:"threads"`            // CPU threads for libtorch; 0: all cores
	Template         string      `json:"template,omitempty"` // chat template name; "": detect from the tokenizer
	// GradCheckpoint recomputes each decoder layer's activations during the backward pass instead of
	// keeping them (gradient checkpointing): activation memory of one layer, about a third more compute.
	GradCheckpoint bool `json:"grad_checkpoint,omitempty"`
}

// LoRAConfig selects low-rank adaptation: W' = W + (Alpha/Rank)·B·A on the
// TargetModules of every layer, with A and B trained and W frozen.
type LoRAConfig struct {
	Rank          int      `json:"r"`
	Alpha         float64  `json:"lora_alpha"`
	Dropout       float64  `json:"lora_dropout"`   // dropout on the adapter input during training
	TargetModules []string `json:"target_modules"` // from LoRATargetModules, or "all-linear"
	Merge         bool     `json:"merge"`          // on export, also write model.safetensors with the adapter merged in
}

// LoRAAllLinear in TargetModules stands for every module of LoRATargetModules,
// as in PEFT.
const LoRAAllLinear = "all-linear"

// Targets returns TargetModules with "all-linear" expanded, in
// LoRATargetModules order, without duplicates.
func (l *LoRAConfig) Targets() []string {
	var out []string
	for _, m := range LoRATargetModules {
		if slices.Contains(l.TargetModules, m) || slices.Contains(l.TargetModules, LoRAAllLinear) {
			out = append(out, m)
		}
	}
	return out
}

// Scale is the adapter output multiplier Alpha/Rank.
func (l *LoRAConfig) Scale() float64 { return l.Alpha / float64(l.Rank) }

// DefaultTrainConfig returns settings suited to the small models this tool
// trains on CPU: AdamW (0.9, 0.95), peak LR 3e-4 decaying to 10%, 20 warmup
// steps, 3 epochs, batch 8 of up to 256 tokens, weight decay 0.01, clipping at
// 1.0, 10% eval split. For full fine-tuning of a pretrained model lower the
// learning rate (≈5e-5); from scratch, raise it (≈1e-3).
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		LearningRate:     3e-4,
		MinLRRatio:       0.1,
		WarmupSteps:      20,
		Epochs:           3,
		BatchSize:        8,
		GradAccumulation: 1,
		SeqLen:           256,
		WeightDecay:      0.01,
		Beta1:            0.9,
		Beta2:            0.95,
		Eps:              1e-8,
		GradClip:         1.0,
		Seed:             1,
		EvalFraction:     0.1,
		EvalEvery:        50,
		CheckpointEvery:  100,
		LogEvery:         10,
	}
}

// DefaultLoRAConfig is rank 8, alpha 16, dropout 0.05 on the attention
// projections, not merged on export.
func DefaultLoRAConfig() LoRAConfig {
	return LoRAConfig{Rank: 8, Alpha: 16, Dropout: 0.05, TargetModules: []string{"q_proj", "k_proj", "v_proj", "o_proj"}}
}

// Validate reports every out-of-range setting, each an *InputError whose
// Field is the JSON name.
func (c *TrainConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &InputError{Field: field, Err: fmt.Errorf(format, args...)})
	}
	if !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0) {
		bad("learning_rate", "must be positive, got %g", c.LearningRate)
	}
	if !(c.MinLRRatio >= 0 && c.MinLRRatio <= 1) {
		bad("min_lr_ratio", "must be in [0, 1], got %g", c.MinLRRatio)
	}
	if c.WarmupSteps < 0 {
		bad("warmup_steps", "must be ≥ 0, got %d", c.WarmupSteps)
	}
	if c.MaxSteps < 0 {
		bad("max_steps", "must be ≥ 0, got %d", c.MaxSteps)
	}
	if !(c.Epochs >= 0) || math.IsInf(c.Epochs, 0) {
		bad("epochs", "must be ≥ 0, got %g", c.Epochs)
	}
	if c.MaxSteps == 0 && !(c.Epochs > 0) {
		bad("max_steps", "set max_steps or epochs")
	}
	if c.BatchSize < 1 {
		bad("batch_size", "must be ≥ 1, got %d", c.BatchSize)
	}
	if c.GradAccumulation < 1 {
		bad("grad_accumulation", "must be ≥ 1, got %d", c.GradAccumulation)
	}
	if c.SeqLen < 2 {
		bad("seq_len", "must be ≥ 2, got %d", c.SeqLen)
	}
	if !(c.WeightDecay >= 0) {
		bad("weight_decay", "must be ≥ 0, got %g", c.WeightDecay)
	}
	if !(c.Beta1 >= 0 && c.Beta1 < 1) {
		bad("beta1", "must be in [0, 1), got %g", c.Beta1)
	}
	if !(c.Beta2 >= 0 && c.Beta2 < 1) {
		bad("beta2", "must be in [0, 1), got %g", c.Beta2)
	}
	if !(c.Eps > 0) {
		bad("eps", "must be positive, got %g", c.Eps)
	}
	if !(c.GradClip >= 0) {
		bad("grad_clip", "must be ≥ 0, got %g", c.GradClip)
	}
	if !(c.EvalFraction >= 0 && c.EvalFraction < 1) {
		bad("eval_fraction", "must be in [0, 1), got %g", c.EvalFraction)
	}
	if c.EvalEvery < 0 {
		bad("eval_every", "must be ≥ 0, got %d", c.EvalEvery)
	}
	if c.CheckpointEvery < 0 {
		bad("checkpoint_every", "must be ≥ 0, got %d", c.CheckpointEvery)
	}
	if c.LogEvery < 0 {
		bad("log_every", "must be ≥ 0, got %d", c.LogEvery)
	}
	if c.Threads < 0 {
		bad("threads", "must be ≥ 0, got %d", c.Threads)
	}
	if c.Template != "" {
		if _, err := TemplateByName(c.Template); err != nil {
			bad("template", "%v", err)
		}
	}
	if l := c.LoRA; l != nil {
		if l.Rank < 1 {
			bad("lora.r", "must be ≥ 1, got %d", l.Rank)
		}
		if !(l.Alpha > 0) {
			bad("lora.lora_alpha", "must be positive, got %g", l.Alpha)
		}
		if !(l.Dropout >= 0 && l.Dropout < 1) {
			bad("lora.lora_dropout", "must be in [0, 1), got %g", l.Dropout)
		}
		if len(l.TargetModules) == 0 {
			bad("lora.target_modules", "empty; choose from %q", LoRATargetModules)
		}
		seen := map[string]bool{}
		for _, m := range l.TargetModules {
			switch {
			case m == LoRAAllLinear:
			case !slices.Contains(LoRATargetModules, m):
				bad("lora.target_modules", "unknown module %q; choose from %q", m, LoRATargetModules)
			case seen[m]:
				bad("lora.target_modules", "%q listed twice", m)
			}
			seen[m] = true
		}
	}
	return errors.Join(errs...)
}

// StepsFor is the total number of optimizer steps for a training split of n
// sequences: MaxSteps when set, else ceil(Epochs × ceil(n/BatchSize) /
// GradAccumulation), at least 1.
func (c *TrainConfig) StepsFor(n int) int {
	if c.MaxSteps > 0 {
		return c.MaxSteps
	}
	batches := (n + c.BatchSize - 1) / max(c.BatchSize, 1)
	steps := int(math.Ceil(c.Epochs * float64(batches) / float64(max(c.GradAccumulation, 1))))
	return max(steps, 1)
}

// LRAt is the learning rate for optimizer step `step` (0-based): a linear
// warmup LR·(step+1)/WarmupSteps over the first WarmupSteps steps, then a
// cosine decay from LR at step WarmupSteps to LR·MinLRRatio at step MaxSteps,
// and LR·MinLRRatio from then on. MaxSteps must be set (see StepsFor); with
// MaxSteps 0 the rate stays at LR after warmup.
func (c *TrainConfig) LRAt(step int) float64 {
	lr, floor := c.LearningRate, c.LearningRate*c.MinLRRatio
	if step < c.WarmupSteps {
		return lr * float64(step+1) / float64(c.WarmupSteps)
	}
	if c.MaxSteps <= 0 {
		return lr
	}
	if step >= c.MaxSteps {
		return floor
	}
	progress := float64(step-c.WarmupSteps) / float64(max(1, c.MaxSteps-c.WarmupSteps))
	return floor + (lr-floor)*0.5*(1+math.Cos(math.Pi*progress))
}

// Hash identifies the settings that shape the loss curve (everything except
// Threads, EvalEvery, CheckpointEvery and LogEvery): a resumed run with the
// same hash continues the same trajectory.
func (c *TrainConfig) Hash() string {
	cp := *c
	cp.Threads, cp.EvalEvery, cp.CheckpointEvery, cp.LogEvery = 0, 0, 0, 0
	return HashJSON(cp)
}

// Hash identifies the model architecture and token ids (Extra excluded).
func (c *ModelConfig) Hash() string {
	cp := *c
	cp.Extra = nil
	return HashJSON(cp)
}

// HashJSON is the hex SHA-256 of v's JSON encoding (encoding/json is
// deterministic: struct fields in order, map keys sorted).
func HashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("finetune: HashJSON: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
