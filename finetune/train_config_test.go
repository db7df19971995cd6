package finetune

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestLRAt(t *testing.T) {
	c := DefaultTrainConfig()
	c.LearningRate, c.MinLRRatio, c.WarmupSteps, c.MaxSteps = 1e-3, 0.1, 10, 110
	tests := []struct {
		step int
		want float64
	}{
		{0, 1e-4},    // (0+1)/10 of peak
		{4, 5e-4},    // halfway through warmup
		{9, 1e-3},    // last warmup step reaches the peak
		{10, 1e-3},   // cosine starts at the peak
		{60, 5.5e-4}, // half-way: floor + (peak-floor)/2
		{110, 1e-4},  // end: the floor
		{500, 1e-4},  // past the end: the floor
	}
	for _, tc := range tests {
		if got := c.LRAt(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("LRAt(%d) = %g, want %g", tc.step, got, tc.want)
		}
	}
	// Monotone: up during warmup, down afterwards.
	for s := 1; s < 120; s++ {
		prev, cur := c.LRAt(s-1), c.LRAt(s)
		if s < 10 && !(cur > prev) {
			t.Errorf("warmup not increasing at %d: %g → %g", s, prev, cur)
		}
		if s > 10 && cur > prev {
			t.Errorf("decay increasing at %d: %g → %g", s, prev, cur)
		}
	}
	c.WarmupSteps = 0
	if got := c.LRAt(0); got != 1e-3 {
		t.Errorf("no warmup: LRAt(0) = %g, want the peak", got)
	}
	c.MaxSteps = 0
	if got := c.LRAt(1000); got != 1e-3 {
		t.Errorf("MaxSteps 0: LRAt(1000) = %g, want the peak", got)
	}
}

func TestStepsFor(t *testing.T) {
	tests := []struct {
		maxSteps, batch, accum int
		epochs                 float64
		n, want                int
	}{
		{0, 8, 1, 3, 100, 39},  // ceil(100/8)=13 batches × 3
		{0, 8, 2, 3, 100, 20},  // 39/2 rounded up
		{0, 8, 1, 0.5, 100, 7}, // half an epoch
		{50, 8, 1, 3, 100, 50}, // MaxSteps wins
		{0, 8, 1, 1, 0, 1},     // never zero
	}
	for _, tc := range tests {
		c := DefaultTrainConfig()
		c.MaxSteps, c.BatchSize, c.GradAccumulation, c.Epochs = tc.maxSteps, tc.batch, tc.accum, tc.epochs
		if got := c.StepsFor(tc.n); got != tc.want {
			t.Errorf("%+v: StepsFor(%d) = %d, want %d", tc, tc.n, got, tc.want)
		}
	}
}

func TestTrainConfigValidate(t *testing.T) {
	if err := func() error { c := DefaultTrainConfig(); return c.Validate() }(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	lora := DefaultLoRAConfig()
	tests := []struct {
		name  string
		edit  func(c *TrainConfig)
		field string
		want  string
	}{
		{"lr", func(c *TrainConfig) { c.LearningRate = 0 }, "learning_rate", "positive"},
		{"min lr", func(c *TrainConfig) { c.MinLRRatio = 1.5 }, "min_lr_ratio", "[0, 1]"},
		{"no length", func(c *TrainConfig) { c.Epochs, c.MaxSteps = 0, 0 }, "max_steps", "set max_steps or epochs"},
		{"batch", func(c *TrainConfig) { c.BatchSize = 0 }, "batch_size", "≥ 1"},
		{"accum", func(c *TrainConfig) { c.GradAccumulation = 0 }, "grad_accumulation", "≥ 1"},
		{"seq", func(c *TrainConfig) { c.SeqLen = 1 }, "seq_len", "≥ 2"},
		{"beta2", func(c *TrainConfig) { c.Beta2 = 1 }, "beta2", "[0, 1)"},
		{"eps", func(c *TrainConfig) { c.Eps = 0 }, "eps", "positive"},
		{"eval fraction", func(c *TrainConfig) { c.EvalFraction = 1 }, "eval_fraction", "[0, 1)"},
		{"nan clip", func(c *TrainConfig) { c.GradClip = math.NaN() }, "grad_clip", "≥ 0"},
		{"template", func(c *TrainConfig) { c.Template = "alpaca" }, "template", "unknown chat template"},
		{"lora rank", func(c *TrainConfig) { l := lora; l.Rank = 0; c.LoRA = &l }, "lora.r", "≥ 1"},
		{"lora module", func(c *TrainConfig) { l := lora; l.TargetModules = []string{"qkv"}; c.LoRA = &l }, "lora.target_modules", `unknown module "qkv"`},
		{"lora dup", func(c *TrainConfig) { l := lora; l.TargetModules = []string{"q_proj", "q_proj"}; c.LoRA = &l }, "lora.target_modules", "twice"},
		{"lora dropout", func(c *TrainConfig) { l := lora; l.Dropout = 1; c.LoRA = &l }, "lora.lora_dropout", "[0, 1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultTrainConfig()
			tc.edit(&c)
			err := c.Validate()
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *InputError", err)
			}
			if ie.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q (field %q), want field %q containing %q", err, ie.Field, tc.field, tc.want)
			}
		})
	}
	c := DefaultTrainConfig()
	l := DefaultLoRAConfig()
	l.TargetModules = []string{"all-linear"}
	c.LoRA = &l
	if err := c.Validate(); err != nil {
		t.Errorf("all-linear rejected: %v", err)
	}
	if got := l.Targets(); len(got) != 7 {
		t.Errorf("all-linear Targets = %v", got)
	}
}

func TestTrainConfigHash(t *testing.T) {
	a := DefaultTrainConfig()
	b := a
	b.Threads, b.EvalEvery, b.CheckpointEvery, b.LogEvery = 7, 1, 2, 3
	if a.Hash() != b.Hash() {
		t.Error("bookkeeping settings changed the hash")
	}
	b.LearningRate *= 2
	if a.Hash() == b.Hash() {
		t.Error("learning rate did not change the hash")
	}
	if len(a.Hash()) != 64 {
		t.Errorf("hash %q is not hex SHA-256", a.Hash())
	}
}
