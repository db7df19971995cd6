// Package baseline reads and writes baseline files: the per-case outcomes of
// one target's run, small and diff-friendly, meant to be committed next to the
// suite and used by later runs as the reference for delta thresholds
// (analysis/gate's Evaluator.AddBaseline) and paired comparisons (analysis/compare).
//
// # Format (version 1)
//
// A baseline is a UTF-8 text file with tab-separated fields: a header of
// "key<TAB>value" lines, then one block per suite — its own key lines, a
// column line, and one line per case sorted by case ID (byte order) — blocks
// separated by a blank line. Lines starting with '#' outside a case table are
// comments.
//
//	# Yardstick baseline: per-case outcomes of one target. …
//	yardstick_baseline	1
//	target	openai:gpt-4o-mini
//	model	gpt-4o-mini
//	resolved_model	gpt-4o-mini-2024-07-18
//	created	2025-06-01T12:00:00Z
//	yardstick	v0.4.0
//	cases	3
//	pass_rate	0.6667
//
//	suite	customer-support
//	suite_version	1.2
//	suite_hash	9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//	settings	{"model":"gpt-4o-mini","max_tokens":512,"temperature":0}
//	cases	3
//	pass_rate	0.6667
//	case_id	outcome	score	repeats	prompt_hash
//	c001	pass	1.0000	1	3f2a9c1b7d4e
//	c002	error	0.0000	1	8a1b2c3d4e5f
//	c003	2/3	0.6667	3	0c1d2e3f4a5b
//
// Header keys: yardstick_baseline (the format version; first), target,
// model (requested), resolved_model (what the provider reported; several
// joined by ","), created (RFC 3339), yardstick (the version that wrote it),
// cases and pass_rate (totals over every suite). Suite keys: suite (starts the
// block), suite_version, suite_hash (hex SHA-256 of the suite file and its
// dataset, from the run manifest), settings (the request parameters sent, as
// compact JSON; a JSON array when they varied), cases, pass_rate. Every key is
// written, with an empty value when unknown.
//
// Case columns: case_id; outcome — "pass" (every repeat passed), "fail"
// (none passed, no error), "error" (every repeat failed to run), otherwise
// "P/N" passes of repeats with " (E errors)" appended when some repeats
// errored; score — the mean score over repeats with an errored repeat
// counting 0, fixed 4 decimals; repeats; prompt_hash — the first 12 hex digits
// of the prompt hash, "-" when unknown. pass_rate is passes over results (as
// analysis.Summary's), 4 decimals. Values escape backslash, tab, newline and
// carriage return as \\, \t, \n and \r.
//
// Why this shape: a PR that changes model quality changes exactly the lines of
// the cases that flipped, plus the totals, and a reviewer reads them without
// tooling; one line per case with fixed precision never reflows; tabs keep
// columns apart without padding that would change when a longer ID appears;
// key lines (not one JSON header object) make a model or settings change a
// one-line diff. JSONL would repeat every key on every line, and YAML sequences
// of mappings take five lines per case.
//
// # One file per target
//
// A baseline describes one target (its model and settings are in the header),
// with any number of suites. Build splits a multi-target run into one Baseline
// per target, and FileName names each file; Save refuses results of several
// targets. Per-target files are what gets re-blessed independently (a model
// upgrade changes one file), and analysis/gate pairs a single-target baseline
// with a candidate target of any name, so a renamed or upgraded target still
// gates against it.
//
// # Reading
//
// Load validates strictly: unknown or repeated keys, unsorted or repeated case
// IDs, malformed values, and totals that disagree with the cases are errors
// naming file:line and the field (*ParseError). Baseline.Results yields the
// file back as minimal results so that it streams into the same consumers as
// results.jsonl.
//
// What it does not do: it does not compare (analysis/compare) or judge
// thresholds (analysis/gate), keep outputs, latencies or costs, or keep
// individual repeat scores (only their mean).
package baseline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

// FormatVersion is the format written by Write and the only one Load reads.
const FormatVersion = 1

// Ext is the file extension FileName uses.
const Ext = ".baseline"

// ShortHashLen is the number of hex digits of a prompt hash a baseline keeps.
const ShortHashLen = 12

// Baseline is one target's per-case outcomes.
type Baseline struct {
	Format        int
	Target        string
	Model         string // requested model
	ResolvedModel string // reported by the provider; several joined by ","
	Created       time.Time
	Yardstick     string  // version that wrote the file
	Suites        []Suite // sorted by name
}

// Suite is one suite's block of a baseline.
type Suite struct {
	Name     string
	Version  string
	Hash     string
	Settings string // compact JSON of the request parameters sent; "" when unknown
	Cases    []Case // sorted by ID, unique
}

// Case is one case's outcome over its repeats.
type Case struct {
	ID         string
	Repeats    int     // results
	Passed     int     // results that passed
	Errors     int     // results that failed to run
	Score      float64 // mean over repeats, errored repeats counting 0
	PromptHash string  // first ShortHashLen hex digits; "" when unknown
}

// Counts returns the cases and results of every suite and the results that
// passed.
func (b *Baseline) Counts() (cases, results, passed int) {
	for _, s := range b.Suites {
		c, r, p := s.Counts()
		cases, results, passed = cases+c, results+r, passed+p
	}
	return cases, results, passed
}

// Counts returns the suite's cases, results and passing results.
func (s *Suite) Counts() (cases, results, passed int) {
	for _, c := range s.Cases {
		results += c.Repeats
		passed += c.Passed
	}
	return len(s.Cases), results, passed
}

func passRate(results, passed int) float64 {
	if results == 0 {
		return 0
	}
	return float64(passed) / float64(results)
}

// Meta is what a baseline records besides the results: the run's manifest
// facts. Every field is optional.
type Meta struct {
	Created   time.Time
	Yardstick string             // version of the writer, e.g. bench.Version()
	Suites    []bench.SuiteInfo  // the manifest's suites: hash (and version) by name
	Requests  []bench.SentParams // the manifest's requests: settings by target and suite
}

// MetaFromManifest takes a run manifest's suites and requests, with the given
// creation time and writer version.
func MetaFromManifest(m *bench.Manifest, created time.Time, yardstick string) Meta {
	return Meta{Created: created, Yardstick: yardstick, Suites: m.Suites, Requests: m.Requests}
}

// FileName is a file name for target's baseline: the target with every
// character other than ASCII letters, digits, '.', '_' and '-' replaced by
// '-', plus Ext ("openai:gpt-4o-mini" → "openai-gpt-4o-mini.baseline").
func FileName(target string) string {
	var b strings.Builder
	for _, r := range target {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" {
		s = "target"
	}
	return s + Ext
}

// Save writes the baseline of results, which must all be of one target, to w.
// It reads results once, keeping one small tally per case; a *bench.LineError
// wrapping bench.ErrTruncated (a torn last line) is skipped, any other error
// is returned. Results of several targets are an error: use Build and write
// one file per target.
func Save(w io.Writer, results iter.Seq2[*bench.Result, error], meta Meta) error {
	bs, err := Build(results, meta)
	if err != nil {
		return err
	}
	switch len(bs) {
	case 0:
		return errors.New("baseline: no results")
	case 1:
		return bs[0].Write(w)
	}
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = b.Target
	}
	return fmt.Errorf("baseline: results hold %d targets (%s): a baseline describes one target; write one file per target",
		len(bs), strings.Join(names, ", "))
}

type buildKey struct{ target, suite, id string }

type tally struct {
	repeats, passed, errors int
	scoreSum                float64
	prompt                  string
	seen                    map[int]struct{}
}

type targetInfo struct {
	models, resolved []string
	versions         map[string][]string // by suite
}

// Build reads results once and returns one Baseline per target, sorted by
// target. A result repeated for the same (suite, case, target, repeat), a
// case whose repeats carry different prompt hashes and a suite seen with
// several versions are errors: such a run is not a trustworthy baseline.
func Build(results iter.Seq2[*bench.Result, error], meta Meta) ([]*Baseline, error) {
	tallies := make(map[buildKey]*tally)
	targets := make(map[string]*targetInfo)
	for r, err := range results {
		if err != nil {
			if errors.Is(err, bench.ErrTruncated) {
				continue
			}
			return nil, err
		}
		ti := targets[r.Target]
		if ti == nil {
			ti = &targetInfo{versions: make(map[string][]string)}
			targets[r.Target] = ti
		}
		addDistinct(&ti.models, r.Model)
		addDistinct(&ti.resolved, r.ResolvedModel)
		vs := ti.versions[r.Suite]
		addDistinct(&vs, r.SuiteVersion)
		ti.versions[r.Suite] = vs
		if len(vs) > 1 {
			return nil, fmt.Errorf("baseline: suite %s has several versions in the results (%s)", r.Suite, strings.Join(vs, ", "))
		}
		k := buildKey{r.Target, r.Suite, r.CaseID}
		t := tallies[k]
		if t == nil {
			t = &tally{seen: make(map[int]struct{}, 1)}
			tallies[k] = t
		}
		if _, dup := t.seen[r.Repeat]; dup {
			return nil, fmt.Errorf("baseline: duplicate result for suite %s, case %s, target %s, repeat %d", r.Suite, r.CaseID, r.Target, r.Repeat)
		}
		t.seen[r.Repeat] = struct{}{}
		p := r.PromptHash
		if len(p) > ShortHashLen {
			p = p[:ShortHashLen]
		}
		p = strings.ToLower(p)
		if t.repeats == 0 {
			t.prompt = p
		} else if p != t.prompt {
			return nil, fmt.Errorf("baseline: suite %s, case %s, target %s: prompt hash differs across repeats", r.Suite, r.CaseID, r.Target)
		}
		t.repeats++
		switch {
		case r.Error != nil:
			t.errors++
		case r.Pass:
			t.passed++
			t.scoreSum += r.Score
		default:
			t.scoreSum += r.Score
		}
	}

	byTarget := make(map[string]map[string][]Case)
	for k, t := range tallies {
		m := byTarget[k.target]
		if m == nil {
			m = make(map[string][]Case)
			byTarget[k.target] = m
		}
		m[k.suite] = append(m[k.suite], Case{
			ID: k.id, Repeats: t.repeats, Passed: t.passed, Errors: t.errors,
			Score: t.scoreSum / float64(t.repeats), PromptHash: t.prompt,
		})
	}
	var out []*Baseline
	for target, suites := range byTarget {
		ti := targets[target]
		b := &Baseline{
			Format: FormatVersion, Target: target,
			Model: joinDistinct(ti.models), ResolvedModel: joinDistinct(ti.resolved),
			Created: meta.Created, Yardstick: meta.Yardstick,
		}
		for name, cases := range suites {
			slices.SortFunc(cases, func(x, y Case) int { return strings.Compare(x.ID, y.ID) })
			s := Suite{Name: name, Cases: cases}
			if vs := ti.versions[name]; len(vs) > 0 {
				s.Version = vs[0]
			}
			for _, si := range meta.Suites {
				if si.Name == name {
					s.Hash = si.Hash
					if s.Version == "" {
						s.Version = si.Version
					}
				}
			}
			s.Settings = settingsOf(meta.Requests, target, name)
			b.Suites = append(b.Suites, s)
		}
		slices.SortFunc(b.Suites, func(x, y Suite) int { return strings.Compare(x.Name, y.Name) })
		out = append(out, b)
	}
	slices.SortFunc(out, func(x, y *Baseline) int { return strings.Compare(x.Target, y.Target) })
	return out, nil
}

func addDistinct(list *[]string, v string) {
	if v != "" && !slices.Contains(*list, v) {
		*list = append(*list, v)
	}
}

func joinDistinct(list []string) string {
	s := slices.Clone(list)
	slices.Sort(s)
	return strings.Join(s, ",")
}

// settingsOf is the compact JSON of the parameters sent to target for suite:
// one object, or an array (sorted by its JSON) when several were sent.
func settingsOf(reqs []bench.SentParams, target, suite string) string {
	var all []string
	for _, r := range reqs {
		if r.Target != target || r.Suite != suite {
			continue
		}
		data, err := json.Marshal(r.Params)
		if err != nil {
			continue // RequestParams always marshals
		}
		addDistinct(&all, string(data))
	}
	switch len(all) {
	case 0:
		return ""
	case 1:
		return all[0]
	}
	slices.Sort(all)
	return "[" + strings.Join(all, ",") + "]"
}

// Results yields the baseline as minimal results, suites in file order and
// cases sorted, one record per repeat: Suite, SuiteVersion, CaseID, Target,
// Model, ResolvedModel, Repeat, PromptHash (short), Pass, Score and, for
// errored repeats, Error (Kind providers.KindUnknown). Per case, the first
// Passed repeats pass, then the failures, then the errors; every repeat
// without an error carries the score that makes the mean over repeats (errors
// counting 0) equal the file's score, so pass counts, error counts and mean
// scores are exactly the file's, while individual repeat scores are not kept.
// It never yields an error (Load already validated the file).
func (b *Baseline) Results() iter.Seq2[*bench.Result, error] {
	return func(yield func(*bench.Result, error) bool) {
		for _, s := range b.Suites {
			for _, c := range s.Cases {
				per := 0.0
				if ok := c.Repeats - c.Errors; ok > 0 {
					per = min(1, c.Score*float64(c.Repeats)/float64(ok))
				}
				for i := range c.Repeats {
					r := &bench.Result{
						Suite: s.Name, SuiteVersion: s.Version, CaseID: c.ID, Target: b.Target,
						Model: b.Model, ResolvedModel: b.ResolvedModel, Repeat: i, PromptHash: c.PromptHash,
					}
					switch {
					case i < c.Passed:
						r.Pass, r.Score = true, per
					case i < c.Repeats-c.Errors:
						r.Score = per
					default:
						r.Error = &bench.ErrorInfo{Kind: providers.KindUnknown, Message: "errored in the baseline"}
					}
					if !yield(r, nil) {
						return
					}
				}
			}
		}
	}
}

// Load reads the baseline file at path.
func Load(path string) (*Baseline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Write writes b in the format described in the package doc. The output
// depends only on b: suites and cases are written in b's order, which Build
// and Load keep sorted.
func (b *Baseline) Write(w io.Writer) error {
	var sb strings.Builder
	kv := func(k, v string) { sb.WriteString(k + "\t" + escape(v) + "\n") }
	cases, results, passed := b.Counts()
	sb.WriteString(headerComment)
	kv(keyFormat, fmt.Sprint(FormatVersion))
	kv(keyTarget, b.Target)
	kv(keyModel, b.Model)
	kv(keyResolved, b.ResolvedModel)
	created := ""
	if !b.Created.IsZero() {
		created = b.Created.UTC().Format(time.RFC3339)
	}
	kv(keyCreated, created)
	kv(keyYardstick, b.Yardstick)
	kv(keyCases, fmt.Sprint(cases))
	kv(keyPassRate, fmt.Sprintf("%.4f", passRate(results, passed)))
	for _, s := range b.Suites {
		sb.WriteString("\n")
		kv(keySuite, s.Name)
		kv(keySuiteVersion, s.Version)
		kv(keySuiteHash, s.Hash)
		kv(keySettings, s.Settings)
		c, r, p := s.Counts()
		kv(keyCases, fmt.Sprint(c))
		kv(keyPassRate, fmt.Sprintf("%.4f", passRate(r, p)))
		sb.WriteString(columnLine + "\n")
		for _, c := range s.Cases {
			h := c.PromptHash
			if h == "" {
				h = "-"
			}
			fmt.Fprintf(&sb, "%s\t%s\t%.4f\t%d\t%s\n", escape(c.ID), outcome(c), c.Score, c.Repeats, escape(h))
		}
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

const headerComment = "# Yardstick baseline: per-case outcomes of one target, one line per case.\n" +
	"# Written by `yardstick baseline save`; regenerate it rather than editing by hand.\n"

const columnLine = "case_id\toutcome\tscore\trepeats\tprompt_hash"

// Keys.
const (
	keyFormat       = "yardstick_baseline"
	keyTarget       = "target"
	keyModel        = "model"
	keyResolved     = "resolved_model"
	keyCreated      = "created"
	keyYardstick    = "yardstick"
	keyCases        = "cases"
	keyPassRate     = "pass_rate"
	keySuite        = "suite"
	keySuiteVersion = "suite_version"
	keySuiteHash    = "suite_hash"
	keySettings     = "settings"
)

// outcome formats a case's outcome column.
func outcome(c Case) string {
	switch {
	case c.Passed == c.Repeats:
		return "pass"
	case c.Errors == c.Repeats:
		return "error"
	case c.Passed == 0 && c.Errors == 0:
		return "fail"
	}
	s := fmt.Sprintf("%d/%d", c.Passed, c.Repeats)
	switch {
	case c.Errors == 1:
		s += " (1 error)"
	case c.Errors > 1:
		s += fmt.Sprintf(" (%d errors)", c.Errors)
	}
	return s
}

var escaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

func escape(s string) string { return escaper.Replace(s) }

// unescape reverses escape; a backslash before anything else is an error.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", errors.New(`dangling "\" at the end`)
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		default:
			return "", fmt.Errorf(`unknown escape "\%c"`, s[i])
		}
	}
	return b.String(), nil
}
