package reports

import (
	"fmt"
	"github.com/yardstick-eval/yardstick/analysis/stats"
	"html"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/yardstick-eval/yardstick/analysis"
)

// palette colours targets consistently across charts and the drill-down
// (the CSS classes tc0…tc9 use the same colours).
var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#8c8c8c"}

func colour(i int) string { return palette[i%len(palette)] }

// esc escapes text for SVG/HTML content and attribute values.
func esc(s string) string { return html.EscapeString(oneLine(s)) }

func f1(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// chart geometry shared by the row charts.
const (
	chartW     = 640
	labelW     = 190 // left label column
	valueW     = 150 // right value column
	rowH       = 26
	chartTop   = 14
	axisH      = 28
	plotLeft   = labelW + 10
	plotRight  = chartW - valueW - 10
	plotWidth  = plotRight - plotLeft
	chartFonts = `font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="12"`
)

// chartRow is one suite × target in a row chart.
type chartRow struct {
	suite, target string
	colour        string
	n             int
	iv            stats.Interval
	text          string // value column
	hist          *latHist
	lat           analysis.Distribution
}

// svgOpen starts an SVG with a title for screen readers.
func svgOpen(b *strings.Builder, w, h int, title string) {
	fmt.Fprintf(b, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s" %s><title>%s</title>`, w, h, esc(title), chartFonts, esc(title))
}

// rowLabels draws suite headers (when there are several suites) and target
// labels, calling plot for each row with its y centre; returns the height.
func rowLabels(b *strings.Builder, rows []chartRow, multiSuite bool, plot func(r chartRow, y float64)) int {
	y := chartTop
	last := "\x00"
	for _, r := range rows {
		if multiSuite && r.suite != last {
			last = r.suite
			y += 4
			fmt.Fprintf(b, `<text x="4" y="%d" class="suite-h" font-weight="600" fill="#334155">%s</text>`, y+12, esc(clip(r.suite, 40)))
			y += 20
		}
		cy := float64(y) + rowH/2
		fmt.Fprintf(b, `<circle cx="14" cy="%s" r="5" fill="%s"/>`, f1(cy), r.colour)
		fmt.Fprintf(b, `<text x="26" y="%s" fill="#0f172a">%s</text>`, f1(cy+4), esc(clip(r.target, 26)))
		plot(r, cy)
		y += rowH
	}
	return y
}

// intervalChart is a dot-and-whisker chart of an interval per row on [0, 1].
func intervalChart(title string, rows []chartRow, multiSuite, pct bool) string {
	var b strings.Builder
	var body strings.Builder
	x := func(v float64) float64 { return plotLeft + math.Max(0, math.Min(1, v))*plotWidth }
	h := rowLabels(&body, rows, multiSuite, func(r chartRow, cy float64) {
		if r.n == 0 || bad(r.iv.Value) {
			fmt.Fprintf(&body, `<text x="%d" y="%s" fill="#94a3b8">no data</text>`, plotLeft, f1(cy+4))
			return
		}
		lo, hi := r.iv.Low, r.iv.High
		if bad(lo) || bad(hi) {
			lo, hi = r.iv.Value, r.iv.Value
		}
		fmt.Fprintf(&body, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="2"/>`, f1(x(lo)), f1(x(hi)), f1(cy), f1(cy), r.colour)
		for _, v := range []float64{lo, hi} {
			fmt.Fprintf(&body, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="2"/>`, f1(x(v)), f1(x(v)), f1(cy-6), f1(cy+6), r.colour)
		}
		fmt.Fprintf(&body, `<circle cx="%s" cy="%s" r="5.5" fill="%s" stroke="#fff" stroke-width="1.5"><title>%s</title></circle>`, f1(x(r.iv.Value)), f1(cy), r.colour, esc(r.target+": "+r.text))
		fmt.Fprintf(&body, `<text x="%d" y="%s" fill="#334155" class="num">%s</text>`, plotRight+12, f1(cy+4), esc(r.text))
	})
	total := h + axisH
	svgOpen(&b, chartW, total, title)
	// Grid and axis.
	for i := 0; i <= 4; i++ {
		v := float64(i) / 4
		gx := x(v)
		fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%d" y2="%d" stroke="#e2e8f0"/>`, f1(gx), f1(gx), chartTop-4, h)
		label := strconv.FormatFloat(v, 'f', 2, 64)
		if pct {
			label = strconv.Itoa(i*25) + "%"
		}
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle" fill="#64748b">%s</text>`, f1(gx), h+16, label)
	}
	b.WriteString(body.String())
	b.WriteString(`</svg>`)
	return b.String()
}

// latHist is a latency histogram on fixed log-spaced bins: binsPerDecade
// bins per decade from 1 ms to 10^histDecades ms. Binning is presentation:
// the percentiles drawn on top come from analysis.Summary.
type latHist struct {
	counts [histBins]int
	n      int
}

const (
	binsPerDecade = 8
	histDecades   = 7 // 1 ms … 10^7 ms (≈ 2.8 h)
	histBins      = binsPerDecade * histDecades
)

func histBin(d time.Duration) int {
	ms := float64(d) / 1e6
	if ms <= 1 {
		return 0
	}
	i := int(math.Log10(ms) * binsPerDecade)
	return min(max(i, 0), histBins-1)
}

func (h *latHist) add(d time.Duration) {
	if d <= 0 {
		return
	}
	h.counts[histBin(d)]++
	h.n++
}

// latencyChart draws one histogram strip per row on a shared log axis, with
// the summary's p50, p95 and p99 marked.
func latencyChart(rows []chartRow, multiSuite bool) string {
	lo, hi := histBins, -1
	for _, r := range rows {
		if r.hist == nil {
			continue
		}
		for i, c := range r.hist.counts {
			if c > 0 {
				lo, hi = min(lo, i), max(hi, i)
			}
		}
		for _, d := range []time.Duration{r.lat.P50, r.lat.P99} {
			if d > 0 {
				lo, hi = min(lo, histBin(d)), max(hi, histBin(d))
			}
		}
	}
	if hi < 0 {
		return emptyChart("Latency distribution", "No successful results with a latency.")
	}
	// Whole decades on the axis.
	lo = lo / binsPerDecade * binsPerDecade
	hi = (hi/binsPerDecade + 1) * binsPerDecade
	span := float64(hi - lo)
	xOfBin := func(i float64) float64 { return plotLeft + (i-float64(lo))/span*plotWidth }
	xOfDur := func(d time.Duration) float64 {
		ms := math.Max(float64(d)/1e6, 1)
		return xOfBin(math.Log10(ms) * binsPerDecade)
	}
	var body strings.Builder
	h := rowLabels(&body, rows, multiSuite, func(r chartRow, cy float64) {
		if r.hist == nil || r.hist.n == 0 {
			fmt.Fprintf(&body, `<text x="%d" y="%s" fill="#94a3b8">no data</text>`, plotLeft, f1(cy+4))
			return
		}
		peak := 0
		for _, c := range r.hist.counts {
			peak = max(peak, c)
		}
		bw := float64(plotWidth) / span
		base := cy + rowH/2 - 3
		for i, c := range r.hist.counts {
			if c == 0 {
				continue
			}
			bh := math.Max(1, float64(c)/float64(peak)*(rowH-6))
			fmt.Fprintf(&body, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.75"/>`,
				f1(xOfBin(float64(i))), f1(base-bh), f1(math.Max(bw-1, 1)), f1(bh), r.colour)
		}
		marks := []struct {
			d    time.Duration
			dash string
		}{{r.lat.P50, ""}, {r.lat.P95, `stroke-dasharray="4 2"`}, {r.lat.P99, `stroke-dasharray="1 2"`}}
		for _, m := range marks {
			if m.d > 0 {
				mx := xOfDur(m.d)
				fmt.Fprintf(&body, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="#0f172a" stroke-width="1.5" %s/>`, f1(mx), f1(mx), f1(cy-rowH/2+2), f1(base), m.dash)
			}
		}
		fmt.Fprintf(&body, `<text x="%d" y="%s" fill="#334155" class="num">%s</text>`, plotRight+12, f1(cy+4),
			esc(fmtDur(r.lat.P50)+" · "+fmtDur(r.lat.P95)+" · "+fmtDur(r.lat.P99)))
	})
	var b strings.Builder
	total := h + axisH + 18
	svgOpen(&b, chartW, total, "Latency distribution")
	for d := lo / binsPerDecade; d <= hi/binsPerDecade; d++ {
		gx := xOfBin(float64(d * binsPerDecade))
		fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%d" y2="%d" stroke="#e2e8f0"/>`, f1(gx), f1(gx), chartTop-4, h)
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle" fill="#64748b">%s</text>`, f1(gx), h+16, fmtDur(time.Duration(math.Pow(10, float64(d))*1e6)))
	}
	b.WriteString(body.String())
	// Legend.
	ly := h + 34
	fmt.Fprintf(&b, `<g fill="#64748b"><line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#0f172a" stroke-width="1.5"/><text x="%d" y="%d">p50</text>`, plotLeft, plotLeft+14, ly-4, ly-4, plotLeft+18, ly)
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#0f172a" stroke-width="1.5" stroke-dasharray="4 2"/><text x="%d" y="%d">p95</text>`, plotLeft+56, plotLeft+70, ly-4, ly-4, plotLeft+74, ly)
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#0f172a" stroke-width="1.5" stroke-dasharray="1 2"/><text x="%d" y="%d">p99 (log scale; values: p50 · p95 · p99)</text></g>`, plotLeft+112, plotLeft+126, ly-4, ly-4, plotLeft+130, ly)
	b.WriteString(`</svg>`)
	return b.String()
}

// costQualityChart plots cost per result (x) against pass rate with its
// interval (y), one point per suite × target.
func costQualityChart(rows []chartRow, sums map[[2]string]analysis.Summary) string {
	type pt struct {
		r    chartRow
		cost float64
	}
	var pts []pt
	minC, maxC := math.Inf(1), 0.0
	for _, r := range rows {
		s := sums[[2]string{r.suite, r.target}]
		if s.N == 0 || s.CostUSD <= 0 || bad(s.PassRate.Value) {
			continue
		}
		c := s.CostUSD / float64(s.N)
		pts = append(pts, pt{r, c})
		minC, maxC = math.Min(minC, c), math.Max(maxC, c)
	}
	if len(pts) == 0 {
		return emptyChart("Cost against quality", "No prices known for any target, so cost is unavailable.")
	}
	const (
		w, h           = chartW, 300
		left, right    = 64, chartW - 24
		top, bottom    = 16, h - 44
		plotW, plotH   = right - left, bottom - top
		logSpanTrigger = 20
	)
	logX := maxC/minC > logSpanTrigger
	var x func(float64) float64
	var ticks []float64
	if logX {
		l0, l1 := math.Floor(math.Log10(minC)), math.Ceil(math.Log10(maxC))
		x = func(c float64) float64 { return left + (math.Log10(c)-l0)/(l1-l0)*plotW }
		for e := l0; e <= l1; e++ {
			ticks = append(ticks, math.Pow(10, e))
		}
	} else {
		hiC := niceCeil(maxC * 1.1)
		x = func(c float64) float64 { return left + c/hiC*plotW }
		for i := 0; i <= 4; i++ {
			ticks = append(ticks, hiC*float64(i)/4)
		}
	}
	y := func(v float64) float64 { return bottom - math.Max(0, math.Min(1, v))*plotH }
	var b strings.Builder
	svgOpen(&b, w, h, "Cost against quality")
	for i := 0; i <= 4; i++ {
		v := float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="#e2e8f0"/>`, left, right, f1(y(v)), f1(y(v)))
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end" fill="#64748b">%d%%</text>`, left-6, f1(y(v)+4), i*25)
	}
	for i, t := range ticks {
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case len(ticks) - 1:
			anchor = "end"
		}
		fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%d" y2="%d" stroke="#e2e8f0"/>`, f1(x(t)), f1(x(t)), top, bottom)
		fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="%s" fill="#64748b">%s</text>`, f1(x(t)), bottom+16, anchor, esc(usdTick(t, ticks)))
	}
	axis := "cost per result (USD)"
	if logX {
		axis += ", log scale"
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#64748b">%s</text>`, (left+right)/2, h-6, axis)
	fmt.Fprintf(&b, `<text x="12" y="%d" fill="#64748b" transform="rotate(-90 12 %d)" text-anchor="middle">pass rate</text>`, (top+bottom)/2, (top+bottom)/2)
	// Labels: beside each point, nudged down until they clear the labels
	// already placed.
	type box struct{ x0, x1, y float64 }
	var placed []box
	multi := len(sums) > 0 && hasSeveralSuites(rows)
	for _, p := range pts {
		px := x(p.cost)
		iv := p.r.iv
		if !bad(iv.Low) && !bad(iv.High) {
			fmt.Fprintf(&b, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="2"/>`, f1(px), f1(px), f1(y(iv.Low)), f1(y(iv.High)), p.r.colour)
		}
		label := clip(p.r.target, 24)
		if multi {
			label = clip(p.r.suite, 12) + " · " + label
		}
		fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="6" fill="%s" stroke="#fff" stroke-width="1.5"><title>%s</title></circle>`,
			f1(px), f1(y(iv.Value)), p.r.colour, esc(p.r.suite+" / "+p.r.target+": "+fmtPct(iv.Value)+" at "+fmtUSD(p.cost)+" per result"))
		w := 6.5 * float64(len([]rune(label)))
		bx := box{px + 9, px + 9 + w, y(iv.Value) - 8}
		anchor := "start"
		if bx.x1 > right {
			bx = box{px - 9 - w, px - 9, bx.y}
			anchor = "end"
		}
		for moved := true; moved; {
			moved = false
			for _, o := range placed {
				if bx.x0 < o.x1 && o.x0 < bx.x1 && math.Abs(bx.y-o.y) < 13 {
					bx.y = o.y + 13
					moved = true
				}
			}
		}
		placed = append(placed, bx)
		tx := bx.x0
		if anchor == "end" {
			tx = bx.x1
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="%s" fill="#334155">%s</text>`, f1(tx), f1(bx.y), anchor, esc(label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// niceCeil rounds x up to 1, 2 or 5 times a power of ten.
func niceCeil(x float64) float64 {
	if x <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= x {
			return m * e
		}
	}
	return 10 * e
}

// emptyChart is a placeholder with a message.
func emptyChart(title, msg string) string {
	var b strings.Builder
	svgOpen(&b, chartW, 60, title)
	fmt.Fprintf(&b, `<text x="%d" y="34" text-anchor="middle" fill="#94a3b8">%s</text></svg>`, chartW/2, esc(msg))
	return b.String()
}

// miniInterval is a small inline bar for a matrix cell: the interval on
// [0, 1] with its centre.
func miniInterval(iv stats.Interval) string {
	if bad(iv.Value) {
		return ""
	}
	const w, h = 120.0, 10.0
	lo, hi := iv.Low, iv.High
	if bad(lo) || bad(hi) {
		lo, hi = iv.Value, iv.Value
	}
	cl := func(v float64) float64 { return math.Max(0, math.Min(1, v)) * (w - 4) }
	return fmt.Sprintf(`<svg class="mini" viewBox="0 0 %g %g" width="%g" height="%g" aria-hidden="true"><rect x="2" y="4" width="%g" height="2" rx="1" fill="#e2e8f0"/><rect x="%s" y="2" width="%s" height="6" rx="3" fill="#94a3b8"/><circle cx="%s" cy="5" r="3.5" fill="#0f172a"/></svg>`,
		w, h, w, h, w-4, f1(2+cl(lo)), f1(math.Max(cl(hi)-cl(lo), 1)), f1(2+cl(iv.Value)))
}

// deltaBar is a small forest-plot cell for a comparison: the delta's
// interval against zero on a symmetric scale of ±scale.
func deltaBar(d stats.Interval, scale float64, colour string) string {
	if bad(d.Value) || scale <= 0 {
		return ""
	}
	const w, h = 140.0, 14.0
	x := func(v float64) float64 { return w/2 + math.Max(-1, math.Min(1, v/scale))*(w/2-4) }
	lo, hi := d.Low, d.High
	if bad(lo) || bad(hi) {
		lo, hi = d.Value, d.Value
	}
	return fmt.Sprintf(`<svg class="mini" viewBox="0 0 %g %g" width="%g" height="%g" aria-hidden="true"><line x1="%g" x2="%g" y1="0" y2="%g" stroke="#94a3b8"/><line x1="%s" x2="%s" y1="7" y2="7" stroke="%s" stroke-width="2"/><circle cx="%s" cy="7" r="3.5" fill="%s"/></svg>`,
		w, h, w, h, w/2, w/2, h, f1(x(lo)), f1(x(hi)), colour, f1(x(d.Value)), colour)
}

func hasSeveralSuites(rows []chartRow) bool {
	for _, r := range rows {
		if r.suite != rows[0].suite {
			return true
		}
	}
	return false
}

// usdTick labels an axis tick with as many decimals as the smallest gap
// between ticks needs, so neighbouring ticks never read the same.
func usdTick(v float64, ticks []float64) string {
	if v == 0 {
		return "$0"
	}
	gap := math.Inf(1)
	for i := 1; i < len(ticks); i++ {
		gap = math.Min(gap, math.Abs(ticks[i]-ticks[i-1]))
	}
	if math.IsInf(gap, 0) || gap <= 0 {
		gap = math.Abs(v)
	}
	dec := max(0, int(math.Ceil(-math.Log10(gap)+1e-9)))
	if dec == 0 && gap < 10 {
		dec = 2
	}
	return "$" + strconv.FormatFloat(v, 'f', dec, 64)
}
