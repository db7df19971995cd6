package bench

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yardstick-eval/yardstick/internal/format"
	"github.com/yardstick-eval/yardstick/providers"
)

// ErrBudgetExceeded is wrapped by the error Run returns when it stopped
// because the run's cost budget was spent. Test with errors.Is; the concrete
// error is a *BudgetError.
var ErrBudgetExceeded = errors.New("cost budget exceeded")

// BudgetError reports a run stopped by its cost budget. Every result made
// before the stop was written to the sink.
type BudgetError struct {
	BudgetUSD float64 // the cap, Config.BudgetUSD
	SpentUSD  float64 // cost of the results made, cached responses excluded
	NotRun    int     // work units (case × target × repeat) not started, skipped keys excluded
	Total     int     // work units this run would have made: started plus NotRun
	AtLeast   bool    // NotRun is a lower bound: counting the rest of the cases failed or was interrupted
}

func (e *BudgetError) Error() string {
	s := fmt.Sprintf("budget %s reached after %s spent", dollars(e.BudgetUSD), dollars(e.SpentUSD))
	if e.AtLeast {
		return s + fmt.Sprintf("; at least %d runs (case × target × repeat) not started", e.NotRun)
	}
	return s + fmt.Sprintf("; %d of %d runs (case × target × repeat) not started", e.NotRun, e.Total)
}

// dollars formats dollars with cents ("$5.00"), or, for a sum under a
// dollar with more than cents, with at least four decimals and two
// significant digits ("$0.0015", "$0.0000021").
func dollars(v float64) string { return format.USD(v) }

// Unwrap makes errors.Is(err, ErrBudgetExceeded) true.
func (e *BudgetError) Unwrap() error { return ErrBudgetExceeded }

// Config configures a Runner. The zero value of each field means its default.
type Config struct {
	// Concurrency is the number of work units in flight at once (workers).
	// Per-provider limits are the providers.Limit decorator's job. Default 8.
	Concurrency int
	// Repeats is how many times each case is sent to each target; repeat
	// indexes run from 0 to Repeats-1 and reach the provider through
	// providers.WithRepeat. Default 1.
	Repeats int
	// TotalCases is the number of cases the iterator will yield, when the
	// caller counted them beforehand; 0 means unknown. It only feeds
	// Progress.Total.
	TotalCases int
	// Skip reports work units that already have a result (resume). Skipped
	// units are not sent and produce no result. Called from one goroutine.
	Skip func(Key) bool
	// KeptError, when set, is asked about each skipped unit whether the
	// result kept for it is an error; those are counted in
	// Progress.KeptErrors, so a resumed run says how many errors it kept.
	KeptError func(Key) bool
	// Select, when set, limits the run to the work units it returns true
	// for (one shard of a larger run, see package bench/shard). The others
	// are not part of this run at all: not sent, not skipped, not counted.
	// Called from one goroutine, before Skip.
	Select func(Key) bool
	// TotalUnits, when positive, is the number of work units the run
	// covers after Select, skipped ones included; it replaces TotalCases ×
	// targets × Repeats as Progress.Total.
	TotalUnits int
	// BudgetUSD caps the run's spent cost in US dollars; 0 means no cap.
	// See Run for how the cap is enforced. Only targets with a Price count.
	BudgetUSD float64
	// Progress, when set, receives a snapshot once at the start, after every
	// result and once at the end (Final set). It is called from the collector
	// goroutine, never concurrently, and must return quickly: renderers
	// throttle themselves (see Bar and Lines).
	Progress func(Progress)
	// Now is the clock, for tests. Default time.Now. Latency and TTFT are
	// differences of two Now readings.
	Now func() time.Time
}

// DefaultConfig returns the defaults: concurrency 8, one repeat, no budget.
func DefaultConfig() Config {
	return Config{Concurrency: 8, Repeats: 1, Now: time.Now}
}

// Runner sends cases to targets over a bounded worker pool and hands each
// result to a Sink. A Runner runs one Run at a time; Sent and Stats describe
// the last (or current) Run and are safe to call from any goroutine.
type Runner struct {
	cfg Config

	mu    sync.Mutex
	sent  map[sentKey]*SentParams
	order []sentKey
	last  Progress
}

// New returns a Runner with cfg, zero fields replaced by DefaultConfig's.
func New(cfg Config) *Runner {
	d := DefaultConfig()
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = d.Concurrency
	}
	if cfg.Repeats <= 0 {
		cfg.Repeats = d.Repeats
	}
	if cfg.Now == nil {
		cfg.Now = d.Now
	}
	if cfg.BudgetUSD < 0 {
		cfg.BudgetUSD = 0
	}
	return &Runner{cfg: cfg}
}

// Config returns the runner's configuration, defaults filled in.
func (r *Runner) Config() Config { return r.cfg }

// workUnit is one case × target × repeat.
type workUnit struct {
	c      *Case
	t      int // index into targets
	repeat int
}

// workDone is a worker's product, handed to the collector.
type workDone struct {
	res     *Result
	t       int
	cost    float64 // spent: 0 for cached responses and unpriced targets, plus judge calls
	counted bool    // counts toward the target's mean cost (not cached, priced; or a priced judge spent)
}

// Run sends every case to every target Repeats times and passes each result
// to sink, in completion order, from a single collector goroutine.
//
// Work is dispatched case-major: all targets and repeats of one case before
// the next case, so a partial run compares targets on the same cases. The
// cases iterator is pulled lazily from one producer goroutine, with at most
// Concurrency units buffered ahead of the workers: memory does not grow with
// the number of cases.
//
// Failures of a case (provider or scorer errors) are recorded on its Result
// (Result.Error) and the run goes on. Run returns an error only when the run
// cannot go on, and always after every result already made has been handed to
// sink (except results made after the sink itself failed):
//   - the sink fails: in-flight calls are canceled, the error is returned;
//   - the cases iterator yields an error (or a nil case): no new work is
//     started, in-flight work finishes and is written, the error is returned;
//   - ctx is canceled: no new work is started and in-flight calls are
//     canceled. Results that land after the cancellation carrying an error
//     (the canceled calls) are dropped rather than written, so a resumed run
//     makes them again; results that completed are written. Run returns
//     ctx.Err();
//   - the budget is spent: see below; Run returns a *BudgetError, which wraps
//     ErrBudgetExceeded.
//
// Budget. Before each dispatch the runner compares BudgetUSD with the spent
// cost plus an estimate of the work already in flight and of the unit about
// to start: each target's mean cost per completed, non-cached result so far,
// times its units in flight (plus one for the new unit). If that projection
// passes the cap the runner waits for in-flight work to land and looks
// again; with nothing in flight it stops. Until a priced target has a
// completed result (no estimate yet) at most one of its units is in flight
// while a budget is set.
// This is checked before sending, not after, so the overshoot is bounded by
// how wrong the mean is for the requests in flight, not by Concurrency whole
// requests. In-flight work is never canceled by the budget: its results are
// kept. Cached responses cost nothing; targets without a Price are not
// counted at all. A unit's spent cost includes its scorer's model calls
// (Result.JudgeCostUSD, from ScorePart.CostUSD), except the parts whose
// calls were all served from the cache (ScorePart.Cached); a part with some
// cached calls counts whole, so the budget errs toward stopping early. A
// priced judge also makes the units of an unpriced target count toward the
// target's mean cost.
//
// Run returns only after all goroutines it started have finished.
func (r *Runner) Run(ctx context.Context, cases iter.Seq2[*Case, error], targets []Target, sink Sink) error {
	if err := checkTargets(targets); err != nil {
		return err
	}
	if sink == nil {
		return errors.New("bench: Run: nil sink")
	}
	cfg := r.cfg
	r.mu.Lock()
	r.sent = make(map[sentKey]*SentParams)
	r.order = nil
	r.last = Progress{}
	r.mu.Unlock()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	st := &runState{
		start:  cfg.Now(),
		budget: newCostBudget(cfg.BudgetUSD, targets),
	}
	if cfg.TotalCases > 0 {
		st.total = cfg.TotalCases * len(targets) * cfg.Repeats
	}
	if cfg.TotalUnits > 0 {
		st.total = cfg.TotalUnits
	}
	// A target's share of the total is known unless Select picks units
	// (a shard may hold more of one target's units than another's).
	perTotal := cfg.TotalCases * cfg.Repeats
	if cfg.Select != nil {
		perTotal = 0
	}
	st.per = make([]TargetProgress, len(targets))
	st.skippedPer = make([]atomic.Int64, len(targets))
	for i, t := range targets {
		st.per[i] = TargetProgress{Name: t.Name, Priced: t.Price != nil, Total: perTotal}
	}

	work := make(chan workUnit, cfg.Concurrency)
	results := make(chan workDone, cfg.Concurrency)
	var all, workers sync.WaitGroup

	all.Add(1)
	go func() {
		defer all.Done()
		defer close(work)
		r.produce(runCtx, cases, targets, work, st)
	}()
	for range cfg.Concurrency {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for u := range work {
				results <- r.execute(runCtx, u, &targets[u.t])
			}
		}()
	}
	all.Add(1)
	go func() {
		defer all.Done()
		workers.Wait()
		close(results)
	}()

	// The collector: this goroutine.
	var sinkErr error
	progress := func(final bool) {
		p := st.snapshot(cfg.Now(), final)
		r.mu.Lock()
		r.last = p
		r.mu.Unlock()
		if cfg.Progress != nil {
			cfg.Progress(p)
		}
	}
	progress(false)
	for o := range results {
		st.budget.done(o.t, o.cost, o.counted)
		st.inflight.Add(-1)
		if sinkErr != nil {
			continue
		}
		if o.res.Error != nil && runCtx.Err() != nil {
			// Canceled with the run: not completed work.
			continue
		}
		if err := sink.Add(o.res); err != nil {
			sinkErr = fmt.Errorf("bench: writing result %s: %w", keyString(o.res.Key()), err)
			cancel()
			continue
		}
		st.done++
		if o.res.Error != nil {
			st.errors++
		}
		if o.res.Cached {
			st.cached++
		}
		st.retries += max(o.res.Attempts-1, 0)
		st.per[o.t].add(o.res, o.cost)
		progress(false)
	}
	all.Wait()
	progress(true)

	switch {
	case sinkErr != nil:
		return sinkErr
	case st.datasetErr != nil:
		return st.datasetErr
	case ctx.Err() != nil:
		return ctx.Err()
	case st.budgetStop:
		return &BudgetError{
			BudgetUSD: cfg.BudgetUSD,
			SpentUSD:  st.budget.spentUSD(),
			NotRun:    st.notRun,
			Total:     st.started + st.notRun,
			AtLeast:   st.notRunPartial,
		}
	}
	return nil
}

// Sent returns the distinct request parameters the last Run put in the
// requests it dispatched, per target and suite, in first-use order: what the
// run manifest records.
func (r *Runner) Sent() []SentParams {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]SentParams, 0, len(r.order))
	for _, k := range r.order {
		out = append(out, *r.sent[k])
	}
	return out
}

// Stats returns the latest progress snapshot of the last (or current) Run;
// after Run returns it is the final one.
func (r *Runner) Stats() Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func checkTargets(targets []Target) error {
	if len(targets) == 0 {
		return errors.New("bench: Run: no targets")
	}
	seen := make(map[string]bool, len(targets))
	for i, t := range targets {
		switch {
		case t.Name == "":
			return fmt.Errorf("bench: Run: targets[%d]: empty name", i)
		case t.Provider == nil:
			return fmt.Errorf("bench: Run: target %q: nil provider", t.Name)
		case seen[t.Name]:
			return fmt.Errorf("bench: Run: target %q: duplicate name", t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}

// runState is one Run's shared state. Fields without a note are the
// producer's until it returns (then read by Run after all.Wait), or the
// collector's.
type runState struct {
	start  time.Time
	total  int // work units, skipped included; 0 unknown
	budget *costBudget

	// producer-owned
	started       int
	notRun        int
	notRunPartial bool
	budgetStop    bool
	datasetErr    error

	// shared
	skipped    atomic.Int64
	keptErrors atomic.Int64
	inflight   atomic.Int64

	// collector-owned
	done, errors, cached, retries int
	per                           []TargetProgress

	// shared: units skipped per target (resume)
	skippedPer []atomic.Int64
}

func (s *runState) snapshot(now time.Time, final bool) Progress {
	p := Progress{
		Done:       s.done,
		Total:      s.total,
		Skipped:    int(s.skipped.Load()),
		KeptErrors: int(s.keptErrors.Load()),
		Errors:     s.errors,
		Cached:     s.cached,
		InFlight:   int(s.inflight.Load()),
		SpentUSD:   s.budget.spentUSD(),
		Retries:    s.retries,
		Elapsed:    now.Sub(s.start),
		Final:      final,
		Targets:    slices.Clone(s.per),
	}
	for i := range p.Targets {
		p.Targets[i].Skipped = int(s.skippedPer[i].Load())
	}
	if p.Elapsed > 0 {
		p.Rate = float64(p.Done) / p.Elapsed.Seconds()
	}
	return p
}

// produce pulls cases and dispatches units until the cases run out, ctx is
// done, the budget stops the run or the iterator fails.
func (r *Runner) produce(ctx context.Context, cases iter.Seq2[*Case, error], targets []Target, work chan<- workUnit, st *runState) {
	cfg := r.cfg
	for c, err := range cases {
		if ctx.Err() != nil {
			if st.budgetStop {
				st.notRunPartial = true
			}
			return
		}
		if err == nil && c == nil {
			err = errors.New("bench: cases iterator yielded a nil case")
		}
		if err != nil {
			if st.budgetStop {
				// Counting what the budget left undone; the run's error is the budget.
				st.notRunPartial = true
				return
			}
			st.datasetErr = fmt.Errorf("bench: reading cases: %w", err)
			return
		}
		for ti := range targets {
			for rep := range cfg.Repeats {
				k := Key{Suite: c.Suite, CaseID: c.ID, Target: targets[ti].Name, Repeat: rep}
				if cfg.Select != nil && !cfg.Select(k) {
					continue
				}
				if cfg.Skip != nil && cfg.Skip(k) {
					st.skipped.Add(1)
					st.skippedPer[ti].Add(1)
					if cfg.KeptError != nil && cfg.KeptError(k) {
						st.keptErrors.Add(1)
					}
					continue
				}
				if st.budgetStop {
					st.notRun++
					continue
				}
				if !st.budget.admit(ctx, ti) {
					if ctx.Err() != nil {
						return
					}
					st.budgetStop = true
					st.notRun++
					continue
				}
				r.recordSent(c, &targets[ti])
				st.inflight.Add(1)
				select {
				case work <- workUnit{c: c, t: ti, repeat: rep}:
					st.started++
				case <-ctx.Done():
					st.inflight.Add(-1)
					st.budget.cancel(ti)
					return
				}
			}
		}
	}
}

// execute runs one unit: generate, score, cost. It never returns an error:
// failures are recorded on the Result.
func (r *Runner) execute(ctx context.Context, u workUnit, tg *Target) workDone {
	now := r.cfg.Now
	c := u.c
	req := c.Request // shallow copy: providers must not modify the request
	req.Model = tg.Model
	ctx = providers.WithRepeat(ctx, u.repeat)
	ctx = context.WithValue(ctx, keyCtx{}, Key{Suite: c.Suite, CaseID: c.ID, Target: tg.Name, Repeat: u.repeat})

	res := &Result{
		Suite:        c.Suite,
		SuiteVersion: c.SuiteVersion,
		CaseID:       c.ID,
		Target:       tg.Name,
		Model:        tg.Model,
		Repeat:       u.repeat,
		PromptHash:   c.PromptHash,
		Prompt:       promptOf(&req),
		Expected:     c.Expected,
		Tags:         c.Tags,
	}

	var (
		resp  *providers.Response
		err   error
		first time.Time
	)
	start := now()
	if st, ok := tg.Provider.(providers.Streamer); ok && tg.Stream {
		resp, err = st.Stream(ctx, &req, func(ch providers.Chunk) error {
			if first.IsZero() && ch.Text != "" {
				first = now()
			}
			return nil
		})
	} else {
		resp, err = tg.Provider.Generate(ctx, &req)
	}
	end := now()
	res.Start = start
	res.Latency = end.Sub(start)
	if err == nil && resp == nil {
		err = &providers.Error{Kind: providers.KindBadResponse, Provider: tg.Name, Message: "provider returned no response and no error"}
	}

	o := workDone{res: res, t: u.t}
	if err != nil {
		res.Error = errorInfo(err, "generate")
		var pe *providers.Error
		if errors.As(err, &pe) {
			res.Attempts = pe.Attempts
		}
		if resp != nil {
			res.Usage = resp.Usage
		}
		r.price(&o, tg)
		return o
	}

	res.Output = resp.Text
	res.FinishReason = resp.FinishReason
	res.ResolvedModel = resp.Model
	res.Usage = resp.Usage
	res.Cached = resp.Cached
	res.Original = resp.Original
	if resp.Attempts > 1 && resp.LastAttempt > 0 {
		res.FinalLatency = resp.LastAttempt
	}
	res.Attempts = resp.Attempts
	res.TTFT = resp.TTFT
	if res.TTFT == 0 && !first.IsZero() {
		res.TTFT = first.Sub(start)
	}
	r.price(&o, tg)

	if c.Scorer == nil {
		res.Score, res.Pass = 1, true
		return o
	}
	sc, err := c.Scorer.Score(ctx, c, resp)
	judgeCost(&o, sc.Parts) // a failed Score may still carry the parts that called a model
	if err != nil {
		res.Error = errorInfo(err, "score")
		return o
	}
	res.Score, res.Pass, res.Reason, res.Scores = sc.Value, sc.Pass, sc.Reason, sc.Parts
	return o
}

// price sets the result's cost and what it adds to the budget.
func (r *Runner) price(o *workDone, tg *Target) {
	if tg.Price == nil {
		return
	}
	cost := tg.Price.Cost(o.res.Usage)
	o.res.CostUSD = &cost
	if !o.res.Cached {
		o.cost = cost
		o.counted = true
	}
}

// judgeCost sums the usage and cost of the scorer parts that called a model
// into the result's JudgeUsage and JudgeCostUSD, and adds the cost of the
// parts not served wholly from the cache to what the unit spent.
func judgeCost(o *workDone, parts []ScorePart) {
	for i := range parts {
		p := &parts[i]
		if p.Usage != nil {
			o.res.JudgeUsage = o.res.JudgeUsage.Add(*p.Usage)
		}
		if p.CostUSD == nil {
			continue
		}
		sum := *p.CostUSD
		if o.res.JudgeCostUSD != nil {
			sum += *o.res.JudgeCostUSD
		}
		o.res.JudgeCostUSD = &sum
		if !p.Cached {
			o.cost += *p.CostUSD
			o.counted = true
		}
	}
}

// MaxRecordedImage is the largest case image whose bytes a Result's Prompt
// keeps (for the report's thumbnails); a larger one is recorded by its MIME
// type only, so results files stay bounded.
const MaxRecordedImage = 256 << 10

// promptOf returns the request's prompt as recorded: the system message first
// when set, then the messages, images over MaxRecordedImage without their
// bytes. The slice is new; message values are copies.
func promptOf(req *providers.Request) []providers.Message {
	n := len(req.Messages)
	if req.System != "" {
		n++
	}
	if n == 0 {
		return nil
	}
	p := make([]providers.Message, 0, n)
	if req.System != "" {
		p = append(p, providers.Message{Role: providers.RoleSystem, Content: req.System})
	}
	for _, m := range req.Messages {
		if len(m.Images) > 0 {
			ims := make([]providers.Image, len(m.Images))
			for i, im := range m.Images {
				ims[i] = providers.Image{MIMEType: im.MIMEType}
				if len(im.Data) <= MaxRecordedImage {
					ims[i].Data = im.Data
				}
			}
			m.Images = ims
		}
		p = append(p, m)
	}
	return p
}

// errorInfo records err from stage ("generate" or "score").
func errorInfo(err error, stage string) *ErrorInfo {
	info := &ErrorInfo{Kind: providers.KindOf(err), Message: err.Error(), Stage: stage}
	var pe *providers.Error
	if errors.As(err, &pe) {
		info.StatusCode = pe.StatusCode
		switch {
		case pe.Message != "":
			info.Message = pe.Message
		case pe.Err != nil:
			info.Message = pe.Err.Error()
		}
	}
	return info
}

type keyCtx struct{}

// KeyFrom returns the key of the work unit whose provider call ctx belongs
// to, for decorators that must name a request (provider Batch APIs' custom
// ids). The Runner sets it on every call.
func KeyFrom(ctx context.Context) (Key, bool) {
	k, ok := ctx.Value(keyCtx{}).(Key)
	return k, ok
}

// String formats k as "suite/case@target#repeat".
func (k Key) String() string { return keyString(k) }

func keyString(k Key) string {
	return fmt.Sprintf("%s/%s@%s#%d", k.Suite, k.CaseID, k.Target, k.Repeat)
}

// RequestParams are the generation parameters of a request as sent: what the
// run manifest records per target, so a run can be reproduced.
type RequestParams struct {
	Model       string   `json:"model"`
	MaxTokens   int      `json:"max_tokens,omitempty"` // 0: provider default
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	JSONSchema  bool     `json:"json_schema,omitempty"` // structured output was requested
}

// SentParams is one distinct RequestParams a run sent to a target for a suite,
// with how many requests carried it.
type SentParams struct {
	Target   string        `json:"target"`
	Suite    string        `json:"suite"`
	Params   RequestParams `json:"params"`
	Requests int           `json:"requests"`
}

// sentKey is RequestParams flattened to a comparable map key.
type sentKey struct {
	target, suite, model string
	maxTokens            int
	temp, topP           float64
	seed                 int64
	set                  uint8 // bit 0 temperature, 1 top_p, 2 seed, 3 json schema
	stop                 string
}

func (r *Runner) recordSent(c *Case, tg *Target) {
	q := &c.Request
	k := sentKey{target: tg.Name, suite: c.Suite, model: tg.Model, maxTokens: q.MaxTokens}
	if q.Temperature != nil {
		k.temp, k.set = *q.Temperature, k.set|1
	}
	if q.TopP != nil {
		k.topP, k.set = *q.TopP, k.set|2
	}
	if q.Seed != nil {
		k.seed, k.set = *q.Seed, k.set|4
	}
	if len(q.JSONSchema) > 0 {
		k.set |= 8
	}
	if len(q.Stop) > 0 {
		k.stop = strings.Join(q.Stop, "\x00")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if sp, ok := r.sent[k]; ok {
		sp.Requests++
		return
	}
	p := RequestParams{Model: tg.Model, MaxTokens: q.MaxTokens, JSONSchema: k.set&8 != 0}
	if q.Temperature != nil {
		p.Temperature = providers.Float64(*q.Temperature)
	}
	if q.TopP != nil {
		p.TopP = providers.Float64(*q.TopP)
	}
	if q.Seed != nil {
		p.Seed = providers.Int64(*q.Seed)
	}
	if len(q.Stop) > 0 {
		p.Stop = append([]string(nil), q.Stop...)
	}
	r.sent[k] = &SentParams{Target: tg.Name, Suite: c.Suite, Params: p, Requests: 1}
	r.order = append(r.order, k)
}

// costBudget tracks spent cost and in-flight work per target. The producer calls
// admit and cancel, the collector calls done.
type costBudget struct {
	limit float64
	wake  chan struct{} // a result landed; capacity 1

	mu    sync.Mutex
	spent float64
	t     []targetSpend
}

type targetSpend struct {
	priced   bool
	sum      float64 // cost of counted results
	n        int     // counted results: completed, priced, not cached
	inflight int
}

func newCostBudget(limit float64, targets []Target) *costBudget {
	b := &costBudget{limit: limit, wake: make(chan struct{}, 1), t: make([]targetSpend, len(targets))}
	for i, t := range targets {
		b.t[i].priced = t.Price != nil
	}
	return b
}

// admit reserves an in-flight slot for a unit of target i, waiting while the
// projected cost passes the cap and work is in flight. It returns false when
// the run must stop: the cap is reached with nothing in flight, or ctx is done.
func (b *costBudget) admit(ctx context.Context, i int) bool {
	for {
		ok, wait := b.try(i)
		if ok {
			return true
		}
		if !wait {
			return false
		}
		select {
		case <-b.wake:
		case <-ctx.Done():
			return false
		}
	}
}

func (b *costBudget) try(i int) (ok, wait bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit <= 0 {
		b.t[i].inflight++
		return true, false
	}
	if b.spent >= b.limit {
		return false, false
	}
	busy := false
	projected := b.spent
	for j := range b.t {
		ts := &b.t[j]
		if ts.inflight > 0 {
			busy = true
		}
		if ts.n > 0 {
			projected += ts.sum / float64(ts.n) * float64(ts.inflight)
		}
	}
	me := &b.t[i]
	if me.priced && me.n == 0 && me.inflight > 0 {
		return false, true // no estimate yet: one at a time
	}
	if me.n > 0 {
		projected += me.sum / float64(me.n)
	}
	if projected > b.limit {
		return false, busy
	}
	me.inflight++
	return true, false
}

// cancel releases a slot admit reserved for a unit that was not sent.
func (b *costBudget) cancel(i int) {
	b.mu.Lock()
	b.t[i].inflight--
	b.mu.Unlock()
	b.signal()
}

// done records a landed unit of target i.
func (b *costBudget) done(i int, cost float64, counted bool) {
	b.mu.Lock()
	b.t[i].inflight--
	if counted {
		b.spent += cost
		b.t[i].sum += cost
		b.t[i].n++
	}
	b.mu.Unlock()
	b.signal()
}

func (b *costBudget) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *costBudget) spentUSD() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent
}
