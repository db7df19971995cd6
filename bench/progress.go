package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/yardstick-eval/yardstick/internal/table"
)

// Progress is a snapshot of a running Run, passed to Config.Progress.
// Units are work units: one case × target × repeat.
type Progress struct {
	Done     int           // results written by this run
	Total    int           // units in the run, skipped ones included; 0 when unknown (Config.TotalCases unset)
	Skipped  int           // units skipped because they already had a result (resume)
	Errors   int           // written results with an error
	Cached   int           // written results served from the response cache
	InFlight int           // units dispatched and not yet landed
	SpentUSD float64       // cost so far, cached responses and unpriced targets excluded
	Elapsed  time.Duration // since Run started
	Rate     float64       // results per second over Elapsed
	Retries  int           // provider calls beyond the first, over written results
	Final    bool          // the last snapshot of the run

	// Targets has one entry per target, in the run's target order; nil
	// in snapshots not made by a Runner.
	Targets []TargetProgress
}

// TargetProgress is one target's share of a Progress snapshot.
type TargetProgress struct {
	Name     string
	Done     int     // results written by this run
	Total    int     // the target's units, skipped ones included; 0 when unknown
	Skipped  int     // units skipped because they already had a result (resume)
	Passed   int     // written results that passed
	Errors   int     // written results with an error
	Cached   int     // written results served from the response cache
	Retries  int     // provider calls beyond the first
	SpentUSD float64 // cost so far, cached responses excluded
	Priced   bool    // the target has a price; false: SpentUSD is unknown, not zero
}

func (tp *TargetProgress) add(r *Result, cost float64) {
	tp.Done++
	if r.Pass {
		tp.Passed++
	}
	if r.Error != nil {
		tp.Errors++
	}
	if r.Cached {
		tp.Cached++
	}
	tp.Retries += max(r.Attempts-1, 0)
	tp.SpentUSD += cost
}

// PassRate is the running pass rate over the results written so far (errors
// count as failures, as in the summary); ok is false before the first.
func (tp TargetProgress) PassRate() (rate float64, ok bool) {
	if tp.Done == 0 {
		return 0, false
	}
	return float64(tp.Passed) / float64(tp.Done), true
}

// cells are the target's progress as table cells: name, done/total, pass
// rate, errors, retries, cost.
func (tp TargetProgress) cells() []string {
	done := tp.Done + tp.Skipped
	count := strconv.Itoa(done)
	if tp.Total > 0 {
		count = fmt.Sprintf("%d/%d", done, tp.Total)
	}
	rate := "pass —"
	if r, ok := tp.PassRate(); ok {
		rate = fmt.Sprintf("pass %.1f%%", 100*r)
	}
	cost := "cost unknown"
	if tp.Priced {
		cost = dollars(tp.SpentUSD)
	}
	return []string{tp.Name, count, rate, plural(tp.Errors, "error"), plural(tp.Retries, "retry"), cost}
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// TargetLines formats the per-target progress as aligned lines (display
// width, so wide target names line up), each indented by two spaces, e.g.
// "  openai:gpt-4o-mini  42/100  pass 81.0%  2 errors  1 retry  $0.0042".
func (p Progress) TargetLines() []string {
	if len(p.Targets) == 0 {
		return nil
	}
	t := table.Table{Align: table.Aligns("lrrrrr")}
	for _, tp := range p.Targets {
		t.Add(tp.cells()...)
	}
	var b strings.Builder
	_ = t.Render(&b, table.List)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for i := range lines {
		lines[i] = "  " + lines[i]
	}
	return lines
}

// ETA estimates the time left at the current rate; ok is false when the total
// or the rate is unknown.
func (p Progress) ETA() (d time.Duration, ok bool) {
	if p.Total <= 0 || p.Rate <= 0 {
		return 0, false
	}
	left := p.Total - p.Done - p.Skipped
	if left < 0 {
		left = 0
	}
	return time.Duration(float64(left) / p.Rate * float64(time.Second)), true
}

// String formats p on one line, e.g.
// "1234/5000 (24.7%) · 85.2/s · 3 errors · 2 retries · 10 cached · $0.0042 · 14s elapsed · eta 44s".
// Cost is shown to two significant digits below a dollar, never rounded to
// $0.00.
func (p Progress) String() string {
	var b strings.Builder
	if p.Total > 0 {
		fmt.Fprintf(&b, "%d/%d (%.1f%%)", p.Done+p.Skipped, p.Total, 100*float64(p.Done+p.Skipped)/float64(p.Total))
	} else {
		fmt.Fprintf(&b, "%d done", p.Done+p.Skipped)
	}
	fmt.Fprintf(&b, " · %.1f/s", p.Rate)
	if p.Skipped > 0 {
		fmt.Fprintf(&b, " · %d resumed", p.Skipped)
	}
	fmt.Fprintf(&b, " · %d errors", p.Errors)
	if p.Retries > 0 {
		b.WriteString(" · " + plural(p.Retries, "retry"))
	}
	if p.Cached > 0 {
		fmt.Fprintf(&b, " · %d cached", p.Cached)
	}
	if p.SpentUSD > 0 {
		b.WriteString(" · " + dollars(p.SpentUSD))
	}
	fmt.Fprintf(&b, " · %s elapsed", p.Elapsed.Round(time.Second))
	if eta, ok := p.ETA(); ok && !p.Final {
		fmt.Fprintf(&b, " · eta %s", eta.Round(time.Second))
	}
	return b.String()
}

// Bar renders progress for terminals: the overall line and one line per
// target (running pass rate, errors, retries, cost), redrawn in place at most
// ten times a second with carriage returns and cursor-up sequences; the final
// snapshot is always drawn and ends the block. The caller decides whether the
// output is a terminal. Write errors are ignored: progress is best-effort.
// Use bar.Update as Config.Progress; not safe for concurrent use.
type Bar struct {
	w     io.Writer
	every time.Duration
	now   func() time.Time
	last  time.Time
	lines int // lines drawn last time, to move back over
}

// NewBar returns a Bar drawing on w.
func NewBar(w io.Writer) *Bar {
	return &Bar{w: w, every: 100 * time.Millisecond, now: time.Now}
}

const barCells = 24

// Update draws p if the last draw was at least 100 ms ago or p is final.
func (b *Bar) Update(p Progress) {
	now := b.now()
	if !p.Final && !b.last.IsZero() && now.Sub(b.last) < b.every {
		return
	}
	b.last = now
	var line strings.Builder
	if p.Total > 0 {
		filled := barCells * (p.Done + p.Skipped) / p.Total
		filled = min(max(filled, 0), barCells)
		line.WriteString("[" + strings.Repeat("=", filled) + strings.Repeat(" ", barCells-filled) + "] ")
	}
	line.WriteString(p.String())
	lines := []string{line.String()}
	if len(p.Targets) > 1 || (len(p.Targets) == 1 && p.Final) {
		lines = append(lines, p.TargetLines()...)
	}
	var out strings.Builder
	if b.lines > 1 {
		fmt.Fprintf(&out, "\x1b[%dA", b.lines-1) // back to the first line of the block
	}
	for i, l := range lines {
		if i > 0 {
			out.WriteString("\n")
		}
		out.WriteString("\r" + l + "\x1b[K") // erase what a longer line left
	}
	for i := len(lines); i < b.lines; i++ {
		out.WriteString("\n\r\x1b[K") // a shorter block: clear the rest
	}
	if extra := b.lines - len(lines); extra > 0 {
		fmt.Fprintf(&out, "\x1b[%dA", extra)
	}
	b.lines = max(len(lines), b.lines)
	if p.Final {
		out.WriteString("\n")
		b.lines = 0
	}
	io.WriteString(b.w, out.String())
}

// Lines renders progress as plain lines, one block every period and one for
// the final snapshot, for logs and CI where a redrawn bar would be noise: the
// overall line, then one line per target with the same facts the Bar shows
// (running pass rate, errors, retries, cost). The
// first snapshot is printed at once. Write errors are ignored. Use
// lines.Update as Config.Progress; not safe for concurrent use.
type Lines struct {
	w     io.Writer
	every time.Duration
	now   func() time.Time
	last  time.Time
}

// NewLines returns a Lines writing to w every period (10 s if period ≤ 0).
func NewLines(w io.Writer, period time.Duration) *Lines {
	if period <= 0 {
		period = 10 * time.Second
	}
	return &Lines{w: w, every: period, now: time.Now}
}

// Update prints p if a period has passed since the last line or p is final.
func (l *Lines) Update(p Progress) {
	now := l.now()
	if !p.Final && !l.last.IsZero() && now.Sub(l.last) < l.every {
		return
	}
	l.last = now
	prefix := "progress: "
	if p.Final {
		prefix = "finished: "
	}
	var b strings.Builder
	b.WriteString(prefix + p.String() + "\n")
	for _, tl := range p.TargetLines() {
		b.WriteString(tl + "\n")
	}
	io.WriteString(l.w, b.String())
}
