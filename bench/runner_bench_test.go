package bench

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// rnSleeper answers every request after a fixed latency.
type rnSleeper struct{ latency time.Duration }

func (s rnSleeper) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	if s.latency > 0 {
		t := time.NewTimer(s.latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, &providers.Error{Kind: providers.KindCanceled, Provider: "sleeper", Err: ctx.Err()}
		}
	}
	return &providers.Response{Text: "answer to " + req.Messages[0].Content, Model: req.Model,
		Usage: providers.Usage{InputTokens: 42, OutputTokens: 7}, Attempts: 1}, nil
}

// BenchmarkRunnerOverhead measures the runner against a fake provider with a
// fixed latency. The ideal wall time is cases × latency / concurrency; the
// reported overhead_% is how far above it the run was (target: < 5%).
//
//	go test -run '^$' -bench RunnerOverhead -benchtime 3x ./bench/
func BenchmarkRunnerOverhead(b *testing.B) {
	const (
		cases   = 5000
		conc    = 64
		latency = 50 * time.Millisecond
	)
	ideal := time.Duration(cases) * latency / conc
	targets := []Target{{Name: "fake", Model: "m", Provider: rnSleeper{latency}, Price: &providers.Price{InputPerM: 1, OutputPerM: 1}}}
	var total time.Duration
	for b.Loop() {
		n := 0
		sink := SinkFunc(func(*Result) error { n++; return nil })
		start := time.Now()
		if err := New(Config{Concurrency: conc}).Run(context.Background(), rnCases(cases, rnExact{}, nil), targets, sink); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		if n != cases {
			b.Fatalf("%d results", n)
		}
	}
	wall := total / time.Duration(b.N)
	b.ReportMetric(wall.Seconds(), "wall_s")
	b.ReportMetric(ideal.Seconds(), "ideal_s")
	b.ReportMetric(100*(wall.Seconds()/ideal.Seconds()-1), "overhead_%")
	b.ReportMetric(0, "ns/op")
}

// rnMemStats reports the peak heap in use, sampled from the sink every 1000
// results, and the process's peak RSS (VmHWM; meaningful when this benchmark
// runs alone in its process, and a high-water mark over the whole process).
type rnMemStats struct {
	peakHeap, peakSys uint64
}

func (m *rnMemStats) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.peakHeap = max(m.peakHeap, ms.HeapInuse)
	m.peakSys = max(m.peakSys, ms.Sys)
}

// rnVmHWM returns the process's peak resident set size from
// /proc/self/status, or 0 where that file does not exist.
func rnVmHWM() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkRunnerMemory streams N cases through the runner (zero-latency
// provider, concurrency 64) into a results.jsonl file and reports the peak
// heap in use, which must stay flat as N grows. Run alone for a meaningful
// VmHWM:
//
//	go test -run '^$' -bench 'RunnerMemory' -benchtime 1x ./bench/
func BenchmarkRunnerMemory(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 300_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			targets := []Target{{Name: "fake", Model: "m", Provider: rnSleeper{}, Price: &providers.Price{InputPerM: 1, OutputPerM: 1}}}
			var m rnMemStats
			for b.Loop() {
				runtime.GC()
				m = rnMemStats{}
				f, err := os.Create(filepath.Join(b.TempDir(), "results.jsonl"))
				if err != nil {
					b.Fatal(err)
				}
				w := NewJSONLWriter(f)
				sink := SinkFunc(func(r *Result) error {
					if w.Count()%1000 == 0 {
						m.sample()
					}
					return w.Add(r)
				})
				start := time.Now()
				if err := New(Config{Concurrency: 64}).Run(context.Background(), rnCases(n, rnExact{}, nil), targets, sink); err != nil {
					b.Fatal(err)
				}
				el := time.Since(start)
				fi, _ := f.Stat()
				f.Close()
				if w.Count() != n {
					b.Fatalf("%d results", w.Count())
				}
				b.ReportMetric(float64(n)/el.Seconds(), "cases/s")
				b.ReportMetric(float64(fi.Size())/(1<<20), "file_MB")
			}
			b.ReportMetric(float64(m.peakHeap)/(1<<20), "peak_heap_inuse_MB")
			b.ReportMetric(float64(m.peakSys)/(1<<20), "peak_sys_MB")
			b.ReportMetric(float64(rnVmHWM())/(1<<20), "VmHWM_MB")
			b.ReportMetric(0, "ns/op")
		})
	}
}
