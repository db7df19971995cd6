package compare

import (
	"cmp"
	"errors"
	"iter"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yardstick-eval/yardstick/analysis/stats"
	"github.com/yardstick-eval/yardstick/bench"
)

// Options configures a Comparer. The zero value is valid: 95% intervals,
// stats.DefaultResamples bootstrap resamples, seed 0, no forcing, 200-byte
// output excerpts.
type Options struct {
	// Force compares arms that ran different cases, prompts or suite versions
	// on the cases both have, recording the differences as warnings, instead
	// of returning an *IncompatibleError.
	Force bool
	// Level is the confidence level of every interval and the significance
	// threshold (a row is significant when PAdjusted < 1 − Level); outside
	// (0, 1) means 0.95.
	Level float64
	// BootstrapIters is the number of paired-bootstrap resamples; ≤ 0 means
	// stats.DefaultResamples (2000).
	BootstrapIters int
	// Seed seeds every bootstrap, so the same results always compare to the
	// same intervals.
	Seed uint64
	// ExcerptLen is how many bytes of a case's output are kept for the
	// regression lists (cut at a rune boundary); 0 means 200, negative keeps
	// none.
	ExcerptLen int
}

// DefaultOptions returns 95% intervals, 2000 resamples and seed 1.
func DefaultOptions() Options {
	return Options{Level: 0.95, BootstrapIters: stats.DefaultResamples, Seed: 1}
}

func (o Options) level() float64 {
	if o.Level > 0 && o.Level < 1 {
		return o.Level
	}
	return 0.95
}

func (o Options) excerptLen() int {
	switch {
	case o.ExcerptLen == 0:
		return 200
	case o.ExcerptLen < 0:
		return 0
	}
	return o.ExcerptLen
}

// Arm is one target of one run: the unit compared. Run is the label the
// caller gave the results when adding them ("baseline", a run directory).
type Arm struct {
	Run    string
	Target string
}

// String is "Target (Run)", or Target when Run is empty.
func (a Arm) String() string {
	if a.Run == "" {
		return a.Target
	}
	return a.Target + " (" + a.Run + ")"
}

// Pair is one comparison: A is the reference (baseline, first run or
// reference target), B the candidate; deltas are B − A.
type Pair struct {
	A, B Arm
}

// Comparer accumulates results of any number of arms, then compares pairs of
// them. Add results of every arm (in any order and interleaving), then call
// Compare, CompareRuns or CompareTargets, as often as wanted; Add after a
// comparison keeps accumulating. It keeps only compact per-case outcomes (see
// the package doc, "Memory"). It is not safe for concurrent use.
type Comparer struct {
	opts Options
	arms map[Arm]*armAcc
	runs []string // in order of first Add
}

type armAcc struct {
	suites  map[string]*suiteAcc
	results int
	errors  int
	dups    int
}

type suiteAcc struct {
	versions []string // distinct suite versions seen, usually one
	cases    map[string]*caseAcc
}

// caseAcc is one case of one arm, summed over its repeats.
type caseAcc struct {
	n, passed, errs int32
	latN            int32 // results with a known latency
	scoreSum        float64
	latSum          time.Duration
	cost            float64
	costUnknown     bool
	promptConflict  bool   // repeats carried different prompt hashes
	haveFail        bool   // excerpt and reason are from a failed result
	prompt          string // prefix of the prompt hash, ≤ hashLen
	seen            uint64 // repeats 0..63 already added
	more            map[int]struct{}
	excerpt         string
	reason          string
}

const hashLen = 16

func (c *caseAcc) passRate() float64 { return float64(c.passed) / float64(c.n) }
func (c *caseAcc) score() float64    { return c.scoreSum / float64(c.n) }

// New returns an empty Comparer.
func New(opts Options) *Comparer {
	return &Comparer{opts: opts, arms: make(map[Arm]*armAcc)}
}

// Add counts one result of the run labelled run; r's arm is
// Arm{run, r.Target}. r is not retained. A nil r is ignored.
func (c *Comparer) Add(run string, r *bench.Result) {
	if r == nil {
		return
	}
	arm := Arm{Run: run, Target: r.Target}
	a := c.arms[arm]
	if a == nil {
		a = &armAcc{suites: make(map[string]*suiteAcc)}
		c.arms[arm] = a
		if !slices.Contains(c.runs, run) {
			c.runs = append(c.runs, run)
		}
	}
	s := a.suites[r.Suite]
	if s == nil {
		s = &suiteAcc{cases: make(map[string]*caseAcc)}
		a.suites[strings.Clone(r.Suite)] = s
	}
	if !slices.Contains(s.versions, r.SuiteVersion) {
		s.versions = append(s.versions, strings.Clone(r.SuiteVersion))
	}
	k := s.cases[r.CaseID]
	if k == nil {
		k = &caseAcc{}
		s.cases[strings.Clone(r.CaseID)] = k
	}
	if k.dup(r.Repeat) {
		a.dups++
		return
	}
	a.results++
	k.n++
	failed := r.Error != nil || !r.Pass
	if r.Error != nil {
		a.errors++
		k.errs++
	} else {
		k.scoreSum += r.Score
		if r.Pass {
			k.passed++
		}
		if r.Latency > 0 {
			k.latSum += r.Latency
			k.latN++
		}
	}
	if r.CostUSD != nil {
		k.cost += *r.CostUSD
	} else {
		k.costUnknown = true
	}
	p := r.PromptHash
	if len(p) > hashLen {
		p = p[:hashLen]
	}
	if k.n == 1 {
		k.prompt = strings.Clone(p)
	} else if !samePrefix(k.prompt, p) {
		k.promptConflict = true
	}
	if (k.n == 1 || failed) && !k.haveFail {
		k.haveFail = failed
		k.excerpt, k.reason = excerpt(r.Output, c.opts.excerptLen()), excerpt(reasonOf(r), c.opts.excerptLen())
	}
}

// dup records repeat and reports whether it was already recorded.
func (k *caseAcc) dup(repeat int) bool {
	if repeat >= 0 && repeat < 64 {
		bit := uint64(1) << repeat
		if k.seen&bit != 0 {
			return true
		}
		k.seen |= bit
		return false
	}
	if _, ok := k.more[repeat]; ok {
		return true
	}
	if k.more == nil {
		k.more = make(map[int]struct{})
	}
	k.more[repeat] = struct{}{}
	return false
}

// AddSeq adds every result of seq under the run label run. It skips a
// *bench.LineError wrapping bench.ErrTruncated (the torn last line of a killed
// writer) and stops at any other error, returning it.
func (c *Comparer) AddSeq(run string, seq iter.Seq2[*bench.Result, error]) error {
	for r, err := range seq {
		if err != nil {
			if errors.Is(err, bench.ErrTruncated) {
				continue
			}
			return err
		}
		c.Add(run, r)
	}
	return nil
}

// Runs returns the run labels added, in order of first appearance.
func (c *Comparer) Runs() []string { return slices.Clone(c.runs) }

// Arms returns every arm added, sorted by run (in order of first
// appearance) then target name.
func (c *Comparer) Arms() []Arm {
	out := make([]Arm, 0, len(c.arms))
	for a := range c.arms {
		out = append(out, a)
	}
	slices.SortFunc(out, c.cmpArm)
	return out
}

func (c *Comparer) cmpArm(x, y Arm) int {
	return cmp.Or(cmp.Compare(slices.Index(c.runs, x.Run), slices.Index(c.runs, y.Run)), cmp.Compare(x.Target, y.Target))
}

// targetsOf returns the targets of run, sorted.
func (c *Comparer) targetsOf(run string) []string {
	var out []string
	for a := range c.arms {
		if a.Run == run {
			out = append(out, a.Target)
		}
	}
	slices.Sort(out)
	return out
}

// samePrefix reports whether two prompt hashes agree on their common prefix;
// an empty hash (unknown) agrees with anything.
func samePrefix(a, b string) bool {
	n := min(len(a), len(b))
	return strings.EqualFold(a[:n], b[:n])
}

func reasonOf(r *bench.Result) string {
	if r.Error != nil {
		s := string(r.Error.Kind)
		if r.Error.Message != "" {
			s += ": " + r.Error.Message
		}
		return s
	}
	return r.Reason
}

// excerpt returns a copy of the first n bytes of s, cut back to a rune
// boundary, so that the Result's string is not retained.
func excerpt(s string, n int) string {
	if n <= 0 || s == "" {
		return ""
	}
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return strings.Clone(s)
}
