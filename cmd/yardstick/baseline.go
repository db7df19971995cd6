package main

import (
	"iter"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/reports"
)

// baselineInput is a loaded baseline file.
type baselineInput struct {
	path string
}

func loadBaseline(path string) (*baselineInput, error) {
	return nil, usageErrf("--baseline %s: baselines are not wired in yet", path)
}

func (b *baselineInput) results() iter.Seq2[*bench.Result, error] {
	return func(func(*bench.Result, error) bool) {}
}

// baselineComparer pairs a run's results with the baseline's.
type baselineComparer struct{ b *baselineInput }

func (b *baselineInput) comparer() *baselineComparer { return &baselineComparer{b} }
func (c *baselineComparer) add(*bench.Result)        {}
func (c *baselineComparer) finish(*reports.Input) error {
	return nil
}
