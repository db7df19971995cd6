// Command mergecheck measures `yardstick merge`'s library (bench/merge) on a
// large sharded run: it writes -shards shard directories holding -records
// results in all (cases × 2 targets, realistic lines with prompt, output,
// usage and cost), then merges them in a fresh child process and prints the
// merge's wall time, throughput and peak resident set size (VmHWM from
// /proc/self/status, Linux only), so the RSS is the merge's alone.
//
//	go run ./bench/internal/mergecheck -records 1000000 -shards 16
//
// It exists to check that merge streams (RSS grows with one shard's keys,
// not with the run); it is not part of the product.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/bench/internal/peakrss"
	"github.com/yardstick-eval/yardstick/bench/merge"
	"github.com/yardstick-eval/yardstick/bench/shard"
	"github.com/yardstick-eval/yardstick/providers"
)

var targets = []bench.TargetInfo{{Name: "openai:gpt-4o-mini", Model: "gpt-4o-mini", Provider: "openai"}, {Name: "gemini:gemini-2.5-flash", Model: "gemini-2.5-flash", Provider: "gemini"}}

func cases(n int) iter.Seq2[*bench.Case, error] {
	return func(yield func(*bench.Case, error) bool) {
		for i := range n {
			if !yield(&bench.Case{Suite: "big", SuiteVersion: "1", ID: fmt.Sprintf("case-%07d", i), PromptHash: fmt.Sprintf("%064x", i)}, nil) {
				return
			}
		}
	}
}

func generate(dir string, records, count int) error {
	nCases := records / len(targets)
	set := shard.Settings{Suites: []bench.SuiteInfo{{Name: "big", Version: "1", Hash: "0", Cases: nCases}}, Targets: targets, Repeats: 1}
	price := &providers.Price{InputPerM: 0.15, OutputPerM: 0.6}
	for k := 1; k <= count; k++ {
		sd := filepath.Join(dir, fmt.Sprintf("shard-%02d", k))
		if err := os.MkdirAll(sd, 0o755); err != nil {
			return err
		}
		sp := shard.Spec{Index: k, Count: count}
		pf, err := os.Create(filepath.Join(sd, shard.PlanName))
		if err != nil {
			return err
		}
		plan, err := shard.WritePlan(pf, cases(nCases), set, sp)
		pf.Close()
		if err != nil {
			return err
		}
		rf, err := os.Create(filepath.Join(sd, "results.jsonl"))
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(rf, 1<<20)
		w := bench.NewJSONLWriter(bw)
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for c, _ := range cases(nCases) {
			for _, t := range targets {
				key := bench.Key{Suite: c.Suite, CaseID: c.ID, Target: t.Name}
				if !sp.Has(key) {
					continue
				}
				u := providers.Usage{InputTokens: 120 + len(c.ID), OutputTokens: 9}
				cost := price.Cost(u)
				q := "Classify the customer's message: my order " + c.ID + " has not arrived and nobody answers my emails."
				r := &bench.Result{Suite: c.Suite, SuiteVersion: "1", CaseID: c.ID, Target: t.Name, Model: t.Model, PromptHash: c.PromptHash,
					Prompt:   []providers.Message{{Role: providers.RoleSystem, Content: "Classify the customer's intent."}, {Role: providers.RoleUser, Content: q}},
					Expected: "shipping_delay", Output: "shipping_delay", FinishReason: "stop", Score: 1, Pass: true,
					Scores: []bench.ScorePart{{Name: "choice", Value: 1, Weight: 1, Pass: true}},
					Start:  start, Latency: 420 * time.Millisecond, Usage: u, CostUSD: &cost, Attempts: 1,
					Tags: map[string]string{"split": "test", "intent": "shipping_delay"}}
				if err := w.Add(r); err != nil {
					return err
				}
			}
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		rf.Close()
		m := bench.NewManifest([]string{"mergecheck"}, start)
		m.Status = "completed"
		m.Suites, m.Targets, m.Repeats = set.Suites, set.Targets, 1
		m.Shard = &bench.ShardInfo{Index: k, Count: count, Source: "flag", Scheme: shard.Scheme, Units: plan.Units, Total: plan.Total, Plan: plan.Hash, Cases: shard.PlanName}
		if err := bench.WriteManifest(filepath.Join(sd, bench.ManifestName), m); err != nil {
			return err
		}
	}
	return nil
}

func runMerge(dir string) error {
	entries, err := filepath.Glob(filepath.Join(dir, "shard-*"))
	if err != nil {
		return err
	}
	start := time.Now()
	shards, err := merge.Open(entries)
	if err != nil {
		return err
	}
	out := filepath.Join(dir, "merged")
	res, err := merge.Merge(context.Background(), shards, out, merge.Options{})
	if err != nil {
		return err
	}
	el := time.Since(start)
	fi, _ := os.Stat(filepath.Join(out, "results.jsonl"))
	fmt.Printf("merged %d shards, %d records (%.0f MB) in %v: %.0f records/s, %.0f MB/s; peak RSS (VmHWM) %s\n",
		len(shards), res.Records, float64(fi.Size())/(1<<20), el.Round(time.Millisecond),
		float64(res.Records)/el.Seconds(), float64(fi.Size())/(1<<20)/el.Seconds(), peakrss.String())
	return nil
}

func main() {
	records := flag.Int("records", 1_000_000, "records in all (cases × 2 targets)")
	count := flag.Int("shards", 16, "shards")
	mergeDir := flag.String("merge", "", "internal: merge the shards in this directory")
	flag.Parse()
	if *mergeDir != "" {
		if p := os.Getenv("MERGECHECK_CPUPROFILE"); p != "" {
			f, _ := os.Create(p)
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		if err := runMerge(*mergeDir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	dir, err := os.MkdirTemp("", "mergecheck")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	t0 := time.Now()
	if err := generate(dir, *records, *count); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d shards of %d records in all in %v\n", *count, *records, time.Since(t0).Round(time.Millisecond))
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd := exec.Command(self, "-merge", dir)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		os.Exit(1)
	}
}
