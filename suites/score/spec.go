package score

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/yardstick-eval/yardstick/suites/internal/suggest"
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
	FieldStrict       = "strict"
)

// Spec describes one scorer, as decoded from a suite's `scorers:` list. Nil
// pointers and nil slices mean "not set"; a field set on a type that does not
// use it is an error.
type Spec struct {
	Type         string          // a scorer type, optionally "not-" prefixed
	Weight       *float64        // ≥ 0; nil: 1
	Value        *string         // template; nil: the case's expected answer
	Values       []string        // templates (contains-any, contains-all)
	Normalize    []string        // lower, trim, whitespace, punctuation, nfkc; nil: the type's default
	Pattern      string          // regex (RE2 syntax)
	Schema       json.RawMessage // JSON Schema document (json-schema)
	Labels       []string        // choice: the label set
	Tolerance    *float64        // numeric: absolute tolerance, ≥ 0
	RelTolerance *float64        // numeric: relative tolerance, ≥ 0
	Extract      string          // numeric: which number in the answer: last (default), first, only
	Strict       *bool           // is-json, json-schema, json-match: no markdown code fence stripping
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
	build  func(s *Spec) (judge, error)
}

var kinds = map[string]kind{
	"exact":        {[]string{FieldValue, FieldNormalize}, refOne, buildExact},
	"contains":     {[]string{FieldValue, FieldNormalize}, refOne, buildContains(false)},
	"icontains":    {[]string{FieldValue, FieldNormalize}, refOne, buildContains(true)},
	"contains-any": {[]string{FieldValue, FieldValues, FieldNormalize}, refMany, buildContainsSet(false)},
	"contains-all": {[]string{FieldValue, FieldValues, FieldNormalize}, refMany, buildContainsSet(true)},
	"starts-with":  {[]string{FieldValue, FieldNormalize}, refOne, buildAffix(true)},
	"ends-with":    {[]string{FieldValue, FieldNormalize}, refOne, buildAffix(false)},
	"regex":        {[]string{FieldPattern, FieldNormalize}, refNone, buildRegex},
	"is-json":      {[]string{FieldStrict}, refNone, buildIsJSON},
	"json-schema":  {[]string{FieldSchema, FieldStrict}, refNone, buildJSONSchema},
	"json-match":   {[]string{FieldValue, FieldNormalize, FieldStrict}, refOne, buildJSONMatch},
	"numeric":      {[]string{FieldValue, FieldTolerance, FieldRelTolerance, FieldExtract}, refOne, buildNumeric},
	"choice":       {[]string{FieldValue, FieldLabels}, refOne, buildChoice},
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
	add(s.Extract != "", FieldExtract)
	add(s.Strict != nil, FieldStrict)
	return f
}
