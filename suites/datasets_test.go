package suites

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/suites/score"
)

func loadMap(t *testing.T, files map[string]string) (*Suite, error) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return LoadFS(fsys, "suite.yaml", LoadOptions{})
}

func collectAll(t *testing.T, s *Suite) ([]*bench.Case, []string) {
	t.Helper()
	var cases []*bench.Case
	var errs []string
	for c, err := range s.Cases(CasesOptions{Split: SplitAll}) {
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		cases = append(cases, c)
	}
	return cases, errs
}

// gsm8kLines are two records in the shape of GSM8K's test.jsonl as published.
const gsm8kLines = `{"question": "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?", "answer": "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day at the farmer’s market.\n#### 18"}
{"question": "A robe takes 2 bolts of blue fiber and half that much white fiber.  How many bolts in total does it take?", "answer": "It takes 2/2=<<2/2=1>>1 bolt of white fiber\nSo the total amount of fabric is 2+1=<<2+1=3>>3 bolts of fabric\n#### 3"}
`

func TestFieldMappingGSM8K(t *testing.T) {
	s, err := loadMap(t, map[string]string{
		"suite.yaml": `name: gsm
prompt: {user: "Q: {{.input}}"}
cases:
  file: test.jsonl
  fields:
    input: question
    expected: {field: answer, after: "####"}
    worked: {template: "{{.question}} => {{.answer}}"}
scorers: [{type: numeric, extract: answer}]
`,
		"test.jsonl": gsm8kLines,
	})
	if err != nil {
		t.Fatal(err)
	}
	cases, errs := collectAll(t, s)
	if len(errs) > 0 || len(cases) != 2 {
		t.Fatalf("cases %d, errors %v", len(cases), errs)
	}
	if cases[0].Expected != "18" || cases[1].Expected != "3" {
		t.Errorf("expected = %q, %q; want 18, 3", cases[0].Expected, cases[1].Expected)
	}
	if !strings.HasPrefix(cases[0].Request.Messages[0].Content, "Q: Janet’s ducks") {
		t.Errorf("prompt = %q", cases[0].Request.Messages[0].Content)
	}
	if !strings.Contains(cases[1].Vars["worked"], "=> It takes") || cases[1].ID != "row-2" {
		t.Errorf("vars = %v, id %q", cases[1].Vars, cases[1].ID)
	}
}

func TestFieldMappingErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // an error containing this
	}{
		{"missing field in a row", map[string]string{"suite.yaml": `name: t
prompt: {user: "{{.input}}"}
cases:
  file: d.jsonl
  fields: {input: question, expected: {field: answer, after: "####"}}
`, "d.jsonl": `{"question": "a", "answer": "#### 1"}
{"question": "b", "answr": "#### 2"}
`}, `d.jsonl:2: case "row-2": answer: missing field (cases.fields.expected, suite.yaml:5); fields present: answr, question`},
		{"marker missing", map[string]string{"suite.yaml": `name: t
prompt: {user: "{{.q}}"}
cases:
  file: d.jsonl
  fields:
    expected: {field: answer, after: "####"}
`, "d.jsonl": `{"id": "x1", "q": "a", "answer": "18"}
`}, `d.jsonl:1: case "x1": answer: no "####" in "18" (cases.fields.expected, suite.yaml:6)`},
		{"nested id", map[string]string{"suite.yaml": `name: t
prompt: {user: "{{.q}}"}
cases:
  file: d.json
  fields: {id: meta.key}
`, "d.json": "[\n  {\"q\": \"a\", \"meta\": {\"key\": 7}},\n  {\"q\": \"b\", \"meta\": {\"key\": 7}}\n]\n"}, `d.json:3: case "7": id: duplicate case ID "7" (first at d.json:2)`},
		{"unknown mapping key", map[string]string{"suite.yaml": `name: t
prompt: {user: "{{.q}}"}
cases:
  items: [{vars: {q: a}}]
  fields: {expected: {feild: answer}}
`}, `suite.yaml:5: cases.fields.expected: unknown field "feild"; did you mean "field"?`},
		{"bad target", map[string]string{"suite.yaml": `name: t
prompt: {user: "{{.q}}"}
cases:
  items: [{vars: {q: a}}]
  fields: {tags.x: q}
`}, `suite.yaml:5: cases.fields.tags.x: cannot be mapped`},
		{"json not an array", map[string]string{"suite.yaml": `name: t
prompt: {user: "{{.q}}"}
cases: {file: d.json}
`, "d.json": `{"q": "a"}`}, `d.json:1: expected a JSON array of objects`},
		{"json syntax error line", map[string]string{"suite.yaml": `name: t
prompt: {user: "{{.q}}"}
cases: {file: d.json}
`, "d.json": "[\n {\"q\": \"a\"},\n {\"q\": \"b\",,}\n]"}, `d.json:3: invalid JSON: invalid character ','`},
		{"json element not an object", map[string]string{"suite.yaml": `name: t
prompt: {user: "{{.q}}"}
cases: {file: d.json}
`, "d.json": "[\n {\"q\": \"a\"},\n\n 5\n]"}, `d.json:4: invalid JSON: expected an object, got a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := loadMap(t, tt.files)
			var all []string
			if err != nil {
				all = append(all, err.Error())
			} else {
				_, errs := collectAll(t, s)
				all = errs
			}
			if !strings.Contains(strings.Join(all, "\n"), tt.want) {
				t.Errorf("errors:\n%s\nwant one containing:\n%s", strings.Join(all, "\n"), tt.want)
			}
		})
	}
}

func TestJSONArrayDataset(t *testing.T) {
	s, err := loadMap(t, map[string]string{
		"suite.yaml": `name: t
prompt: {user: "{{.q}} {{.n}}"}
cases: {file: d.json}
`, "d.json": "\ufeff[\n  {\"id\": \"a\", \"q\": \"first\", \"n\": 1.50},\n  {\"id\": \"b\",\n   \"q\": \"second\", \"n\": [1, 2], \"split\": \"test\"}\n]\n"})
	if err != nil {
		t.Fatal(err)
	}
	cases, errs := collectAll(t, s)
	if len(errs) > 0 || len(cases) != 2 {
		t.Fatalf("cases %d, errors %v", len(cases), errs)
	}
	if got := cases[0].Request.Messages[0].Content; got != "first 1.50" {
		t.Errorf("prompt = %q", got)
	}
	if cases[1].Tags["split"] != "test" || cases[1].Vars["n"] != "[1,2]" {
		t.Errorf("case b = %+v", cases[1])
	}
}

// TestParquetDataset reads a file pyarrow wrote (scripts/gen_parquet_fixture.py).
func TestParquetDataset(t *testing.T) {
	s, err := Load("testdata/hf/suite.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cases, errs := collectAll(t, s)
	if len(errs) > 0 || len(cases) != 3 {
		t.Fatalf("cases %d, errors %v", len(cases), errs)
	}
	var got []string
	for _, c := range cases {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s", c.ID, c.Expected, c.Request.Messages[0].Content[:9],
			c.Vars["first_choice"], c.Vars["score"], c.Vars["verified"], c.Vars["note"]))
	}
	want := []string{
		"0|3~5영업일|배송은|교환|0.5|true|",
		"1|72|Natalia s|clips|1.25|false|x",
		"2|500|送料は|返品|-2|true|",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cases:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := s.Check(context.Background()); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestParquetRowErrors(t *testing.T) {
	s, err := LoadFS(fstest.MapFS{
		"suite.yaml":    {Data: []byte("name: t\nprompt: {user: \"{{.question}} {{.nope}}\"}\ncases: {file: train.parquet}\n")},
		"train.parquet": {Data: mustRead(t, "testdata/hf/train.parquet")},
	}, "suite.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, errs := collectAll(t, s)
	if len(errs) != 3 || !strings.HasPrefix(errs[1], `train.parquet: row 2: case "row-2": prompt.user:`) {
		t.Errorf("errors:\n%s", strings.Join(errs, "\n"))
	}
	var e *Error
	for c, err := range s.Cases(CasesOptions{}) {
		if errors.As(err, &e) && c == nil {
			break
		}
	}
	if e == nil || e.Pos() != "train.parquet row 1" {
		t.Errorf("Pos = %v", e)
	}
	// Not a Parquet file.
	s, err = LoadFS(fstest.MapFS{
		"suite.yaml": {Data: []byte("name: t\nprompt: {user: hi}\ncases: {file: x.parquet}\n")},
		"x.parquet":  {Data: []byte("PAR1 nope")},
	}, "suite.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, errs := collectAll(t, s); len(errs) != 1 || !strings.Contains(errs[0], "x.parquet: invalid Parquet file") {
		t.Errorf("errors: %v", errs)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCaseScorers(t *testing.T) {
	s, err := loadMap(t, map[string]string{"suite.yaml": `name: t
prompt: {user: "{{.q}}"}
cases:
  - {id: a, vars: {q: one}, scorers: [{type: icontains, value: refund}]}
  - {id: b, vars: {q: two}}
scorers: [{type: not-icontains, value: sorry}]
`})
	if err != nil {
		t.Fatal(err)
	}
	cases, errs := collectAll(t, s)
	if len(errs) > 0 || len(cases) != 2 {
		t.Fatalf("cases %d, errors %v", len(cases), errs)
	}
	if n := len(cases[0].Scorer.(*score.Composite).Parts()); n != 2 {
		t.Errorf("case a has %d parts, want 2", n)
	}
	got, _ := cases[1].Scorer.Score(context.Background(), cases[1], &providers.Response{Text: "no refund"})
	if !got.Pass || len(got.Parts) != 1 {
		t.Errorf("case b: %+v", got)
	}
	got, _ = cases[0].Scorer.Score(context.Background(), cases[0], &providers.Response{Text: "sorry"})
	if got.Pass || len(got.Parts) != 2 {
		t.Errorf("case a: %+v", got)
	}
	_, err = loadMap(t, map[string]string{"suite.yaml": `name: t
prompt: {user: "{{.q}}"}
cases:
  - {id: a, vars: {q: one}, scorers: [{type: icontans, value: refund}]}
`})
	if err == nil || !strings.Contains(err.Error(), `suite.yaml:4: cases[0].scorers[0].type: unknown scorer "icontans"; did you mean "icontains"?`) {
		t.Errorf("err = %v", err)
	}
}
