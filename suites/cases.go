package suites

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/suites/score"
)

// SplitAll selects every case whatever its split.
const SplitAll = "all"

// CasesOptions selects the cases Cases produces.
type CasesOptions struct {
	// Split selects cases whose split equals it; "" means the suite's
	// DefaultSplit (every case when that is empty too); SplitAll means every case.
	Split string
	// Limit stops after this many selected cases; 0 means no limit.
	Limit int
}

// Cases streams the suite's cases, rendered: prompt templates executed,
// sampling defaults applied, Scorer, Tags (with "split"), Vars, Expected and
// PromptHash set. The dataset is read one row at a time, so a consumer that
// stops early reads little of it; every iteration reopens it.
//
// Problems with one row (it does not parse, its ID repeats an earlier one, a
// template needs a variable it lacks, a scorer cannot use its expected answer)
// are yielded as *Error values naming the row's file:line, and iteration goes
// on if the consumer continues. A selection that matches no row ends with an
// *Error too, so an empty run is never silent.
func (s *Suite) Cases(opts CasesOptions) iter.Seq2[*bench.Case, error] {
	split := opts.Split
	if split == "" {
		split = s.DefaultSplit
	}
	if split == "" {
		split = SplitAll
	}
	return func(yield func(*bench.Case, error) bool) {
		seen := map[string]string{} // case ID → position of its first row
		splits := map[string]bool{}
		rows, selected := 0, 0
		for r, err := range s.rows() {
			rows++
			if err != nil {
				if !yield(nil, err) {
					return
				}
				continue
			}
			if r.id == "" {
				r.id = fmt.Sprintf("row-%d", r.n)
			}
			if first, dup := seen[r.id]; dup {
				if !yield(nil, r.errf("id", "duplicate case ID %q (first at %s)", r.id, first)) {
					return
				}
				continue
			}
			seen[r.id] = r.pos()
			splits[r.split] = true
			if split != SplitAll && r.split != split {
				continue
			}
			if opts.Limit > 0 && selected >= opts.Limit {
				return
			}
			selected++
			c, errs := s.render(r)
			for _, e := range errs {
				if !yield(nil, e) {
					return
				}
			}
			if c != nil && !yield(c, nil) {
				return
			}
		}
		switch {
		case rows == 0:
			file := s.Dataset
			if file == "" {
				file = s.Path
			}
			yield(nil, &Error{File: file, Err: errors.New("no cases")})
		case selected == 0 && split != SplitAll:
			line := s.splitLine
			if opts.Split != "" || line == 0 {
				line = s.casesLine
			}
			names := slices.Sorted(maps.Keys(splits))
			for i, n := range names {
				if n == "" {
					names[i] = `""`
				}
			}
			yield(nil, &Error{File: s.Path, Line: line, Field: "cases.split",
				Err: fmt.Errorf("no cases in split %q (splits present: %s)", split, strings.Join(names, ", "))})
		}
	}
}

// render turns a row into a case. Errors name the row.
func (s *Suite) render(r *row) (*bench.Case, []*Error) {
	var errs []*Error
	has := func(k string) bool { _, ok := r.vars[k]; return ok }
	exec := func(p *promptPart) string {
		text, err := p.t.Execute(r.vars, has)
		if err != nil {
			errs = append(errs, r.err(p.field, err))
		}
		return text
	}
	req := providers.Request{
		MaxTokens:  s.Defaults.MaxTokens,
		Stop:       slices.Clone(s.Defaults.Stop),
		JSONSchema: s.Defaults.JSONSchema,
	}
	if t := s.Defaults.Temperature; t != nil {
		req.Temperature = providers.Float64(*t)
	}
	if t := s.Defaults.TopP; t != nil {
		req.TopP = providers.Float64(*t)
	}
	if v := s.Defaults.Seed; v != nil {
		req.Seed = providers.Int64(*v)
	}
	if s.system != nil {
		req.System = exec(s.system)
	}
	req.Messages = make([]providers.Message, 0, len(s.messages))
	for i := range s.messages {
		req.Messages = append(req.Messages, providers.Message{Role: s.messages[i].role, Content: exec(&s.messages[i])})
	}
	if s.maxPrompt > 0 {
		n := len(req.System)
		for _, m := range req.Messages {
			n += len(m.Content)
		}
		if n > s.maxPrompt {
			errs = append(errs, r.err("prompt", fmt.Errorf("rendered prompt is %d bytes, over the %d-byte limit (--max-prompt-bytes, run.max_prompt_bytes)", n, s.maxPrompt)))
		}
	}
	var refs []string
	for i := range s.images {
		if ref := strings.TrimSpace(exec(&s.images[i])); ref != "" { // an empty rendering means no image for this case
			refs = append(refs, ref)
		}
	}
	for _, ref := range append(refs, r.images...) {
		im, err := s.loadImage(ref)
		if err != nil {
			errs = append(errs, r.err("images", err))
			continue
		}
		attachImages(req.Messages, []providers.Image{im})
	}
	c := &bench.Case{
		Suite:        s.Name,
		SuiteVersion: s.Version,
		ID:           r.id,
		Request:      req,
		Expected:     r.expected,
		Vars:         make(map[string]string, len(r.vars)),
		Tags:         make(map[string]string, len(s.Tags)+len(r.tags)+1),
	}
	for k, v := range r.vars {
		c.Vars[k] = jsonText(v)
	}
	maps.Copy(c.Tags, s.Tags)
	maps.Copy(c.Tags, r.tags)
	if r.split != "" {
		c.Tags["split"] = r.split
	}
	sc := s.Scorer
	if len(r.parts) > 0 {
		t := s.PassThreshold
		if r.threshold != nil {
			t = *r.threshold
		}
		var parts []*score.Part
		if sc != nil {
			parts = sc.Parts()
		}
		var err error
		if sc, err = score.NewComposite(t, append(parts, r.parts...)...); err != nil {
			errs = append(errs, r.err("scorers", err))
			return nil, errs
		}
	}
	if sc != nil {
		if r.threshold != nil {
			sc = sc.WithThreshold(*r.threshold)
		}
		c.Scorer = sc
		if err := sc.Check(c); err != nil {
			errs = append(errs, s.scorerErrors(r, err)...)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	c.PromptHash = PromptHash(&c.Request)
	return c, nil
}

func (s *Suite) scorerErrors(r *row, err error) []*Error {
	var out []*Error
	for _, e := range unwrapAll(err) {
		var pe *score.PartError
		var re *score.RefError
		if !errors.As(e, &pe) || !errors.As(pe.Err, &re) {
			out = append(out, r.err("", e))
			continue
		}
		if re.Field == "expected" {
			out = append(out, r.err("expected", fmt.Errorf("scorers[%d] (%s): %w", pe.Index, pe.Name, re.Err)))
			continue
		}
		out = append(out, r.err(fmt.Sprintf("scorers[%d].%s", pe.Index, re.Field), re.Err))
	}
	return out
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// PromptHash is the hex SHA-256 of the canonical JSON of a request's prompt
// and sampling parameters (system, messages, max_tokens, temperature, top_p,
// seed, stop, json_schema); the model is not part of it.
func PromptHash(r *providers.Request) string {
	canon := struct {
		System      string              `json:"system"`
		Messages    []providers.Message `json:"messages"`
		MaxTokens   int                 `json:"max_tokens"`
		Temperature *float64            `json:"temperature"`
		TopP        *float64            `json:"top_p"`
		Seed        *int64              `json:"seed"`
		Stop        []string            `json:"stop"`
		JSONSchema  json.RawMessage     `json:"json_schema"`
	}{r.System, r.Messages, r.MaxTokens, r.Temperature, r.TopP, r.Seed, r.Stop, nil}
	if len(r.JSONSchema) > 0 {
		var v any
		if json.Unmarshal(r.JSONSchema, &v) == nil {
			canon.JSONSchema, _ = json.Marshal(v) // sorted keys, no whitespace
		} else {
			canon.JSONSchema = r.JSONSchema
		}
	}
	b, _ := json.Marshal(canon)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// maxErrors bounds the errors Check collects; the rest are counted.
const maxErrors = 100

// Check reads the whole dataset and renders every case of every split
// without calling anything, returning every problem found (an ErrorList), or
// nil. It also checks that the default split has cases.
func (s *Suite) Check(ctx context.Context) error {
	var errs ErrorList
	extra := 0
	bySplit := map[string]int{}
	i := 0
	for c, err := range s.Cases(CasesOptions{Split: SplitAll}) {
		if i++; i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				e = &Error{File: s.Path, Err: err}
			}
			if len(errs) < maxErrors {
				errs = append(errs, e)
			} else {
				extra++
			}
			continue
		}
		bySplit[c.Tags["split"]]++
	}
	if s.DefaultSplit != "" && bySplit[s.DefaultSplit] == 0 && len(bySplit) > 0 {
		errs = append(errs, &Error{File: s.Path, Line: s.splitLine, Field: "cases.split",
			Err: fmt.Errorf("no cases in split %q", s.DefaultSplit)})
	}
	if extra > 0 {
		errs = append(errs, &Error{File: s.Path, Err: fmt.Errorf("… and %d more errors", extra)})
	}
	return errs.err()
}

// Validate loads the suite at path and checks it and its whole dataset (see
// Suite.Check) without calling any model: `yardstick suites validate`.
func Validate(ctx context.Context, path string, opts LoadOptions) error {
	s, err := Load(path, opts)
	if err != nil {
		return err
	}
	return s.Check(ctx)
}

// Hash is the hex SHA-256 of the suite's content: the suite file and every
// file it reads (dataset, schema files, case images), each with the name the suite gives
// it and its length, read as a stream. It does not depend on where the suite
// is stored. Two runs with equal hashes used the same cases and prompts.
func (s *Suite) Hash() (string, error) {
	h := sha256.New()
	io.WriteString(h, "yardstick-suite-v1\n")
	for _, sf := range s.files {
		f, err := s.src.open(sf.path)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\n", sf.label)
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "\n%d\n", n)
	}
	if len(s.images) > 0 {
		// Images named by prompt.images templates are known only per case:
		// hash each distinct rendered reference's bytes, in case order.
		seen := map[string]bool{}
		for c, err := range s.Cases(CasesOptions{Split: SplitAll}) {
			if err != nil {
				continue // the run reports it
			}
			for _, m := range c.Request.Messages {
				for _, im := range m.Images {
					sum := sha256.Sum256(im.Data)
					if k := string(sum[:]); !seen[k] {
						seen[k] = true
						fmt.Fprintf(h, "image %s %x\n", im.MIMEType, sum)
					}
				}
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// chatLine is one line of OpenAI's chat fine-tuning format.
type chatLine struct {
	Messages []providers.Message `json:"messages"`
}

// ExportChat writes the cases of split (see CasesOptions.Split) as OpenAI
// chat fine-tuning JSONL: per case, the rendered system and prompt messages
// followed by an assistant message holding the expected answer. It stops at
// the first case error, or at a case without an expected answer.
func ExportChat(ctx context.Context, s *Suite, split string, w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for c, err := range s.Cases(CasesOptions{Split: split}) {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.Expected == "" {
			return fmt.Errorf("case %q has no expected answer to train on", c.ID)
		}
		if c.Request.HasImages() {
			return fmt.Errorf("case %q carries images; the chat export is text only", c.ID)
		}
		msgs := make([]providers.Message, 0, len(c.Request.Messages)+2)
		if c.Request.System != "" {
			msgs = append(msgs, providers.Message{Role: providers.RoleSystem, Content: c.Request.System})
		}
		msgs = append(msgs, c.Request.Messages...)
		msgs = append(msgs, providers.Message{Role: providers.RoleAssistant, Content: c.Expected})
		if err := enc.Encode(chatLine{Messages: msgs}); err != nil {
			return err
		}
	}
	return nil
}
