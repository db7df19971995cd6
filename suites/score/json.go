package score

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// stripFences removes surrounding whitespace and, unless strict, one markdown
// code fence (```json … ```) around the answer.
func stripFences(s string, strict bool) string {
	s = strings.TrimSpace(s)
	if strict || !strings.HasPrefix(s, "```") {
		return s
	}
	nl := strings.IndexByte(s, '\n')
	if nl < 0 {
		return s
	}
	body := strings.TrimSpace(s[nl+1:])
	body = strings.TrimSuffix(body, "```")
	return strings.TrimSpace(body)
}

// decodeJSON decodes exactly one JSON value, keeping numbers exact.
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

func isStrict(s *Spec) bool { return s.Strict != nil && *s.Strict }

// is-json

type isJSON struct {
	noRefCheck
	strict bool
}

func buildIsJSON(s *Spec) (judge, error) { return isJSON{strict: isStrict(s)}, nil }

func (j isJSON) judge(out string, _ []string) verdict {
	if _, err := decodeJSON(stripFences(out, j.strict)); err != nil {
		return verdict{reason: fmt.Sprintf("not valid JSON (%v): %s", err, q(out))}
	}
	return verdict{value: 1, pass: true, reason: "output is valid JSON"}
}

// json-schema

type jsonSchema struct {
	noRefCheck
	sch    *jsonschema.Schema
	strict bool
}

var printer = message.NewPrinter(language.English)

type refusingLoader struct{}

func (refusingLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external $ref %q is not allowed; inline the definition", url)
}

const schemaURL = "urn:yardstick:schema"

// CompileSchema compiles a JSON Schema document (draft 2020-12 unless it says
// otherwise). External $refs are refused: scoring never touches the network.
func CompileSchema(doc []byte) (*jsonschema.Schema, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("invalid JSON schema: not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(refusingLoader{})
	if err := c.AddResource(schemaURL, v); err != nil {
		return nil, fmt.Errorf("invalid JSON schema: %v", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		var sve *jsonschema.SchemaValidationError
		if errors.As(err, &sve) {
			var ve *jsonschema.ValidationError
			if errors.As(sve.Err, &ve) {
				return nil, fmt.Errorf("invalid JSON schema: %s", leafMessage(ve))
			}
		}
		return nil, fmt.Errorf("invalid JSON schema: %v", err)
	}
	return sch, nil
}

// leafMessage is the first, most specific cause of a validation error.
func leafMessage(ve *jsonschema.ValidationError) string {
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	loc := "/" + strings.Join(ve.InstanceLocation, "/")
	return fmt.Sprintf("at %s: %s", loc, ve.ErrorKind.LocalizedString(printer))
}

func buildJSONSchema(s *Spec) (judge, error) {
	if s.Schema == nil {
		return nil, fieldErr(FieldSchema, "required for scorer %q", s.Type)
	}
	sch, err := CompileSchema(s.Schema)
	if err != nil {
		return nil, &FieldError{Field: FieldSchema, Err: err}
	}
	return jsonSchema{sch: sch, strict: isStrict(s)}, nil
}

func (j jsonSchema) judge(out string, _ []string) verdict {
	text := stripFences(out, j.strict)
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return verdict{reason: fmt.Sprintf("not valid JSON (%v): %s", err, q(out))}
	}
	if err := j.sch.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return verdict{reason: "schema violation " + leafMessage(ve)}
		}
		return verdict{reason: "schema violation: " + err.Error()}
	}
	return verdict{value: 1, pass: true, reason: "output matches the JSON schema"}
}

// json-match

type jsonMatch struct {
	n      normalizer
	strict bool
}

func buildJSONMatch(s *Spec) (judge, error) {
	n, err := compileNormalize(s.Normalize, defaultNorm(s.Type))
	return jsonMatch{n: n, strict: isStrict(s)}, err
}

func (j jsonMatch) checkRefs(refs []string) error {
	if _, err := decodeJSON(refs[0]); err != nil {
		return fmt.Errorf("not JSON (%v): %s", err, q(refs[0]))
	}
	return nil
}

func (j jsonMatch) judge(out string, refs []string) verdict {
	want, _ := decodeJSON(refs[0])
	got, err := decodeJSON(stripFences(out, j.strict))
	if err != nil {
		return verdict{reason: fmt.Sprintf("not valid JSON (%v): %s", err, q(out))}
	}
	wobj, ok := want.(map[string]any)
	if !ok {
		return boolVerdict(j.equal(got, want), "output equals the expected JSON",
			fmt.Sprintf("expected %s, got %s", compact(want), compact(got)))
	}
	gobj, ok := got.(map[string]any)
	if !ok {
		return verdict{reason: fmt.Sprintf("expected a JSON object, got %s", compact(got))}
	}
	keys := make([]string, 0, len(wobj))
	for k := range wobj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var wrong []string
	for _, k := range keys {
		g, present := gobj[k]
		switch {
		case !present:
			wrong = append(wrong, k+": missing")
		case !j.equal(g, wobj[k]):
			wrong = append(wrong, fmt.Sprintf("%s: expected %s, got %s", k, compact(wobj[k]), compact(g)))
		}
	}
	if len(wrong) == 0 {
		return verdict{value: 1, pass: true, reason: fmt.Sprintf("all %d fields match", len(keys))}
	}
	shown := wrong
	if len(shown) > 3 {
		shown = append(shown[:3:3], "…")
	}
	return verdict{
		value:  float64(len(keys)-len(wrong)) / float64(len(keys)),
		reason: fmt.Sprintf("%d of %d fields wrong: %s", len(wrong), len(keys), strings.Join(shown, "; ")),
	}
}

// equal compares JSON values: numbers by value, strings after normalisation,
// arrays in order, objects by key set.
func (j jsonMatch) equal(a, b any) bool {
	switch b := b.(type) {
	case json.Number:
		a, ok := a.(json.Number)
		if !ok {
			return false
		}
		x, _, err1 := big.ParseFloat(string(a), 10, 128, big.ToNearestEven)
		y, _, err2 := big.ParseFloat(string(b), 10, 128, big.ToNearestEven)
		return err1 == nil && err2 == nil && x.Cmp(y) == 0
	case string:
		a, ok := a.(string)
		return ok && j.n.apply(a) == j.n.apply(b)
	case []any:
		a, ok := a.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range b {
			if !j.equal(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		a, ok := a.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, bv := range b {
			av, ok := a[k]
			if !ok || !j.equal(av, bv) {
				return false
			}
		}
		return true
	default: // bool, nil
		return a == b
	}
}

// compact is v as JSON, shortened to about 60 runes.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if r := []rune(string(b)); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return string(b)
}
