package score

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/width"
)

//go:generate go test -run TestReferenceDoc -update .

// TypeDoc documents one scorer type: the reference `yardstick suites
// scorers` prints and docs/scorers.md renders. Its fields list is the one
// NewPart enforces, and its default normalisation the one the type applies,
// so the reference cannot drift from the code.
type TypeDoc struct {
	Type      string
	Summary   string     // what the scorer checks, and its score
	Reference string     // what it compares with: "value", "values", "expected", or "" for none
	Fields    []FieldDoc // the fields it accepts beyond type and weight, in Fields order
	Normalize string     // its default normalisation ("none" when it has none), or "" when normalize does not apply
	Examples  []Example
}

// FieldDoc is one scorer field and what it means for the type.
type FieldDoc struct {
	Name string
	Doc  string
}

// Example is a scorer entry as written in a suite file, a case's expected
// answer and a model answer, and whether the answer passes. Every example is
// run by the suites package's tests.
type Example struct {
	Scorer   string // a YAML flow mapping, e.g. `{type: icontains, value: refund}`
	Expected string // the case's expected answer; "" for none
	Answer   string
	Pass     bool
}

type typeDoc struct {
	summary  string
	fields   map[string]string // per-type field docs, over commonFieldDocs
	examples []Example
}

var commonFieldDocs = map[string]string{
	FieldValue:        "the reference, a template over the case's variables, `expected` and `id`; default: the case's expected answer",
	FieldValues:       "several references (templates); default: `value`, or the case's expected answer",
	FieldNormalize:    "normalisations applied to answer and reference, a list of: " + strings.Join(normNames, ", ") + " (applied in that order; `[]` for none)",
	FieldExtract:      "score only part of the answer: `answer` (the answer finder: `#### x`, `\\boxed{x}`, `Final answer: x`, `the answer is x`, `A: x`, `정답: x`, `答え：x`, `答案：x`), `{after: \"####\"}` (the text after the last marker), or `{regex: 'Total: (\\d+)'}` (the last match's capture group). An answer without the after marker or a regex match fails; one in which the answer finder finds no marker is read whole",
	FieldPattern:      "an RE2 regular expression (`(?i)` for case-insensitive); required",
	FieldSchema:       "a JSON Schema (draft 2020-12 and earlier; no external $ref), inline or as `schema_file: FILE` next to the suite; required",
	FieldStrict:       "`true`: no markdown code fence stripping (default false: one ```json fence is removed)",
	FieldLabels:       "the label set; required. A label written with _ or - also matches with spaces",
	FieldMatch:        "how a label must stand in the answer: `auto` (default: a whole word, Korean particles and copulas allowed after it — 교환입니다, 환불은; in Chinese and Japanese text anywhere — 我要退款), `word` (whole word only), `prefix` (a word that starts with the label), `exact` (the whole answer)",
	FieldTolerance:    "absolute tolerance, ≥ 0 (default 0)",
	FieldRelTolerance: "relative tolerance, a fraction of the expected value, ≥ 0 (default 0); adds to tolerance",
	FieldModel:        "the grading model, a target string as for `-m` (e.g. `openai:gpt-4o-mini`); required",
	FieldRubric:       "what a good answer does, a template over the case's variables, `expected` and `id`; required",
	FieldChoices:      "grades and their scores in [0, 1], one of them 1, in order (default `{PASS: 1, FAIL: 0}`)",
	FieldSamples:      "grading requests per answer, 1–100 (default 1); the score is the mean",
	FieldTemperature:  "temperature of grading requests, ≥ 0 (default 0, sent explicitly)",
}

var typeDocs = map[string]typeDoc{
	"exact": {
		summary:  "The answer equals the reference. Score 1 or 0.",
		examples: []Example{{`{type: exact}`, "Paris", " Paris\n", true}, {`{type: exact, normalize: [lower, punctuation, trim]}`, "paris", "Paris.", true}, {`{type: exact}`, "Paris", "paris", false}},
	},
	"contains": {
		summary:  "The answer contains the reference. Score 1 or 0.",
		examples: []Example{{`{type: contains, value: "refund"}`, "", "I want a refund", true}, {`{type: contains, value: "refund"}`, "", "REFUND", false}},
	},
	"icontains": {
		summary: "The answer contains the reference, ignoring case (full Unicode case folding: ß = ss). Score 1 or 0.",
		examples: []Example{{`{type: icontains, value: "refund"}`, "", "REFUND NOW", true},
			{`{type: icontains, value: "3~5 영업일", normalize: [nospace]}`, "", "배송은 3~5영업일 걸립니다", true},
			{`{type: icontains, value: "3~5 영업일"}`, "", "배송은 3~5영업일 걸립니다", false}},
	},
	"contains-any": {
		summary:  "The answer contains at least one of the references. Score 1 or 0.",
		examples: []Example{{`{type: contains-any, values: [cat, dog]}`, "", "a dog barked", true}, {`{type: contains-any, values: [cat, dog]}`, "", "a bird sang", false}},
	},
	"contains-all": {
		summary:  "The answer contains every reference. Score: the fraction found.",
		examples: []Example{{`{type: contains-all, values: [cat, dog]}`, "", "cat and dog", true}, {`{type: contains-all, values: [cat, dog]}`, "", "cat only", false}},
	},
	"starts-with": {
		summary:  "The answer starts with the reference. Score 1 or 0.",
		examples: []Example{{`{type: starts-with, value: "Yes"}`, "", "  Yes, of course", true}, {`{type: starts-with, value: "Yes"}`, "", "No. Yes.", false}},
	},
	"ends-with": {
		summary:  "The answer ends with the reference. Score 1 or 0.",
		examples: []Example{{`{type: ends-with, value: "Done."}`, "", "All set. Done.\n", true}},
	},
	"regex": {
		summary:  "The answer matches the pattern somewhere (anchor with ^ and $). Score 1 or 0.",
		examples: []Example{{`{type: regex, pattern: '^\d{3}-\d{4}$'}`, "", "555-1234", true}, {`{type: not-regex, pattern: '(?i)\bpassword\b'}`, "", "Your password is hunter2", false}},
	},
	"is-json": {
		summary:  "The answer is one JSON value. Score 1 or 0.",
		examples: []Example{{`{type: is-json}`, "", "```json\n{\"a\": 1}\n```", true}, {`{type: is-json, strict: true}`, "", "```json\n{\"a\": 1}\n```", false}},
	},
	"json-schema": {
		summary:  "The answer is JSON valid against the schema. Score 1 or 0.",
		examples: []Example{{`{type: json-schema, schema: {type: object, required: [intent]}}`, "", `{"intent": "refund"}`, true}, {`{type: json-schema, schema: {type: object, required: [intent]}}`, "", `{"topic": "refund"}`, false}},
	},
	"json-match": {
		summary: "The answer is JSON equal to the reference (numbers by value, strings after normalisation); " +
			"for an object reference, the answer's extra keys are ignored. Score: the fraction of the reference's keys that match.",
		examples: []Example{{`{type: json-match}`, `{"city": "Paris", "n": 2}`, `{"n": 2.0, "city": "Paris", "extra": true}`, true}, {`{type: json-match}`, `{"city": "Paris", "n": 2}`, `{"city": "Lyon", "n": 2}`, false}},
	},
	"numeric": {
		summary: "A number read from the answer equals the reference number within tolerance. Numbers may be full-width (３,０００) or in other scripts, " +
			"use any locale's thousands separators (1,234.5  1.234,5  1 234,5  12,34,567), be fractions (1/5), percentages (20% matches 20 and 0.2), " +
			"scale words (1.8 billion, 2.5k) or Korean, Chinese and Japanese units (5만 원 = 50000, 6천 = 6000, 3万5千 = 35000, 2億). Score 1 or 0.",
		fields: map[string]string{
			FieldExtract: "which number: `last` (default), `first`, `only` (exactly one distinct number); or narrow the answer first as for other scorers " +
				"(`answer`, `{after: \"####\"}`, `{regex: …}`, each with an optional `pick`, default `first`)",
		},
		examples: []Example{{`{type: numeric}`, "3000", "３,０００원", true}, {`{type: numeric}`, "50000", "5만 원입니다", true},
			{`{type: numeric}`, "0.2", "1/5", true}, {`{type: numeric}`, "18", "**Final answer: 18** (9 eggs x $2)", false},
			{`{type: numeric, extract: answer}`, "18", "**Final answer: 18** (9 eggs x $2)", true},
			{`{type: numeric, extract: {after: "####"}}`, "18", "9 * 2 = 18\n#### 18", true},
			{`{type: numeric, rel_tolerance: 0.05}`, "100", "about 104", true}},
	},
	"choice": {
		summary: "The answer names exactly one label, the reference (which must be a label). The longest match wins, then a label after a marker " +
			"(answer:, the intent is, 의도는, 答え：); otherwise the answer is ambiguous. A single letter counts only in upper case, in brackets or after a marker. " +
			"Text is NFKC-normalised and compared ignoring case. Score 1 or 0.",
		examples: []Example{{`{type: choice, labels: [교환, 환불, 배송조회]}`, "교환", "교환입니다", true},
			{`{type: choice, labels: [A, B, C, D]}`, "B", "The answer is (b).", true},
			{`{type: choice, labels: [refund_request, order_status]}`, "refund_request", "Refund request.", true},
			{`{type: choice, labels: [교환, 환불], match: word}`, "교환", "교환입니다", false},
			{`{type: choice, labels: [A, B, C, D]}`, "B", "A or B", false}},
	},
	"judge": {
		summary: "A grading model grades the answer against a rubric and replies with a final `GRADE: <grade>` line. " +
			"Score: the mean grade over samples; passes when the majority grade is a top grade. Needs a model provider (the yardstick CLI).",
	},
}

// Reference documents every scorer type, sorted by type.
func Reference() []TypeDoc {
	var out []TypeDoc
	for _, t := range Types() {
		k := kinds[t]
		d := typeDocs[t]
		td := TypeDoc{Type: t, Summary: d.summary, Examples: d.examples}
		switch k.refs {
		case refOne:
			td.Reference = "value, or the case's expected answer"
		case refMany:
			td.Reference = "values, or value, or the case's expected answer"
		}
		for _, f := range k.fields {
			doc, ok := d.fields[f]
			if !ok {
				doc = commonFieldDocs[f]
			}
			td.Fields = append(td.Fields, FieldDoc{Name: f, Doc: doc})
			if f == FieldNormalize {
				td.Normalize = "none"
				if n := defaultNorm(t).names(); len(n) > 0 {
					td.Normalize = strings.Join(n, ", ")
				}
				if t == "icontains" {
					td.Normalize += " (and always case folding)"
				}
			}
		}
		out = append(out, td)
	}
	return out
}

// referenceIntro opens both renderings.
const referenceIntro = `Every scorer type can be negated with a "not-" prefix (not-contains passes when contains fails) and takes a weight (≥ 0, default 1): a case's score is the weighted mean of its scorers, and it passes at pass_threshold (default 1). Text is always compared after NFC, so canonically equivalent Unicode (precomposed or decomposed Hangul, é) is equal.`

// WriteReferenceText writes the scorer reference as plain text (the output
// of `yardstick suites scorers`); only, when non-empty, limits it to those
// types.
func WriteReferenceText(w io.Writer, only ...string) error {
	var b strings.Builder
	if len(only) == 0 {
		b.WriteString(wrap(referenceIntro, 78, "") + "\n\n")
	}
	for _, td := range Reference() {
		if len(only) > 0 && !hasString(only, td.Type) {
			continue
		}
		fmt.Fprintf(&b, "%s\n%s\n", td.Type, wrap(td.Summary, 78, "  "))
		if td.Reference != "" {
			fmt.Fprintf(&b, "  compares with: %s\n", td.Reference)
		}
		if td.Normalize != "" {
			fmt.Fprintf(&b, "  default normalize: %s\n", td.Normalize)
		}
		if len(td.Fields) > 0 {
			b.WriteString("  fields:\n")
			for _, f := range td.Fields {
				fmt.Fprintf(&b, "    %-14s%s\n", f.Name, strings.TrimPrefix(wrap(f.Doc, 78, strings.Repeat(" ", 18)), strings.Repeat(" ", 18)))
			}
		}
		if len(td.Examples) > 0 {
			b.WriteString("  examples:\n")
			for _, e := range td.Examples {
				fmt.Fprintf(&b, "    %s\n      answer %s", e.Scorer, q(e.Answer))
				if e.Expected != "" {
					fmt.Fprintf(&b, ", expected %s", q(e.Expected))
				}
				fmt.Fprintf(&b, ": %s\n", passWord(e.Pass))
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, strings.TrimSuffix(b.String(), "\n"))
	return err
}

// WriteReferenceMarkdown writes the scorer reference as a Markdown page
// (docs/scorers.md).
func WriteReferenceMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("<!-- Generated by `go test ./suites/score -run TestReferenceDoc -update`; edit suites/score/reference.go. -->\n\n")
	b.WriteString("# Scorer reference\n\n")
	b.WriteString("A suite's `scorers:` list says how an answer is judged. This page is generated from the same registry `yardstick suites scorers` prints.\n\n")
	b.WriteString(referenceIntro + "\n\n")
	b.WriteString("| type | checks | default normalize |\n|---|---|---|\n")
	for _, td := range Reference() {
		first, _, _ := strings.Cut(td.Summary, ". ")
		n := td.Normalize
		if n == "" {
			n = "—"
		}
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s |\n", td.Type, td.Type, mdCell(strings.TrimSuffix(first, ".")), mdCell(n))
	}
	for _, td := range Reference() {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", td.Type, td.Summary)
		if td.Reference != "" {
			fmt.Fprintf(&b, "Compares with: %s.\n\n", td.Reference)
		}
		if td.Normalize != "" {
			fmt.Fprintf(&b, "Default normalisation: %s.\n\n", td.Normalize)
		}
		if len(td.Fields) > 0 {
			b.WriteString("| field | meaning |\n|---|---|\n")
			for _, f := range td.Fields {
				fmt.Fprintf(&b, "| `%s` | %s |\n", f.Name, mdCell(f.Doc))
			}
			b.WriteString("\n")
		}
		if len(td.Examples) > 0 {
			b.WriteString("| scorer | expected | answer | result |\n|---|---|---|---|\n")
			for _, e := range td.Examples {
				exp := "—"
				if e.Expected != "" {
					exp = "`" + mdCode(e.Expected) + "`"
				}
				fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s |\n", mdCode(e.Scorer), exp, mdCode(e.Answer), passWord(e.Pass))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func passWord(pass bool) string {
	if pass {
		return "pass"
	}
	return "fail"
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func mdCode(s string) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "`", "'")
}

// cells is the terminal width of s: East Asian wide and full-width
// characters take two cells.
func cells(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// wrap breaks s into lines of at most max cells, each prefixed by indent.
func wrap(s string, max int, indent string) string {
	var lines []string
	line := indent
	for _, w := range strings.Fields(s) {
		if cells(line)+cells(w) > max && strings.TrimSpace(line) != "" {
			lines = append(lines, strings.TrimRight(line, " "))
			line = indent
		}
		line += w + " "
	}
	lines = append(lines, strings.TrimRight(line, " "))
	return strings.Join(lines, "\n")
}
