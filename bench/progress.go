package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Progress is a snapshot of a running Run, passed to Config.Progress.
// Units are work units: one case × target × repeat.
type Progress struct {
	Done       int           // results written by this run
	Total      int           // units in the run, skipped ones included; 0 when unknown (Config.TotalCases unset)
	Skipped    int           // units skipped because they already had a result (resume)
	KeptErrors int           // of Skipped, units whose kept result is an error (see Config.KeptError)
	Errors     int           // written results with an error
	Cached     int           // written results served from the response cache
	InFlight   int           // units dispatched and not yet landed
	SpentUSD   float64       // cost so far, cached responses and unpriced targets excluded
	Elapsed    time.Duration // since Run started
	Rate       float64       // results per second over Elapsed
	Final      bool          // the last snapshot of the run
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
// "1234/5000 (24.7%) · 85.2/s · 3 errors · 10 cached · $0.42 · 14s elapsed · eta 44s",
// with " · 120 resumed (7 errors kept)" after the rate on a resumed run.
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
		if p.KeptErrors > 0 {
			fmt.Fprintf(&b, " (%d errors kept)", p.KeptErrors)
		}
	}
	fmt.Fprintf(&b, " · %d errors", p.Errors)
	if p.Cached > 0 {
		fmt.Fprintf(&b, " · %d cached", p.Cached)
	}
	if p.SpentUSD > 0 {
		fmt.Fprintf(&b, " · $%.2f", p.SpentUSD)
	}
	fmt.Fprintf(&b, " · %s elapsed", p.Elapsed.Round(time.Second))
	if eta, ok := p.ETA(); ok && !p.Final {
		fmt.Fprintf(&b, " · eta %s", eta.Round(time.Second))
	}
	return b.String()
}

// Bar renders progress as one line redrawn in place with a carriage return,
// for terminals, at most ten times a second; the final snapshot is always
// drawn and ends the line. The caller decides whether the output is a
// terminal. Write errors are ignored: progress is best-effort. Use
// bar.Update as Config.Progress; not safe for concurrent use.
type Bar struct {
	w     io.Writer
	every time.Duration
	now   func() time.Time
	last  time.Time
	width int // length of the last line drawn
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
	s := line.String()
	n := len([]rune(s))
	pad := ""
	if n < b.width {
		pad = strings.Repeat(" ", b.width-n)
	}
	b.width = n
	end := ""
	if p.Final {
		end = "\n"
	}
	io.WriteString(b.w, "\r"+s+pad+end)
}

// Lines renders progress as plain lines, one every period and one for the
// final snapshot, for logs and CI where a redrawn bar would be noise. The
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
	io.WriteString(l.w, prefix+p.String()+"\n")
}
