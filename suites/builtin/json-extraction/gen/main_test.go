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
