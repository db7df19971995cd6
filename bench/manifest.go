package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// ManifestName is the manifest's file name, next to results.jsonl.
const ManifestName = "manifest.json"

// Manifest describes one run, written as manifest.json next to its results
// file: what ran, where, with which exact request parameters, and how it
// ended. It never holds credentials: targets record the base URL's host only,
// and NewManifest redacts secret-looking command-line flags.
type Manifest struct {
	Yardstick string    `json:"yardstick_version"` // module version, or "(devel)" plus VCS revision
	GoVersion string    `json:"go_version"`
	OS        string    `json:"os"`
	Arch      string    `json:"arch"`
	Command   []string  `json:"command"` // os.Args, secrets redacted
	Start     time.Time `json:"start"`
	End       time.Time `json:"end,omitzero"`
	// Status is how the run ended: "running" (written at start), "completed",
	// "interrupted", "budget_exceeded" or "failed"; Error says why when not completed.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`

	Results     string        `json:"results"` // results file, relative to the manifest's directory
	Suites      []SuiteInfo   `json:"suites"`
	Targets     []TargetInfo  `json:"targets"`
	Requests    []SentParams  `json:"requests"` // distinct parameters actually sent, per target and suite
	Concurrency int           `json:"concurrency"`
	Repeats     int           `json:"repeats"`
	BudgetUSD   float64       `json:"budget_usd,omitempty"` // 0: none
	Resumed     *ResumedFrom  `json:"resumed,omitempty"`
	Shard       *ShardInfo    `json:"shard,omitempty"`  // set: this run is one shard of a larger one
	Merged      []MergedShard `json:"merged,omitempty"` // set: this run was joined from shards (yardstick merge)
	Totals      ManifestTotal `json:"totals"`
}

// SuiteInfo identifies a suite that ran.
type SuiteInfo struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Hash    string `json:"hash"`           // hex SHA-256 of the suite file and its dataset
	Path    string `json:"path,omitempty"` // as given on the command line, or "builtin:NAME"
	Cases   int    `json:"cases,omitempty"`
}

// TargetInfo identifies a target without its credentials.
type TargetInfo struct {
	Name        string           `json:"name"`
	Model       string           `json:"model"`
	Provider    string           `json:"provider"`                // adapter type: "openai", "gemini", "ollama", "local", …
	BaseURLHost string           `json:"base_url_host,omitempty"` // host[:port] only, see URLHost
	Stream      bool             `json:"stream,omitempty"`
	Price       *providers.Price `json:"price,omitempty"`
}

// ResumedFrom records that the run continued an earlier one.
type ResumedFrom struct {
	Results       string    `json:"results"`                 // the results file appended to
	Existing      int       `json:"existing"`                // results already present
	TornBytes     int64     `json:"torn_bytes,omitempty"`    // torn last line removed
	PreviousStart time.Time `json:"previous_start,omitzero"` // Start of the manifest it replaced
}

// ShardInfo records that a run is shard Index of Count of a larger run
// (yardstick run --shard K/N; see package bench/shard).
type ShardInfo struct {
	Index  int    `json:"index"`            // 1-based
	Count  int    `json:"count"`            // shards in the whole run
	Source string `json:"source,omitempty"` // where Index came from: "flag" or an environment variable name
	Scheme string `json:"scheme"`           // key → shard assignment, e.g. "fnv1a64-splitmix/v1"
	Units  int    `json:"units"`            // work units (case × target × repeat) in this shard
	Total  int    `json:"total_units"`      // work units in the whole run
	// Plan is the hex SHA-256 of everything the shards must agree on: the
	// case list with its prompt hashes, the targets and the repeats. Shards
	// with different plans are refused by merge.
	Plan string `json:"plan"`
	// Cases is the file, relative to the manifest's directory, listing every
	// case of the whole run (not only this shard's), so merge can name the
	// keys of a missing shard.
	Cases string `json:"cases"`
}

// MergedShard is one shard directory a merged run was joined from.
type MergedShard struct {
	Index   int       `json:"index"`
	Dir     string    `json:"dir"`
	Status  string    `json:"status"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	Results int       `json:"results"` // records taken from it
}

// ManifestTotal is the run's final count, from Runner.Stats.
type ManifestTotal struct {
	Results  int     `json:"results"` // written by this run
	Errors   int     `json:"errors"`
	Cached   int     `json:"cached"`
	Skipped  int     `json:"skipped"` // already present (resume)
	SpentUSD float64 `json:"spent_usd"`
}

// NewManifest returns a manifest with the build, platform and command line
// filled in, Start set to start and Status "running". The caller fills the
// suites, targets and configuration, and calls Finish at the end.
func NewManifest(args []string, start time.Time) *Manifest {
	return &Manifest{
		Yardstick: Version(),
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
		Command:   RedactArgs(args),
		Start:     start,
		Status:    "running",
		Results:   "results.jsonl",
	}
}

// SetRunner records the runner's configuration.
func (m *Manifest) SetRunner(r *Runner) {
	cfg := r.Config()
	m.Concurrency, m.Repeats, m.BudgetUSD = cfg.Concurrency, cfg.Repeats, cfg.BudgetUSD
}

// Finish records the end of a run: end time, the parameters r sent, its
// totals, and a status derived from Run's error.
func (m *Manifest) Finish(end time.Time, r *Runner, runErr error) {
	m.End = end
	m.Requests = r.Sent()
	p := r.Stats()
	m.Totals = ManifestTotal{Results: p.Done, Errors: p.Errors, Cached: p.Cached, Skipped: p.Skipped, SpentUSD: p.SpentUSD}
	m.Status, m.Error = RunStatus(runErr), ""
	if runErr != nil {
		m.Error = runErr.Error()
	}
}

// RunStatus names how a run that returned err ended: "completed",
// "interrupted" (context canceled), "budget_exceeded" or "failed".
func RunStatus(err error) string {
	switch {
	case err == nil:
		return "completed"
	case errors.Is(err, ErrBudgetExceeded):
		return "budget_exceeded"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	}
	return "failed"
}

// Version returns the running binary's Yardstick version: the module version
// when built by `go install module@version`, otherwise "(devel)" with the VCS
// revision (and "+dirty" for uncommitted changes) when known.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if v == "(devel)" && rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev
		if dirty {
			v += "+dirty"
		}
	}
	return v
}

// URLHost returns the host[:port] of a base URL, without scheme, user
// information, path or query (any of which may carry a key); "" when raw has
// no host.
func URLHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Host
}

// secretWords mark flags whose values are redacted.
var secretWords = []string{"key", "token", "secret", "password", "passwd", "credential"}

// RedactArgs returns a copy of args with the values of secret-looking flags
// (names containing key, token, secret, password or credential) replaced
// by "REDACTED", in both "--flag=value" and "--flag value" forms.
func RedactArgs(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i := 0; i < len(out); i++ {
		a := out[i]
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !isSecretFlag(name) {
			continue
		}
		if hasValue {
			out[i] = a[:strings.Index(a, "=")+1] + "REDACTED"
		} else if i+1 < len(out) && !strings.HasPrefix(out[i+1], "-") {
			out[i+1] = "REDACTED"
			i++
		}
	}
	return out
}

func isSecretFlag(name string) bool {
	name = strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// WriteManifest writes m as indented JSON to path atomically: to a temporary
// file in the same directory, synced, then renamed over path. A reader sees
// the old manifest or the new one, never a mix.
func WriteManifest(path string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: encoding manifest: %w", err)
	}
	data = append(data, '\n')
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("bench: writing manifest: %w", err)
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(name, 0o644)
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("bench: writing manifest: %w", err)
	}
	return nil
}

// ReadManifest reads a manifest written by WriteManifest.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := new(Manifest)
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
