package score

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/yardstick-eval/yardstick/internal/suggest"
	"github.com/yardstick-eval/yardstick/providers"
)

// Spec field names, as written in suite files and reported in *FieldError.
const (
	FieldType         = "type"
	FieldWeight       = "weight"
	FieldValue        = "value"
	FieldValues       = "values"
	FieldNormalize    = "normalize"
	FieldPattern      = "pattern"
	FieldSchema       = "schema"
	FieldLabels       = "labels"
	FieldTolerance    = "tolerance"
	FieldRelTolerance = "rel_tolerance"
	FieldExtract      = "extract"
	FieldMatch        = "match"
	FieldStrict       = "strict"
	FieldModel        = "model"
	FieldRubric       = "rubric"
	FieldChoices      = "choices"
	FieldSamples      = "samples"
	FieldTemperature  = "temperature"
)

// Spec describes one scorer, as decoded from a suite's `scorers:` list. Nil
// pointers and nil slices mean "not set"; a field set on a type that does not
// use it is an error.
type Spec struct {
	Type         string          // a scorer type, optionally "not-" prefixed
	Weight       *float64        // ≥ 0; nil: 1
	Value        *string         // template; nil: the case's expected answer
	Values       []string        // templates (contains-any, contains-all)
	Normalize    []string        // nfkc, width, lower, punctuation, nospace, whitespace, trim; nil: the type's default
	Pattern      string          // regex (RE2 syntax)
	Schema       json.RawMessage // JSON Schema document (json-schema)
	Labels       []string        // choice: the label set
	Tolerance    *float64        // numeric: absolute tolerance, ≥ 0
	RelTolerance *float64        // numeric: relative tolerance, ≥ 0
	Extract      *Extract        // which part of the answer to score (and numeric: which number); nil: all of it
	Match        string          // choice: how a label must stand in the answer: auto (default), word, prefix, exact
	Strict       *bool           // is-json, json-schema, json-match: no markdown code fence stripping

	// Model-graded (judge) fields; see NewPart and the package doc.
	Model       string   // judge: the grading model as written (a target string); informational once Grader is set
	Rubric      string   // judge: template over the case's variables, expected and id
	Choices     []Choice // judge: grades and their values, in order; nil: PASS 1, FAIL 0
	Samples     *int     // judge: grading requests per answer, 1–100; nil: 1
	Temperature *float64 // judge: sampling temperature of grading requests, ≥ 0; nil: 0 (sent explicitly)
	Grader      *Grader  // judge: the resolved Model; required (the caller resolves Model to it)
}

// Choice is one grade a judge may give and the score it is worth.
type Choice struct {
	Label string  // a word: letters, digits and . _ - inside; matched case-insensitively
	Value float64 // in [0, 1]
}

// Grader is the model a judge scorer calls: a provider, already wrapped in
// the caller's retry, limit and cache decorators (every grading request goes
// through it), and the model name to put in requests. The provider must be
// safe for concurrent use. Price, when set, prices the grading calls
// (bench.ScorePart.CostUSD); nil: their cost is unknown.
type Grader struct {
	Provider providers.Provider
	Model    string
	Price    *providers.Price
}

// FieldError is a configuration error in one Spec field. Field is a Field*
// name, possibly indexed ("values[2]").
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// refMode says what reference values a type compares against.
type refMode int

const (
	refNone refMode = iota // regex, is-json, json-schema
	refOne                 // value, or the case's expected
	refMany                // values, or value, or the case's expected
)

type kind struct {
	fields []string // optional Spec fields beyond type and weight
	refs   refMode
	build  func(s *Spec) (judge, error) // nil when buildCase is set
	// buildCase builds a judge that needs the whole case and a context (a
	// model-graded judge); set instead of build.
	buildCase func(s *Spec) (caseJudge, error)
}

var (
	textFields = []string{FieldValue, FieldNormalize, FieldExtract}
	setFields  = []string{FieldValue, FieldValues, FieldNormalize, FieldExtract}
)

var kinds = map[string]kind{
	"exact":        {fields: textFields, refs: refOne, build: buildExact},
	"contains":     {fields: textFields, refs: refOne, build: buildContains(false)},
	"icontains":    {fields: textFields, refs: refOne, build: buildContains(true)},
	"contains-any": {fields: setFields, refs: refMany, build: buildContainsSet(false)},
	"contains-all": {fields: setFields, refs: refMany, build: buildContainsSet(true)},
	"starts-with":  {fields: textFields, refs: refOne, build: buildAffix(true)},
	"ends-with":    {fields: textFields, refs: refOne, build: buildAffix(false)},
	"regex":        {fields: []string{FieldPattern, FieldNormalize, FieldExtract}, refs: refNone, build: buildRegex},
	"is-json":      {fields: []string{FieldStrict}, refs: refNone, build: buildIsJSON},
	"json-schema":  {fields: []string{FieldSchema, FieldStrict}, refs: refNone, build: buildJSONSchema},
	"json-match":   {fields: []string{FieldValue, FieldNormalize, FieldStrict}, refs: refOne, build: buildJSONMatch},
	"numeric":      {fields: []string{FieldValue, FieldTolerance, FieldRelTolerance, FieldExtract, FieldNormalize}, refs: refOne, build: buildNumeric},
	"choice":       {fields: []string{FieldValue, FieldLabels, FieldMatch, FieldExtract}, refs: refOne, build: buildChoice},
	"judge": {fields: []string{FieldModel, FieldRubric, FieldChoices, FieldSamples, FieldTemperature},
		refs: refNone, buildCase: buildModelJudge},
}

// Types returns the scorer type names (without the not- variants), sorted.
func Types() []string {
	t := make([]string, 0, len(kinds))
	for k := range kinds {
		t = append(t, k)
	}
	slices.Sort(t)
	return t
}

// Fields returns the Spec fields (beyond type and weight) a scorer type
// accepts, or nil for an unknown type. The "not-" prefix is ignored.
func Fields(typ string) []string {
	k, ok := kinds[strings.TrimPrefix(typ, "not-")]
	if !ok {
		return nil
	}
	return slices.Clone(k.fields)
}

// UnknownTypeError is returned for a Spec.Type that names no scorer.
type UnknownTypeError struct {
	Type       string
	Suggestion string // closest known type, "" when none is close
}

func (e *UnknownTypeError) Error() string {
	msg := fmt.Sprintf("unknown scorer %q", e.Type)
	if e.Suggestion != "" {
		msg += fmt.Sprintf("; did you mean %q?", e.Suggestion)
	} else {
		msg += " (known: " + strings.Join(Types(), ", ") + ")"
	}
	return msg
}

func lookup(typ string) (kind, bool, error) {
	base, neg := strings.CutPrefix(typ, "not-")
	if k, ok := kinds[base]; ok {
		return k, neg, nil
	}
	s := suggest.Closest(base, Types())
	if s != "" && neg {
		s = "not-" + s
	}
	if typ == "" {
		return kind{}, false, fieldErr(FieldType, "required (one of %s)", strings.Join(Types(), ", "))
	}
	return kind{}, false, &FieldError{Field: FieldType, Err: &UnknownTypeError{Type: typ, Suggestion: s}}
}

// setFields lists the optional fields set in s.
func (s *Spec) setFields() []string {
	var f []string
	add := func(set bool, name string) {
		if set {
			f = append(f, name)
		}
	}
	add(s.Value != nil, FieldValue)
	add(s.Values != nil, FieldValues)
	add(s.Normalize != nil, FieldNormalize)
	add(s.Pattern != "", FieldPattern)
	add(s.Schema != nil, FieldSchema)
	add(s.Labels != nil, FieldLabels)
	add(s.Tolerance != nil, FieldTolerance)
	add(s.RelTolerance != nil, FieldRelTolerance)
	add(s.Extract != nil, FieldExtract)
	add(s.Match != "", FieldMatch)
	add(s.Strict != nil, FieldStrict)
	add(s.Model != "" || s.Grader != nil, FieldModel)
	add(s.Rubric != "", FieldRubric)
	add(s.Choices != nil, FieldChoices)
	add(s.Samples != nil, FieldSamples)
	add(s.Temperature != nil, FieldTemperature)
	return f
}
