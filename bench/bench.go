// Package bench is Yardstick's data model and engine: a Case (one rendered
// prompt with its scorer), a Target (a named provider and model), the Result
// record written once per case × target × repeat, the Runner that produces
// results over a bounded worker pool, the results file, manifest and progress.
//
// bench is the only package that starts goroutines. It does not parse suite
// files (package suites), summarise, compare or judge results (package
// analysis and its subpackages) or render reports (package reports).
package bench

import (
	"context"
	"time"

	"github.com/yardstick-eval/yardstick/providers"
)

// Case is one benchmark item, already rendered into a request.
type Case struct {
	Suite        string            // suite name
	SuiteVersion string            // suite's declared version
	ID           string            // unique within the suite
	Request      providers.Request // Model is left empty: the runner sets the target's model
	Expected     string            // reference answer, for reports and scorers; may be empty
	Vars         map[string]string // the variables the prompt was rendered from
	Tags         map[string]string // free-form labels, usable as threshold filters
	Scorer       Scorer            // shared by all cases of a suite; nil: every answer passes with score 1
	PromptHash   string            // hex SHA-256 of the rendered request's prompt fields
}

// Key identifies one unit of work and one line of results.jsonl.
type Key struct {
	Suite  string
	CaseID string
	Target string
	Repeat int
}

// ScorePart is one scorer's verdict on one answer.
//
// Usage, CostUSD and Cached are set only by scorers that call a model (the
// judge): Usage sums every grading response, cache hits included as
// reported; CostUSD is its cost at the grader's price (nil when the price is
// unknown), nominal for cache hits as Result.CostUSD is; Cached is true when
// every grading response was served from the response cache. The runner
// counts CostUSD toward the budget unless Cached.
type ScorePart struct {
	Name    string           `json:"name"`               // scorer type as written in the suite, e.g. "not-contains"
	Value   float64          `json:"value"`              // in [0, 1]
	Weight  float64          `json:"weight"`             // relative weight in the case's score
	Pass    bool             `json:"pass"`               // this part alone passed
	Reason  string           `json:"reason,omitempty"`   // why it failed or how it was judged
	Usage   *providers.Usage `json:"usage,omitempty"`    // model-calling scorers: tokens of their calls
	CostUSD *float64         `json:"cost_usd,omitempty"` // model-calling scorers: cost at the grader's price; nil: unknown
	Cached  bool             `json:"cached,omitempty"`   // model-calling scorers: every call served from the cache
}

// Score is the scorer's verdict on one answer.
type Score struct {
	Value  float64     // weighted mean of Parts, in [0, 1]
	Pass   bool        // Value reached the case's threshold
	Reason string      // short explanation, empty when it passed
	Parts  []ScorePart // one per configured scorer
}

// Scorer judges a response to a case. Implementations are safe for concurrent use.
// An error means the scorer itself could not work (a judge model failed); a wrong
// answer is a Score with Pass false, not an error.
type Scorer interface {
	Score(ctx context.Context, c *Case, r *providers.Response) (Score, error)
}

// Target is a model under test: a display name, the model to request and the
// provider (already wrapped in its decorators) that serves it.
type Target struct {
	Name     string             // unique within a run, e.g. "openai:gpt-4o-mini"
	Model    string             // model name sent in requests
	Provider providers.Provider // safe for concurrent use
	Price    *providers.Price   // nil: cost unknown
	Stream   bool               // use providers.Streamer when the provider has it, to measure TTFT
}

// ErrorInfo is a failed case's provider or scorer error, as recorded.
type ErrorInfo struct {
	Kind       providers.Kind `json:"kind"`
	Message    string         `json:"message"`
	StatusCode int            `json:"status_code,omitempty"`
	Stage      string         `json:"stage,omitempty"` // "generate" or "score"
}

// Result is one line of results.jsonl: one case × target × repeat. Field names
// and JSON tags are a stable, documented schema (see README, "results.jsonl").
type Result struct {
	Suite         string              `json:"suite"`
	SuiteVersion  string              `json:"suite_version,omitempty"`
	CaseID        string              `json:"case_id"`
	Target        string              `json:"target"`
	Model         string              `json:"model"`                    // requested
	ResolvedModel string              `json:"resolved_model,omitempty"` // reported by the provider
	Repeat        int                 `json:"repeat"`
	PromptHash    string              `json:"prompt_hash"`
	Prompt        []providers.Message `json:"prompt,omitempty"` // system first when set
	Expected      string              `json:"expected,omitempty"`
	Output        string              `json:"output"`
	FinishReason  string              `json:"finish_reason,omitempty"`
	Score         float64             `json:"score"`
	Pass          bool                `json:"pass"`
	Reason        string              `json:"reason,omitempty"`
	Scores        []ScorePart         `json:"scores,omitempty"`
	Error         *ErrorInfo          `json:"error,omitempty"` // set: the case failed to run; Score 0, Pass false
	Start         time.Time           `json:"start"`
	Latency       time.Duration       `json:"latency_ns"`        // request sent → full response received
	TTFT          time.Duration       `json:"ttft_ns,omitempty"` // streamed targets only
	Usage         providers.Usage     `json:"usage"`
	CostUSD       *float64            `json:"cost_usd,omitempty"` // nil: no price known for the model
	Cached        bool                `json:"cached,omitempty"`   // served from the response cache
	Attempts      int                 `json:"attempts,omitempty"` // provider calls made, retries included
	Tags          map[string]string   `json:"tags,omitempty"`
	// JudgeUsage and JudgeCostUSD sum the Usage and CostUSD of the scorer
	// parts that call a model (judge scorers), also when scoring failed after
	// some grading calls were made. JudgeCostUSD is nil when no such part
	// had a price. Neither is included in Usage or CostUSD.
	JudgeUsage   providers.Usage `json:"judge_usage,omitzero"`
	JudgeCostUSD *float64        `json:"judge_cost_usd,omitempty"`
}

// Key returns the result's identity.
func (r *Result) Key() Key {
	return Key{Suite: r.Suite, CaseID: r.CaseID, Target: r.Target, Repeat: r.Repeat}
}

// OutputTokensPerSecond is the generation speed after the first token for
// streamed results, or over the whole latency otherwise; 0 when unknown.
func (r *Result) OutputTokensPerSecond() float64 {
	d := r.Latency - r.TTFT
	if d <= 0 || r.Usage.OutputTokens == 0 {
		return 0
	}
	return float64(r.Usage.OutputTokens) / d.Seconds()
}

// Sink receives results as they are made. The Runner calls Add from a single
// goroutine, in completion order.
type Sink interface {
	Add(*Result) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(*Result) error

// Add calls f(r).
func (f SinkFunc) Add(r *Result) error { return f(r) }
