// Package merge joins the run directories of the shards of one run
// (`yardstick run --shard K/N`, package bench/shard) into one run directory:
// a results.jsonl with exactly one record per planned key, and a manifest
// that records where each record came from.
//
// It refuses shards of different runs (another suite, prompt, target list,
// repeat count or case list: the shards' plan hashes differ), a shard index
// given twice, and — unless Options.Partial — a missing shard or a present
// shard with gaps. Duplicates, records in the wrong shard, records of keys
// the plan does not have, records that answered another prompt and bad
// lines are always refused. Every problem is reported by key in an *Error;
// nothing is dropped silently.
//
// Merge streams: records are copied line by line, and only one shard's keys
// are held in memory at a time (plus nothing per record of other shards), so
// memory grows with the largest shard, not with the run. The plan file is
// re-read once per shard to find that shard's gaps.
//
// The package does not summarize, report or gate: the merged directory is an
// ordinary run directory for the same code `yardstick report` and
// `yardstick gate` use.
package merge

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/bench/shard"
)

// beforePublish, when set by a test, runs just before the merged results
// file is put in place.
var beforePublish func()

// Options configures Merge. The zero value refuses every problem.
type Options struct {
	// Partial merges despite missing shards and gaps in present shards
	// (a shard that was interrupted or failed): the merged run's status is
	// "partial" and Result.Missing lists what is missing. Duplicates,
	// mismatched shards and bad records are refused all the same.
	Partial bool
	// Args is the command line recorded in the merged manifest.
	Args []string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Kind classifies a Problem.
type Kind string

// Problem kinds.
const (
	KindDuplicate  Kind = "duplicate"   // a key has a second record
	KindGap        Kind = "gap"         // a planned key has no record in its shard
	KindMissing    Kind = "missing"     // a planned key's shard directory was not given
	KindWrongShard Kind = "wrong_shard" // a record whose key belongs to another shard
	KindUnplanned  Kind = "unplanned"   // a record whose key the plan does not have
	KindPrompt     Kind = "prompt"      // a record that answered another prompt than the plan's
	KindBadLine    Kind = "bad_line"    // a line that is not a result
)

// Problem is one thing wrong with the shards, by key.
type Problem struct {
	Kind   Kind
	Key    bench.Key
	Shard  int    // the key's shard (1-based)
	Dir    string // the shard directory the record is in; "" for gaps of a missing shard
	Line   int    // line in that directory's results file; 0 for gaps
	Detail string
}

func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", p.Kind, keyString(p.Key))
	if p.Dir != "" {
		fmt.Fprintf(&b, " in %s", p.Dir)
		if p.Line > 0 {
			fmt.Fprintf(&b, " (%s:%d)", shardResults(p.Dir), p.Line)
		}
	}
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	return b.String()
}

func shardResults(dir string) string { return filepath.Join(dir, "results.jsonl") }

// maxListed bounds the problems kept per kind; the rest are counted.
const maxListed = 1000

// Error is a merge that was refused. Either Mismatch is set (the
// directories are not the shards of one run) or Problems lists what is
// wrong by key (at most 1000 per kind; Counts has the totals).
type Error struct {
	Mismatch    string
	Missing     []int       // shard indexes not given, ascending
	MissingKeys map[int]int // planned keys per missing shard
	Count       int         // shards in the run
	Problems    []Problem
	Counts      map[Kind]int
}

func (e *Error) Error() string {
	if e.Mismatch != "" {
		return "merge refused: " + e.Mismatch
	}
	var b strings.Builder
	b.WriteString("merge refused:")
	for _, m := range e.Missing {
		fmt.Fprintf(&b, " shard %d/%d is missing (%d keys: %s);", m, e.Count, e.MissingKeys[m], e.sample(KindMissing, m))
	}
	kinds := []Kind{KindDuplicate, KindGap, KindWrongShard, KindUnplanned, KindPrompt, KindBadLine}
	for _, k := range kinds {
		if n := e.Counts[k]; n > 0 {
			fmt.Fprintf(&b, " %d %s;", n, plural(k, n))
		}
	}
	s := strings.TrimSuffix(b.String(), ";")
	listed := 0
	for _, p := range e.Problems {
		if p.Kind == KindMissing {
			continue
		}
		if listed == 20 {
			s += "\n  …"
			break
		}
		s += "\n  " + p.String()
		listed++
	}
	return s
}

var labels = map[Kind][2]string{
	KindDuplicate:  {"duplicate key", "duplicate keys"},
	KindGap:        {"gap", "gaps"},
	KindWrongShard: {"record in the wrong shard", "records in the wrong shard"},
	KindUnplanned:  {"record not in the plan", "records not in the plan"},
	KindPrompt:     {"record with another prompt", "records with another prompt"},
	KindBadLine:    {"bad line", "bad lines"},
}

func plural(k Kind, n int) string {
	if n == 1 {
		return labels[k][0]
	}
	return labels[k][1]
}

func (e *Error) sample(k Kind, shardIdx int) string {
	var keys []string
	for _, p := range e.Problems {
		if p.Kind == k && p.Shard == shardIdx {
			if len(keys) == 5 {
				keys = append(keys, "…")
				break
			}
			keys = append(keys, keyString(p.Key))
		}
	}
	return strings.Join(keys, ", ")
}

// Result describes a merge that was written.
type Result struct {
	Records  int
	Manifest *bench.Manifest
	// Missing lists the planned keys without a record (Options.Partial
	// only), capped like Error.Problems; MissingCount is their number.
	Missing      []Problem
	MissingCount int
}

// Shard is one shard directory with its manifest.
type Shard struct {
	Dir      string
	Manifest *bench.Manifest
}

// Open reads the manifests of dirs and checks that they are shards of one
// run: same shard count, scheme and plan, each index at most once. A
// refusal is an *Error with Mismatch set; an unreadable manifest is another
// error naming the directory.
func Open(dirs []string) ([]Shard, error) {
	if len(dirs) == 0 {
		return nil, errors.New("merge: no shard directories")
	}
	out := make([]Shard, 0, len(dirs))
	for _, d := range dirs {
		m, err := bench.ReadManifest(filepath.Join(d, bench.ManifestName))
		if err != nil {
			return nil, fmt.Errorf("%s: not a run directory: %w", d, err)
		}
		if m.Shard == nil {
			return nil, &Error{Mismatch: fmt.Sprintf("%s is not a shard: its manifest has no shard section (run it with --shard K/N)", d)}
		}
		out = append(out, Shard{Dir: d, Manifest: m})
	}
	first := out[0]
	byIndex := map[int]string{}
	for _, s := range out {
		si, fi := s.Manifest.Shard, first.Manifest.Shard
		if prev, ok := byIndex[si.Index]; ok {
			return nil, &Error{Mismatch: fmt.Sprintf("shard %d/%d given twice: %s and %s", si.Index, si.Count, prev, s.Dir)}
		}
		byIndex[si.Index] = s.Dir
		switch {
		case si.Scheme != fi.Scheme:
			return nil, &Error{Mismatch: fmt.Sprintf("%s assigns keys with %s, %s with %s", s.Dir, si.Scheme, first.Dir, fi.Scheme)}
		case si.Count != fi.Count:
			return nil, &Error{Mismatch: fmt.Sprintf("%s is shard %d/%d, %s is shard %d/%d: different shard counts", s.Dir, si.Index, si.Count, first.Dir, fi.Index, fi.Count)}
		case si.Plan != fi.Plan:
			return nil, &Error{Mismatch: fmt.Sprintf("%s and %s are not shards of the same run: %s", first.Dir, s.Dir, planDiff(first.Manifest, s.Manifest))}
		}
		if si.Index < 1 || si.Index > si.Count {
			return nil, &Error{Mismatch: fmt.Sprintf("%s: shard index %d outside 1..%d", s.Dir, si.Index, si.Count)}
		}
	}
	if first.Manifest.Shard.Scheme != shard.Scheme {
		return nil, &Error{Mismatch: fmt.Sprintf("%s assigns keys with %s; this yardstick knows %s", first.Dir, first.Manifest.Shard.Scheme, shard.Scheme)}
	}
	slices.SortFunc(out, func(a, b Shard) int { return cmp.Compare(a.Manifest.Shard.Index, b.Manifest.Shard.Index) })
	return out, nil
}

// planDiff explains why two shards' plans differ.
func planDiff(a, b *bench.Manifest) string {
	sa, sb := suitesString(a.Suites), suitesString(b.Suites)
	if sa != sb {
		return fmt.Sprintf("different suites (%s vs %s)", sa, sb)
	}
	ta, tb := targetsString(a.Targets), targetsString(b.Targets)
	if ta != tb {
		return fmt.Sprintf("different targets or settings (%s vs %s)", ta, tb)
	}
	if a.Repeats != b.Repeats {
		return fmt.Sprintf("different --repeat (%d vs %d)", a.Repeats, b.Repeats)
	}
	return "different case lists or prompts (--split, --limit or the dataset differ)"
}

func suitesString(ss []bench.SuiteInfo) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		h := s.Hash
		if len(h) > 12 {
			h = h[:12]
		}
		parts[i] = fmt.Sprintf("%s@%s hash %s", s.Name, s.Version, h)
	}
	return strings.Join(parts, ", ")
}

func targetsString(ts []bench.TargetInfo) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.Name + " model " + t.Model
		if t.Stream {
			parts[i] += " streamed"
		}
		if t.Price != nil {
			parts[i] += fmt.Sprintf(" price %g/%g", t.Price.InputPerM, t.Price.OutputPerM)
		}
	}
	return strings.Join(parts, ", ")
}

// collector gathers problems, capped per kind.
type collector struct {
	problems []Problem
	counts   map[Kind]int
	missing  map[int]int // KindMissing per shard
}

func (c *collector) add(p Problem) {
	if c.counts == nil {
		c.counts = map[Kind]int{}
	}
	c.counts[p.Kind]++
	if p.Kind == KindMissing {
		if c.missing == nil {
			c.missing = map[int]int{}
		}
		c.missing[p.Shard]++
		if c.missing[p.Shard] > maxListed {
			return
		}
	} else if c.counts[p.Kind] > maxListed {
		return
	}
	c.problems = append(c.problems, p)
}

func (c *collector) refusing(partial bool) bool {
	for k, n := range c.counts {
		if n == 0 {
			continue
		}
		if partial && (k == KindGap || k == KindMissing) {
			continue
		}
		return true
	}
	return false
}

// record is the part of a results line merge reads.
type record struct {
	Suite      string          `json:"suite"`
	CaseID     string          `json:"case_id"`
	Target     string          `json:"target"`
	Repeat     int             `json:"repeat"`
	PromptHash string          `json:"prompt_hash"`
	Error      json.RawMessage `json:"error"`
	Cached     bool            `json:"cached"`
	CostUSD    *float64        `json:"cost_usd"`
}

type seen struct {
	line       int
	promptHash string
	failed     bool // the record is an error: a later record is its retry (run --retry-errors)
}

// Merge joins shards (from Open) into the run directory out: it writes
// out/results.jsonl and out/manifest.json. Out must not hold a results file
// yet. On refusal nothing is left in out but the directory and the error
// is an *Error listing every problem by key.
func Merge(ctx context.Context, shards []Shard, out string, opts Options) (*Result, error) {
	if len(shards) == 0 {
		return nil, errors.New("merge: no shards")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	first := shards[0].Manifest
	count := first.Shard.Count
	set := shard.SettingsOf(first)
	targets, repeats := set.TargetNames(), set.Repeats

	planPath := filepath.Join(shards[0].Dir, cmp.Or(first.Shard.Cases, shard.PlanName))
	if err := checkPlan(planPath, set, first.Shard.Plan); err != nil {
		return nil, err
	}

	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	resultsPath := filepath.Join(out, "results.jsonl")
	if _, err := os.Stat(resultsPath); err == nil {
		return nil, fmt.Errorf("%s already exists: choose another --out", resultsPath)
	}
	tmp, err := os.CreateTemp(out, ".results.jsonl.merging*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	bw := bufio.NewWriterSize(tmp, 1<<20)

	var probs collector
	m := bench.NewManifest(opts.Args, start)
	m.Suites, m.Targets, m.Repeats, m.Concurrency = first.Suites, first.Targets, first.Repeats, first.Concurrency
	present := map[int]bool{}
	var requests []bench.SentParams
	for _, s := range shards {
		if err := ctx.Err(); err != nil {
			tmp.Close()
			return nil, err
		}
		idx := s.Manifest.Shard.Index
		present[idx] = true
		n, tot, err := copyShard(ctx, s, count, bw, planPath, targets, repeats, &probs)
		if err != nil {
			tmp.Close()
			return nil, err
		}
		m.Merged = append(m.Merged, bench.MergedShard{Index: idx, Dir: s.Dir, Status: s.Manifest.Status, Start: s.Manifest.Start, End: s.Manifest.End, Results: n})
		m.Totals.Results += tot.Results
		m.Totals.Errors += tot.Errors
		m.Totals.Cached += tot.Cached
		m.Totals.SpentUSD += tot.SpentUSD
		requests = addRequests(requests, s.Manifest.Requests)
		if s.Manifest.Start.Before(m.Start) {
			m.Start = s.Manifest.Start
		}
	}
	var missing []int
	for i := 1; i <= count; i++ {
		if !present[i] {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		if err := missingKeys(planPath, targets, repeats, count, missing, &probs); err != nil {
			tmp.Close()
			return nil, err
		}
	}
	if probs.refusing(opts.Partial) {
		tmp.Close()
		return nil, &Error{Missing: missing, MissingKeys: probs.missing, Count: count, Problems: probs.problems, Counts: probs.counts}
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return nil, err
	}
	if beforePublish != nil {
		beforePublish()
	}
	// Link, not Rename: a merge into the same --out that finished first
	// keeps its file, and this one fails instead of replacing it.
	if err := os.Link(tmp.Name(), resultsPath); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s already exists (another merge into this folder finished first): choose another --out", resultsPath)
		}
		return nil, err
	}

	res := &Result{Records: m.Totals.Results, Manifest: m}
	for _, p := range probs.problems {
		if p.Kind == KindGap || p.Kind == KindMissing {
			res.Missing = append(res.Missing, p)
		}
	}
	res.MissingCount = probs.counts[KindGap] + probs.counts[KindMissing]
	m.Requests = requests
	m.End = now()
	m.Status = "completed"
	if res.MissingCount > 0 {
		m.Status = "partial"
		m.Error = fmt.Sprintf("%d planned results missing", res.MissingCount)
	}
	if err := bench.WriteManifest(filepath.Join(out, bench.ManifestName), m); err != nil {
		return nil, err
	}
	return res, nil
}

// checkPlan verifies that the plan file hashes to the manifest's plan.
func checkPlan(path string, set shard.Settings, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("shard plan: %w", err)
	}
	defer f.Close()
	h := shard.NewPlanHash(set)
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("shard plan %s: %w", path, err)
	}
	if got := h.Sum(); got != want {
		return &Error{Mismatch: fmt.Sprintf("%s does not match its manifest's plan hash (edited or truncated?)", path)}
	}
	return nil
}

// copyShard copies one shard's records to w, checking each, then reports
// the shard's planned keys that had no record.
func copyShard(ctx context.Context, s Shard, count int, w io.Writer, planPath string, targets []string, repeats int, probs *collector) (int, bench.ManifestTotal, error) {
	var tot bench.ManifestTotal
	idx := s.Manifest.Shard.Index
	path := filepath.Join(s.Dir, cmp.Or(s.Manifest.Results, "results.jsonl"))
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			f = nil // a shard that wrote nothing: all its keys are gaps
		} else {
			return 0, tot, err
		}
	}
	keys := make(map[bench.Key]seen, s.Manifest.Shard.Units)
	written := 0
	if f != nil {
		defer f.Close()
		br := bufio.NewReaderSize(f, 1<<20)
		var line []byte
		for n := 1; ; n++ {
			line = line[:0]
			var rerr error
			for {
				var chunk []byte
				chunk, rerr = br.ReadSlice('\n')
				line = append(line, chunk...)
				if rerr != bufio.ErrBufferFull {
					break
				}
			}
			if rerr != nil && rerr != io.EOF {
				return 0, tot, fmt.Errorf("%s:%d: %w", path, n, rerr)
			}
			if n%4096 == 0 && ctx.Err() != nil {
				return 0, tot, ctx.Err()
			}
			if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
				var r record
				if err := json.Unmarshal(trimmed, &r); err != nil || r.Suite == "" || r.CaseID == "" || r.Target == "" || r.Repeat < 0 {
					if rerr == io.EOF {
						// A torn last line: the writer was killed. The key
						// is unknown; it shows up as a gap.
						break
					}
					detail := "missing suite, case_id or target"
					if err != nil {
						detail = err.Error()
					}
					probs.add(Problem{Kind: KindBadLine, Shard: idx, Dir: s.Dir, Line: n, Detail: detail})
				} else {
					k := bench.Key{Suite: r.Suite, CaseID: r.CaseID, Target: r.Target, Repeat: r.Repeat}
					switch own := shard.Of(k, count); {
					case own != idx:
						probs.add(Problem{Kind: KindWrongShard, Key: k, Shard: own, Dir: s.Dir, Line: n, Detail: fmt.Sprintf("belongs to shard %d/%d", own, count)})
					default:
						failed := len(r.Error) > 0 && string(r.Error) != "null"
						if prev, dup := keys[k]; dup && !prev.failed {
							probs.add(Problem{Kind: KindDuplicate, Key: k, Shard: idx, Dir: s.Dir, Line: n, Detail: fmt.Sprintf("first at line %d", prev.line)})
							break
						} else if dup {
							// An error and its retry (run --retry-errors): both
							// lines are kept, readers take the last; count the key once.
							written--
							tot.Results--
							tot.Errors--
						}
						keys[k] = seen{line: n, promptHash: r.PromptHash, failed: failed}
						if _, err := w.Write(trimmed); err != nil {
							return 0, tot, err
						}
						if _, err := w.Write([]byte{'\n'}); err != nil {
							return 0, tot, err
						}
						written++
						tot.Results++
						if failed {
							tot.Errors++
						}
						if r.Cached {
							tot.Cached++
						} else if r.CostUSD != nil {
							tot.SpentUSD += *r.CostUSD
						}
					}
				}
			}
			if rerr == io.EOF {
				break
			}
		}
	}

	// Gaps, prompts and unplanned records, against the plan.
	pf, err := os.Open(planPath)
	if err != nil {
		return 0, tot, err
	}
	defer pf.Close()
	for pc, err := range shard.ReadPlan(bufio.NewReaderSize(pf, 1<<20), planPath) {
		if err != nil {
			return 0, tot, err
		}
		for _, t := range targets {
			for rep := range repeats {
				k := bench.Key{Suite: pc.Suite, CaseID: pc.CaseID, Target: t, Repeat: rep}
				if shard.Of(k, count) != idx {
					continue
				}
				sn, ok := keys[k]
				if !ok {
					probs.add(Problem{Kind: KindGap, Key: k, Shard: idx, Dir: s.Dir, Detail: "no record (" + s.Manifest.Status + " shard)"})
					continue
				}
				if sn.promptHash != pc.PromptHash {
					probs.add(Problem{Kind: KindPrompt, Key: k, Shard: idx, Dir: s.Dir, Line: sn.line, Detail: fmt.Sprintf("prompt_hash %.12s, plan has %.12s", sn.promptHash, pc.PromptHash)})
				}
				delete(keys, k)
			}
		}
	}
	left := make([]bench.Key, 0, len(keys))
	for k := range keys {
		left = append(left, k)
	}
	slices.SortFunc(left, func(a, b bench.Key) int { return keys[a].line - keys[b].line })
	for _, k := range left {
		probs.add(Problem{Kind: KindUnplanned, Key: k, Shard: idx, Dir: s.Dir, Line: keys[k].line, Detail: "not in the run's plan"})
	}
	return written, tot, nil
}

// missingKeys names the planned keys of the shards not given.
func missingKeys(planPath string, targets []string, repeats, count int, missing []int, probs *collector) error {
	want := map[int]bool{}
	for _, m := range missing {
		want[m] = true
	}
	pf, err := os.Open(planPath)
	if err != nil {
		return err
	}
	defer pf.Close()
	for pc, err := range shard.ReadPlan(bufio.NewReaderSize(pf, 1<<20), planPath) {
		if err != nil {
			return err
		}
		for _, t := range targets {
			for rep := range repeats {
				k := bench.Key{Suite: pc.Suite, CaseID: pc.CaseID, Target: t, Repeat: rep}
				if s := shard.Of(k, count); want[s] {
					probs.add(Problem{Kind: KindMissing, Key: k, Shard: s, Detail: fmt.Sprintf("shard %d/%d not given", s, count)})
				}
			}
		}
	}
	return nil
}

// addRequests sums the request counts of equal parameters across shards.
func addRequests(acc, more []bench.SentParams) []bench.SentParams {
	for _, sp := range more {
		found := false
		for i := range acc {
			if acc[i].Target == sp.Target && acc[i].Suite == sp.Suite && sameParams(acc[i].Params, sp.Params) {
				acc[i].Requests += sp.Requests
				found = true
				break
			}
		}
		if !found {
			acc = append(acc, sp)
		}
	}
	return acc
}

func sameParams(a, b bench.RequestParams) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func keyString(k bench.Key) string {
	return fmt.Sprintf("%s/%s@%s#%d", k.Suite, k.CaseID, k.Target, k.Repeat)
}
