package main

import (
	"bytes"
	"os"
	"testing"
)

// TestCommittedDatasetIsReproducible fails when cases.jsonl was edited by hand
// or the generator changed without regenerating it (go generate ./suites/builtin/).
func TestCommittedDatasetIsReproducible(t *testing.T) {
	var b bytes.Buffer
	if err := write(&b, generate()); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), committed) {
		t.Fatal("../cases.jsonl differs from the generator's output; run go generate ./suites/builtin/")
	}
}
