package reports

import (
	"bufio"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/internal/safetext"
)

// Limits on text carried into JUnit failure bodies, in characters.
const (
	junitMessageLen = 500
	junitBodyLen    = 4000
)

// JUnit writes JUnit XML for CI systems (GitHub, GitLab, Jenkins): one
// <testsuite> per suite × target holding one <testcase> per result
// (classname "suite.target", name "case_id", or "case_id#repeat" when the
// target was repeated), with a <failure> carrying the scorer's reason when the
// answer failed and an <error> typed with the error kind when the case could
// not run; then a "thresholds" testsuite with one <testcase> per threshold.
//
// The document follows the Apache Ant JUnit schema most CI systems read
// (testsuites > testsuite[package,id,name,timestamp,hostname,tests,failures,
// errors,skipped,time] > properties, testcase*, system-out, system-err):
// timestamps are UTC without a zone, times are decimal seconds.
//
// results is read once. Test cases are spooled to temporary files, one per
// suite × target, so memory stays bounded whatever the run's size; the
// files are removed before JUnit returns. The first error from results is
// returned and nothing more is written.
func JUnit(w io.Writer, in *Input, results iter.Seq2[*bench.Result, error]) error {
	dir, err := os.MkdirTemp("", "yardstick-junit-")
	if err != nil {
		return fmt.Errorf("reports: junit: %w", err)
	}
	defer os.RemoveAll(dir)

	repeated := map[[2]string]bool{}
	for _, s := range in.Summaries {
		if s.Repeats > 1 {
			repeated[[2]string{s.Suite, s.Target}] = true
		}
	}

	groups := map[[2]string]*junitGroup{}
	defer func() {
		for _, g := range groups {
			g.f.Close()
		}
	}()
	for r, err := range results {
		if err != nil {
			return fmt.Errorf("reports: junit: %w", err)
		}
		key := [2]string{r.Suite, r.Target}
		g := groups[key]
		if g == nil {
			f, err := os.CreateTemp(dir, "suite-*.xml")
			if err != nil {
				return fmt.Errorf("reports: junit: %w", err)
			}
			g = &junitGroup{suite: r.Suite, target: r.Target, model: r.Model, version: r.SuiteVersion, f: f, w: bufio.NewWriterSize(f, 64<<10)}
			groups[key] = g
		}
		g.add(r, repeated[key] || r.Repeat > 0)
		if g.err != nil {
			return fmt.Errorf("reports: junit: %w", g.err)
		}
	}

	keys := slices.SortedFunc(func(yield func([2]string) bool) {
		for k := range groups {
			if !yield(k) {
				return
			}
		}
	}, func(a, b [2]string) int { return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1])) })

	// No bidi control belongs anywhere in the document: model output with
	// one cannot reorder what a reader sees.
	bidi := safetext.NewBidiWriter(w)
	bw := bufio.NewWriterSize(bidi, 64<<10)
	bw.WriteString(xml.Header)
	bw.WriteString("<testsuites>\n")
	id := 0
	for _, k := range keys {
		g := groups[k]
		if err := g.w.Flush(); err != nil {
			return fmt.Errorf("reports: junit: %w", err)
		}
		name := g.suite + "." + g.target
		props := [][2]string{{"suite", g.suite}, {"target", g.target}, {"model", g.model}, {"suite_version", g.version}}
		writeSuiteOpen(bw, id, g.suite, name, g.start, g.tests, g.failures, g.errors, g.seconds, append(props, metaProps(in)...))
		if _, err := g.f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("reports: junit: %w", err)
		}
		if _, err := io.Copy(bw, g.f); err != nil {
			return fmt.Errorf("reports: junit: %w", err)
		}
		bw.WriteString("    <system-out></system-out>\n    <system-err></system-err>\n  </testsuite>\n")
		id++
	}
	if len(in.Outcomes) > 0 {
		writeThresholdSuite(bw, in, id)
	}
	bw.WriteString("</testsuites>\n")
	if err := bw.Flush(); err != nil {
		return err
	}
	return bidi.Flush()
}

// junitGroup accumulates one suite × target's counts and spools its test cases.
type junitGroup struct {
	suite, target, model, version string
	f                             *os.File
	w                             *bufio.Writer
	err                           error
	tests, failures, errors       int
	seconds                       float64
	start                         time.Time
}

func (g *junitGroup) add(r *bench.Result, withRepeat bool) {
	g.tests++
	sec := max(r.Latency.Seconds(), 0)
	g.seconds += sec
	if !r.Start.IsZero() && (g.start.IsZero() || r.Start.Before(g.start)) {
		g.start = r.Start
	}
	name := r.CaseID
	if withRepeat {
		name += "#" + strconv.Itoa(r.Repeat)
	}
	w := g.w
	w.WriteString(`    <testcase name="`)
	xmlEscape(w, name)
	w.WriteString(`" classname="`)
	xmlEscape(w, r.Suite+"."+r.Target)
	w.WriteString(`" time="`)
	w.WriteString(strconv.FormatFloat(sec, 'f', 3, 64))
	w.WriteString(`"`)
	switch {
	case r.Error != nil:
		g.errors++
		kind := string(r.Error.Kind)
		if kind == "" {
			kind = "unknown"
		}
		w.WriteString(">\n      <error type=\"")
		xmlEscape(w, kind)
		w.WriteString(`" message="`)
		xmlEscape(w, clip(oneLine(r.Error.Message), junitMessageLen))
		w.WriteString(`">`)
		xmlText(w, errorBody(r))
		w.WriteString("</error>\n    </testcase>\n")
	case !r.Pass:
		g.failures++
		w.WriteString(">\n      <failure type=\"")
		xmlEscape(w, failureType(r))
		w.WriteString(`" message="`)
		msg := r.Reason
		if msg == "" {
			msg = "score " + strconv.FormatFloat(r.Score, 'f', 3, 64) + " below the case's threshold"
		}
		xmlEscape(w, clip(oneLine(msg), junitMessageLen))
		w.WriteString(`">`)
		xmlText(w, failureBody(r))
		w.WriteString("</failure>\n    </testcase>\n")
	default:
		w.WriteString("></testcase>\n")
	}
	// bufio.Writer errors are sticky: an empty write reports the first one.
	_, g.err = w.WriteString("")
}

// failureType names the scorers that failed ("contains,regex"), or "score".
func failureType(r *bench.Result) string {
	var names []string
	for _, p := range r.Scores {
		if !p.Pass && p.Name != "" && !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return "score"
	}
	return strings.Join(names, ",")
}

// failureBody is the failure's text: score, reason, each scorer part, the
// expected answer and an excerpt of the output.
func failureBody(r *bench.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "score: %.3f\n", r.Score)
	if r.Reason != "" {
		fmt.Fprintf(&b, "reason: %s\n", clip(r.Reason, junitMessageLen))
	}
	for _, p := range r.Scores {
		verdict := "fail"
		if p.Pass {
			verdict = "pass"
		}
		fmt.Fprintf(&b, "scorer %s: %.3f %s", p.Name, p.Value, verdict)
		if p.Reason != "" {
			fmt.Fprintf(&b, ": %s", clip(p.Reason, junitMessageLen))
		}
		b.WriteByte('\n')
	}
	if r.Expected != "" {
		fmt.Fprintf(&b, "expected: %s\n", clip(r.Expected, junitBodyLen/4))
	}
	fmt.Fprintf(&b, "output: %s", clip(r.Output, junitBodyLen))
	return b.String()
}

// errorBody is the error's text: stage, status and message.
func errorBody(r *bench.Result) string {
	var b strings.Builder
	e := r.Error
	fmt.Fprintf(&b, "kind: %s\n", e.Kind)
	if e.Stage != "" {
		fmt.Fprintf(&b, "stage: %s\n", e.Stage)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "status: %d\n", e.StatusCode)
	}
	fmt.Fprintf(&b, "message: %s", clip(e.Message, junitBodyLen))
	return b.String()
}

// metaProps are the run's metadata as testsuite properties.
func metaProps(in *Input) [][2]string {
	var p [][2]string
	add := func(k, v string) {
		if v != "" {
			p = append(p, [2]string{k, v})
		}
	}
	add("run_id", in.Meta.RunID)
	add("git_sha", in.Meta.GitSHA)
	add("git_ref", in.Meta.GitRef)
	add("baseline", in.Meta.Baseline)
	add("yardstick_version", in.Meta.Version)
	return p
}

// junitTime formats a timestamp as the schema wants: UTC, no zone.
func junitTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05")
}

func writeSuiteOpen(w *bufio.Writer, id int, pkg, name string, start time.Time, tests, failures, errors int, seconds float64, props [][2]string) {
	if name == "" {
		name = "(unnamed)"
	}
	if pkg == "" {
		pkg = name
	}
	fmt.Fprintf(w, `  <testsuite id="%d" package="`, id)
	xmlEscape(w, pkg)
	w.WriteString(`" name="`)
	xmlEscape(w, name)
	fmt.Fprintf(w, `" timestamp="%s" hostname="localhost" tests="%d" failures="%d" errors="%d" skipped="0" time="%s">`+"\n",
		junitTime(start), tests, failures, errors, strconv.FormatFloat(seconds, 'f', 3, 64))
	w.WriteString("    <properties>\n")
	for _, kv := range props {
		if kv[1] == "" {
			continue
		}
		w.WriteString(`      <property name="`)
		xmlEscape(w, kv[0])
		w.WriteString(`" value="`)
		xmlEscape(w, kv[1])
		w.WriteString("\"></property>\n")
	}
	w.WriteString("    </properties>\n")
}

// writeThresholdSuite writes the "thresholds" testsuite: one test case per
// gate outcome, failed when the threshold was crossed.
func writeThresholdSuite(w *bufio.Writer, in *Input, id int) {
	ts := in.Meta.Finished
	if ts.IsZero() {
		ts = in.Meta.Started
	}
	failed := failedOutcomes(in)
	writeSuiteOpen(w, id, "thresholds", "thresholds", ts, len(in.Outcomes), failed, 0, 0, metaProps(in))
	count := map[string]int{}
	for _, o := range in.Outcomes {
		count[thresholdName(o)]++
	}
	for _, o := range in.Outcomes {
		name := thresholdName(o)
		if count[name] > 1 && o.Source != "" {
			name += " [" + o.Source + "]"
		}
		w.WriteString(`    <testcase name="`)
		xmlEscape(w, name)
		w.WriteString(`" classname="thresholds" time="0.000"`)
		if o.Pass {
			w.WriteString("></testcase>\n")
			continue
		}
		obs := o.Display
		if obs == "" {
			obs = strconv.FormatFloat(o.Observed, 'g', -1, 64)
		}
		msg := "observed " + obs + " (n=" + strconv.Itoa(o.N) + ")"
		if o.Reason != "" {
			msg += ": " + o.Reason
		}
		w.WriteString(">\n      <failure type=\"threshold\" message=\"")
		xmlEscape(w, clip(oneLine(msg), junitMessageLen))
		w.WriteString(`">`)
		body := "threshold: " + thresholdName(o) + "\n" + msg
		if o.Source != "" {
			body += "\nsource: " + o.Source
		}
		xmlText(w, body)
		w.WriteString("</failure>\n    </testcase>\n")
	}
	w.WriteString("    <system-out></system-out>\n    <system-err></system-err>\n  </testsuite>\n")
}

// xmlEscape writes s escaped for an XML attribute value: &, <, >, " and
// whitespace other than spaces as references, and characters XML 1.0 cannot
// carry (control characters, invalid UTF-8, U+FFFE, U+FFFF) as U+FFFD.
func xmlEscape(w *bufio.Writer, s string) { writeXML(w, s, true) }

// xmlText writes s escaped for XML character data: like xmlEscape but
// newlines and tabs stay as they are.
func xmlText(w *bufio.Writer, s string) { writeXML(w, s, false) }

func writeXML(w *bufio.Writer, s string, attr bool) {
	last := 0
	flush := func(i int, repl string) {
		w.WriteString(s[last:i])
		w.WriteString(repl)
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var repl string
		switch {
		case r == '&':
			repl = "&amp;"
		case r == '<':
			repl = "&lt;"
		case r == '>':
			repl = "&gt;"
		case r == '"' && attr:
			repl = "&quot;"
		case r == '\n' && attr:
			repl = "&#xA;"
		case r == '\t' && attr:
			repl = "&#x9;"
		case r == '\r':
			repl = "&#xD;"
		case r == '\n' || r == '\t':
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0xFFFE, r == 0xFFFF:
			repl = "\uFFFD"
		}
		if repl != "" {
			flush(i, repl)
			last = i + size
		}
		i += size
	}
	w.WriteString(s[last:])
}
