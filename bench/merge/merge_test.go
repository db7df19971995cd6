package merge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/bench/shard"
)

// fixture writes the run directories of an N-shard run of nCases × two
// targets × one repeat, each shard complete, and returns them.
type fixture struct {
	t     *testing.T
	root  string
	count int
	ids   []string
	set   shard.Settings
	dirs  []string
}

func newFixture(t *testing.T, nCases, count int) *fixture {
	f := &fixture{t: t, root: t.TempDir(), count: count}
	for i := range nCases {
		f.ids = append(f.ids, fmt.Sprintf("c%04d", i))
	}
	f.set = shard.Settings{
		Suites:  []bench.SuiteInfo{{Name: "s", Version: "1", Hash: "h", Cases: nCases}},
		Targets: []bench.TargetInfo{{Name: "a", Model: "a"}, {Name: "b", Model: "b"}},
		Repeats: 1,
	}
	for k := 1; k <= count; k++ {
		f.dirs = append(f.dirs, f.writeShard(k, nil))
	}
	return f
}

func (f *fixture) cases() iter.Seq2[*bench.Case, error] {
	return func(yield func(*bench.Case, error) bool) {
		for _, id := range f.ids {
			if !yield(&bench.Case{Suite: "s", ID: id, PromptHash: "p-" + id}, nil) {
				return
			}
		}
	}
}

// writeShard writes shard k; edit may change the results before they are
// written (return nil to drop one).
func (f *fixture) writeShard(k int, edit func(*bench.Result) *bench.Result) string {
	t := f.t
	dir := filepath.Join(f.root, fmt.Sprintf("shard-%d", k))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sp := shard.Spec{Index: k, Count: f.count}
	var plan bytes.Buffer
	p, err := shard.WritePlan(&plan, f.cases(), f.set, sp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, shard.PlanName), plan.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var res bytes.Buffer
	w := bench.NewJSONLWriter(&res)
	for _, id := range f.ids {
		for _, tg := range f.set.Targets {
			k := bench.Key{Suite: "s", CaseID: id, Target: tg.Name}
			if !sp.Has(k) {
				continue
			}
			cost := 0.001
			r := &bench.Result{Suite: "s", CaseID: id, Target: tg.Name, Model: tg.Model, PromptHash: "p-" + id, Output: "x", Pass: true, Score: 1, CostUSD: &cost}
			if edit != nil {
				r = edit(r)
			}
			if r != nil {
				if err := w.Add(r); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "results.jsonl"), res.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	m := bench.NewManifest([]string{"yardstick", "run"}, time.Now())
	m.Status = "completed"
	m.Suites, m.Targets, m.Repeats = f.set.Suites, f.set.Targets, f.set.Repeats
	m.Shard = &bench.ShardInfo{Index: k, Count: f.count, Source: "flag", Scheme: shard.Scheme, Units: p.Units, Total: p.Total, Plan: p.Hash, Cases: shard.PlanName}
	if err := bench.WriteManifest(filepath.Join(dir, bench.ManifestName), m); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (f *fixture) merge(dirs []string, opts Options) (*Result, string, error) {
	out := filepath.Join(f.t.TempDir(), "merged")
	shards, err := Open(dirs)
	if err != nil {
		return nil, out, err
	}
	res, err := Merge(context.Background(), shards, out, opts)
	return res, out, err
}

func TestMergeComplete(t *testing.T) {
	f := newFixture(t, 500, 4)
	// Directory order does not matter.
	res, out, err := f.merge([]string{f.dirs[3], f.dirs[1], f.dirs[0], f.dirs[2]}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 1000 || res.MissingCount != 0 {
		t.Fatalf("merged %d records, %d missing; want 1000, 0", res.Records, res.MissingCount)
	}
	keys, err := bench.ReadKeys(filepath.Join(out, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1000 {
		t.Errorf("merged file has %d distinct keys, want 1000", len(keys))
	}
	m, err := bench.ReadManifest(filepath.Join(out, bench.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != "completed" || m.Shard != nil || len(m.Merged) != 4 || m.Merged[0].Index != 1 || m.Totals.Results != 1000 {
		t.Errorf("manifest: status %q shard %v merged %+v totals %+v", m.Status, m.Shard, m.Merged, m.Totals)
	}
	if d := m.Totals.SpentUSD - 1.0; d > 1e-9 || d < -1e-9 {
		t.Errorf("spent %v, want 1.0", m.Totals.SpentUSD)
	}
}

func refusal(t *testing.T, err error) *Error {
	t.Helper()
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T), want *merge.Error", err, err)
	}
	return me
}

func TestMergeRefuses(t *testing.T) {
	dropped := bench.Key{}
	tests := []struct {
		name    string
		dirs    func(f *fixture) []string
		partial bool
		kind    Kind   // problem expected; "" for a mismatch
		message string // in Error()
	}{
		{name: "missing shard", dirs: func(f *fixture) []string { return []string{f.dirs[0], f.dirs[2]} },
			kind: KindMissing, message: "shard 2/3 is missing ("},
		{name: "same shard twice", dirs: func(f *fixture) []string { return []string{f.dirs[0], f.dirs[0], f.dirs[1]} },
			message: "shard 1/3 given twice"},
		{name: "duplicate key", dirs: func(f *fixture) []string {
			d := f.writeShard(2, nil)
			data, _ := os.ReadFile(filepath.Join(d, "results.jsonl"))
			first, _, _ := bytes.Cut(data, []byte("\n"))
			os.WriteFile(filepath.Join(d, "results.jsonl"), append(data, append(first, '\n')...), 0o644)
			return f.dirs
		}, kind: KindDuplicate, message: "1 duplicate key"},
		{name: "gap", dirs: func(f *fixture) []string {
			n := 0
			f.writeShard(1, func(r *bench.Result) *bench.Result {
				if n++; n == 5 {
					dropped = r.Key()
					return nil
				}
				return r
			})
			return f.dirs
		}, kind: KindGap, message: "1 gap"},
		{name: "torn last line is a gap", dirs: func(f *fixture) []string {
			d := f.dirs[2]
			data, _ := os.ReadFile(filepath.Join(d, "results.jsonl"))
			os.WriteFile(filepath.Join(d, "results.jsonl"), data[:len(data)-20], 0o644)
			return f.dirs
		}, kind: KindGap, message: "1 gap"},
		{name: "wrong shard", dirs: func(f *fixture) []string {
			d := f.dirs[0]
			var w bytes.Buffer
			// A key of shard 2 written into shard 1's file.
			for _, id := range f.ids {
				k := bench.Key{Suite: "s", CaseID: id, Target: "a"}
				if shard.Of(k, 3) == 2 {
					bench.NewJSONLWriter(&w).Add(&bench.Result{Suite: "s", CaseID: id, Target: "a", PromptHash: "p-" + id})
					break
				}
			}
			fh, _ := os.OpenFile(filepath.Join(d, "results.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
			fh.Write(w.Bytes())
			fh.Close()
			return f.dirs
		}, kind: KindWrongShard, message: "1 record in the wrong shard"},
		{name: "other prompt", dirs: func(f *fixture) []string {
			n := 0
			f.writeShard(3, func(r *bench.Result) *bench.Result {
				if n++; n == 2 {
					r.PromptHash = "stale"
				}
				return r
			})
			return f.dirs
		}, kind: KindPrompt, message: "1 record with another prompt"},
		{name: "bad line", dirs: func(f *fixture) []string {
			fh, _ := os.OpenFile(filepath.Join(f.dirs[1], "results.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
			fh.WriteString("{not json}\n{\"suite\":\"s\"}\n")
			fh.Close()
			return f.dirs
		}, kind: KindBadLine, message: "2 bad lines"},
		{name: "different suites", dirs: func(f *fixture) []string {
			g := *f
			g.root = t.TempDir()
			g.set.Suites = []bench.SuiteInfo{{Name: "s", Version: "2", Hash: "h2", Cases: len(f.ids)}}
			return []string{f.dirs[0], g.writeShard(2, nil), f.dirs[2]}
		}, message: "different suites"},
		{name: "different shard counts", dirs: func(f *fixture) []string {
			g := *f
			g.root, g.count = t.TempDir(), 4
			return []string{f.dirs[0], g.writeShard(2, nil)}
		}, message: "different shard counts"},
		{name: "edited plan", dirs: func(f *fixture) []string {
			p := filepath.Join(f.dirs[0], shard.PlanName)
			data, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(data, []byte("c0001"), []byte("c9999"), 1), 0o644)
			return f.dirs
		}, message: "does not match its manifest's plan hash"},
		{name: "not a shard", dirs: func(f *fixture) []string {
			m, _ := bench.ReadManifest(filepath.Join(f.dirs[1], bench.ManifestName))
			m.Shard = nil
			bench.WriteManifest(filepath.Join(f.dirs[1], bench.ManifestName), m)
			return f.dirs
		}, message: "is not a shard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 200, 3)
			_, out, err := f.merge(tt.dirs(f), Options{})
			me := refusal(t, err)
			if !strings.Contains(me.Error(), tt.message) {
				t.Errorf("error does not say %q:\n%v", tt.message, me)
			}
			if tt.kind == "" {
				if me.Mismatch == "" {
					t.Errorf("want a mismatch, got %+v", me)
				}
				return
			}
			if me.Counts[tt.kind] == 0 {
				t.Fatalf("no %s problem in %+v", tt.kind, me.Counts)
			}
			for _, p := range me.Problems {
				if p.Kind == tt.kind && p.Kind != KindBadLine && p.Key.CaseID == "" && tt.name != "torn last line is a gap" {
					t.Errorf("%s problem without its key: %+v", p.Kind, p)
				}
				if tt.name == "gap" && p.Kind == KindGap && p.Key != dropped {
					t.Errorf("gap names %v, want the dropped %v", p.Key, dropped)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "results.jsonl")); err == nil {
				t.Error("a refused merge left results.jsonl")
			}
		})
	}
}

func TestMergePartial(t *testing.T) {
	f := newFixture(t, 200, 3)
	n := 0
	f.writeShard(1, func(r *bench.Result) *bench.Result {
		if n++; n%10 == 0 {
			return nil
		}
		return r
	})
	res, out, err := f.merge([]string{f.dirs[0], f.dirs[2]}, Options{Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	missingShard2 := 0
	for _, id := range f.ids {
		for _, tg := range []string{"a", "b"} {
			if shard.Of(bench.Key{Suite: "s", CaseID: id, Target: tg}, 3) == 2 {
				missingShard2++
			}
		}
	}
	gaps := n / 10
	if res.MissingCount != missingShard2+gaps {
		t.Errorf("missing %d, want %d of shard 2 + %d gaps", res.MissingCount, missingShard2, gaps)
	}
	if res.Records != 400-missingShard2-gaps {
		t.Errorf("records %d, want %d", res.Records, 400-missingShard2-gaps)
	}
	m, _ := bench.ReadManifest(filepath.Join(out, bench.ManifestName))
	if m == nil || m.Status != "partial" {
		t.Errorf("manifest status %v, want partial", m)
	}
	// Partial does not excuse a duplicate.
	d := f.dirs[2]
	data, _ := os.ReadFile(filepath.Join(d, "results.jsonl"))
	first, _, _ := bytes.Cut(data, []byte("\n"))
	os.WriteFile(filepath.Join(d, "results.jsonl"), append(data, append(first, '\n')...), 0o644)
	if _, _, err := f.merge(f.dirs, Options{Partial: true}); refusal(t, err).Counts[KindDuplicate] != 1 {
		t.Errorf("partial merge with a duplicate: %v", err)
	}
}

func TestMergeRefusesExistingOut(t *testing.T) {
	f := newFixture(t, 20, 2)
	shards, err := Open(f.dirs)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "results.jsonl"), []byte("keep me\n"), 0o644)
	if _, err := Merge(context.Background(), shards, out, Options{}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("merge over an existing results file: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "results.jsonl")); string(data) != "keep me\n" {
		t.Error("merge overwrote an existing results file")
	}
}

// A shard resumed with --retry-errors holds an error and its retry for a
// key: that is history, not a duplicate; the merge keeps both lines and
// counts the key once, and readers take the retry.
func TestMergeKeepsRetriedErrors(t *testing.T) {
	f := newFixture(t, 60, 3)
	d := f.writeShard(1, nil)
	data, _ := os.ReadFile(filepath.Join(d, "results.jsonl"))
	first, _, _ := bytes.Cut(data, []byte("\n"))
	var r bench.Result
	if err := json.Unmarshal(first, &r); err != nil {
		t.Fatal(err)
	}
	r.Error, r.Pass, r.Score, r.Output = &bench.ErrorInfo{Kind: "unavailable", Message: "down"}, false, 0, ""
	failed, _ := json.Marshal(&r)
	// The error first, then the retried record (the original line).
	os.WriteFile(filepath.Join(d, "results.jsonl"), append(append(failed, '\n'), data...), 0o644)
	res, out, err := f.merge(f.dirs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 120 {
		t.Errorf("merged %d records, want 120 keys", res.Records)
	}
	m, _ := bench.ReadManifest(filepath.Join(out, bench.ManifestName))
	if m == nil || m.Totals.Results != 120 || m.Totals.Errors != 0 {
		t.Errorf("manifest totals %+v, want 120 results, 0 errors", m.Totals)
	}
	// A second non-error record for the key is still a duplicate.
	os.WriteFile(filepath.Join(d, "results.jsonl"), append(data, append(first, '\n')...), 0o644)
	if _, _, err := f.merge(f.dirs, Options{}); refusal(t, err).Counts[KindDuplicate] != 1 {
		t.Errorf("a repeated success was not refused: %v", err)
	}
}

// Two merges into one --out: the one that finishes second fails and the
// first one's results file stays.
func TestMergeRacingIntoOneOut(t *testing.T) {
	f := newFixture(t, 20, 2)
	shards, err := Open(f.dirs)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	results := filepath.Join(out, "results.jsonl")
	beforePublish = func() { os.WriteFile(results, []byte("the other merge\n"), 0o644) }
	defer func() { beforePublish = nil }()
	if _, err := Merge(context.Background(), shards, out, Options{}); err == nil || !strings.Contains(err.Error(), "another merge") {
		t.Errorf("merge losing the race: %v", err)
	}
	if data, _ := os.ReadFile(results); string(data) != "the other merge\n" {
		t.Errorf("the first merge's file was replaced: %q", data)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}
