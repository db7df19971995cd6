package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/analysis/gate"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/bench/rundir"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/batch"
	"github.com/yardstick-eval/yardstick/providers/registry"
	"github.com/yardstick-eval/yardstick/reports"
	"github.com/yardstick-eval/yardstick/suites"
)

const resultsName = rundir.ResultsName

type runFlags struct {
	models        []string
	split         string
	limit         int
	out           string
	resume        bool
	retryErrors   bool
	repeat        int
	concurrency   int
	noCache       bool
	cacheDir      string
	thresholds    []string
	budget        float64
	baseline      string
	stream        bool
	force         bool
	reference     string
	includeCached bool
	noSuiteThs    bool
	format        string
	formatSet     bool // --format given explicitly
	quiet         bool
	shard         string
	batch         bool
	batchPoll     time.Duration
}

func (a *app) runCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SUITE... -m TARGET...",
		Short: "Run suites against targets, write results and reports, and gate on thresholds",
		Long: `Run every case of the given suites (files, or built-in suite names) against every
target, repeat times, and stream one result per case × target × repeat to
OUT/results.jsonl. Reports (summary.json, report.md, junit.xml, report.html) are
written to OUT when the run ends, and a summary table is printed.

Targets are scheme:model strings (openai:gpt-4o-mini, gemini:gemini-2.5-flash,
ollama:llama3.2, groq:llama-3.3-70b-versatile, local:./runs/support-ft, …) or
names of providers defined in yardstick.yaml.

Thresholds from the suites and from --threshold are validated before any call
and judged per suite × target; when one is crossed the command exits 99.`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.formatSet = cmd.Flags().Changed("format")
			return a.runSuites(cmd.Context(), args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.models, "model", "m", nil, "target to run (repeatable): scheme:model or a provider name from yardstick.yaml")
	fl.StringVar(&f.split, "split", "", `cases to run: a split name, "all", or "" for the suite's default split`)
	fl.IntVar(&f.limit, "limit", 0, "run only the first N cases of each suite (0: all)")
	fl.StringVarP(&f.out, "out", "o", "", "run directory (default: runs/<timestamp>)")
	fl.BoolVar(&f.resume, "resume", false, "continue the run in --out, skipping results already there")
	fl.BoolVar(&f.retryErrors, "retry-errors", false, "with --resume (implied): run again the cases whose last result is an error; results.jsonl keeps both records and reports read the last")
	fl.IntVar(&f.repeat, "repeat", 1, "run every case N times; each repeat has its own cache key")
	fl.IntVarP(&f.concurrency, "concurrency", "c", 0, "requests in flight across all targets (default 8, or run.concurrency)")
	fl.BoolVar(&f.noCache, "no-cache", false, "do not read or write the response cache")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "response cache directory (default: the user cache dir)")
	fl.StringArrayVar(&f.thresholds, "threshold", nil, `threshold to enforce (repeatable), e.g. "pass_rate >= 0.85"`)
	fl.Float64Var(&f.budget, "budget", 0, "stop cleanly once spent cost in USD would pass this cap (0: no cap)")
	fl.StringVar(&f.baseline, "baseline", "", "baseline file to compare with and to judge delta() thresholds against")
	fl.BoolVar(&f.noSuiteThs, "no-thresholds", false, "ignore the thresholds written in the suites (--threshold still applies)")
	fl.StringVar(&f.reference, "reference", "", "compare every other target with this one (default: every pair of targets; a --baseline is the reference when given)")
	fl.BoolVar(&f.includeCached, "include-cached-latency", false, "count response-cache hits in latency, TTFT and tokens/s figures and thresholds (off: a cache hit's timing is not the model's)")
	fl.BoolVar(&f.force, "force", false, "compare with --baseline even when cases, prompts or suite versions differ (on the cases both have); --resume a run whose suite changed")
	fl.BoolVar(&f.stream, "stream", false, "stream responses to measure time to first token (all targets)")
	fl.StringVar(&f.format, "format", "text", "summary printed to stdout: text, markdown, json or none")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only errors, warnings and the verdict line with any crossed thresholds: no progress, no summary (unless --format is given), no file paths")
	fl.StringVar(&f.shard, "shard", "", shardFlagHelp)
	fl.BoolVar(&f.batch, "batch", false, "send requests through the provider's Batch API (OpenAI, Azure OpenAI, Gemini API): half price, results within 24h; --resume re-attaches to submitted batches")
	fl.DurationVar(&f.batchPoll, "batch-poll", 5*time.Second, "first interval between batch status polls (doubles up to 1m)")
	return cmd
}

func (a *app) runSuites(ctx context.Context, args []string, f runFlags) error {
	if len(f.models) == 0 && len(a.conf.Providers) == 0 {
		return usageErrf("no target: give -m scheme:model (for example -m openai:gpt-4o-mini) or define providers in yardstick.yaml")
	}
	if f.repeat < 1 {
		return usageErrf("--repeat must be at least 1")
	}
	if f.budget < 0 {
		return usageErrf("--budget must not be negative")
	}
	if f.limit < 0 || f.concurrency < 0 {
		return usageErrf("--limit and --concurrency must not be negative")
	}
	if f.retryErrors && f.out == "" {
		return usageErrf("--retry-errors needs --out DIR: the run directory whose errors to run again")
	}
	f.resume = f.resume || f.retryErrors
	if f.resume && f.out == "" {
		return usageErrf("--resume needs --out DIR: the run directory to continue")
	}
	if err := checkFormat(f.format); err != nil {
		return err
	}
	sp, err := a.resolveShard(f.shard)
	if err != nil {
		return err
	}
	if f.batch && f.budget > 0 {
		return usageErrf("--budget cannot bound a --batch run: a batch's cost is known only when it ends; drop one of them")
	}

	// Everything that can be wrong with the input is checked before any call.
	flagThs, err := flagThresholds(f.thresholds)
	if err != nil {
		return err
	}
	ropts, err := a.registryOptions(f.noCache, f.cacheDir)
	if err != nil {
		return err
	}
	ss, err := loadSuites(args, a.suiteLoadOptions(judgeLive, ropts))
	if err != nil {
		return err
	}
	suiteThs, err := suiteThresholds(ss)
	if err != nil {
		return err
	}
	if f.noSuiteThs {
		suiteThs = nil
	}
	ths := append(suiteThs, flagThs...)
	if err := checkDeltaBaseline(ths, f.baseline != ""); err != nil {
		return err
	}
	caseOpts := suites.CasesOptions{Split: f.split, Limit: f.limit}
	counts, err := checkCases(ss, caseOpts)
	if err != nil {
		return err
	}
	var base *baselineInput
	if f.baseline != "" {
		if base, err = loadBaseline(f.baseline); err != nil {
			return err
		}
	}
	built, err := a.buildTargets(f.models, ropts)
	if err != nil {
		return err
	}
	names := make([]string, len(built))
	for i, b := range built {
		names[i] = b.Name
	}
	if f.reference != "" && !slices.Contains(names, f.reference) {
		return usageErrf("--reference %q is not one of the targets (%s)", f.reference, strings.Join(names, ", "))
	}
	if err := checkBaselineFirst(a.stderr, ss, caseOpts, base, names, f.force); err != nil {
		return err
	}
	targets := make([]bench.Target, len(built))
	for i, b := range built {
		targets[i] = bench.Target{Name: b.Name, Model: b.Model, Provider: b.Provider, Price: b.Price, Stream: b.Stream || f.stream}
		if f.budget > 0 && b.Price == nil {
			fmt.Fprintf(a.stderr, "yardstick: warning: %s has no known price; --budget does not limit it\n", b.Name)
		}
	}

	// The run directory: locked, its results file created or reopened.
	dir := f.out
	if dir == "" {
		parent := orDefault(a.conf.Run.Out, "runs")
		dir = filepath.Join(parent, time.Now().UTC().Format("20060102-150405.000"))
	}
	start := time.Now()
	info := make([]bench.SuiteInfo, len(ss))
	for i, s := range ss {
		hash, _ := s.Hash()
		info[i] = bench.SuiteInfo{Name: s.Name, Version: s.Version, Hash: hash, Path: s.origin, Cases: counts[i]}
	}
	rd, err := rundir.Open(dir, rundir.Options{Resume: f.resume, RetryErrors: f.retryErrors, Force: f.force, Suites: info, Args: os.Args, Start: start})
	if err != nil {
		if _, ok := errors.AsType[*rundir.Error](err); ok {
			return usageErr(err)
		}
		return err
	}
	defer rd.Close()
	if f.resume {
		if err := checkShardResumable(rd.ManifestPath, sp); err != nil {
			return err
		}
	}
	if rd.TookOver != "" {
		fmt.Fprintf(a.stderr, "yardstick: warning: %s\n", rd.TookOver)
	}
	resultsPath, m := rd.ResultsPath, rd.Manifest
	for _, th := range ths {
		m.Thresholds = append(m.Thresholds, bench.ThresholdInfo{Expr: th.Expr, Source: th.Source})
	}
	m.Baseline = f.baseline
	if f.resume && !f.quiet {
		fmt.Fprintln(a.stderr, resumeLine(dir, rd.Resumed(), rd.Failed(), f.retryErrors))
	}
	var batches []*batch.Provider
	if f.batch {
		if batches, err = a.useBatch(dir, built, targets, f.batchPoll); err != nil {
			return err
		}
	}
	for i, b := range built {
		m.Targets = append(m.Targets, bench.TargetInfo{Name: b.Name, Model: b.Model, Provider: b.Adapter, BaseURLHost: scopeHost(b.Scope), Stream: targets[i].Stream, Price: targets[i].Price})
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	cfg := bench.DefaultConfig()
	if c := firstPositive(f.concurrency, a.conf.Run.Concurrency); c > 0 {
		cfg.Concurrency = c
	}
	cfg.Repeats = f.repeat
	cfg.TotalCases = total
	if f.resume {
		cfg.Skip, cfg.KeptError = rd.Skip, rd.KeptError
	}
	cfg.BudgetUSD = f.budget
	if sp.Sharded() {
		plan, err := planShard(dir, ss, caseOpts, m, f.repeat, sp, f.resume)
		if err != nil {
			return err
		}
		cfg.Select, cfg.TotalUnits = sp.Has, plan.Units
	}
	if len(batches) > 0 {
		// Every unit in flight at once: the batch decorator queues them all.
		units := cfg.TotalUnits
		if units == 0 {
			units = total * len(targets) * cfg.Repeats
		}
		cfg.Concurrency = max(cfg.Concurrency, min(units, 50000))
	}
	if !f.quiet {
		cfg.Progress = a.progress()
	}
	runner := bench.New(cfg)
	if err := rd.Begin(runner); err != nil {
		return err
	}

	runErr := runner.Run(ctx, allCases(ss, caseOpts), targets, rd.Writer())
	if err := rd.Finish(time.Now(), runner, runErr); err != nil && runErr == nil {
		runErr = err
	}
	if hits, misses := cacheStats(built); hits+misses > 0 && !f.quiet {
		fmt.Fprintf(a.stderr, "cache: %d hits, %d misses\n", hits, misses)
	}

	// Reports are written for partial runs too: whatever was computed is kept.
	an := analysisJob{resultsPath: resultsPath, thresholds: ths, baseline: base, reference: f.reference, force: f.force, includeCached: f.includeCached, title: runTitle(ss), runID: filepath.Base(dir), started: start,
		gitSHA: a.getenv("GITHUB_SHA"), gitRef: a.getenv("GITHUB_REF_NAME")}
	if sp.Sharded() {
		an.force = true // a shard holds a slice of each target's cases; yardstick merge pairs them all
	}
	in, anErr := an.analyze()
	if in == nil {
		return a.runEnd(ctx, runErr, anErr)
	}
	// A report that cannot be written is an error, after the others and the
	// summary are out.
	anErr = errors.Join(anErr, writeRunReports(dir, in, an))
	if path := a.getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendFile(path, func(w io.Writer) error { return reports.PR(w, in, reports.PROptions{}) }); err != nil {
			fmt.Fprintf(a.stderr, "yardstick: warning: $GITHUB_STEP_SUMMARY: %v\n", err)
		}
	}
	format := f.format
	if f.quiet && !f.formatSet {
		format = "none"
	}
	if err := printSummary(a.stdout, format, in); err != nil {
		return a.runEnd(ctx, runErr, errors.Join(anErr, err))
	}
	if !f.quiet {
		fmt.Fprintf(a.stderr, "results: %s\nreports: %s\n", resultsPath, filepath.Join(dir, "report.html"))
	} else if !f.formatSet {
		if err := printQuiet(a.stdout, in); err != nil {
			return a.runEnd(ctx, runErr, errors.Join(anErr, err))
		}
	}

	if runErr != nil || anErr != nil {
		return a.runEnd(ctx, runErr, anErr)
	}
	if err := targetFailures(in); err != nil {
		return err // an outage is an error, not a regression
	}
	if gate.Failed(in.Outcomes) {
		if sp.Sharded() {
			fmt.Fprintf(a.stderr, "shard %s: thresholds are judged on the merged run (yardstick merge)\n", sp)
			return nil
		}
		return errThresholds
	}
	return nil
}

// resumeLine says what a resumed run keeps: "resuming runs/x: 120 results
// kept, 7 of them errors (--retry-errors runs them again)".
func resumeLine(dir string, existing, failed int, retry bool) string {
	s := fmt.Sprintf("resuming %s: %d results", dir, existing)
	switch {
	case failed == 0:
		return s + " kept, none of them errors"
	case retry:
		return fmt.Sprintf("%s, running again the %d whose last record is an error", s, failed)
	}
	return fmt.Sprintf("%s kept, %d of them errors (--retry-errors runs them again)", s, failed)
}

// runEnd is the error a run that failed ends with. An interrupt wins (exit
// 130; a later error is printed, since run replaces the message), then the
// runner's error joined with any later one.
func (a *app) runEnd(ctx context.Context, runErr, later error) error {
	if runErr != nil && ctx.Err() != nil {
		if later != nil {
			fmt.Fprintf(a.stderr, "yardstick: %v\n", later)
		}
		return context.Canceled
	}
	return errors.Join(runErr, later)
}

func runTitle(ss []loadedSuite) string {
	if len(ss) == 1 {
		return ss[0].Name
	}
	return fmt.Sprintf("%d suites", len(ss))
}

func firstPositive(vs ...int) int {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

// progress picks the live bar on a terminal and periodic lines otherwise.
func (a *app) progress() func(bench.Progress) {
	if isTerminal(a.stderr) {
		return bench.NewBar(a.stderr).Update
	}
	return bench.NewLines(a.stderr, 10*time.Second).Update
}

// registryOptions are the settings every provider of a run is built with:
// keys from the environment, prices, and the response cache.
func (a *app) registryOptions(noCache bool, cacheDir string) (registry.Options, error) {
	opts := registry.Options{Getenv: a.getenv, Prices: a.prices()}
	opts.OnEstimatedUsage = func(target, method string) {
		fmt.Fprintf(a.stderr, "yardstick: warning: %s reports no token usage; counting tokens locally (%s), marked estimated in the results\n", target, method)
	}
	opts.OnSerialized = func(target string) {
		fmt.Fprintf(a.stderr, "yardstick: warning: %s cut a stream short (stream_truncated); sending it one request at a time from now on (set limits.concurrency: 1 to start that way)\n", target)
	}
	if !noCache && !a.conf.Cache.Disabled {
		store, err := providers.NewDirStore(a.expandHome(firstNonEmpty(cacheDir, a.conf.Cache.Dir)))
		if err != nil {
			return opts, err // NewDirStore's errors say "response cache: …"
		}
		opts.Store = store
		opts.OnStoreError = func(err error) { fmt.Fprintf(a.stderr, "yardstick: warning: response cache: %v\n", err) }
	}
	return opts, nil
}

// expandHome replaces a leading "~/" with $HOME, as the shell would, so a
// cache dir written in yardstick.yaml or YARDSTICK_CACHE_DIR as
// "~/.cache/…" does not create a folder named "~".
func (a *app) expandHome(path string) string {
	rest, ok := strings.CutPrefix(path, "~/")
	if !ok && path != "~" {
		return path
	}
	home := a.getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return path
		}
		home = h
	}
	return filepath.Join(home, rest)
}

// buildTargets resolves -m arguments (or every provider of the app config)
// into decorated providers.
func (a *app) buildTargets(models []string, opts registry.Options) ([]*registry.Built, error) {
	built, err := registry.BuildAll(models, a.conf.Providers, opts)
	if err != nil {
		return nil, usageErr(err)
	}
	seen := map[string]bool{}
	for _, b := range built {
		if seen[b.Name] {
			return nil, usageErrf("target %q given twice", b.Name)
		}
		seen[b.Name] = true
	}
	return built, nil
}

func cacheStats(built []*registry.Built) (hits, misses int64) {
	for _, b := range built {
		if b.Cache != nil {
			h, m := b.Cache.Stats()
			hits += h
			misses += m
		}
	}
	return hits, misses
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// appendFile appends what rep writes to the file at path.
func appendFile(path string, rep reports.Reporter) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if err := rep(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// scopeHost is the endpoint host of a registry cache scope ("name@host").
func scopeHost(scope string) string {
	_, host, _ := strings.Cut(scope, "@")
	return host
}
