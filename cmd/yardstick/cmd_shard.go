package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/bench/merge"
	"github.com/yardstick-eval/yardstick/bench/shard"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/batch"
	"github.com/yardstick-eval/yardstick/providers/registry"
	"github.com/yardstick-eval/yardstick/reports"
	"github.com/yardstick-eval/yardstick/suites"
)

const shardFlagHelp = `run only shard K of N of the work (case × target × repeat, by a stable hash of each key), K from 1; ` +
	`"auto" reads YARDSTICK_SHARD=K/N, GitLab's CI_NODE_INDEX/CI_NODE_TOTAL, or Kubernetes' JOB_COMPLETION_INDEX with "auto/N"`

// resolveShard parses --shard (and the environment for "auto").
func (a *app) resolveShard(flag string) (shard.Spec, error) {
	sp, err := shard.Resolve(flag, a.getenv)
	if err != nil {
		return shard.Spec{}, usageErr(err)
	}
	return sp, nil
}

// checkShardResumable refuses to resume a run directory as another shard
// than the one it holds (or a shard as a whole run, or the reverse).
func checkShardResumable(manifestPath string, sp shard.Spec) error {
	old, err := bench.ReadManifest(manifestPath)
	if err != nil {
		return nil
	}
	was := "the whole run"
	if old.Shard != nil {
		was = fmt.Sprintf("shard %d/%d", old.Shard.Index, old.Shard.Count)
	}
	now := "the whole run"
	if sp.Sharded() {
		now = "shard " + sp.String()
	}
	if was != now {
		return usageErrf("cannot resume %s as %s: it holds %s", filepath.Dir(manifestPath), now, was)
	}
	return nil
}

// planShard writes the run's plan file into dir and records the shard in m
// (whose suites and targets are set). On resume the plan must be the one the
// run started with.
func planShard(dir string, ss []loadedSuite, opts suites.CasesOptions, m *bench.Manifest, repeats int, sp shard.Spec, resume bool) (shard.Plan, error) {
	path := filepath.Join(dir, shard.PlanName)
	tmp, err := os.CreateTemp(dir, "."+shard.PlanName+".*")
	if err != nil {
		return shard.Plan{}, err
	}
	defer os.Remove(tmp.Name())
	set := shard.Settings{Suites: m.Suites, Targets: m.Targets, Repeats: repeats}
	plan, err := shard.WritePlan(tmp, allCases(ss, opts), set, sp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return shard.Plan{}, fmt.Errorf("writing %s: %w", path, err)
	}
	if resume {
		if old, err := bench.ReadManifest(filepath.Join(dir, bench.ManifestName)); err == nil && old.Shard != nil && old.Shard.Plan != plan.Hash {
			return shard.Plan{}, usageErrf("cannot resume %s: the run's plan changed since it started (cases, --split, --limit, targets or --repeat differ)", dir)
		}
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return shard.Plan{}, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return shard.Plan{}, err
	}
	m.Shard = &bench.ShardInfo{Index: sp.Index, Count: sp.Count, Source: sp.Source, Scheme: shard.Scheme,
		Units: plan.Units, Total: plan.Total, Plan: plan.Hash, Cases: shard.PlanName}
	return plan, nil
}

func (a *app) mergeCommand() *cobra.Command {
	var (
		af      analysisFlags
		out     string
		partial bool
		format  string
	)
	cmd := &cobra.Command{
		Use:   "merge SHARD_DIR... --out DIR",
		Short: "Join the run directories of a sharded run into one run, then report and gate it",
		Long: `Join the run directories written by 'yardstick run --shard K/N' into one run
directory: exactly one result per case × target × repeat. Shards of different
suites, prompts, targets or settings are refused; duplicate keys, records in the
wrong shard and bad lines are refused and listed by key; a missing shard or a
shard with gaps (interrupted) is refused naming the missing keys and their
shard, unless --partial. The merged run gets the usual reports (summary.json,
report.md, junit.xml, report.html) and the threshold verdict, exactly as
'yardstick report' and 'yardstick gate' compute them.

Exit codes: 0 merged and every threshold held, 99 a threshold was crossed,
2 refused (missing shard, mismatch, duplicates, gaps) or bad input.`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.merge(cmd.Context(), args, out, partial, format, af)
		},
	}
	af.register(cmd)
	cmd.Flags().StringVarP(&out, "out", "o", "", "directory of the merged run (required)")
	cmd.Flags().BoolVar(&partial, "partial", false, "merge despite missing shards or gaps, marking the run partial")
	cmd.Flags().StringVar(&format, "format", "text", "summary printed to stdout: text, markdown, json or none")
	return cmd
}

func (a *app) merge(ctx context.Context, dirs []string, out string, partial bool, format string, af analysisFlags) error {
	if out == "" {
		return usageErrf("merge needs --out DIR: the merged run directory")
	}
	if err := checkFormat(format); err != nil {
		return err
	}
	shards, err := merge.Open(dirs)
	if err != nil {
		return mergeErr(err)
	}
	res, err := merge.Merge(ctx, shards, out, merge.Options{Partial: partial, Args: os.Args})
	if err != nil {
		return mergeErr(err)
	}
	if res.MissingCount > 0 {
		fmt.Fprintf(a.stderr, "yardstick: warning: merged a partial run: %d planned results missing\n", res.MissingCount)
		for i, p := range res.Missing {
			if i == 10 {
				fmt.Fprintf(a.stderr, "  …\n")
				break
			}
			fmt.Fprintf(a.stderr, "  %s\n", p)
		}
	}
	resultsPath := filepath.Join(out, resultsName)
	an, err := a.buildAnalysis(&af, resultsPath)
	if err != nil {
		return err
	}
	if res.MissingCount > 0 {
		an.force = true // the missing keys leave targets with different cases: compare those both have
	}
	in, anErr := an.analyze()
	if in == nil {
		return anErr
	}
	if res.MissingCount > 0 {
		in.Warnings = append(in.Warnings, fmt.Sprintf("partial merge: %d planned results missing (see %s)", res.MissingCount, filepath.Join(out, bench.ManifestName)))
	}
	anErr = errors.Join(anErr, writeRunReports(out, in, an))
	if path := a.getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendFile(path, func(w io.Writer) error { return reports.PR(w, in, reports.PROptions{}) }); err != nil {
			fmt.Fprintf(a.stderr, "yardstick: warning: $GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	if err := printSummary(a.stdout, format, in); err != nil {
		return errors.Join(anErr, err)
	}
	fmt.Fprintf(a.stderr, "merged %d shards, %d results: %s\nreports: %s\n", len(shards), res.Records, resultsPath, filepath.Join(out, "report.html"))
	if anErr != nil {
		return anErr
	}
	if gate.Failed(in.Outcomes) {
		return errThresholds
	}
	return nil
}

// mergeErr makes a refused merge a usage error (exit 2).
func mergeErr(err error) error {
	var me *merge.Error
	if errors.As(err, &me) {
		return usageErr(err)
	}
	return err
}

// batchBackends is implemented by adapters with a Batch API (openai,
// gemini); a nil Backend means this configuration has none (Vertex AI).
type batchBackends interface{ Batches() batch.Backend }

// useBatch puts every target whose adapter has a Batch API behind the batch
// decorator (state in dir/batches.jsonl), inserted below the response cache,
// at half its price; the others run in real time, with a warning. It returns the decorators, for their counts.
func (a *app) useBatch(dir string, built []*registry.Built, targets []bench.Target, poll time.Duration) ([]*batch.Provider, error) {
	if _, ok := a.stderr.(*os.File); !ok {
		// Batch status lines come from the pollers' goroutines, progress
		// from the runner's: one lock for a buffer (a file's writes are
		// whole syscalls already, and a terminal must stay detectable).
		a.stderr = &lockedWriter{w: a.stderr}
	}
	var out []*batch.Provider
	for i, b := range built {
		var be batch.Backend
		if bb, ok := b.Bare.(batchBackends); ok {
			be = bb.Batches()
		}
		if be == nil {
			fmt.Fprintf(a.stderr, "yardstick: warning: %s has no Batch API in yardstick; it runs in real time\n", b.Name)
			continue
		}
		var p *batch.Provider
		err := b.Insert(func(realtime providers.Provider) (providers.Provider, error) {
			var err error
			p, err = batch.New(batch.Options{
				Backend: be, Fallback: realtime, State: filepath.Join(dir, "batches.jsonl"), Name: b.Name,
				ID: func(ctx context.Context) (string, bool) {
					k, ok := bench.KeyFrom(ctx)
					return k.String(), ok
				},
				PollMin: poll, PollMax: max(poll, time.Minute), Idle: min(poll, 500*time.Millisecond),
				OnStatus: func(name string, st batch.Status) {
					fmt.Fprintf(a.stderr, "batch %s (%s): %s, %d of %d done, %d failed\n", st.ID, name, st.State, st.Completed, st.Total, st.Failed)
				},
				Warn: func(msg string) { fmt.Fprintf(a.stderr, "yardstick: warning: %s\n", msg) },
			})
			return p, err
		})
		if err != nil {
			return nil, err
		}
		if n := p.Attached(); n > 0 {
			fmt.Fprintf(a.stderr, "%s: re-attaching to %d submitted batch(es)\n", b.Name, n)
		}
		if n := p.Unsettled(); n > 0 {
			fmt.Fprintf(a.stderr, "%s: %d submission(s) of the interrupted run have no recorded batch id; looking them up by tag\n", b.Name, n)
		}
		// The cache stays in front: a cached request enters no batch, and a
		// batch answer is stored like a real-time one.
		targets[i].Provider, targets[i].Stream = b.Provider, false
		if targets[i].Price != nil {
			half := *targets[i].Price
			half.InputPerM, half.CachedInputPerM, half.OutputPerM = half.InputPerM/2, half.CachedInputPerM/2, half.OutputPerM/2
			targets[i].Price = &half
		}
		out = append(out, p)
	}
	return out, nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
