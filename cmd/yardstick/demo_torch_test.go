//go:build torch

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/yardstick-eval/yardstick/analysis/compare"
)

// TestDemoFineTuneBeatsBase is the offline quick start end to end, in-process:
// export the customer-support training split, fine-tune a small model from
// scratch, and run the held-out cases on the untrained base and the tuned
// model. The tuned model must beat its base by a margin whose paired 95%
// interval excludes zero. It takes a minute or two on 2 cores.
func TestDemoFineTuneBeatsBase(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model for a minute or more")
	}
	c := newCLI(t, nil)
	train := filepath.Join(c.dir, "train.jsonl")
	model := filepath.Join(c.dir, "model")
	out := filepath.Join(c.dir, "run")
	steps := []struct {
		name string
		args []string
	}{
		{"export", []string{"suites", "export", "customer-support", "--split", "train", "-o", train}},
		{"finetune", []string{"finetune", "--data", train, "--base", "scratch:tiny", "--out", model,
			"--max-steps", "300", "--lr", "1e-3", "--warmup", "20", "--batch-size", "16", "--seq-len", "192",
			"--eval-fraction", "0.1", "--eval-every", "150", "--checkpoint-every", "150", "--log-every", "50"}},
		{"run", []string{"run", "customer-support", "--split", "test", "--no-thresholds", "-q", "--out", out, "--format", "none",
			"-m", "local:" + filepath.Join(model, "base"), "-m", "local:" + model}},
	}
	for _, s := range steps {
		if code := c.run(context.Background(), s.args...); code != exitOK {
			t.Fatalf("%s: exit %d\n%s\n%s", s.name, code, c.stdout.String(), c.stderr.String())
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Comparisons []compare.Row `json:"comparisons"`
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range sum.Comparisons {
		if r.Metric != "pass_rate" {
			continue
		}
		found = true
		// Deltas are B − A; orient them as tuned − base whichever arm is which.
		base, tuned, lift := r.ValueA, r.ValueB, r.Delta
		if r.TargetA == "local:"+model {
			base, tuned = r.ValueB, r.ValueA
			lift.Value, lift.Low, lift.High = -r.Delta.Value, -r.Delta.High, -r.Delta.Low
		}
		t.Logf("held-out pass rate: base %.3f → tuned %.3f, Δ %+.3f [%+.3f, %+.3f], n=%d, p=%.2g",
			base, tuned, lift.Value, lift.Low, lift.High, r.N, r.P)
		if r.N != 120 {
			t.Errorf("paired cases = %d, want the 120 held-out cases", r.N)
		}
		if !(lift.Low > 0) || !r.Significant {
			t.Errorf("the fine-tuned model does not beat its base with confidence: %+v", r)
		}
	}
	if !found {
		t.Fatalf("no pass-rate comparison in summary.json:\n%s", data)
	}
}
