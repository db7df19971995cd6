package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/internal/table"
)

func TestProgressString(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Progress
		want string
	}{
		{"known total", Progress{Done: 1234, Total: 5000, Errors: 3, Cached: 10, SpentUSD: 0.42, Elapsed: 14 * time.Second, Rate: 85.2},
			"1234/5000 (24.7%) · 85.2/s · 3 errors · 10 cached · $0.42 · 14s elapsed · eta 44s"},
		{"unknown total", Progress{Done: 7, Elapsed: 1500 * time.Millisecond, Rate: 4.7},
			"7 done · 4.7/s · 0 errors · 2s elapsed"},
		{"resumed", Progress{Done: 10, Skipped: 40, Total: 100, Elapsed: 10 * time.Second, Rate: 1},
			"50/100 (50.0%) · 1.0/s · 40 resumed · 0 errors · 10s elapsed · eta 50s"},
		{"final has no eta", Progress{Done: 100, Total: 100, Elapsed: 10 * time.Second, Rate: 10, Final: true},
			"100/100 (100.0%) · 10.0/s · 0 errors · 10s elapsed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestProgressETA(t *testing.T) {
	for _, tc := range []struct {
		p    Progress
		want time.Duration
		ok   bool
	}{
		{Progress{Done: 10, Total: 30, Rate: 2}, 10 * time.Second, true},
		{Progress{Done: 10, Total: 0, Rate: 2}, 0, false},
		{Progress{Done: 0, Total: 30, Rate: 0}, 0, false},
		{Progress{Done: 40, Total: 30, Rate: 2}, 0, true},
	} {
		d, ok := tc.p.ETA()
		if d != tc.want || ok != tc.ok {
			t.Errorf("%+v.ETA() = %v, %v; want %v, %v", tc.p, d, ok, tc.want, tc.ok)
		}
	}
}

// rnStepClock returns the given times in turn.
func rnStepClock(ts ...time.Duration) func() time.Time {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	return func() time.Time {
		d := ts[i]
		i++
		return base.Add(d)
	}
}

func TestBarThrottlesAndRedraws(t *testing.T) {
	var out strings.Builder
	b := NewBar(&out)
	ms := time.Millisecond
	b.now = rnStepClock(0, 50*ms, 100*ms, 150*ms, 230*ms, 240*ms)
	p := Progress{Total: 100, Elapsed: time.Second}
	for i, done := range []int{0, 1, 2, 3, 95, 100} {
		p.Done, p.Rate = done, float64(done)
		p.Final = i == 5
		if done == 95 {
			p.Errors = 12345 // a longer line
		}
		if done == 100 {
			p.Errors = 0 // a shorter line must clear the longer one
		}
		b.Update(p)
	}
	draws := strings.Split(out.String(), "\r")[1:]
	if len(draws) != 4 { // at 0, 100 ms, 230 ms, and the final one
		t.Fatalf("%d draws, want 4 (throttled to 10/s, final always drawn): %q", len(draws), draws)
	}
	if !strings.HasPrefix(draws[0], "[                        ] 0/100 (0.0%)") {
		t.Errorf("first draw %q", draws[0])
	}
	if !strings.HasPrefix(draws[2], "[======================  ] 95/100") {
		t.Errorf("third draw %q", draws[2])
	}
	last := draws[3]
	if !strings.HasPrefix(last, "[========================] 100/100") || !strings.HasSuffix(last, "\n") {
		t.Errorf("final draw %q: want a full bar ending the line", last)
	}
	for _, d := range draws {
		if !strings.HasSuffix(strings.TrimSuffix(d, "\n"), "\x1b[K") {
			t.Errorf("draw %q does not erase the rest of the line: a longer earlier line would leave leftovers", d)
		}
	}
	for _, d := range draws[:3] {
		if strings.Contains(d, "\n") {
			t.Errorf("non-final draw %q contains a newline", d)
		}
	}
}

func TestLinesPeriodic(t *testing.T) {
	var out strings.Builder
	l := NewLines(&out, 10*time.Second)
	s := time.Second
	l.now = rnStepClock(0, 5*s, 10*s, 12*s, 19*s, 20*s, 21*s)
	for i := range 7 {
		l.Update(Progress{Done: i, Final: i == 6})
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{"progress: 0 done", "progress: 2 done", "progress: 5 done", "finished: 6 done"}
	if len(lines) != len(want) {
		t.Fatalf("lines %q, want %d (one per period plus the final one)", lines, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) || strings.Contains(lines[i], "\r") {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
	if NewLines(&out, 0).every != 10*time.Second {
		t.Error("default period is not 10s")
	}
}

func TestProgressCostHasSignificantDigits(t *testing.T) {
	for _, tc := range []struct {
		usd  float64
		want string
	}{
		{0.0042, "$0.0042"}, {0.00004, "$0.000040"}, {0.000123, "$0.00012"}, {0.42, "$0.42"}, {1.5, "$1.50"}, {12.345, "$12.35"},
	} {
		p := Progress{Done: 1, SpentUSD: tc.usd, Rate: 1}
		if got := p.String(); !strings.Contains(got, " · "+tc.want+" · ") {
			t.Errorf("SpentUSD %v: %q lacks %s", tc.usd, got, tc.want)
		}
	}
	if got := (Progress{Done: 3, Retries: 1}).String(); !strings.Contains(got, " · 1 retry") {
		t.Errorf("%q lacks the retries", got)
	}
}

func TestTargetLines(t *testing.T) {
	p := Progress{Targets: []TargetProgress{
		{Name: "openai:gpt-4o-mini", Done: 40, Skipped: 2, Total: 100, Passed: 33, Errors: 2, Retries: 1, SpentUSD: 0.0042, Priced: true},
		{Name: "상담봇-한국어", Done: 7, Total: 100, Passed: 7, Priced: true},
		{Name: "ollama:llama3.2", Total: 100},
	}}
	lines := p.TargetLines()
	want := [][]string{
		{"openai:gpt-4o-mini", "42/100", "pass 82.5%", "2 errors", "1 retry", "$0.0042"},
		{"상담봇-한국어", "7/100", "pass 100.0%", "0 errors", "0 retries", "$0.00"},
		{"ollama:llama3.2", "0/100", "pass —", "0 errors", "0 retries", "cost unknown"},
	}
	if len(lines) != len(want) {
		t.Fatalf("lines %q", lines)
	}
	var ends []int
	for i, l := range lines {
		if !strings.HasPrefix(l, "  ") {
			t.Errorf("line %q is not indented", l)
		}
		for _, c := range want[i] {
			if !strings.Contains(l, c) {
				t.Errorf("line %q lacks %q", l, c)
			}
		}
		// The right-aligned count column ends at the same display column.
		cut := strings.Index(l, want[i][1]) + len(want[i][1])
		ends = append(ends, table.Width(l[:cut]))
	}
	if ends[0] != ends[1] || ends[1] != ends[2] {
		t.Errorf("counts end at display columns %v:\n%s", ends, strings.Join(lines, "\n"))
	}
}

func TestBarDrawsOneLinePerTarget(t *testing.T) {
	var out strings.Builder
	b := NewBar(&out)
	b.now = rnStepClock(0, time.Second, 2*time.Second)
	p := Progress{Total: 4, Targets: []TargetProgress{{Name: "a", Total: 2, Priced: true}, {Name: "b", Total: 2}}}
	b.Update(p)
	p.Done, p.Targets[0].Done, p.Targets[0].Passed = 1, 1, 1
	b.Update(p)
	p.Done, p.Final = 4, true
	b.Update(p)
	draws := strings.Split(out.String(), "\x1b[2A") // back over a three-line block
	if len(draws) != 3 {
		t.Fatalf("%d draws, want 3 each redrawing the block in place: %q", len(draws), out.String())
	}
	if !strings.Contains(draws[1], "pass 100.0%") || !strings.Contains(draws[1], "cost unknown") {
		t.Errorf("second draw lacks the per-target facts: %q", draws[1])
	}
	if !strings.HasSuffix(out.String(), "\n") || strings.Count(draws[2], "\n") != 3 {
		t.Errorf("final draw %q: want three lines ending the block", draws[2])
	}
}

func TestLinesCarryTheTargets(t *testing.T) {
	var out strings.Builder
	l := NewLines(&out, time.Second)
	l.Update(Progress{Done: 3, Total: 4, Retries: 2, SpentUSD: 0.0042, Targets: []TargetProgress{
		{Name: "openai:gpt-4o-mini", Done: 3, Total: 4, Passed: 2, Errors: 1, Retries: 2, SpentUSD: 0.0042, Priced: true},
	}})
	got := out.String()
	for _, w := range []string{"progress: 3/4 (75.0%)", "2 retries", "$0.0042", "\n  openai:gpt-4o-mini  3/4  pass 66.7%  1 error  2 retries  $0.0042\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("output lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "\x1b") || strings.Contains(got, "\r") {
		t.Errorf("plain lines carry terminal control codes: %q", got)
	}
}

func TestTargetProgressAdd(t *testing.T) {
	var tp TargetProgress
	tp.add(&Result{Pass: true, Attempts: 3}, 0.002)
	tp.add(&Result{Error: &ErrorInfo{Kind: "timeout"}, Attempts: 1}, 0)
	tp.add(&Result{Pass: true, Cached: true}, 0)
	want := TargetProgress{Done: 3, Passed: 2, Errors: 1, Cached: 1, Retries: 2, SpentUSD: 0.002}
	if tp != want {
		t.Errorf("got %+v, want %+v", tp, want)
	}
	if r, ok := tp.PassRate(); !ok || r != 2.0/3 {
		t.Errorf("PassRate = %v, %v", r, ok)
	}
}
