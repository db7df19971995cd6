package reports

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"iter"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/yardstick-eval/yardstick/analysis"
	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/internal/safetext"
)

//go:embed assets/report.css
var reportCSS string

//go:embed assets/report.js
var reportJS string

// contentSecurityPolicy allows nothing but the report's own inline style and
// script, identified by their SHA-256 hashes: no network, no other script,
// no inline event handlers, no plugins, no base URL or form targets.
var contentSecurityPolicy = "default-src 'none'; script-src " + cspHash(reportJS) +
	"; style-src " + cspHash(reportCSS) + "; img-src data:; base-uri 'none'; form-action 'none'"

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// HTMLOptions tunes the HTML report. The zero value is ready to use.
type HTMLOptions struct {
	// PageSize is the number of cases per page; 0 means 50.
	PageSize int
	// MaxText bounds each output, prompt message, expected answer, reason
	// and error message embedded in the page, in bytes; longer text is cut
	// with a note. 0 means 8 KiB; negative means no limit.
	MaxText int
}

// HTML writes a single self-contained HTML file: no CDN, no network, inline
// CSS, JS and SVG only. It shows the verdict and thresholds, a summary matrix
// of suites × targets with intervals, charts drawn here as SVG (pass rate and
// mean score with interval whiskers, latency histograms with p50/p95/p99,
// cost against quality), comparisons, regressed and flaky cases, and a
// paged per-case drill-down: the prompt, the expected answer and every
// target's output side by side with the scorer's reason, filtered by
// failures, disagreements between targets, regressions against the baseline,
// flakiness and errors, and searchable by case ID.
//
// results (and opts.Baseline) are read once. Results are spooled to a
// temporary file as compact JSON; only per-case indexes, the baseline's
// outcome per case × target and latency histograms stay in memory. The case
// data is embedded as JSON in a <script type="application/json"> block with
// <, >, &, U+2028 and U+2029 escaped, and rendered in the browser with DOM
// text nodes only, under a Content-Security-Policy that admits only the
// report's own script and style by SHA-256 hash.
func HTML(w io.Writer, in *Input, results iter.Seq2[*bench.Result, error], opts HTMLOptions) error {
	if opts.PageSize <= 0 {
		opts.PageSize = 50
	}
	if opts.MaxText == 0 {
		opts.MaxText = 8 << 10
	}
	dir, err := os.MkdirTemp("", "yardstick-html-")
	if err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	defer os.RemoveAll(dir)

	sp, err := newSpool(dir, in, opts)
	if err != nil {
		return err
	}
	defer sp.close()
	sp.fromComparison(in)
	for r, err := range results {
		if err != nil {
			return fmt.Errorf("reports: html: %w", err)
		}
		if err := sp.add(r); err != nil {
			return err
		}
	}
	if err := sp.flush(); err != nil {
		return err
	}

	// No bidi control belongs anywhere in the document: model output with
	// one cannot reorder what a reader sees.
	bidi := safetext.NewBidiWriter(w)
	bw := bufio.NewWriterSize(bidi, 256<<10)
	page := buildPage(in, sp)
	if err := pageTemplate.ExecuteTemplate(bw, "top", page); err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	// The data block is written outside the template: html/template would
	// treat its JSON as script. appendJSONString keeps "</script" out of it.
	bw.WriteString(`<script type="application/json" id="ys-data">`)
	if err := sp.writeData(bw, opts); err != nil {
		return err
	}
	bw.WriteString("</script>")
	if err := pageTemplate.ExecuteTemplate(bw, "bottom", page); err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return bidi.Flush()
}

// spool turns the results stream into two temporary files of compact JSON
// records (cases and results) plus small indexes.
type spool struct {
	opts HTMLOptions

	casesF, resultsF *os.File
	cases, results   *bufio.Writer
	nCases, nResults int
	caseIdx          map[string]int32
	suiteIdx         map[string]int
	suites           []string
	targetIdx        map[string]int
	targets          []string
	baseline         map[string]uint8 // suite\0case\0target → 1 passed, 2 failed, 3 both
	thumbBytes       int              // image bytes embedded as thumbnails so far
	hist             map[[2]string]*latHist
	errors           int
	key, rec         []byte
}

func newSpool(dir string, in *Input, opts HTMLOptions) (*spool, error) {
	sp := &spool{
		opts:      opts,
		caseIdx:   map[string]int32{},
		suiteIdx:  map[string]int{},
		targetIdx: map[string]int{},
		hist:      map[[2]string]*latHist{},
	}
	// Suites and targets keep the summaries' order.
	for _, s := range sortedSummaries(in.Summaries) {
		sp.suite(s.Suite)
		sp.target(s.Target)
	}
	var err error
	if sp.casesF, err = os.CreateTemp(dir, "cases-*.json"); err != nil {
		return nil, fmt.Errorf("reports: html: %w", err)
	}
	if sp.resultsF, err = os.CreateTemp(dir, "results-*.json"); err != nil {
		sp.casesF.Close()
		return nil, fmt.Errorf("reports: html: %w", err)
	}
	sp.cases = bufio.NewWriterSize(sp.casesF, 256<<10)
	sp.results = bufio.NewWriterSize(sp.resultsF, 256<<10)
	return sp, nil
}

func (sp *spool) close() {
	sp.casesF.Close()
	sp.resultsF.Close()
}

func (sp *spool) suite(name string) int {
	i, ok := sp.suiteIdx[name]
	if !ok {
		i = len(sp.suites)
		sp.suiteIdx[name] = i
		sp.suites = append(sp.suites, name)
	}
	return i
}

func (sp *spool) target(name string) int {
	i, ok := sp.targetIdx[name]
	if !ok {
		i = len(sp.targets)
		sp.targetIdx[name] = i
		sp.targets = append(sp.targets, name)
	}
	return i
}

// fromComparison marks the cases the comparison found regressed or
// improved (compare.CaseChange, the one definition every report uses): a
// failing result of a regressed case shows as "regressed", a passing result
// of an improved one as "fixed". Without a baseline comparison nothing is
// marked.
func (sp *spool) fromComparison(in *Input) {
	if in.Baseline == nil {
		return
	}
	sp.baseline = map[string]uint8{}
	for _, c := range in.Regressions {
		sp.key = baseKey(sp.key[:0], c.Suite, c.CaseID, c.Target)
		sp.baseline[string(sp.key)] = 1 // reads as "passed in the baseline"
	}
	for _, c := range in.Improvements {
		sp.key = baseKey(sp.key[:0], c.Suite, c.CaseID, c.Target)
		sp.baseline[string(sp.key)] = 2 // reads as "failed in the baseline"
	}
}

func baseKey(dst []byte, suite, id, target string) []byte {
	dst = append(dst, suite...)
	dst = append(dst, 0)
	dst = append(dst, id...)
	dst = append(dst, 0)
	return append(dst, target...)
}

// maxThumbBytes bounds the case-image bytes a page embeds as thumbnails;
// later images are shown as a note.
const maxThumbBytes = 16 << 20

// Record layouts, shared with assets/report.js:
//
//	case:   [suite index, case id, [[role, content, [image, …]?], …], expected]
//	        (image: a data URL, or "" for one recorded without its bytes or
//	        past maxThumbBytes)
//	result: [case index, target index, repeat, pass 0|1, score, latency ms,
//	         TTFT ms, output, reason, error kind, error message,
//	         baseline (-1 none, 0 failed, 1 passed, 2 mixed), cost USD|null,
//	         input tokens, output tokens, [[scorer, value, pass 0|1, reason], …]]
func (sp *spool) add(r *bench.Result) error {
	sp.key = baseKey(sp.key[:0], r.Suite, r.CaseID, "")
	ci, ok := sp.caseIdx[string(sp.key)]
	max := sp.opts.MaxText
	if !ok {
		ci = int32(sp.nCases)
		sp.caseIdx[string(sp.key)] = ci
		b := sp.rec[:0]
		if sp.nCases > 0 {
			b = append(b, ',', '\n')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(sp.suite(r.Suite)), 10)
		b = append(b, ',')
		b = appendJSONString(b, r.CaseID)
		b = append(b, ',', '[')
		for i, m := range r.Prompt {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendJSONString(b, m.Role)
			b = append(b, ',')
			b = appendJSONString(b, truncateText(m.Content, max))
			if len(m.Images) > 0 {
				b = append(b, ',', '[')
				for j, im := range m.Images {
					if j > 0 {
						b = append(b, ',')
					}
					url := ""
					if len(im.Data) > 0 && strings.HasPrefix(im.MIMEType, "image/") && sp.thumbBytes+len(im.Data) <= maxThumbBytes {
						sp.thumbBytes += len(im.Data)
						url = "data:" + im.MIMEType + ";base64," + base64.StdEncoding.EncodeToString(im.Data)
					}
					b = appendJSONString(b, url)
				}
				b = append(b, ']')
			}
			b = append(b, ']')
		}
		b = append(b, ']', ',')
		b = appendJSONString(b, truncateText(r.Expected, max))
		b = append(b, ']')
		sp.rec = b
		if _, err := sp.cases.Write(b); err != nil {
			return fmt.Errorf("reports: html: %w", err)
		}
		sp.nCases++
	}

	base := -1
	if sp.baseline != nil {
		k := baseKey(sp.key[:0], r.Suite, r.CaseID, r.Target)
		sp.key = k
		switch sp.baseline[string(k)] {
		case 1:
			base = 1
		case 2:
			base = 0
		case 3:
			base = 2
		}
	}
	ti := sp.target(r.Target)
	b := sp.rec[:0]
	if sp.nResults > 0 {
		b = append(b, ',', '\n')
	}
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(ci), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(ti), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Repeat), 10)
	if r.Pass {
		b = append(b, ",1,"...)
	} else {
		b = append(b, ",0,"...)
	}
	b = appendJSONFloat(b, r.Score, 3)
	b = append(b, ',')
	b = appendJSONFloat(b, float64(r.Latency)/1e6, 1)
	b = append(b, ',')
	b = appendJSONFloat(b, float64(r.TTFT)/1e6, 1)
	b = append(b, ',')
	b = appendJSONString(b, truncateText(r.Output, max))
	b = append(b, ',')
	b = appendJSONString(b, truncateText(r.Reason, max))
	b = append(b, ',')
	if r.Error != nil {
		kind := string(r.Error.Kind)
		if kind == "" {
			kind = "unknown"
		}
		b = appendJSONString(b, kind)
		b = append(b, ',')
		b = appendJSONString(b, truncateText(r.Error.Message, max))
		sp.errors++
	} else {
		b = append(b, `"",""`...)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(base), 10)
	b = append(b, ',')
	if r.CostUSD != nil {
		b = appendJSONFloat(b, *r.CostUSD, 6)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Usage.InputTokens), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Usage.OutputTokens), 10)
	b = append(b, ',', '[')
	for i, p := range r.Scores {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendJSONString(b, p.Name)
		b = append(b, ',')
		b = appendJSONFloat(b, p.Value, 3)
		if p.Pass {
			b = append(b, ",1,"...)
		} else {
			b = append(b, ",0,"...)
		}
		b = appendJSONString(b, truncateText(p.Reason, max))
		b = append(b, ']')
	}
	b = append(b, ']', ']')
	sp.rec = b
	if _, err := sp.results.Write(b); err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	sp.nResults++

	if r.Error == nil {
		k := [2]string{r.Suite, r.Target}
		h := sp.hist[k]
		if h == nil {
			h = &latHist{}
			sp.hist[k] = h
		}
		h.add(r.Latency)
	}
	return nil
}

func (sp *spool) flush() error {
	if err := sp.cases.Flush(); err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	if err := sp.results.Flush(); err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	return nil
}

// writeData writes the JSON document of the data block: the header, then the
// spooled cases and results copied as they are.
func (sp *spool) writeData(w *bufio.Writer, opts HTMLOptions) error {
	b := []byte(`{"v":1,"page_size":`)
	b = strconv.AppendInt(b, int64(opts.PageSize), 10)
	b = append(b, `,"has_baseline":`...)
	b = strconv.AppendBool(b, sp.baseline != nil)
	b = append(b, `,"suites":[`...)
	for i, s := range sp.suites {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	b = append(b, `],"targets":[`...)
	for i, t := range sp.targets {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, t)
	}
	b = append(b, "],\n\"cases\":[\n"...)
	w.Write(b)
	for _, f := range []*os.File{sp.casesF, sp.resultsF} {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("reports: html: %w", err)
		}
		if _, err := io.Copy(w, f); err != nil {
			return fmt.Errorf("reports: html: %w", err)
		}
		if f == sp.casesF {
			w.WriteString("],\n\"results\":[\n")
		}
	}
	_, err := w.WriteString("]}")
	return err
}

// ---- page model ----

type htmlPage struct {
	Title       string
	CSP         string
	CSS         template.CSS
	JS          template.JS
	Meta        []string
	Verdict     string // pass, fail, none
	VerdictMark string
	VerdictHead string
	VerdictLine string
	KPIs        []htmlKPI
	Thresholds  []htmlOutcome
	Matrix      htmlMatrix
	Details     []htmlDetail
	Charts      []htmlChart
	Comparisons []htmlComparison
	CmpNote     string
	Warnings    []string
	CostHeader  []string
	CostRows    [][]string
	Regressions []htmlRegression
	MoreRegr    int
	Flaky       []htmlFlaky
	MoreFlaky   int
	NCases      int
	Dead        []analysis.TargetFailure
	Ranking     [][]string
}

type htmlKPI struct{ Label, Value, Sub string }

type htmlOutcome struct {
	Pass                                   bool
	Threshold, Observed, N, Source, Reason string
}

type htmlMatrix struct {
	Targets []htmlTarget
	Rows    []htmlMatrixRow
}

type htmlTarget struct {
	Name  string
	Class string
}

type htmlMatrixRow struct {
	Suite string
	Cells []htmlCell
}

type htmlCell struct {
	Has                     bool
	Rate, CI, Score, N, Err string
	Heat                    string
	Mini                    template.HTML
}

type htmlDetail struct {
	Suite, Target, Class string
	Cells                []string
}

type htmlChart struct {
	Title, Note string
	SVG         template.HTML
}

type htmlComparison struct {
	Suite, Metric, A, B, ValA, ValB, Delta, P, PAdj, N, Change, ChangeClass string
	Bar                                                                     template.HTML
}

type htmlRegression struct {
	Suite, CaseID, Target, Change, Reason, Output string
}

type htmlFlaky struct{ Suite, CaseID, Target, Runs string }

const htmlListCap = 100

func buildPage(in *Input, sp *spool) *htmlPage {
	p := &htmlPage{
		Title:       title(in),
		CSP:         contentSecurityPolicy,
		CSS:         template.CSS(reportCSS),
		JS:          template.JS(reportJS),
		Meta:        metaParts(in),
		Verdict:     string(in.Verdict()),
		VerdictLine: verdictLine(in),
		NCases:      sp.nCases,
	}
	switch in.Verdict() {
	case VerdictPass:
		p.VerdictMark, p.VerdictHead = "✓", "Passed"
	case VerdictFail:
		p.VerdictMark, p.VerdictHead = "✗", "Failed"
	default:
		p.VerdictMark, p.VerdictHead = "–", "No verdict"
	}

	sums := sortedSummaries(in.Summaries)
	byKey := map[[2]string]analysis.Summary{}
	totalCost, costKnown := 0.0, len(sums) > 0
	for _, s := range sums {
		byKey[[2]string{s.Suite, s.Target}] = s
		totalCost += s.CostUSD
		costKnown = costKnown && s.CostKnown
	}

	// KPIs.
	cost := dash
	if totalCost > 0 {
		cost = fmtUSD(totalCost)
		if !costKnown {
			cost = "≥" + cost
		}
	}
	p.KPIs = []htmlKPI{
		{"Cases", fmtInt(sp.nCases), fmtInt(len(sp.suites)) + plural(len(sp.suites), " suite", " suites")},
		{"Targets", fmtInt(len(sp.targets)), ""},
		{"Results", fmtInt(sp.nResults), fmtInt(sp.errors) + plural(sp.errors, " error", " errors")},
		{"Thresholds", fmtInt(len(in.Outcomes)), fmtInt(failedOutcomes(in)) + " crossed"},
		{"Cost", cost, "all targets"},
	}
	if m := in.Meta; !m.Started.IsZero() && m.Finished.After(m.Started) {
		p.KPIs = append(p.KPIs, htmlKPI{"Duration", fmtWall(m.Finished.Sub(m.Started)), "wall clock"})
	}

	// Thresholds, crossed first.
	for _, pass := range []bool{false, true} {
		for _, o := range in.Outcomes {
			if o.Pass != pass {
				continue
			}
			obs := o.Display
			if obs == "" {
				obs = strconv.FormatFloat(o.Observed, 'g', 4, 64)
			}
			p.Thresholds = append(p.Thresholds, htmlOutcome{o.Pass, thresholdName(o), obs, strconv.Itoa(o.N), o.Source, o.Reason})
		}
	}

	// Matrix: suites × targets.
	targetOf := map[string]int{}
	for _, s := range sums {
		if _, ok := targetOf[s.Target]; !ok {
			targetOf[s.Target] = len(p.Matrix.Targets)
			p.Matrix.Targets = append(p.Matrix.Targets, htmlTarget{s.Target, tclass(sp, s.Target)})
		}
	}
	var suiteOrder []string
	for _, s := range sums {
		if len(suiteOrder) == 0 || suiteOrder[len(suiteOrder)-1] != s.Suite {
			suiteOrder = append(suiteOrder, s.Suite)
		}
	}
	for _, su := range suiteOrder {
		row := htmlMatrixRow{Suite: su, Cells: make([]htmlCell, len(p.Matrix.Targets))}
		for _, t := range p.Matrix.Targets {
			s, ok := byKey[[2]string{su, t.Name}]
			if !ok {
				continue
			}
			c := htmlCell{Has: true, N: "n=" + fmtInt(s.N), Score: "score " + fmtScore(s.Score, s.N), Err: ""}
			if s.Errors > 0 {
				c.Err = fmtErrors(s)
			}
			if s.N > 0 && !bad(s.PassRate.Value) {
				c.Rate = fmtPct(s.PassRate.Value)
				if !bad(s.PassRate.Low) && !bad(s.PassRate.High) {
					c.CI = "[" + fmtPct(s.PassRate.Low) + ", " + fmtPct(s.PassRate.High) + "]"
				}
				c.Heat = "h" + strconv.Itoa(int(math.Floor(math.Max(0, math.Min(1, s.PassRate.Value))*10)))
				c.Mini = template.HTML(miniInterval(s.PassRate))
			} else {
				c.Rate = dash
			}
			row.Cells[targetOf[t.Name]] = c
		}
		p.Matrix.Rows = append(p.Matrix.Rows, row)
	}

	// Detail table.
	for _, s := range sums {
		cells := append(qualityCells(s, styleBox)[2:], perfCells(s)...)
		p.Details = append(p.Details, htmlDetail{s.Suite, s.Target, tclass(sp, s.Target), cells})
	}

	// Charts.
	if len(sums) > 0 {
		multi := len(suiteOrder) > 1
		var rate, score, lat []chartRow
		for _, s := range sums {
			base := chartRow{suite: s.Suite, target: s.Target, colour: colour(sp.targetIdx[s.Target]), n: s.N}
			r := base
			r.iv, r.text = s.PassRate, fmtRate(s.PassRate, s.N)
			rate = append(rate, r)
			sc := base
			sc.iv, sc.text = s.Score, fmtScore(s.Score, s.N)
			score = append(score, sc)
			l := base
			l.hist, l.lat = sp.hist[[2]string{s.Suite, s.Target}], s.Latency
			lat = append(lat, l)
		}
		p.Charts = []htmlChart{
			{"Pass rate", "Dots are pass rates; whiskers are Wilson 95% intervals.", template.HTML(intervalChart("Pass rate with 95% interval", rate, multi, true))},
			{"Mean score", "Dots are mean scores; whiskers are bootstrap 95% intervals.", template.HTML(intervalChart("Mean score with 95% interval", score, multi, false))},
			{"Latency distribution", "Histogram of successful results per target on a log scale, with p50, p95 and p99.", template.HTML(latencyChart(lat, multi))},
			{"Cost against quality", "Cost per result against pass rate; up and to the left is better.", template.HTML(costQualityChart(rate, byKey))},
		}
	}

	// Comparisons with a forest-plot bar on a shared scale per metric.
	scale := map[string]float64{}
	for _, r := range in.Comparisons {
		for _, v := range []float64{r.Delta.Low, r.Delta.High, r.Delta.Value} {
			if !bad(v) {
				scale[r.Metric] = math.Max(scale[r.Metric], math.Abs(v))
			}
		}
	}
	for _, r := range in.Comparisons {
		ch := change(r)
		cls, col := "chg-same", "#94a3b8"
		switch ch {
		case "worse":
			cls, col = "chg-worse", "#b91c1c"
		case "better":
			cls, col = "chg-better", "#15803d"
		}
		p.Comparisons = append(p.Comparisons, htmlComparison{
			Suite: r.Suite, Metric: metricName(r.Metric), A: r.A, B: r.B,
			ValA: fmtMetricValue(r.Metric, r.ValueA, r.IntervalA), ValB: fmtMetricValue(r.Metric, r.ValueB, r.IntervalB),
			Delta: fmtDelta(r), P: fmtP(r.P), PAdj: fmtP(r.PAdjusted), N: fmtInt(r.N), Change: ch, ChangeClass: cls,
			Bar: template.HTML(deltaBar(r.Delta, scale[r.Metric]*1.1, col)),
		})
	}
	if len(in.Comparisons) > 0 {
		p.CmpNote = comparisonFootnote(in.Comparisons, false)
	}
	p.Warnings = in.Warnings
	p.Dead = in.TargetFailures
	if t := rankingTable(in, stylePlain); t != nil {
		p.Ranking = t.rows
	}
	if t := costTable(in, styleBox); t != nil {
		p.CostHeader = t.header
		p.CostRows = t.rows
	}

	for i, c := range in.Regressions {
		if i == htmlListCap {
			p.MoreRegr = len(in.Regressions) - i
			break
		}
		p.Regressions = append(p.Regressions, htmlRegression{
			c.Suite, c.CaseID, c.Target, fmtChange(c), excerpt(c.Reason, 200), excerpt(c.Output, 200),
		})
	}
	fl := flaky(in)
	for i, f := range fl {
		if i == htmlListCap {
			p.MoreFlaky = len(fl) - i
			break
		}
		p.Flaky = append(p.Flaky, htmlFlaky{f.Suite, f.CaseID, f.Target, fmtFlakyRuns(f)})
	}
	return p
}

func tclass(sp *spool, target string) string {
	return "dot tc" + strconv.Itoa(sp.targetIdx[target]%10)
}

func fmtInt(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// pageHTML is the report skeleton. html/template escapes every value for its
// context; the CSS, JS and SVG inserted verbatim are the package's own or
// built here with every piece of run data escaped (see html_svg.go).
const pageHTML = `{{define "top"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="yardstick">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<header class="top"><div class="wrap">
<div class="brand"><span class="logo"></span>Yardstick</div>
<h1>{{.Title}}</h1>
{{if .Meta}}<div class="meta">{{range .Meta}}<span>{{.}}</span>{{end}}</div>{{end}}
</div></header>
<main class="wrap">
<section class="verdict v-{{.Verdict}}" id="verdict"><span class="vmark" aria-hidden="true">{{.VerdictMark}}</span><div><b>{{.VerdictHead}}</b> — {{.VerdictLine}}</div></section>
<section class="kpis">{{range .KPIs}}<div class="kpi"><div class="k">{{.Label}}</div><div class="v">{{.Value}}</div><div class="s">{{.Sub}}</div></div>{{end}}</section>
{{if .Dead}}<section class="card" id="dead"><h2>Targets that did not run</h2><ul class="warnings">{{range .Dead}}<li><b>{{.Target}}</b>: {{.Cause}}</li>{{end}}</ul></section>{{end}}
{{if .Thresholds}}<section class="card" id="thresholds"><h2>Thresholds</h2><div class="scroll"><table>
<thead><tr><th></th><th>Threshold</th><th class="num">Observed</th><th class="num">n</th><th>Source</th><th>Note</th></tr></thead><tbody>
{{range .Thresholds}}<tr><td>{{if .Pass}}<span class="pill p-pass">✓ PASS</span>{{else}}<span class="pill p-fail">✗ FAIL</span>{{end}}</td><td class="wrap-any"><code>{{.Threshold}}</code></td><td class="num wrap-any">{{.Observed}}</td><td class="num">{{.N}}</td><td class="mono wrap-any">{{.Source}}</td><td class="wrap-any note">{{.Reason}}</td></tr>
{{end}}</tbody></table></div></section>{{end}}
{{if .Matrix.Rows}}<section class="card" id="summary"><h2>Summary <small>pass rate with Wilson 95% interval, mean score with bootstrap 95% interval</small></h2><div class="scroll"><table class="matrix">
<thead><tr><th>Suite</th>{{range .Matrix.Targets}}<th class="t"><span class="{{.Class}}"></span>{{.Name}}</th>{{end}}</tr></thead><tbody>
{{range .Matrix.Rows}}<tr><td><b>{{.Suite}}</b></td>{{range .Cells}}{{if .Has}}<td class="cell {{.Heat}}"><div class="rate">{{.Rate}}</div><div class="ci">{{.CI}}</div>{{.Mini}}<div class="sub">{{.Score}} · {{.N}}</div>{{if .Err}}<div class="sub">errors {{.Err}}</div>{{end}}</td>{{else}}<td class="cell"><span class="sub">not run</span></td>{{end}}{{end}}</tr>
{{end}}</tbody></table></div>
<details><summary>Latency, tokens and cost by suite × target</summary><div class="scroll"><table>
<thead><tr><th>Suite</th><th>Target</th><th class="num">n</th><th class="num">Pass rate [95% CI]</th><th class="num">Score [95% CI]</th><th>Errors</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th><th class="num">TTFT p50</th><th class="num">tok/s</th><th class="num">Tokens in/out</th><th class="num">Cost</th></tr></thead><tbody>
{{range .Details}}<tr><td>{{.Suite}}</td><td><span class="{{.Class}}"></span>{{.Target}}</td>{{range $i, $c := .Cells}}{{if eq $i 3}}<td>{{$c}}</td>{{else}}<td class="num">{{$c}}</td>{{end}}{{end}}</tr>
{{end}}</tbody></table></div></details>
</section>{{end}}
{{if .Charts}}<section class="charts" id="charts">{{range .Charts}}<div class="card"><h3>{{.Title}}</h3>{{.SVG}}<p class="note">{{.Note}}</p></div>{{end}}</section>{{end}}
{{if .Ranking}}<section class="card" id="ranking"><h2>Ranking <small>by pass rate; tied: not significantly different in the paired test</small></h2><div class="scroll"><table>
<thead><tr><th>Suite</th><th class="num">Rank</th><th>Target</th><th class="num">Pass rate [95% CI]</th><th class="num">Cases</th><th>Tied with</th><th class="num">Retries</th></tr></thead><tbody>
{{range .Ranking}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table></div></section>{{end}}
{{if .Comparisons}}<section class="card" id="comparisons"><h2>Comparisons <small>paired by case</small></h2><div class="scroll"><table>
<thead><tr><th>Suite</th><th>Metric</th><th class="num">Reference</th><th class="num">Candidate</th><th class="num">Δ [95% CI]</th><th></th><th class="num">p</th><th class="num">p (Holm)</th><th class="num">n</th><th></th></tr></thead><tbody>
{{range .Comparisons}}<tr><td>{{.Suite}}</td><td class="nowrap">{{.Metric}}</td><td class="num"><div class="arm">{{.A}}</div>{{.ValA}}</td><td class="num"><div class="arm">{{.B}}</div>{{.ValB}}</td><td class="num">{{.Delta}}</td><td>{{.Bar}}</td><td class="num">{{.P}}</td><td class="num">{{.PAdj}}</td><td class="num">{{.N}}</td><td class="{{.ChangeClass}}">{{.Change}}</td></tr>
{{end}}</tbody></table></div><p class="foot">{{.CmpNote}}</p>{{if .Warnings}}<ul class="warnings">{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>{{end}}</section>{{end}}
{{if .CostRows}}<section class="card" id="costs"><h2>Cost and latency <small>against the reference</small></h2><div class="scroll"><table>
<thead><tr>{{range $i, $h := .CostHeader}}<th{{if ge $i 2}} class="num"{{end}}>{{$h}}</th>{{end}}</tr></thead><tbody>
{{range .CostRows}}<tr>{{range $i, $c := .}}<td{{if ge $i 2}} class="num"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</tbody></table></div></section>{{end}}
{{if .Regressions}}<section class="card" id="regressions"><h2>Most regressed cases</h2><div class="scroll"><table>
<thead><tr><th>Suite</th><th>Case</th><th>Target</th><th>Baseline → now</th><th>Reason</th><th>Output (excerpt)</th></tr></thead><tbody>
{{range .Regressions}}<tr><td>{{.Suite}}</td><td><code>{{.CaseID}}</code></td><td>{{.Target}}</td><td class="mono">{{.Change}}</td><td class="wrap-any">{{.Reason}}</td><td class="wrap-any mono">{{.Output}}</td></tr>
{{end}}</tbody></table></div>{{if .MoreRegr}}<p class="foot">…and {{.MoreRegr}} more</p>{{end}}</section>{{end}}
{{if .Flaky}}<section class="card" id="flaky"><h2>Flaky cases <small>outcome flipped across repeats</small></h2><div class="scroll"><table>
<thead><tr><th>Suite</th><th>Case</th><th>Target</th><th>Repeats</th></tr></thead><tbody>
{{range .Flaky}}<tr><td>{{.Suite}}</td><td><code>{{.CaseID}}</code></td><td>{{.Target}}</td><td>{{.Runs}}</td></tr>
{{end}}</tbody></table></div>{{if .MoreFlaky}}<p class="foot">…and {{.MoreFlaky}} more</p>{{end}}</section>{{end}}
<section class="card" id="cases-card"><h2>Cases <small>prompt, expected answer and every target's output side by side</small></h2>
<div id="ys-cases"><noscript><p class="empty">The case browser needs JavaScript.</p></noscript></div>
</section>
</main>
{{end}}{{define "bottom"}}
<script>{{.JS}}</script>
</body>
</html>
{{end}}`
