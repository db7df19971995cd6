package main

import (
	"testing"

	"github.com/yardstick-eval/yardstick/suites/builtin/internal/gencases"
)

// TestCommittedDatasetIsReproducible fails when cases.jsonl was edited by hand
// or the generator changed without regenerating it (go generate ./suites/builtin/).
func TestCommittedDatasetIsReproducible(t *testing.T) {
	gencases.CheckCommitted(t, "../cases.jsonl", generate())
}

func TestEveryIntentHasBothSplits(t *testing.T) {
	count := map[string]map[string]int{}
	for _, c := range generate() {
		if count[c.Expected] == nil {
			count[c.Expected] = map[string]int{}
		}
		count[c.Expected][c.Split]++
	}
	if len(count) != len(intents) {
		t.Fatalf("%d intents, want %d", len(count), len(intents))
	}
	for label, n := range count {
		if n["train"] < 10 || n["test"] < 5 {
			t.Errorf("%s: train %d, test %d", label, n["train"], n["test"])
		}
	}
}
