// Package shard splits one run's work into N deterministic, balanced parts so
// that N processes (a CI matrix, a Kubernetes Indexed Job, GitLab parallel
// jobs) can each run one part and `yardstick merge` can join them.
//
// A work unit is a bench.Key: suite × case × target × repeat. Its shard is a
// stable 64-bit hash of the key (FNV-1a over the length-prefixed fields, then
// the splitmix64 finalizer) reduced to 1..N by multiply-high. The assignment
// depends on nothing but the key and N: not on dataset order, concurrency,
// the machine or resume, so a resumed shard runs the same units and a shard
// index always names the same keys. The scheme is versioned (Scheme) and
// recorded in the run manifest; it must never change silently.
//
// A sharded run also writes a plan file (WritePlan): the whole run's case
// list with prompt hashes, whose hash (with the targets and repeats) every
// shard must share, and from which merge names the keys of a missing shard.
//
// The package does not run anything (bench.Runner does, through
// bench.Config.Select) and does not merge (package bench/merge).
package shard

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"iter"
	"math/bits"
	"strconv"
	"strings"

	"github.com/yardstick-eval/yardstick/bench"
)

// Scheme names the key → shard assignment implemented here.
const Scheme = "fnv1a64-splitmix/v1"

// PlanName is the plan file's name in a sharded run directory.
const PlanName = "shard-plan.jsonl"

// MaxCount bounds N: more shards than this is a typo, not a plan.
const MaxCount = 10000

// Spec is shard Index of Count. Index is 1-based, as in `--shard 1/4`
// (Kubernetes' 0-based JOB_COMPLETION_INDEX is converted). The zero value
// means "not sharded": the whole run.
type Spec struct {
	Index  int
	Count  int
	Source string // where Index came from: "flag" or an environment variable name
}

// Sharded reports whether s splits the run (Count > 1 or an explicit 1/1).
func (s Spec) Sharded() bool { return s.Count > 0 }

// String formats s as "K/N"; "" when not sharded.
func (s Spec) String() string {
	if !s.Sharded() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Has reports whether key k belongs to shard s. Every key belongs to the
// zero Spec.
func (s Spec) Has(k bench.Key) bool {
	return !s.Sharded() || Of(k, s.Count) == s.Index
}

// Of returns the shard (1..n) of key k among n shards; 1 when n ≤ 1.
func Of(k bench.Key, n int) int {
	if n <= 1 {
		return 1
	}
	hi, _ := bits.Mul64(Hash(k), uint64(n))
	return int(hi) + 1
}

// Hash is the stable 64-bit hash of a key that assigns it to a shard.
func Hash(k bench.Key) uint64 {
	h := fnv.New64a()
	var buf [20]byte
	for _, f := range [...]string{k.Suite, k.CaseID, k.Target} {
		h.Write(strconv.AppendInt(buf[:0], int64(len(f)), 10))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	h.Write(strconv.AppendInt(buf[:0], int64(k.Repeat), 10))
	return splitmix(h.Sum64())
}

// splitmix is the splitmix64 finalizer: FNV's high bits alone mix poorly,
// and Of uses the high bits.
func splitmix(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// Error is a shard specification that cannot be used.
type Error struct {
	Source string // "--shard" or the environment variable
	Value  string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Source, e.Value, e.Reason)
}

// Parse parses "K/N" with 1 ≤ K ≤ N ≤ MaxCount.
func Parse(s string) (Spec, error) {
	k, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Spec{}, &Error{Source: "--shard", Value: s, Reason: "want K/N, e.g. 1/4 (K counts from 1)"}
	}
	sp, err := parseParts(k, n, 1)
	if err != nil {
		return Spec{}, &Error{Source: "--shard", Value: s, Reason: err.Error()}
	}
	sp.Source = "flag"
	return sp, nil
}

// parseParts parses index and count, index counting from base (0 or 1).
func parseParts(index, count string, base int) (Spec, error) {
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n < 1 {
		return Spec{}, fmt.Errorf("shard count %q is not a positive integer", count)
	}
	if n > MaxCount {
		return Spec{}, fmt.Errorf("shard count %d is above %d", n, MaxCount)
	}
	k, err := strconv.Atoi(strings.TrimSpace(index))
	if err != nil {
		return Spec{}, fmt.Errorf("shard index %q is not an integer", index)
	}
	if k < base || k > n-1+base {
		return Spec{}, fmt.Errorf("shard index %d is outside %d..%d", k, base, n-1+base)
	}
	return Spec{Index: k - base + 1, Count: n}, nil
}

// Environment variables Resolve reads for `--shard auto`.
const (
	EnvShard     = "YARDSTICK_SHARD"      // "K/N", 1-based: set it from a GitHub Actions matrix
	EnvGitLabIdx = "CI_NODE_INDEX"        // GitLab `parallel: N`: 1-based
	EnvGitLabN   = "CI_NODE_TOTAL"        // GitLab `parallel: N`
	EnvK8sIdx    = "JOB_COMPLETION_INDEX" // Kubernetes Indexed Job: 0-based; N from "auto/N"
)

// Resolve turns the --shard flag's value into a Spec. "" is the zero Spec.
// "K/N" is Parse. "auto" and "auto/N" read the index from the environment
// of the engine running the process, first found wins:
//
//   - YARDSTICK_SHARD="K/N" (1-based; e.g. from a GitHub Actions matrix:
//     YARDSTICK_SHARD: ${{ matrix.shard }}/${{ strategy.job-total }});
//   - GitLab's CI_NODE_INDEX (1-based) and CI_NODE_TOTAL (`parallel: N`);
//   - Kubernetes' JOB_COMPLETION_INDEX (0-based, Indexed Jobs), whose count
//     is not in the environment: give it as "auto/N" (spec.completions).
//
// With "auto/N", a count found in the environment must equal N.
func Resolve(flag string, getenv func(string) string) (Spec, error) {
	flag = strings.TrimSpace(flag)
	if flag == "" {
		return Spec{}, nil
	}
	rest, auto := strings.CutPrefix(flag, "auto")
	if !auto {
		return Parse(flag)
	}
	want := 0
	if rest != "" {
		n, ok := strings.CutPrefix(rest, "/")
		v, err := strconv.Atoi(n)
		if !ok || err != nil || v < 1 || v > MaxCount {
			return Spec{}, &Error{Source: "--shard", Value: flag, Reason: "want auto or auto/N with N the shard count"}
		}
		want = v
	}
	check := func(sp Spec, src, val string, err error) (Spec, error) {
		if err != nil {
			return Spec{}, &Error{Source: src, Value: val, Reason: err.Error()}
		}
		if want > 0 && sp.Count != want {
			return Spec{}, &Error{Source: src, Value: val, Reason: fmt.Sprintf("shard count %d differs from --shard %s", sp.Count, flag)}
		}
		sp.Source = src
		return sp, nil
	}
	if v := getenv(EnvShard); v != "" {
		k, n, ok := strings.Cut(v, "/")
		if !ok {
			return Spec{}, &Error{Source: EnvShard, Value: v, Reason: "want K/N, e.g. 1/4"}
		}
		sp, err := parseParts(k, n, 1)
		return check(sp, EnvShard, v, err)
	}
	if v := getenv(EnvGitLabIdx); v != "" {
		total := getenv(EnvGitLabN)
		if total == "" {
			return Spec{}, &Error{Source: EnvGitLabIdx, Value: v, Reason: EnvGitLabN + " is not set"}
		}
		sp, err := parseParts(v, total, 1)
		return check(sp, EnvGitLabIdx, v, err)
	}
	if v := getenv(EnvK8sIdx); v != "" {
		if want == 0 {
			return Spec{}, &Error{Source: EnvK8sIdx, Value: v, Reason: "the shard count is not in the environment: pass --shard auto/N with N the Job's completions"}
		}
		sp, err := parseParts(v, strconv.Itoa(want), 0)
		return check(sp, EnvK8sIdx, v, err)
	}
	return Spec{}, &Error{Source: "--shard", Value: flag, Reason: "no shard index in the environment (" + EnvShard + ", " + EnvGitLabIdx + "/" + EnvGitLabN + " or " + EnvK8sIdx + ")"}
}

// PlanCase is one line of the plan file: a case of the whole run.
type PlanCase struct {
	Suite      string `json:"suite"`
	CaseID     string `json:"case_id"`
	PromptHash string `json:"prompt_hash"`
}

// Settings are the parts of a run, besides its case list, that every shard
// must share: the suites (name, version, content hash), the targets (name,
// model, adapter, streaming, price) and the repeat count. Paths and hosts
// are left out: shards run on different machines.
type Settings struct {
	Suites  []bench.SuiteInfo
	Targets []bench.TargetInfo
	Repeats int
}

// SettingsOf returns the settings a run manifest records.
func SettingsOf(m *bench.Manifest) Settings {
	return Settings{Suites: m.Suites, Targets: m.Targets, Repeats: max(m.Repeats, 1)}
}

// TargetNames returns the targets' names in order.
func (s Settings) TargetNames() []string {
	out := make([]string, len(s.Targets))
	for i, t := range s.Targets {
		out[i] = t.Name
	}
	return out
}

// Plan is what WritePlan found.
type Plan struct {
	Units int    // work units in the shard
	Total int    // work units in the whole run
	Hash  string // hex SHA-256 of the case list and the Settings
}

// WritePlan writes the plan file of a run of cases with settings set to w
// (one PlanCase per line, in dataset order) and returns the plan's hash and
// the unit counts of shard s and of the whole run. It stops at the first
// error from cases.
func WritePlan(w io.Writer, cases iter.Seq2[*bench.Case, error], set Settings, s Spec) (Plan, error) {
	ph := NewPlanHash(set)
	targets, repeats := set.TargetNames(), max(set.Repeats, 1)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(io.MultiWriter(bw, ph))
	enc.SetEscapeHTML(false)
	var p Plan
	for c, err := range cases {
		if err != nil {
			return Plan{}, err
		}
		if err := enc.Encode(PlanCase{Suite: c.Suite, CaseID: c.ID, PromptHash: c.PromptHash}); err != nil {
			return Plan{}, err
		}
		for _, t := range targets {
			for r := range repeats {
				p.Total++
				if s.Has(bench.Key{Suite: c.Suite, CaseID: c.ID, Target: t, Repeat: r}) {
					p.Units++
				}
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return Plan{}, err
	}
	p.Hash = ph.Sum()
	return p, nil
}

// PlanHash hashes a plan file's lines together with the run's Settings;
// WritePlan uses it, and merge to check a plan file.
type PlanHash struct{ h hashWriter }

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
}

// NewPlanHash starts the hash of a plan with settings set.
func NewPlanHash(set Settings) *PlanHash {
	type suite struct {
		Name, Version, Hash string
		Cases               int
	}
	type target struct {
		Name, Model, Provider string
		Stream                bool
		Price                 any
	}
	canon := struct {
		Scheme  string
		Repeats int
		Suites  []suite
		Targets []target
	}{Scheme: Scheme, Repeats: max(set.Repeats, 1)}
	for _, s := range set.Suites {
		canon.Suites = append(canon.Suites, suite{s.Name, s.Version, s.Hash, s.Cases})
	}
	for _, t := range set.Targets {
		canon.Targets = append(canon.Targets, target{t.Name, t.Model, t.Provider, t.Stream, t.Price})
	}
	head, _ := json.Marshal(canon) // plain data: cannot fail
	h := sha256.New()
	h.Write(head)
	h.Write([]byte{'\n'})
	return &PlanHash{h: h}
}

// Write adds plan file bytes.
func (p *PlanHash) Write(b []byte) (int, error) { return p.h.Write(b) }

// Sum returns the hex digest.
func (p *PlanHash) Sum() string { return hex.EncodeToString(p.h.Sum(nil)) }

// ReadPlan streams the cases of a plan file; name is used in errors.
func ReadPlan(r io.Reader, name string) iter.Seq2[PlanCase, error] {
	return func(yield func(PlanCase, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for n := 1; sc.Scan(); n++ {
			var pc PlanCase
			if err := json.Unmarshal(sc.Bytes(), &pc); err != nil {
				yield(PlanCase{}, fmt.Errorf("%s:%d: %v", name, n, err))
				return
			}
			if pc.Suite == "" || pc.CaseID == "" {
				yield(PlanCase{}, fmt.Errorf("%s:%d: field suite or case_id: missing", name, n))
				return
			}
			if !yield(pc, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(PlanCase{}, fmt.Errorf("%s: %w", name, err))
		}
	}
}
