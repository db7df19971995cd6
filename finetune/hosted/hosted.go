// Package hosted fine-tunes a model on a provider's own engine (OpenAI's
// fine-tuning jobs) from the same chat JSONL the local fine-tuner reads:
// Validate checks the file against the provider's rules and estimates the
// training cost before anything is uploaded; Run uploads it, creates one
// job, follows its events and returns the tuned model's id. The job id is
// recorded in the output directory as soon as the job exists, so an
// interrupted Run that is started again re-attaches to that job instead of
// creating another.
//
// It does not train anything locally (package finetune does) and talks to
// the provider only through the JobAPI interface (go-openai's client fits).
package hosted

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/yardstick-eval/yardstick/bench/estimate"
	"github.com/yardstick-eval/yardstick/providers"
)

// Limits are a base model's fine-tuning limits and price.
type Limits struct {
	MaxTokensPerExample int     // training context
	MinExamples         int     // the provider refuses fewer
	USDPerMTok          float64 // training price per 1M trained tokens
}

// KnownLimits are OpenAI's published limits for the models it fine-tunes
// (training tokens are billed per epoch).
var KnownLimits = map[string]Limits{
	"gpt-4o-mini-2024-07-18":  {MaxTokensPerExample: 65536, MinExamples: 10, USDPerMTok: 3},
	"gpt-4o-2024-08-06":       {MaxTokensPerExample: 65536, MinExamples: 10, USDPerMTok: 25},
	"gpt-4.1-2025-04-14":      {MaxTokensPerExample: 65536, MinExamples: 10, USDPerMTok: 25},
	"gpt-4.1-mini-2025-04-14": {MaxTokensPerExample: 65536, MinExamples: 10, USDPerMTok: 5},
	"gpt-4.1-nano-2025-04-14": {MaxTokensPerExample: 65536, MinExamples: 10, USDPerMTok: 1.5},
	"gpt-3.5-turbo-0125":      {MaxTokensPerExample: 16385, MinExamples: 10, USDPerMTok: 8},
}

// Problem is one thing wrong with the training file.
type Problem struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Field, p.Msg)
}

// ValidationError lists every problem of a training file.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problem(s) in the training data:", len(e.Problems))
	for i, p := range e.Problems {
		if i == 20 {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Problems)-20)
			break
		}
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// Report is what Validate found in a valid file.
type Report struct {
	Examples       int
	Tokens         int // over the file, once
	MaxTokens      int // of the longest example
	Epochs         int
	EstimatedUSD   float64 // Tokens × Epochs at the training price; 0 when unknown
	PriceKnown     bool
	TokenizerExact bool
}

// Validate checks a chat JSONL training file for base: every line an
// object {"messages": [...]} whose roles are system, user or assistant, with
// string content, at least one user and one assistant message, ending on
// the assistant; every example within the base's token limit; at least the
// minimum number of examples. It counts tokens with the base's tokenizer and
// estimates the cost of epochs passes.
func Validate(r io.Reader, name, base string, epochs int) (Report, error) {
	lim, known := KnownLimits[base]
	if !known {
		lim = Limits{MaxTokensPerExample: 65536, MinExamples: 10}
	}
	tok, err := estimate.ForModel("openai", base)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Epochs: max(epochs, 1), PriceKnown: known, TokenizerExact: !tok.Approximate()}
	var probs []Problem
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		add := func(field, msg string, a ...any) {
			probs = append(probs, Problem{File: name, Line: n, Field: field, Msg: fmt.Sprintf(msg, a...)})
		}
		var ex struct {
			Messages []struct {
				Role    string `json:"role"`
				Content any    `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(line, &ex); err != nil {
			add("line", "not a JSON object: %v", err)
			continue
		}
		if len(ex.Messages) == 0 {
			add("messages", "missing or empty")
			continue
		}
		var msgs []providers.Message
		system := ""
		users, assistants := 0, 0
		for i, m := range ex.Messages {
			field := fmt.Sprintf("messages[%d]", i)
			content, ok := m.Content.(string)
			if !ok || content == "" {
				add(field+".content", "must be a non-empty string")
				continue
			}
			switch m.Role {
			case "system":
				system += content
			case "user":
				users++
				msgs = append(msgs, providers.Message{Role: providers.RoleUser, Content: content})
			case "assistant":
				assistants++
				msgs = append(msgs, providers.Message{Role: providers.RoleAssistant, Content: content})
			default:
				add(field+".role", "%q: want system, user or assistant", m.Role)
			}
		}
		if users == 0 || assistants == 0 {
			add("messages", "needs at least one user and one assistant message")
		}
		if last := ex.Messages[len(ex.Messages)-1]; last.Role != "assistant" {
			add(fmt.Sprintf("messages[%d].role", len(ex.Messages)-1), "the last message must be the assistant's (what the model learns to say)")
		}
		t := tok.CountMessages(system, msgs)
		if t > lim.MaxTokensPerExample {
			add("messages", "%d tokens, above %s's limit of %d per example", t, base, lim.MaxTokensPerExample)
		}
		rep.Examples++
		rep.Tokens += t
		rep.MaxTokens = max(rep.MaxTokens, t)
	}
	if err := sc.Err(); err != nil {
		return Report{}, fmt.Errorf("%s: %w", name, err)
	}
	if rep.Examples < lim.MinExamples {
		probs = append(probs, Problem{File: name, Msg: fmt.Sprintf("%d examples; fine-tuning %s needs at least %d", rep.Examples, base, lim.MinExamples)})
	}
	if len(probs) > 0 {
		return rep, &ValidationError{Problems: probs}
	}
	if known {
		rep.EstimatedUSD = float64(rep.Tokens) * float64(rep.Epochs) * lim.USDPerMTok / 1e6
	}
	return rep, nil
}

// JobAPI is the part of go-openai's client Run uses.
type JobAPI interface {
	CreateFileBytes(ctx context.Context, r goopenai.FileBytesRequest) (goopenai.File, error)
	CreateFineTuningJob(ctx context.Context, r goopenai.FineTuningJobRequest) (goopenai.FineTuningJob, error)
	RetrieveFineTuningJob(ctx context.Context, id string) (goopenai.FineTuningJob, error)
	ListFineTuningJobEvents(ctx context.Context, id string, opts ...goopenai.ListFineTuningJobEventsParameter) (goopenai.FineTuningJobEventList, error)
}

// State is the job record in the output directory (job.json).
type State struct {
	Base     string `json:"base"`
	Data     string `json:"data"`
	FileID   string `json:"training_file,omitempty"`
	JobID    string `json:"job_id,omitempty"`
	Status   string `json:"status,omitempty"`
	Model    string `json:"fine_tuned_model,omitempty"` // "ft:…" once succeeded
	Target   string `json:"target,omitempty"`           // "openai:ft:…", ready for -m
	Error    string `json:"error,omitempty"`
	LastEvt  string `json:"last_event,omitempty"`
	Epochs   int    `json:"n_epochs,omitempty"`
	Examples int    `json:"examples,omitempty"`
	Tokens   int    `json:"tokens,omitempty"`
}

// StateName is the job record's file name in the output directory.
const StateName = "job.json"

// Options configures Run.
type Options struct {
	Base, Data, Out string
	Epochs          int    // 0: the provider's auto
	Suffix          string // part of the tuned model's name
	PollMin         time.Duration
	PollMax         time.Duration
	// OnEvent receives every new job event, oldest first (progress).
	OnEvent func(goopenai.FineTuneEvent)
}

// JobError is a job the provider ended without a model.
type JobError struct {
	JobID, Status, Message string
}

func (e *JobError) Error() string {
	return fmt.Sprintf("fine-tuning job %s %s: %s", e.JobID, e.Status, e.Message)
}

// Run uploads the data, creates the job (or re-attaches to the one recorded
// in Out), follows it to its end and returns the final state. A failed or
// cancelled job is a *JobError carrying the provider's message.
func Run(ctx context.Context, api JobAPI, o Options) (*State, error) {
	if o.PollMin <= 0 {
		o.PollMin = 10 * time.Second
	}
	if o.PollMax < o.PollMin {
		o.PollMax = max(time.Minute, o.PollMin)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(o.Out, StateName)
	st := &State{Base: o.Base, Data: o.Data, Epochs: o.Epochs}
	if data, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(data, st); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if st.Base != o.Base {
			return nil, fmt.Errorf("%s holds a job for %s, not %s: choose another --out", o.Out, st.Base, o.Base)
		}
	}
	save := func() error { return writeState(path, st) }
	if st.FileID == "" {
		data, err := os.ReadFile(o.Data)
		if err != nil {
			return nil, err
		}
		f, err := api.CreateFileBytes(ctx, goopenai.FileBytesRequest{Name: filepath.Base(o.Data), Bytes: data, Purpose: goopenai.PurposeFineTune})
		if err != nil {
			return nil, fmt.Errorf("uploading %s: %w", o.Data, err)
		}
		st.FileID = f.ID
		if err := save(); err != nil {
			return nil, err
		}
	}
	if st.JobID == "" {
		req := goopenai.FineTuningJobRequest{TrainingFile: st.FileID, Model: o.Base, Suffix: o.Suffix}
		if o.Epochs > 0 {
			req.Hyperparameters = &goopenai.Hyperparameters{Epochs: o.Epochs}
		}
		job, err := api.CreateFineTuningJob(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("creating the fine-tuning job: %w", err)
		}
		st.JobID, st.Status = job.ID, job.Status
		if err := save(); err != nil {
			return nil, err
		}
	}
	wait := o.PollMin
	var lastErrEvent string
	for {
		job, err := api.RetrieveFineTuningJob(ctx, st.JobID)
		if err != nil {
			if ctx.Err() != nil {
				return st, ctx.Err()
			}
			return st, fmt.Errorf("fine-tuning job %s: %w", st.JobID, err)
		}
		evs, err := api.ListFineTuningJobEvents(ctx, st.JobID, goopenai.ListFineTuningJobEventsWithLimit(100))
		if err == nil {
			// The API lists newest first; report the new ones oldest first.
			var fresh []goopenai.FineTuneEvent
			for _, e := range evs.Data {
				if eventKey(e) == st.LastEvt {
					break
				}
				fresh = append(fresh, e)
			}
			for i := len(fresh) - 1; i >= 0; i-- {
				if fresh[i].Level == "error" {
					lastErrEvent = fresh[i].Message
				}
				if o.OnEvent != nil {
					o.OnEvent(fresh[i])
				}
			}
			if len(fresh) > 0 {
				st.LastEvt = eventKey(fresh[0])
			}
		}
		st.Status = job.Status
		switch job.Status {
		case "succeeded":
			st.Model = job.FineTunedModel
			st.Target = "openai:" + job.FineTunedModel
			return st, save()
		case "failed", "cancelled":
			msg := cmpOr(lastErrEvent, "the provider gave no reason")
			st.Error = msg
			save()
			return st, &JobError{JobID: st.JobID, Status: job.Status, Message: msg}
		}
		if err := save(); err != nil {
			return st, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return st, ctx.Err()
		}
		wait = time.Duration(math.Min(float64(wait*2), float64(o.PollMax)))
	}
}

// eventKey identifies an event (the SDK's event type carries no id).
func eventKey(e goopenai.FineTuneEvent) string { return fmt.Sprintf("%d %s", e.CreatedAt, e.Message) }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func writeState(path string, st *State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
