// Package importers turns other evaluation tools' test definitions into
// Yardstick suite files: promptfoo configurations (prompts × providers ×
// tests with their assertions) and openai/evals sample files (JSONL with
// input and ideal). The result is plain data, a suite you can read and edit,
// plus the targets to run it against and an exact list of what could not be
// mapped or was mapped approximately.
//
// This package writes nothing and calls no model; the yardstick CLI
// (`yardstick import`) writes the files and validates them with package
// suites.
package importers

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Result is one import.
type Result struct {
	Suites  []File   // one suite file per prompt
	Targets []string // Yardstick target strings (for -m) of the source's providers
	// Unmapped lists what the import left out; Approximated what it mapped
	// with a different meaning. Each names where it was in the source.
	Unmapped     []Issue
	Approximated []Issue
}

// Issue is one thing an import could not carry over exactly.
type Issue struct {
	Where string // e.g. "tests[3].assert[1]"
	What  string // e.g. "javascript"
	Why   string
}

func (i Issue) String() string { return fmt.Sprintf("%s %s: %s", i.Where, i.What, i.Why) }

// File is a suite file to write: its name (a file name, no directory) and
// content.
type File struct {
	Name  string
	Suite Suite
}

// Suite is a suite file, in the field order Yardstick documents.
type Suite struct {
	Name          string            `yaml:"name"`
	Description   string            `yaml:"description,omitempty"`
	Tags          map[string]string `yaml:"tags,omitempty"`
	Prompt        Prompt            `yaml:"prompt"`
	Cases         []Case            `yaml:"cases"`
	Defaults      *Defaults         `yaml:"defaults,omitempty"`
	Scorers       []Scorer          `yaml:"scorers,omitempty"`
	PassThreshold *float64          `yaml:"pass_threshold,omitempty"`
	Thresholds    []string          `yaml:"thresholds,omitempty"`
}

// Prompt is either System + User or Messages.
type Prompt struct {
	System   string    `yaml:"system,omitempty"`
	User     string    `yaml:"user,omitempty"`
	Messages []Message `yaml:"messages,omitempty"`
}

// Message is one templated prompt message.
type Message struct {
	Role    string `yaml:"role"`
	Content string `yaml:"content"`
}

// Case is an inline case.
type Case struct {
	ID            string            `yaml:"id"`
	Vars          map[string]any    `yaml:"vars,omitempty"`
	Expected      string            `yaml:"expected,omitempty"`
	Tags          map[string]string `yaml:"tags,omitempty"`
	PassThreshold *float64          `yaml:"pass_threshold,omitempty"`
	Scorers       []Scorer          `yaml:"scorers,omitempty"`
}

// Defaults are sampling parameters.
type Defaults struct {
	Temperature *float64 `yaml:"temperature,omitempty"`
	MaxTokens   int      `yaml:"max_tokens,omitempty"`
}

// Scorer is one scorer entry.
type Scorer struct {
	Type      string   `yaml:"type"`
	Weight    *float64 `yaml:"weight,omitempty"`
	Value     *string  `yaml:"value,omitempty"`
	Values    []string `yaml:"values,omitempty"`
	Normalize []string `yaml:"normalize,omitempty"`
	Pattern   string   `yaml:"pattern,omitempty"`
	Schema    any      `yaml:"schema,omitempty"`
	Model     string   `yaml:"model,omitempty"`
	Rubric    string   `yaml:"rubric,omitempty"`
}

// YAML renders the suite file with a header comment naming its source.
func (f File) YAML(source string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Imported from %s by `yardstick import`; edit freely.\n", source)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f.Suite); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// slug makes a suite name or case ID from free text: lower-case ASCII
// letters and digits joined by '-', at most max bytes; "" when nothing is
// left.
func slug(s string, max int) string {
	s = strings.Trim(slugRE.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > max {
		s = strings.TrimRight(s[:max], "-")
	}
	return s
}

func ptr[T any](v T) *T { return &v }
