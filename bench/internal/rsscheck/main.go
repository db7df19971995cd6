// Command rsscheck measures the runner's peak memory in a fresh process: it
// streams -cases generated cases through bench.Runner (a fake provider that
// answers after -latency) into a results.jsonl file in a temporary directory,
// and prints the peak resident set size (VmHWM from /proc/self/status, Linux
// only), the peak Go heap in use and the throughput.
//
//	go run ./bench/internal/rsscheck -cases 100000
//
// It exists to check the "100,000 cases under 150 MB RSS, flat as cases grow"
// target; it is not part of the product.
package main

import (
	"context"
	"flag"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/bench/internal/peakrss"
	"github.com/yardstick-eval/yardstick/providers"
)

type fake struct{ latency time.Duration }

func (f fake) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	if f.latency > 0 {
		select {
		case <-time.After(f.latency):
		case <-ctx.Done():
			return nil, &providers.Error{Kind: providers.KindCanceled, Provider: "fake", Err: ctx.Err()}
		}
	}
	return &providers.Response{Text: "answer to " + req.Messages[0].Content, Model: req.Model,
		Usage: providers.Usage{InputTokens: 42, OutputTokens: 7}, Attempts: 1}, nil
}

func cases(n int) iter.Seq2[*bench.Case, error] {
	return func(yield func(*bench.Case, error) bool) {
		for i := range n {
			q := fmt.Sprintf("question %d: what is the intent of this message?", i)
			c := &bench.Case{
				Suite: "mem", SuiteVersion: "1", ID: fmt.Sprintf("case-%07d", i),
				Request: providers.Request{
					System:      "Classify the customer's intent.",
					Messages:    []providers.Message{{Role: providers.RoleUser, Content: q}},
					MaxTokens:   16,
					Temperature: providers.Float64(0),
				},
				Expected: "answer to " + q, PromptHash: fmt.Sprintf("%064x", i),
				Tags: map[string]string{"split": "test"},
			}
			if !yield(c, nil) {
				return
			}
		}
	}
}

func main() {
	n := flag.Int("cases", 100_000, "cases to stream")
	conc := flag.Int("concurrency", 64, "runner concurrency")
	targets := flag.Int("targets", 1, "targets (each case goes to each)")
	latency := flag.Duration("latency", 0, "fake provider latency")
	flag.Parse()

	dir, err := os.MkdirTemp("", "rsscheck")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	f, err := os.Create(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()

	var ts []bench.Target
	for i := range *targets {
		ts = append(ts, bench.Target{Name: fmt.Sprintf("fake:%d", i), Model: "m", Provider: fake{*latency},
			Price: &providers.Price{InputPerM: 0.15, OutputPerM: 0.6}})
	}
	w := bench.NewJSONLWriter(f)
	var peakHeap uint64
	sink := bench.SinkFunc(func(r *bench.Result) error {
		if w.Count()%1000 == 0 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
		}
		return w.Add(r)
	})
	start := time.Now()
	r := bench.New(bench.Config{Concurrency: *conc})
	if err := r.Run(context.Background(), cases(*n), ts, sink); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	el := time.Since(start)
	fi, _ := f.Stat()
	fmt.Printf("results %d (file %.1f MB) in %v (%.0f results/s); peak heap in use %.1f MB; peak RSS (VmHWM) %s\n",
		w.Count(), float64(fi.Size())/(1<<20), el.Round(time.Millisecond), float64(w.Count())/el.Seconds(),
		float64(peakHeap)/(1<<20), peakrss.String())
}
