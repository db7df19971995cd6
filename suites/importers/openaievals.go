package importers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Eval classes of openai/evals' basic evals, for OpenAIEvalsOptions.Match.
const (
	EvalMatch    = "match"    // evals.elsuite.basic.match:Match: the answer starts with an ideal
	EvalIncludes = "includes" // basic.includes:Includes: the answer contains an ideal
	EvalFuzzy    = "fuzzy"    // basic.fuzzy_match:FuzzyMatch: contains an ideal, ignoring case, punctuation and spacing
	EvalExact    = "exact"    // the answer is an ideal
)

// OpenAIEvalsOptions configures OpenAIEvals.
type OpenAIEvalsOptions struct {
	Name  string // suite name; required
	Match string // how an answer is checked against ideal; default EvalMatch
}

// OpenAIEvals imports an openai/evals samples file: JSONL with "input" (a
// chat, a list of {role, content}, or a string) and "ideal" (a string or a
// list of acceptable answers). The chat's messages become the prompt (one
// variable per message, m0, m1, …); every sample must have the same roles in
// the same order, and a sample that does not is listed in Unmapped. Samples
// with one ideal are scored on the case's expected answer; when some have
// several, each case carries its own scorer.
func OpenAIEvals(r io.Reader, source string, opts OpenAIEvalsOptions) (*Result, error) {
	if opts.Name == "" {
		return nil, fmt.Errorf("a suite name is required")
	}
	match := opts.Match
	if match == "" {
		match = EvalMatch
	}
	if !slices.Contains([]string{EvalMatch, EvalIncludes, EvalFuzzy, EvalExact}, match) {
		return nil, fmt.Errorf("unknown match %q (match, includes, fuzzy, exact)", match)
	}
	res := &Result{}
	type sample struct {
		line   int
		msgs   []Message
		ideals []string
	}
	var samples []sample
	var roles []string
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if t := bytes.TrimSpace(b); len(t) > 0 {
			where := fmt.Sprintf("%s:%d", source, line)
			var raw struct {
				Input json.RawMessage `json:"input"`
				Ideal json.RawMessage `json:"ideal"`
			}
			if err := json.Unmarshal(t, &raw); err != nil {
				return nil, fmt.Errorf("%s: invalid JSON: %v", where, err)
			}
			var s sample
			s.line = line
			var text string
			if json.Unmarshal(raw.Input, &text) == nil {
				s.msgs = []Message{{Role: "user", Content: text}}
			} else if err := json.Unmarshal(raw.Input, &s.msgs); err != nil || len(s.msgs) == 0 {
				return nil, fmt.Errorf("%s: input: expected a string or a list of {role, content}", where)
			}
			var one string
			if json.Unmarshal(raw.Ideal, &one) == nil {
				s.ideals = []string{one}
			} else if err := json.Unmarshal(raw.Ideal, &s.ideals); err != nil || len(s.ideals) == 0 {
				return nil, fmt.Errorf("%s: ideal: expected a string or a non-empty list of strings", where)
			}
			var rs []string
			for _, m := range s.msgs {
				rs = append(rs, m.Role)
			}
			if roles == nil {
				roles = rs
			}
			if !slices.Equal(rs, roles) {
				res.Unmapped = append(res.Unmapped, Issue{where, "sample", fmt.Sprintf("its messages' roles %v differ from the first sample's %v; put it in another file", rs, roles)})
			} else {
				samples = append(samples, s)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("%s: no samples", source)
	}
	suite := Suite{Name: opts.Name, Description: "Imported from openai/evals samples " + source}
	var pr Prompt
	for i, role := range roles {
		pr.Messages = append(pr.Messages, Message{Role: role, Content: fmt.Sprintf("{{.m%d}}", i)})
	}
	suite.Prompt = pr
	several := slices.ContainsFunc(samples, func(s sample) bool { return len(s.ideals) > 1 })
	scorer := func(ideals []string) Scorer {
		switch match {
		case EvalIncludes:
			return Scorer{Type: "contains-any", Values: ideals}
		case EvalFuzzy:
			return Scorer{Type: "contains-any", Values: ideals, Normalize: []string{"nfkc", "lower", "punctuation", "whitespace"}}
		case EvalExact:
			if len(ideals) == 1 {
				return Scorer{Type: "exact", Value: ptr(ideals[0])}
			}
			return Scorer{Type: "regex", Pattern: `^\s*(?:` + alternation(ideals) + `)\s*$`}
		}
		return Scorer{Type: "regex", Pattern: `^\s*(?:` + alternation(ideals) + `)`}
	}
	if match == EvalFuzzy {
		res.Approximated = append(res.Approximated, Issue{source, "fuzzy", "FuzzyMatch also passes when the answer is contained in an ideal; Yardstick checks only that the answer contains one"})
	}
	if !several {
		sc := scorer([]string{"{{.expected}}"})
		if match == EvalMatch {
			sc = Scorer{Type: "starts-with", Value: ptr("{{.expected}}")}
		}
		if match == EvalExact {
			sc = Scorer{Type: "exact"}
		}
		suite.Scorers = []Scorer{sc}
	}
	for i, s := range samples {
		c := Case{ID: fmt.Sprintf("s%d", i+1), Vars: map[string]any{}}
		for j, m := range s.msgs {
			c.Vars[fmt.Sprintf("m%d", j)] = m.Content
		}
		c.Expected = s.ideals[0]
		if several {
			var ideals []string
			for _, x := range s.ideals {
				ideals = append(ideals, escapeTemplate(x))
			}
			if match == EvalMatch || match == EvalExact {
				ideals = s.ideals // regex patterns are not templates
			}
			c.Scorers = []Scorer{scorer(ideals)}
		}
		suite.Cases = append(suite.Cases, c)
	}
	res.Suites = []File{{Name: opts.Name + ".yaml", Suite: suite}}
	return res, nil
}

func alternation(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = regexp.QuoteMeta(s)
	}
	return strings.Join(q, "|")
}

// escapeTemplate makes literal text safe as a scorer value template.
func escapeTemplate(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return "{{`" + strings.ReplaceAll(s, "`", "`}}{{\"`\"}}{{`") + "`}}"
}
