package suites

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// validHead is a minimal valid suite; tests append or replace parts of it.
const validHead = `name: t
prompt:
  user: "Classify: {{.text}}"
`

// badThreshold stands in for gate.Parse: it accepts "METRIC OP NUMBER" for a
// few metrics.
func badThreshold(expr string) error {
	f := strings.Fields(expr)
	if len(f) != 3 {
		return errors.New("want METRIC OP VALUE")
	}
	switch f[0] {
	case "pass_rate", "error_rate", "score":
	default:
		return errors.New("unknown metric " + f[0])
	}
	return nil
}

var malformed = []struct {
	name  string
	files map[string]string // "suite.yaml" plus any dataset or schema files
	want  []string          // exact errors, in order
}{
	{"unknown top-level field", map[string]string{"suite.yaml": validHead + `descripton: typo
cases: [{id: a, vars: {text: hi}}]
`}, []string{`suite.yaml:4: unknown field "descripton"; did you mean "description"?`}},

	{"unknown scorer type", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}, expected: x}]
scorers:
  - type: exact
  - type: regexp
    pattern: "^x$"
`}, []string{`suite.yaml:7: scorers[1].type: unknown scorer "regexp"; did you mean "regex"?`}},

	{"unknown scorer field", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}, expected: x}]
scorers:
  - type: exact
    weigth: 2
`}, []string{`suite.yaml:7: scorers[0]: unknown field "weigth"; did you mean "weight"?`}},

	{"wrong type temperature", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
defaults:
  temperature: hot
`}, []string{`suite.yaml:6: defaults.temperature: expected a number, got "hot"`}},

	{"wrong type max_tokens", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
defaults: {max_tokens: 1.5, top_p: 0}
`}, []string{
		`suite.yaml:5: defaults.max_tokens: expected an integer, got number 1.5`,
		`suite.yaml:5: defaults.top_p: must be in (0, 1], got 0`,
	}},

	{"prompt is a list", map[string]string{"suite.yaml": `name: t
prompt:
  - user: hi
cases: [{id: a}]
`}, []string{`suite.yaml:3: prompt: expected a mapping, got a list`}},

	{"bad template in block", map[string]string{"suite.yaml": `name: t
prompt:
  user: |
    Classify this message.
    Message: {{.text | nofunc}}
    Answer with a label.
cases: [{id: a, vars: {text: hi}}]
`}, []string{`suite.yaml:5: prompt.user: template: function "nofunc" not defined`}},

	{"unknown template function", map[string]string{"suite.yaml": `name: t
prompt:
  system: "{{titlecase .name}}"
  user: "{{.text}}"
cases: [{id: a, vars: {text: hi}}]
`}, []string{`suite.yaml:3: prompt.system: template: function "titlecase" not defined`}},

	{"missing variable inline", map[string]string{"suite.yaml": validHead + `cases:
  - {id: a, vars: {text: hi}}
  - {id: b, vars: {txt: typo}}
`}, []string{`suite.yaml:6: case "b": prompt.user: missing variable "text"`}},

	{"missing variable in dataset", map[string]string{"suite.yaml": validHead + `cases: {file: cases.jsonl}
`, "cases.jsonl": `{"id": "a", "text": "hi"}
{"id": "b", "body": "hello"}
`}, []string{`cases.jsonl:2: case "b": prompt.user: missing variable "text"`}},

	{"bad regex", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
scorers:
  - {type: regex, pattern: "order (\\d+"}
`}, []string{"suite.yaml:6: scorers[0].pattern: invalid regex: error parsing regexp: missing closing ): `order (\\d+`"}},

	{"bad inline JSON schema", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
scorers:
  - type: json-schema
    schema:
      type: objekt
`}, []string{`suite.yaml:8: scorers[0].schema: invalid JSON schema: at /type: value must be one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'`}},

	{"bad JSON schema file", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
scorers:
  - {type: json-schema, schema_file: schema.json}
`, "schema.json": `{"type": "object", "required": "intent"}`}, []string{
		`suite.yaml:6: scorers[0].schema_file: invalid JSON schema: at /required: got string, want array`,
	}},

	{"missing JSON schema file", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
scorers:
  - type: json-schema
    schema_file: nope.json
`}, []string{`suite.yaml:7: scorers[0].schema_file: cannot read nope.json: file does not exist`}},

	{"duplicate inline case IDs", map[string]string{"suite.yaml": validHead + `cases:
  - {id: a, vars: {text: one}}
  - {id: b, vars: {text: two}}
  - {id: a, vars: {text: three}}
`}, []string{`suite.yaml:7: case "a": id: duplicate case ID "a" (first at suite.yaml:5)`}},

	{"duplicate dataset case IDs", map[string]string{"suite.yaml": validHead + `cases: {file: data/cases.jsonl}
`, "data/cases.jsonl": `{"id": "a", "text": "one"}

{"id": "b", "text": "two"}
{"id": "a", "text": "three"}
`}, []string{`data/cases.jsonl:4: case "a": id: duplicate case ID "a" (first at data/cases.jsonl:1)`}},

	{"missing dataset", map[string]string{"suite.yaml": validHead + `cases:
  file: cases.jsonl
`}, []string{`suite.yaml:5: cases.file: dataset "cases.jsonl" not found (looked for cases.jsonl)`}},

	{"CSV ragged row", map[string]string{"suite.yaml": validHead + `cases: {file: cases.csv}
`, "cases.csv": "id,text,expected\na,hello,x\nb,\"multi\nline\",y\nc,short\nd,fine,z\n"}, []string{
		`cases.csv:5: row has 2 fields, header has 3`,
	}},

	{"CSV duplicate column", map[string]string{"suite.yaml": validHead + `cases: {file: cases.csv}
`, "cases.csv": "id,text,text\na,b,c\n"}, []string{`cases.csv:1: column 3: duplicate column "text" (also column 2)`}},

	{"JSONL bad lines", map[string]string{"suite.yaml": validHead + `cases: {file: cases.jsonl}
`, "cases.jsonl": "{\"id\": \"a\", \"text\": \"ok\"}\n{\"id\": \"b\", \"text\": \"unterminated}\n[1, 2]\n{\"id\": \"d\", \"text\": \"ok\"} {\"x\": 1}\n{\"id\": \"e\", \"text\": \"fine\"}\n"}, []string{
		`cases.jsonl:2: invalid JSON: unexpected EOF`,
		`cases.jsonl:3: invalid JSON: expected an object, got an array`,
		`cases.jsonl:4: invalid JSON: more than one value on the line`,
	}},

	{"empty inline cases", map[string]string{"suite.yaml": validHead + `cases: []
`}, []string{`suite.yaml:4: cases: no cases`}},

	{"empty dataset", map[string]string{"suite.yaml": validHead + `cases: {file: cases.jsonl}
`, "cases.jsonl": "\n\n"}, []string{`cases.jsonl: no cases`}},

	{"invalid threshold", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
thresholds:
  - pass_rate >= 0.9
  - pass_rat >= 0.9
  - "latency"
`}, []string{
		`suite.yaml:7: thresholds[1]: invalid threshold "pass_rat >= 0.9": unknown metric pass_rat`,
		`suite.yaml:8: thresholds[2]: invalid threshold "latency": want METRIC OP VALUE`,
	}},

	{"negative weight", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}, expected: x}]
scorers:
  - type: exact
    weight: -1
`}, []string{`suite.yaml:7: scorers[0].weight: must be a finite number ≥ 0, got -1`}},

	{"duplicate key", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
name: again
`}, []string{`suite.yaml:5: name: duplicate field (first at line 1)`}},

	{"YAML syntax", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}
scorers: []
`}, []string{`suite.yaml:4: invalid YAML: did not find expected ',' or ']'`}},

	{"missing required fields", map[string]string{"suite.yaml": `description: nothing else
`}, []string{
		`suite.yaml:1: missing required field "name"`,
		`suite.yaml:1: missing required field "prompt"`,
		`suite.yaml:1: missing required field "cases"`,
	}},

	{"user and messages", map[string]string{"suite.yaml": `name: t
prompt:
  user: hi
  messages: [{role: user, content: hi}]
cases: [{id: a}]
`}, []string{`suite.yaml:4: prompt.messages: use either system and user, or messages, not both`}},

	{"unknown role", map[string]string{"suite.yaml": `name: t
prompt:
  messages:
    - {role: system, content: "Be brief."}
    - {role: usr, content: "{{.q}}"}
cases: [{id: a, vars: {q: hi}}]
`}, []string{`suite.yaml:5: prompt.messages[1].role: unknown role "usr"; did you mean "user"? (known: system, user, assistant)`}},

	{"no user message", map[string]string{"suite.yaml": `name: "bad name"
prompt:
  messages:
    - {role: system, content: "Be brief."}
    - {role: assistant, content: "Hello"}
cases: [{id: a}]
`}, []string{
		`suite.yaml:1: name: "bad name": use letters, digits, '.', '_' and '-', starting with a letter or digit`,
		`suite.yaml:4: prompt.messages: needs at least one user message`,
	}},

	{"system message not first", map[string]string{"suite.yaml": `name: t
prompt:
  messages:
    - {role: user, content: "{{.q}}"}
    - {role: system, content: "late"}
cases: [{id: a, vars: {q: hi}}]
`}, []string{`suite.yaml:5: prompt.messages[1].role: a system message must come first`}},

	{"unknown normalisation", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}, expected: x}]
scorers:
  - type: exact
    normalize:
      - trim
      - lowercase
`}, []string{`suite.yaml:9: scorers[0].normalize[1]: unknown normalisation "lowercase"; did you mean "lower"? (known: nfkc, width, lower, punctuation, nospace, whitespace, trim)`}},

	{"extract mapping typo", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}, expected: "1"}]
scorers:
  - type: numeric
    extract: {afer: "####"}
`}, []string{`suite.yaml:7: scorers[0].extract: unknown field "afer"; did you mean "after"?`}},

	{"extract regex invalid", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}, expected: "1"}]
scorers:
  - type: numeric
    extract:
      regex: "a(b"
`}, []string{"suite.yaml:8: scorers[0].extract.regex: invalid regex: error parsing regexp: missing closing ): `a(b`"}},

	{"match typo", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}, expected: b}]
scorers:
  - {type: choice, labels: [a, b], match: wrod}
`}, []string{`suite.yaml:6: scorers[0].match: unknown match mode "wrod"; did you mean "word"? (known: auto, word, prefix, exact)`}},

	{"field not used by type", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}, expected: x}]
scorers:
  - type: exact
    labels: [a, b]
`}, []string{`suite.yaml:7: scorers[0].labels: not used by scorer "exact"`}},

	{"choice expected not a label", map[string]string{"suite.yaml": validHead + `cases:
  - {id: a, vars: {text: hi}, expected: refund}
  - {id: b, vars: {text: hi}, expected: refnud}
scorers:
  - {type: choice, labels: [refund, billing]}
`}, []string{`suite.yaml:6: case "b": expected: scorers[0] (choice): "refnud" is not one of the labels ["refund", "billing"]`}},

	{"numeric expected not a number", map[string]string{"suite.yaml": validHead + `cases: {file: cases.csv}
scorers:
  - {type: numeric, tolerance: 0.5}
`, "cases.csv": "id,text,expected\na,q1,42\nb,q2,forty-two\nc,q3,\n"}, []string{
		`cases.csv:3: case "b": expected: scorers[0] (numeric): no number in "forty-two"`,
		`cases.csv:4: case "c": expected: scorers[0] (numeric): scorer "numeric" needs an expected answer (or a value on the scorer)`,
	}},

	{"scorer value missing variable", map[string]string{"suite.yaml": validHead + `cases:
  - {id: a, vars: {text: hi, city: Paris}}
  - {id: b, vars: {text: hi}}
scorers:
  - {type: contains, value: "{{.city}}"}
`}, []string{`suite.yaml:6: case "b": scorers[0].value: missing variable "city"`}},

	{"unquoted template", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}, expected: x}]
scorers:
  - type: exact
    value: {{.expected}}
`}, []string{`suite.yaml:7: scorers[0].value: expected a string, got a mapping; quote template text, e.g. "{{.expected}}"`}},

	{"bad scorer value template", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
scorers:
  - type: contains
    value: "{{.city"
`}, []string{`suite.yaml:7: scorers[0].value: template: unclosed action`}},

	{"pass_threshold out of range", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}, pass_threshold: 2}]
pass_threshold: -0.5
`}, []string{
		`suite.yaml:4: cases[0].pass_threshold: must be in [0, 1], got 2`,
		`suite.yaml:5: pass_threshold: must be in [0, 1], got -0.5`,
	}},

	{"dataset pass_threshold", map[string]string{"suite.yaml": validHead + `cases: {file: cases.jsonl}
`, "cases.jsonl": `{"id": "a", "text": "x", "pass_threshold": 0.5}
{"id": "b", "text": "x", "pass_threshold": "high"}
{"id": "c", "text": "x", "split": 3}
`}, []string{
		`cases.jsonl:2: case "b": pass_threshold: expected a number, got "high"`,
		`cases.jsonl:3: case "c": split: expected a string, got a number`,
	}},

	{"split without cases", map[string]string{"suite.yaml": validHead + `cases:
  split: tset
  items:
    - {id: a, vars: {text: hi}, split: test}
    - {id: b, vars: {text: hi}, split: train}
`}, []string{
		`suite.yaml:5: cases.split: no cases in split "tset"`,
	}},

	{"unsupported dataset type", map[string]string{"suite.yaml": validHead + `cases: {file: cases.xlsx}
`}, []string{`suite.yaml:4: cases.file: unsupported dataset "cases.xlsx": use .jsonl, .csv, .json (an array of objects) or .parquet`}},

	{"dataset outside the file system", map[string]string{"suite.yaml": validHead + `cases: {file: ../cases.jsonl}
`}, []string{`suite.yaml:4: cases.file: path "../cases.jsonl" leaves the suite's file system`}},

	{"empty scorers", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
scorers: []
`}, []string{`suite.yaml:5: scorers: empty list; omit the field to accept every answer`}},

	{"empty stop sequence", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
defaults: {stop: ["\n", ""], temperature: -1}
`}, []string{
		`suite.yaml:5: defaults.stop[1]: empty stop sequence`,
		`suite.yaml:5: defaults.temperature: must be ≥ 0, got -1`,
	}},

	{"unknown inline case field", map[string]string{"suite.yaml": validHead + `cases:
  - id: a
    vars: {text: hi}
    expect: x
`}, []string{`suite.yaml:7: cases[0]: unknown field "expect"; did you mean "expected"?`}},

	{"tags wrong type", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
tags: [a, b]
`}, []string{`suite.yaml:5: tags: expected a mapping, got a list`}},

	{"bad name", map[string]string{"suite.yaml": `name: "my suite!"
prompt: {user: hi}
cases: [{id: a}]
`}, []string{`suite.yaml:1: name: "my suite!": use letters, digits, '.', '_' and '-', starting with a letter or digit`}},

	{"bad response schema", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
defaults:
  json_schema: {type: object, properties: {a: {type: 5}}}
`}, []string{`suite.yaml:6: defaults.json_schema: invalid JSON schema: at /properties/a/type: value must be one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'`}},

	{"several errors at once", map[string]string{"suite.yaml": `name: t
version: [1]
prompt:
  user: "{{.text}"
cases: [{id: a, vars: {text: hi}}]
scorers:
  - {type: contians, value: x}
  - {type: numeric, extract: middle}
thresholds: nope >= 1
`}, []string{
		`suite.yaml:2: version: expected a string, got a list`,
		`suite.yaml:4: prompt.user: template: bad character U+007D '}'`,
		`suite.yaml:7: scorers[0].type: unknown scorer "contians"; did you mean "contains"?`,
		`suite.yaml:8: scorers[1].extract: unknown extract "middle": use one of last, first, only, answer, or {after: TEXT} or {regex: PATTERN}`,
		`suite.yaml:9: thresholds[0]: invalid threshold "nope >= 1": unknown metric nope`,
	}},
}

func TestMalformed(t *testing.T) {
	if len(malformed) < 20 {
		t.Fatalf("only %d malformed inputs", len(malformed))
	}
	for _, tt := range malformed {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, text := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(text)}
			}
			got := loadAndCheck(t, fsys, "suite.yaml")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
		})
	}
}

// loadAndCheck loads a suite and, when it loads, checks its cases; it returns
// every error line, asserting each is a located *Error.
func loadAndCheck(t *testing.T, fsys fstest.MapFS, path string) []string {
	t.Helper()
	s, err := LoadFS(fsys, path, LoadOptions{ValidateThreshold: badThreshold})
	if err == nil {
		err = s.Check(context.Background())
	}
	if err == nil {
		return nil
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	var out []string
	for _, e := range list {
		if e.File == "" || e.Err == nil {
			t.Errorf("unlocated error %#v", e)
		}
		out = append(out, e.Error())
	}
	return out
}
