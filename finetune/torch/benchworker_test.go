//go:build torch

package torch

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// benchWorker is a long-lived benchmark process in another language (scripts/torch_bench.py,
// scripts/llamacpp_bench.mjs): one JSON request per stdin line, one JSON reply per stdout line. It loads
// its model once, so the rounds the benchmarks interleave with the Go side time the same work on both.
type benchWorker struct {
	name string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
}

// benchEnv is the environment of every worker process: the caller's, with the OpenMP/MKL thread counts
// pinned to threads and passive OpenMP waiting, so an idle worker does not spin on the cores the engine being
// timed needs. (The Go process reads the same variables at libtorch start-up: `make bench-torch` sets them.)
func benchEnv(threads int) []string {
	n := strconv.Itoa(threads)
	return append(os.Environ(), "OMP_NUM_THREADS="+n, "MKL_NUM_THREADS="+n, "OMP_WAIT_POLICY=PASSIVE")
}

func startWorker(name string, env []string, args ...string) (*benchWorker, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	return &benchWorker{name: name, cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}, nil
}

// call sends req and decodes the reply into resp; a reply with an "error" field is an error.
func (w *benchWorker) call(req, resp any) error {
	line, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := w.in.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("%s: %w", w.name, err)
	}
	reply, err := w.out.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("%s: reading reply to %.80s: %w", w.name, line, err)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(reply, &e); err != nil {
		return fmt.Errorf("%s: reply %.200q: %w", w.name, reply, err)
	}
	if e.Error != "" {
		return fmt.Errorf("%s: %s", w.name, e.Error)
	}
	return json.Unmarshal(reply, resp)
}

func (w *benchWorker) close() error {
	w.in.Close()
	return w.cmd.Wait()
}

// roundFigures collects one figure per engine per round for several metrics and reports, for each metric,
// every round's figures, each engine's median and the first engine's ratio to every other engine: the ratio
// of the medians and the smallest and largest per-round ratio (a round runs every engine back to back, so a
// per-round ratio compares engines under the same machine load).
type roundFigures struct {
	engines []string                        // in report order; engines[0] is the one the ratios are of
	vals    map[string]map[string][]float64 // metric → engine → figure per round
	metrics []string                        // in report order
}

func newRoundFigures(engines ...string) *roundFigures {
	return &roundFigures{engines: engines, vals: map[string]map[string][]float64{}}
}

func (f *roundFigures) add(metric, engine string, v float64) {
	if f.vals[metric] == nil {
		f.vals[metric] = map[string][]float64{}
		f.metrics = append(f.metrics, metric)
	}
	f.vals[metric][engine] = append(f.vals[metric][engine], v)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// report logs the table and reports "ENGINE-METRIC-UNIT" medians and "METRIC-ratio-vs-ENGINE" ratios of
// medians as benchmark metrics.
func (f *roundFigures) report(b *testing.B, unit string) {
	base := f.engines[0]
	for _, metric := range f.metrics {
		byEngine := f.vals[metric]
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s (%s), per round:", metric, unit)
		for _, e := range f.engines {
			if v, ok := byEngine[e]; ok {
				fmt.Fprintf(&sb, "\n    %-16s", e)
				for _, x := range v {
					fmt.Fprintf(&sb, " %9.1f", x)
				}
				fmt.Fprintf(&sb, "   median %9.1f", median(v))
				b.ReportMetric(median(v), e+"-"+metric+"-"+unit)
			}
		}
		for _, e := range f.engines[1:] {
			other, ok := byEngine[e]
			if !ok || len(other) != len(byEngine[base]) {
				continue
			}
			lo, hi := 0.0, 0.0
			for i, x := range byEngine[base] {
				r := x / other[i]
				if i == 0 || r < lo {
					lo = r
				}
				if i == 0 || r > hi {
					hi = r
				}
			}
			ratio := median(byEngine[base]) / median(other)
			fmt.Fprintf(&sb, "\n    %s / %s: %.2fx (ratio of medians; per-round %.2fx .. %.2fx)", base, e, ratio, lo, hi)
			b.ReportMetric(ratio, metric+"-ratio-vs-"+e)
		}
		b.Log(sb.String())
	}
}
