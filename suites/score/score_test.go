package score

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func sp(s string) *string       { return &s }
func fp(f float64) *float64     { return &f }
func bp(b bool) *bool           { return &b }
func list(s ...string) []string { return s }

var letters = list("A", "B", "C", "D")
var intents = list("refund_request", "order_status", "cancel_order", "change_address", "payment_issue", "complaint")

const intentSchema = `{"type":"object","required":["intent"],"properties":{"intent":{"enum":["refund","other"]},"confidence":{"type":"number","minimum":0,"maximum":1}}}`

type scoreTest struct {
	name     string
	spec     Spec
	expected string
	vars     map[string]string
	out      string
	pass     bool
	value    float64 // checked when pass is false and value > 0 (partial credit)
}

var scoreTests = []scoreTest{
	// exact
	{name: "exact/equal", spec: Spec{Type: "exact"}, expected: "refund", out: "refund", pass: true},
	{name: "exact/default trims", spec: Spec{Type: "exact"}, expected: "refund", out: " refund\n", pass: true},
	{name: "exact/case differs", spec: Spec{Type: "exact"}, expected: "refund", out: "Refund"},
	{name: "exact/lower", spec: Spec{Type: "exact", Normalize: list("lower", "trim")}, expected: "refund", out: "REFUND ", pass: true},
	{name: "exact/punctuation", spec: Spec{Type: "exact", Normalize: list("punctuation")}, expected: "refund", out: "refund!", pass: true},
	{name: "exact/whitespace", spec: Spec{Type: "exact", Normalize: list("whitespace")}, expected: "new  york", out: " new\tyork\n", pass: true},
	{name: "exact/nfkc", spec: Spec{Type: "exact", Normalize: list("nfkc")}, expected: "refund", out: "ｒｅｆｕｎｄ", pass: true},
	{name: "exact/no nfkc", spec: Spec{Type: "exact"}, expected: "refund", out: "ｒｅｆｕｎｄ"},
	{name: "exact/no normalisation", spec: Spec{Type: "exact", Normalize: []string{}}, expected: "refund", out: "refund\n"},
	{name: "exact/other word", spec: Spec{Type: "exact"}, expected: "refund", out: "billing"},
	{name: "exact/value template", spec: Spec{Type: "exact", Value: sp("{{upper .city}}")}, vars: map[string]string{"city": "paris"}, out: "PARIS", pass: true},
	{name: "exact/value template fails", spec: Spec{Type: "exact", Value: sp("{{.expected}}!")}, expected: "ok", out: "ok"},
	{name: "not-exact/differs", spec: Spec{Type: "not-exact"}, expected: "refund", out: "billing", pass: true},
	{name: "not-exact/equal", spec: Spec{Type: "not-exact"}, expected: "refund", out: "refund"},

	// contains family
	{name: "contains/yes", spec: Spec{Type: "contains", Value: sp("refund")}, out: "I want a refund please", pass: true},
	{name: "contains/case", spec: Spec{Type: "contains", Value: sp("refund")}, out: "REFUND NOW"},
	{name: "contains/expected", spec: Spec{Type: "contains"}, expected: "Paris", out: "The capital is Paris.", pass: true},
	{name: "icontains/case", spec: Spec{Type: "icontains", Value: sp("refund")}, out: "REFUND NOW", pass: true},
	{name: "icontains/absent", spec: Spec{Type: "icontains", Value: sp("refund")}, out: "exchange"},
	{name: "not-contains/apology", spec: Spec{Type: "not-contains", Value: sp("I'm sorry")}, out: "I'm sorry, I can't help."},
	{name: "not-contains/clean", spec: Spec{Type: "not-contains", Value: sp("I'm sorry")}, out: "Sure, here it is.", pass: true},
	{name: "not-icontains/apology", spec: Spec{Type: "not-icontains", Value: sp("as an ai")}, out: "As an AI model..."},
	{name: "contains-any/one", spec: Spec{Type: "contains-any", Values: list("cat", "dog")}, out: "a dog barked", pass: true},
	{name: "contains-any/none", spec: Spec{Type: "contains-any", Values: list("cat", "dog")}, out: "a bird sang"},
	{name: "contains-any/normalised", spec: Spec{Type: "contains-any", Values: list("Cat", "dog"), Normalize: list("lower")}, out: "CAT!", pass: true},
	{name: "contains-all/both", spec: Spec{Type: "contains-all", Values: list("cat", "dog")}, out: "cat and dog", pass: true},
	{name: "contains-all/half", spec: Spec{Type: "contains-all", Values: list("cat", "dog")}, out: "cat only", value: 0.5},
	{name: "contains-all/templates", spec: Spec{Type: "contains-all", Values: list("{{.a}}", "{{.b}}")}, vars: map[string]string{"a": "x1", "b": "y2"}, out: "y2 x1", pass: true},
	{name: "not-contains-any/clean", spec: Spec{Type: "not-contains-any", Values: list("damn", "hell")}, out: "have a nice day", pass: true},
	{name: "not-contains-any/dirty", spec: Spec{Type: "not-contains-any", Values: list("damn", "hell")}, out: "what the hell"},
	{name: "starts-with/yes", spec: Spec{Type: "starts-with", Value: sp("Yes")}, out: "  Yes, of course", pass: true},
	{name: "starts-with/no", spec: Spec{Type: "starts-with", Value: sp("Yes")}, out: "No. Yes."},
	{name: "ends-with/yes", spec: Spec{Type: "ends-with", Value: sp("Done.")}, out: "All set. Done.\n", pass: true},
	{name: "ends-with/no", spec: Spec{Type: "ends-with", Value: sp("Done.")}, out: "Done. Not really"},

	// regex
	{name: "regex/phone", spec: Spec{Type: "regex", Pattern: `^\d{3}-\d{4}$`}, out: "555-1234", pass: true},
	{name: "regex/phone no dash", spec: Spec{Type: "regex", Pattern: `^\d{3}-\d{4}$`}, out: "5551234"},
	{name: "regex/insensitive", spec: Spec{Type: "regex", Pattern: `(?i)order\s+#?\d+`}, out: "Your ORDER #123 shipped", pass: true},
	{name: "regex/trimmed", spec: Spec{Type: "regex", Pattern: `^ok$`, Normalize: list("trim")}, out: " ok \n", pass: true},
	{name: "not-regex/clean", spec: Spec{Type: "not-regex", Pattern: `\b(?:password|ssn)\b`}, out: "Reset link sent.", pass: true},
	{name: "not-regex/leak", spec: Spec{Type: "not-regex", Pattern: `\b(?:password|ssn)\b`}, out: "Your password is hunter2"},

	// JSON
	{name: "is-json/object", spec: Spec{Type: "is-json"}, out: `{"a": 1}`, pass: true},
	{name: "is-json/fenced", spec: Spec{Type: "is-json"}, out: "```json\n{\"a\": 1}\n```", pass: true},
	{name: "is-json/fenced strict", spec: Spec{Type: "is-json", Strict: bp(true)}, out: "```json\n{\"a\": 1}\n```"},
	{name: "is-json/unquoted keys", spec: Spec{Type: "is-json"}, out: `{a: 1}`},
	{name: "is-json/trailing prose", spec: Spec{Type: "is-json"}, out: `{"a": 1} hope this helps`},
	{name: "is-json/empty", spec: Spec{Type: "is-json"}, out: ``},
	{name: "not-is-json/prose", spec: Spec{Type: "not-is-json"}, out: `plain words`, pass: true},
	{name: "json-schema/valid", spec: Spec{Type: "json-schema", Schema: json.RawMessage(intentSchema)}, out: `{"intent": "refund", "confidence": 0.9}`, pass: true},
	{name: "json-schema/enum", spec: Spec{Type: "json-schema", Schema: json.RawMessage(intentSchema)}, out: `{"intent": "billing"}`},
	{name: "json-schema/missing", spec: Spec{Type: "json-schema", Schema: json.RawMessage(intentSchema)}, out: `{"confidence": 0.2}`},
	{name: "json-schema/range", spec: Spec{Type: "json-schema", Schema: json.RawMessage(intentSchema)}, out: `{"intent": "refund", "confidence": 7}`},
	{name: "json-schema/not json", spec: Spec{Type: "json-schema", Schema: json.RawMessage(intentSchema)}, out: `intent: refund`},
	{name: "json-schema/fenced", spec: Spec{Type: "json-schema", Schema: json.RawMessage(intentSchema)}, out: "```\n{\"intent\": \"other\"}\n```", pass: true},
	{name: "json-match/equal", spec: Spec{Type: "json-match"}, expected: `{"name":"Ada","age":36}`, out: `{"age": 36.0, "name": " Ada ", "extra": true}`, pass: true},
	{name: "json-match/half", spec: Spec{Type: "json-match"}, expected: `{"name":"Ada","age":36}`, out: `{"name":"Ada"}`, value: 0.5},
	{name: "json-match/wrong value", spec: Spec{Type: "json-match"}, expected: `{"name":"Ada","age":36,"city":null,"tags":["x"]}`, out: `{"name":"ada","age":37,"city":null,"tags":["x"]}`, value: 0.5},
	{name: "json-match/lower", spec: Spec{Type: "json-match", Normalize: list("lower")}, expected: `{"name":"Ada"}`, out: `{"name":"ADA"}`, pass: true},
	{name: "json-match/not object", spec: Spec{Type: "json-match"}, expected: `{"name":"Ada"}`, out: `["Ada"]`},
	{name: "json-match/scalar", spec: Spec{Type: "json-match"}, expected: `[1, 2]`, out: `[1.0, 2]`, pass: true},

	// numeric
	{name: "numeric/prose with currency", spec: Spec{Type: "numeric"}, expected: "1234.5", out: "The answer is $1,234.50.", pass: true},
	{name: "numeric/plain", spec: Spec{Type: "numeric"}, expected: "42", out: "42", pass: true},
	{name: "numeric/off by one", spec: Spec{Type: "numeric"}, expected: "42", out: "41"},
	{name: "numeric/abs tolerance", spec: Spec{Type: "numeric", Tolerance: fp(1)}, expected: "42", out: "about 41", pass: true},
	{name: "numeric/rel tolerance in", spec: Spec{Type: "numeric", RelTolerance: fp(0.05)}, expected: "100", out: "105", pass: true},
	{name: "numeric/rel tolerance out", spec: Spec{Type: "numeric", RelTolerance: fp(0.05)}, expected: "100", out: "106"},
	{name: "numeric/negative currency", spec: Spec{Type: "numeric"}, expected: "-5", out: "Balance: -$5.", pass: true},
	{name: "numeric/range is not negative", spec: Spec{Type: "numeric"}, expected: "2000", out: "1990-2000", pass: true},
	{name: "numeric/first", spec: Spec{Type: "numeric", Extract: &Extract{Pick: "first"}}, expected: "1990", out: "1990-2000", pass: true},
	{name: "numeric/last wins", spec: Spec{Type: "numeric"}, expected: "7", out: "3 + 4 = 7", pass: true},
	{name: "numeric/only fails on several", spec: Spec{Type: "numeric", Extract: &Extract{Pick: "only"}}, expected: "3", out: "3 or 4"},
	{name: "numeric/only repeated", spec: Spec{Type: "numeric", Extract: &Extract{Pick: "only"}}, expected: "3", out: "3, yes 3", pass: true},
	{name: "numeric/exponent", spec: Spec{Type: "numeric"}, expected: "1000", out: "1e3", pass: true},
	{name: "numeric/millions", spec: Spec{Type: "numeric"}, expected: "1234567", out: "Total: 1,234,567 units", pass: true},
	{name: "numeric/identifier skipped", spec: Spec{Type: "numeric", Extract: &Extract{Pick: "first"}}, expected: "30", out: "Order A12345 costs 30 euros", pass: true},
	{name: "numeric/decimal only", spec: Spec{Type: "numeric"}, expected: "0.5", out: "p = .5", pass: true},
	{name: "numeric/percent", spec: Spec{Type: "numeric"}, expected: "12.5", out: "12.5%", pass: true},
	{name: "numeric/no number", spec: Spec{Type: "numeric"}, expected: "3", out: "no idea"},
	{name: "numeric/expected formatted", spec: Spec{Type: "numeric"}, expected: "$1,000", out: "1000", pass: true},
	{name: "not-numeric/different", spec: Spec{Type: "not-numeric"}, expected: "3", out: "4", pass: true},

	// choice: letters
	{name: "choice/letter", spec: Spec{Type: "choice", Labels: letters}, expected: "B", out: "B", pass: true},
	{name: "choice/bracketed lower", spec: Spec{Type: "choice", Labels: letters}, expected: "B", out: "(b)", pass: true},
	{name: "choice/answer colon", spec: Spec{Type: "choice", Labels: letters}, expected: "B", out: "Answer: B", pass: true},
	{name: "choice/answer is lower", spec: Spec{Type: "choice", Labels: letters}, expected: "B", out: "The answer is b.", pass: true},
	{name: "choice/article ignored", spec: Spec{Type: "choice", Labels: letters}, expected: "B", out: "I'd pick B as a safer option", pass: true},
	{name: "choice/leading paren", spec: Spec{Type: "choice", Labels: letters}, expected: "C", out: "c) because it is larger", pass: true},
	{name: "choice/markdown bold", spec: Spec{Type: "choice", Labels: letters}, expected: "D", out: "**D**", pass: true},
	{name: "choice/wrong letter", spec: Spec{Type: "choice", Labels: letters}, expected: "B", out: "C"},
	{name: "choice/ambiguous letters", spec: Spec{Type: "choice", Labels: letters}, expected: "B", out: "A or B"},
	{name: "choice/marked beats unmarked", spec: Spec{Type: "choice", Labels: letters}, expected: "B", out: "A is tempting, but the answer is B", pass: true},
	{name: "choice/no letter", spec: Spec{Type: "choice", Labels: letters}, expected: "B", out: "none of these"},
	// choice: intent labels
	{name: "choice/label", spec: Spec{Type: "choice", Labels: intents}, expected: "refund_request", out: "refund_request", pass: true},
	{name: "choice/label newline", spec: Spec{Type: "choice", Labels: intents}, expected: "refund_request", out: "refund_request\n", pass: true},
	{name: "choice/label spaced", spec: Spec{Type: "choice", Labels: intents}, expected: "refund_request", out: "Refund request.", pass: true},
	{name: "choice/label hyphen", spec: Spec{Type: "choice", Labels: intents}, expected: "cancel_order", out: "cancel-order", pass: true},
	{name: "choice/label in prose", spec: Spec{Type: "choice", Labels: intents}, expected: "refund_request", out: "the answer is refund_request", pass: true},
	{name: "choice/label quoted", spec: Spec{Type: "choice", Labels: intents}, expected: "order_status", out: `Intent: "order_status"`, pass: true},
	{name: "choice/label marked", spec: Spec{Type: "choice", Labels: intents}, expected: "refund_request", out: "Intent: refund_request. (Not complaint, the tone is calm.)", pass: true},
	{name: "choice/label case", spec: Spec{Type: "choice", Labels: intents}, expected: "complaint", out: "COMPLAINT", pass: true},
	{name: "choice/label wrong", spec: Spec{Type: "choice", Labels: intents}, expected: "refund_request", out: "order_status"},
	{name: "choice/label ambiguous", spec: Spec{Type: "choice", Labels: intents}, expected: "refund_request", out: "refund_request or cancel_order"},
	{name: "choice/label partial word", spec: Spec{Type: "choice", Labels: intents}, expected: "complaint", out: "complaints department"},
	{name: "choice/label none", spec: Spec{Type: "choice", Labels: intents}, expected: "refund_request", out: "I cannot tell"},
	{name: "choice/longest match", spec: Spec{Type: "choice", Labels: list("order", "order_status")}, expected: "order_status", out: "order status", pass: true},
	{name: "choice/value template", spec: Spec{Type: "choice", Labels: letters, Value: sp("{{.gold}}")}, vars: map[string]string{"gold": "a"}, out: "A", pass: true},
	{name: "not-choice/other", spec: Spec{Type: "not-choice", Labels: letters}, expected: "B", out: "C", pass: true},
}

func TestScorers(t *testing.T) {
	var golden strings.Builder
	for _, tt := range scoreTests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPart(tt.spec)
			if err != nil {
				t.Fatalf("NewPart: %v", err)
			}
			c := &bench.Case{ID: "c1", Expected: tt.expected, Vars: tt.vars}
			if err := p.Check(c); err != nil {
				t.Fatalf("Check: %v", err)
			}
			got, err := p.Judge(c, tt.out)
			if err != nil {
				t.Fatalf("Judge: %v", err)
			}
			if got.Pass != tt.pass {
				t.Errorf("Pass = %v, want %v (reason %q)", got.Pass, tt.pass, got.Reason)
			}
			wantValue := 0.0
			if tt.pass {
				wantValue = 1
			} else if tt.value > 0 {
				wantValue = tt.value
			}
			if got.Value != wantValue {
				t.Errorf("Value = %v, want %v", got.Value, wantValue)
			}
			if !got.Pass && got.Reason == "" {
				t.Errorf("failed without a reason")
			}
			if got.Name != tt.spec.Type || got.Weight != 1 {
				t.Errorf("Name, Weight = %q, %v", got.Name, got.Weight)
			}
			fmt.Fprintf(&golden, "%-32s pass=%-5v value=%.2f reason=%s\n", tt.name, got.Pass, got.Value, got.Reason)
		})
	}
	checkGolden(t, "reasons.golden", golden.String())
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from output (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func TestNewPartErrors(t *testing.T) {
	tests := []struct {
		name  string
		spec  Spec
		field string
		msg   string
	}{
		{"missing type", Spec{}, "type", "required"},
		{"unknown type", Spec{Type: "regexp"}, "type", `unknown scorer "regexp"; did you mean "regex"?`},
		{"unknown negated type", Spec{Type: "not-contians"}, "type", `unknown scorer "not-contians"; did you mean "not-contains"?`},
		{"unknown far type", Spec{Type: "bleu"}, "type", `unknown scorer "bleu" (known: choice, contains`},
		{"field not used", Spec{Type: "exact", Pattern: "x"}, "pattern", `not used by scorer "exact"`},
		{"labels on numeric", Spec{Type: "numeric", Labels: list("a")}, "labels", `not used by scorer "numeric"`},
		{"negative weight", Spec{Type: "exact", Weight: fp(-1)}, "weight", "must be a finite number ≥ 0, got -1"},
		{"bad regex", Spec{Type: "regex", Pattern: "a(b"}, "pattern", "invalid regex: error parsing regexp: missing closing ): `a(b`"},
		{"missing pattern", Spec{Type: "regex"}, "pattern", `required for scorer "regex"`},
		{"missing schema", Spec{Type: "json-schema"}, "schema", "required"},
		{"schema not json", Spec{Type: "json-schema", Schema: json.RawMessage(`{type:`)}, "schema", "invalid JSON schema: not JSON"},
		{"schema bad type", Spec{Type: "json-schema", Schema: json.RawMessage(`{"type":"objectx"}`)}, "schema", "invalid JSON schema: at /type:"},
		{"schema external ref", Spec{Type: "json-schema", Schema: json.RawMessage(`{"$ref":"https://example.com/s.json"}`)}, "schema", "external $ref"},
		{"missing labels", Spec{Type: "choice"}, "labels", "required"},
		{"duplicate labels", Spec{Type: "choice", Labels: list("refund_request", "Refund-Request")}, "labels[1]", `same as labels[0]`},
		{"empty label", Spec{Type: "choice", Labels: list("a", " ")}, "labels[1]", "empty label"},
		{"unknown normalisation", Spec{Type: "exact", Normalize: list("trim", "lowercase")}, "normalize[1]", `unknown normalisation "lowercase"; did you mean "lower"?`},
		{"bad extract", Spec{Type: "numeric", Extract: &Extract{Pick: "middle"}}, "extract.pick", "must be last, first or only"},
		{"pick on text", Spec{Type: "exact", Extract: &Extract{Pick: "first"}}, "extract.pick", "only numeric picks"},
		{"two extractions", Spec{Type: "exact", Extract: &Extract{After: "####", Answer: true}}, "extract", "one of after, regex and answer"},
		{"bad extract regex", Spec{Type: "numeric", Extract: &Extract{Regex: "a(b"}}, "extract.regex", "invalid regex"},
		{"two groups", Spec{Type: "numeric", Extract: &Extract{Regex: `(a)(b)`}}, "extract.regex", "2 capture groups"},
		{"empty extract", Spec{Type: "exact", Extract: &Extract{}}, "extract", "set after, regex"},
		{"extract on json", Spec{Type: "is-json", Extract: &Extract{Answer: true}}, "extract", `not used by scorer "is-json"`},
		{"bad match", Spec{Type: "choice", Labels: letters, Match: "prefx"}, "match", `unknown match mode "prefx"; did you mean "prefix"?`},
		{"match on exact", Spec{Type: "exact", Match: "word"}, "match", `not used by scorer "exact"`},
		{"unknown normalisation nospace", Spec{Type: "icontains", Normalize: list("no-space")}, "normalize[0]", `did you mean "nospace"?`},
		{"negative tolerance", Spec{Type: "numeric", Tolerance: fp(-0.1)}, "tolerance", "must be a finite number ≥ 0"},
		{"value and values", Spec{Type: "contains-any", Value: sp("a"), Values: list("b")}, "values", "set value or values, not both"},
		{"empty values", Spec{Type: "contains-all", Values: []string{}}, "values", "must not be empty"},
		{"bad value template", Spec{Type: "exact", Value: sp("{{.x")}, "value", "unclosed action"},
		{"bad values template", Spec{Type: "contains-any", Values: list("ok", "{{nofunc .x}}")}, "values[1]", `function "nofunc" not defined`},
		{"static numeric value", Spec{Type: "numeric", Value: sp("lots")}, "value", `no number in "lots"`},
		{"static choice value", Spec{Type: "choice", Labels: letters, Value: sp("E")}, "value", `"E" is not one of the labels`},
		{"static json-match value", Spec{Type: "json-match", Value: sp("{bad")}, "value", "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPart(tt.spec)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FieldError", err)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Err.Error(), tt.msg) {
				t.Errorf("got %q: %q; want %q containing %q", fe.Field, fe.Err, tt.field, tt.msg)
			}
		})
	}
}

func mustPart(t *testing.T, s Spec) *Part {
	t.Helper()
	p, err := NewPart(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestComposite(t *testing.T) {
	choiceP := mustPart(t, Spec{Type: "choice", Labels: intents, Weight: fp(3)})
	apology := mustPart(t, Spec{Type: "not-icontains", Value: sp("sorry")})
	comp, err := NewComposite(1, choiceP, apology)
	if err != nil {
		t.Fatal(err)
	}
	c := &bench.Case{ID: "x", Expected: "refund_request"}
	tests := []struct {
		out       string
		threshold float64
		value     float64
		pass      bool
		reason    string
	}{
		{"refund_request", 1, 1, true, ""},
		{"Sorry: refund_request", 1, 0.75, false, `not-icontains: output contains "sorry" (not wanted)`},
		{"Sorry: refund_request", 0.75, 0.75, true, ""},
		{"order_status", 0.2, 0.25, true, ""},
		{"sorry, order_status", 0.5, 0, false, `choice: expected "refund_request", got "order_status"; not-icontains: output contains "sorry" (not wanted)`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s@%g", tt.out, tt.threshold), func(t *testing.T) {
			s, err := comp.WithThreshold(tt.threshold).Score(context.Background(), c, &providers.Response{Text: tt.out})
			if err != nil {
				t.Fatal(err)
			}
			if s.Value != tt.value || s.Pass != tt.pass || s.Reason != tt.reason || len(s.Parts) != 2 {
				t.Errorf("got value %v pass %v reason %q parts %d; want %v %v %q", s.Value, s.Pass, s.Reason, len(s.Parts), tt.value, tt.pass, tt.reason)
			}
		})
	}
	if comp.Threshold() != 1 || comp.WithThreshold(1) != comp {
		t.Error("WithThreshold(same) should return the composite itself")
	}

	// Single part: the reason is not prefixed; a pass below 1 still gets a reason when failing.
	single, _ := NewComposite(1, mustPart(t, Spec{Type: "contains-all", Values: list("a", "b")}))
	s, _ := single.Score(context.Background(), c, &providers.Response{Text: "a"})
	if s.Pass || s.Reason != `missing ["b"] (1 of 2 found)` || s.Value != 0.5 {
		t.Errorf("single: %+v", s)
	}
	if _, err := single.Score(context.Background(), c, nil); err == nil {
		t.Error("nil response: want error")
	}

	for _, bad := range []struct {
		threshold float64
		parts     []*Part
		msg       string
	}{
		{1, nil, "no scorers"},
		{1.5, []*Part{apology}, "threshold must be in [0, 1], got 1.5"},
		{1, []*Part{mustPart(t, Spec{Type: "exact", Weight: fp(0)})}, "every scorer has weight 0"},
	} {
		if _, err := NewComposite(bad.threshold, bad.parts...); err == nil || err.Error() != bad.msg {
			t.Errorf("NewComposite: err = %v, want %q", err, bad.msg)
		}
	}
}

func TestCheck(t *testing.T) {
	comp, err := NewComposite(1,
		mustPart(t, Spec{Type: "exact", Value: sp("{{.answer}}")}),
		mustPart(t, Spec{Type: "numeric"}),
		mustPart(t, Spec{Type: "choice", Labels: letters, Value: sp("{{.letter}}")}),
		mustPart(t, Spec{Type: "regex", Pattern: "x"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    bench.Case
		want []string
	}{
		{"ok", bench.Case{Expected: "2", Vars: map[string]string{"answer": "2", "letter": "b"}}, nil},
		{"missing vars", bench.Case{Expected: "2", Vars: map[string]string{}}, []string{
			`scorers[0] (exact): value: missing variable "answer"`,
			`scorers[2] (choice): value: missing variable "letter"`,
		}},
		{"empty expected", bench.Case{Vars: map[string]string{"answer": "2", "letter": "A"}}, []string{
			`scorers[1] (numeric): expected: scorer "numeric" needs an expected answer (or a value on the scorer)`,
		}},
		{"bad references", bench.Case{Expected: "lots", Vars: map[string]string{"answer": "", "letter": "E"}}, []string{
			`scorers[0] (exact): value: renders empty`,
			`scorers[1] (numeric): expected: no number in "lots"`,
			`scorers[2] (choice): value: "E" is not one of the labels ["A", "B", "C", "D"]`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := comp.Check(&tt.c)
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Check:\n got %q\nwant %q", got, tt.want)
			}
			var pe *PartError
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("want *PartError in %v", err)
			}
		})
	}
}

func TestExtractNumbers(t *testing.T) {
	tests := []struct {
		in   string
		want []float64
	}{
		{"The answer is $1,234.50.", []float64{1234.5}},
		{"1,2,3", []float64{1, 2, 3}},
		{"12,3456", []float64{12, 3456}},
		{"-3 and +4 and −2", []float64{-3, 4, -2}},
		{"from 1990-2000", []float64{1990, 2000}},
		{"x2 v1.2 A123", nil},
		{"€-5? or -€5 or $-5", []float64{-5, -5, -5}},
		{"2.5e-3 and 1E6", []float64{0.0025, 1e6}},
		{"version 1.2.3", []float64{1.2}},
		{"1,234,567.89", []float64{1234567.89}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ExtractNumbers(tt.in)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("ExtractNumbers(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestConcurrentScore scores every table case from several goroutines at
// once (run with -race) and expects the sequential verdicts.
func TestConcurrentScore(t *testing.T) {
	type job struct {
		comp *Composite
		c    *bench.Case
		out  string
		want bench.Score
	}
	var jobs []job
	for _, tt := range scoreTests {
		comp, err := NewComposite(1, mustPart(t, tt.spec))
		if err != nil {
			t.Fatal(err)
		}
		c := &bench.Case{ID: "c1", Expected: tt.expected, Vars: tt.vars}
		want, err := comp.Score(context.Background(), c, &providers.Response{Text: tt.out})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, job{comp, c, tt.out, want})
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				j := jobs[(i+g*7)%len(jobs)]
				got, err := j.comp.Score(context.Background(), j.c, &providers.Response{Text: j.out})
				if err != nil || got.Pass != j.want.Pass || got.Value != j.want.Value || got.Reason != j.want.Reason {
					t.Errorf("concurrent score of %q differs: %+v vs %+v (%v)", j.out, got, j.want, err)
				}
			}
		}()
	}
	wg.Wait()
}

func TestTypesAndFields(t *testing.T) {
	if got := strings.Join(Types(), ","); got != "choice,contains,contains-all,contains-any,ends-with,exact,icontains,is-json,json-match,json-schema,judge,numeric,regex,starts-with" {
		t.Errorf("Types() = %s", got)
	}
	if got := strings.Join(Fields("not-regex"), ","); got != "pattern,normalize,extract" {
		t.Errorf("Fields(not-regex) = %s", got)
	}
	if Fields("nope") != nil {
		t.Error("Fields(unknown) should be nil")
	}
}

func BenchmarkChoice(b *testing.B) {
	labels := list("refund_request", "order_status", "cancel_order", "change_address", "payment_issue",
		"technical_problem", "account_access", "product_question", "complaint", "shipping_delay", "return_item", "invoice_request")
	p, err := NewPart(Spec{Type: "choice", Labels: labels})
	if err != nil {
		b.Fatal(err)
	}
	comp, _ := NewComposite(1, p)
	c := &bench.Case{ID: "x", Expected: "shipping_delay"}
	r := &providers.Response{Text: "The customer's package is late, so the intent is shipping_delay (not order_status)."}
	b.ReportAllocs()
	for b.Loop() {
		if s, err := comp.Score(context.Background(), c, r); err != nil || !s.Pass {
			b.Fatal(s, err)
		}
	}
}
