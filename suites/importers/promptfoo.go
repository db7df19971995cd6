package importers

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PromptfooOptions configures Promptfoo.
type PromptfooOptions struct {
	Name string // suite name; default: from the config's description, else "promptfoo"
	// JudgeModel grades llm-rubric assertions that name no provider (nor
	// defaultTest.options.provider); default "openai:gpt-4o-mini".
	JudgeModel string
}

// Promptfoo imports a promptfoo configuration (promptfooconfig.yaml) read
// from fsys at file; prompt and test files it references (file://…) are
// read relative to it. Each prompt becomes a suite whose cases are the
// config's tests (a test whose vars hold lists runs once per combination,
// as in promptfoo); defaultTest assertions become the suite's scorers, a
// test's own assertions its case's scorers; latency and cost assertions
// become thresholds; providers become Targets.
//
// Assertion types mapped: equals, contains, icontains, contains-any,
// contains-all, icontains-any, icontains-all, starts-with, regex, is-json
// (with a schema: json-schema), llm-rubric (judge), each with not-; and,
// approximately, contains-json, model-graded-closedqa, factuality, latency
// and cost. Everything else (javascript, python, similar, levenshtein,
// rouge-n, webhook, …) is listed in Result.Unmapped.
func Promptfoo(fsys fs.FS, file string, opts PromptfooOptions) (*Result, error) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if cfg == nil {
		return nil, fmt.Errorf("%s: empty configuration", file)
	}
	p := &pf{fsys: fsys, dir: path.Dir(file), res: &Result{}, judge: opts.JudgeModel}
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		switch k {
		case "description", "prompts", "providers", "tests", "defaultTest", "$schema":
		case "outputPath", "sharing", "evaluateOptions", "commandLineOptions", "env", "writeLatestResults":
			// Runner settings with Yardstick flags or no equivalent; no effect on the suite.
		default:
			p.unmapped(k, "config key", "no Yardstick equivalent")
		}
	}
	desc, _ := cfg["description"].(string)
	name := opts.Name
	if name == "" {
		name = slug(desc, 40)
	}
	if name == "" {
		name = "promptfoo"
	}

	prompts := p.prompts(cfg["prompts"])
	if len(prompts) == 0 {
		return nil, fmt.Errorf("%s: no prompts to import", file)
	}
	defaults := p.providers(cfg["providers"])

	// defaultTest
	var defVars map[string]any
	var suiteScorers []Scorer
	if dt, ok := cfg["defaultTest"].(map[string]any); ok {
		if o, ok := dt["options"].(map[string]any); ok {
			if pr, ok := o["provider"].(string); ok && p.judge == "" {
				if t, ok := mapProvider(pr); ok {
					p.judge = t
				}
			}
		}
		defVars, _ = dt["vars"].(map[string]any)
		suiteScorers = p.asserts(dt["assert"], "defaultTest.assert")
		for _, k := range slices.Sorted(maps.Keys(dt)) {
			if k != "vars" && k != "assert" && k != "options" {
				p.unmapped("defaultTest."+k, k, "no Yardstick equivalent")
			}
		}
	}
	cases := p.tests(cfg["tests"], defVars)
	if len(cases) == 0 {
		return nil, fmt.Errorf("%s: no tests to import", file)
	}
	if len(suiteScorers) == 0 {
		// A case without scorers of its own would pass whatever the answer;
		// say so rather than hide it.
		for _, c := range cases {
			if len(c.Scorers) == 0 {
				p.approx("tests", "no assertions", fmt.Sprintf("case %s has no assertion Yardstick can check: every answer passes it", c.ID))
			}
		}
	}
	for i, pr := range prompts {
		s := Suite{Name: name, Description: desc, Prompt: pr.prompt, Cases: cases, Defaults: defaults, Scorers: suiteScorers, Thresholds: p.thresholds()}
		fname := name + ".yaml"
		if len(prompts) > 1 {
			label := slug(pr.label, 24)
			if label == "" {
				label = fmt.Sprintf("p%d", i+1)
			}
			s.Name = name + "-" + label
			fname = s.Name + ".yaml"
		}
		p.res.Suites = append(p.res.Suites, File{Name: fname, Suite: s})
	}
	return p.res, nil
}

type pf struct {
	fsys    fs.FS
	dir     string
	res     *Result
	judge   string
	latency float64 // ms, the largest latency threshold; 0: none
	cost    float64 // USD, the largest cost threshold
}

func (p *pf) unmapped(where, what, why string) {
	p.res.Unmapped = append(p.res.Unmapped, Issue{where, what, why})
}

func (p *pf) approx(where, what, why string) {
	p.res.Approximated = append(p.res.Approximated, Issue{where, what, why})
}

func (p *pf) thresholds() []string {
	var t []string
	if p.latency > 0 {
		t = append(t, fmt.Sprintf("latency max <= %sms", strconv.FormatFloat(p.latency, 'f', -1, 64)))
	}
	if p.cost > 0 {
		t = append(t, fmt.Sprintf("cost max <= $%s", strconv.FormatFloat(p.cost, 'f', -1, 64)))
	}
	return t
}

// readRef reads a file:// reference relative to the config.
func (p *pf) readRef(ref string) ([]byte, string, error) {
	name := strings.TrimPrefix(ref, "file://")
	full := path.Join(p.dir, name)
	b, err := fs.ReadFile(p.fsys, full)
	return b, name, err
}

type pfPrompt struct {
	label  string
	prompt Prompt
}

func (p *pf) prompts(v any) []pfPrompt {
	var items []any
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		items = []any{v}
	case []any:
		items = v
	case map[string]any: // {file://x.txt: label}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			items = append(items, map[string]any{"raw": k, "label": fmt.Sprint(v[k])})
		}
	default:
		p.unmapped("prompts", "prompts", "expected a string or a list")
		return nil
	}
	var out []pfPrompt
	for i, it := range items {
		where := fmt.Sprintf("prompts[%d]", i)
		var raw, label string
		switch it := it.(type) {
		case string:
			raw = it
		case map[string]any:
			raw, _ = it["raw"].(string)
			if raw == "" {
				raw, _ = it["id"].(string)
			}
			label, _ = it["label"].(string)
		}
		if raw == "" {
			p.unmapped(where, "prompt", "no raw text or file")
			continue
		}
		if strings.HasPrefix(raw, "file://") {
			b, name, err := p.readRef(raw)
			if err != nil {
				p.unmapped(where, raw, err.Error())
				continue
			}
			if label == "" {
				label = strings.TrimSuffix(path.Base(name), path.Ext(name))
			}
			switch ext := path.Ext(name); ext {
			case ".txt", ".md", ".j2", ".njk", ".prompt", "":
				raw = string(b)
			case ".json", ".yaml", ".yml":
				raw = string(b)
			default:
				p.unmapped(where, raw, "a "+ext+" prompt is code; Yardstick prompts are templates")
				continue
			}
		}
		pr, err := p.prompt(raw)
		if err != nil {
			p.unmapped(where, "prompt", err.Error())
			continue
		}
		out = append(out, pfPrompt{label: label, prompt: pr})
	}
	return out
}

// prompt converts a prompt text: a chat (a JSON or YAML list of {role,
// content}) or one user message.
func (p *pf) prompt(raw string) (Prompt, error) {
	t := strings.TrimSpace(raw)
	if strings.HasPrefix(t, "[") || strings.HasPrefix(t, "- role:") {
		var msgs []map[string]any
		if err := yaml.Unmarshal([]byte(t), &msgs); err == nil && len(msgs) > 0 {
			var pr Prompt
			for _, m := range msgs {
				role, _ := m["role"].(string)
				content, ok := m["content"].(string)
				if !ok || (role != "system" && role != "user" && role != "assistant") {
					return Prompt{}, errors.New("a chat message needs role system, user or assistant and a text content")
				}
				c, err := nunjucks(content)
				if err != nil {
					return Prompt{}, err
				}
				pr.Messages = append(pr.Messages, Message{Role: role, Content: c})
			}
			return pr, nil
		}
	}
	c, err := nunjucks(raw)
	if err != nil {
		return Prompt{}, err
	}
	return Prompt{User: c}, nil
}

var (
	njVar  = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(?:\|\s*(\w+)\s*)?\}\}`)
	njLeft = regexp.MustCompile(`\{\{|\{%|\{#`)
)

// nunjucks converts promptfoo's Nunjucks variables ({{ name }}, {{ a.b }},
// {{ name | lower }}) to Go templates ({{.name}}, {{lower .name}}); other
// Nunjucks (tags, other filters) is an error.
func nunjucks(s string) (string, error) {
	var bad error
	out := njVar.ReplaceAllStringFunc(s, func(m string) string {
		sm := njVar.FindStringSubmatch(m)
		switch sm[2] {
		case "":
			return "{{." + sm[1] + "}}"
		case "lower", "upper", "trim":
			return "{{" + sm[2] + " ." + sm[1] + "}}"
		case "dump":
			return "{{json ." + sm[1] + "}}"
		}
		bad = fmt.Errorf("Nunjucks filter %q has no Yardstick template equivalent", sm[2])
		return m
	})
	if bad != nil {
		return "", bad
	}
	// What is left must not be template syntax.
	rest := njVar.ReplaceAllString(s, "")
	if njLeft.MatchString(rest) {
		return "", errors.New("Nunjucks tags ({% … %}) or expressions have no Yardstick template equivalent")
	}
	return out, nil
}

// providers maps promptfoo provider ids to Yardstick targets, and a shared
// temperature or max_tokens to the suite defaults.
func (p *pf) providers(v any) *Defaults {
	var items []any
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		items = []any{v}
	case []any:
		items = v
	}
	var temps []float64
	var maxes []int
	for i, it := range items {
		where := fmt.Sprintf("providers[%d]", i)
		var id string
		var cfg map[string]any
		switch it := it.(type) {
		case string:
			id = it
		case map[string]any:
			id, _ = it["id"].(string)
			cfg, _ = it["config"].(map[string]any)
		}
		t, ok := mapProvider(id)
		if !ok {
			p.unmapped(where, id, "no Yardstick provider for it (Yardstick speaks OpenAI and OpenAI-compatible APIs, Azure, Gemini, Ollama)")
			continue
		}
		if !slices.Contains(p.res.Targets, t) {
			p.res.Targets = append(p.res.Targets, t)
		}
		for _, k := range slices.Sorted(maps.Keys(cfg)) {
			switch k {
			case "temperature":
				if f, ok := num(cfg[k]); ok {
					temps = append(temps, f)
				}
			case "max_tokens":
				if f, ok := num(cfg[k]); ok {
					maxes = append(maxes, int(f))
				}
			default:
				p.unmapped(where+".config."+k, k, "provider settings go in yardstick.yaml")
			}
		}
	}
	var d Defaults
	if len(temps) > 0 && len(temps) == len(items) && allSame(temps) {
		d.Temperature = ptr(temps[0])
	} else if len(temps) > 0 {
		p.approx("providers", "temperature", "providers set different temperatures; the suite has one (none set)")
	}
	if len(maxes) > 0 && len(maxes) == len(items) && allSame(maxes) {
		d.MaxTokens = maxes[0]
	} else if len(maxes) > 0 {
		p.approx("providers", "max_tokens", "providers set different max_tokens; the suite has one (none set)")
	}
	if d.Temperature == nil && d.MaxTokens == 0 {
		return nil
	}
	return &d
}

func allSame[T comparable](xs []T) bool {
	for _, x := range xs {
		if x != xs[0] {
			return false
		}
	}
	return true
}

// mapProvider maps a promptfoo provider id to a Yardstick target.
func mapProvider(id string) (string, bool) {
	parts := strings.Split(id, ":")
	if len(parts) < 2 {
		return "", false
	}
	model := parts[len(parts)-1]
	switch parts[0] {
	case "openai":
		if len(parts) == 3 && parts[1] != "chat" {
			return "", false // completion, embedding, assistant, …
		}
		return "openai:" + model, true
	case "azureopenai", "azure":
		return "azure:" + model, true
	case "vertex", "google", "gemini":
		return "gemini:" + model, true
	case "ollama":
		if len(parts) == 3 && parts[1] != "chat" {
			return "", false
		}
		return "ollama:" + model, true
	case "groq", "together", "openrouter":
		return parts[0] + ":" + strings.Join(parts[1:], ":"), true
	}
	return "", false
}

func num(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

// tests converts the config's tests (a list, or a file:// reference to a
// CSV, YAML or JSON file) into cases.
func (p *pf) tests(v any, defVars map[string]any) []Case {
	var items []any
	switch v := v.(type) {
	case nil:
	case string:
		items = p.testFile(v, "tests")
	case []any:
		for i, it := range v {
			if s, ok := it.(string); ok {
				items = append(items, p.testFile(s, fmt.Sprintf("tests[%d]", i))...)
				continue
			}
			items = append(items, it)
		}
	}
	var cases []Case
	ids := map[string]int{}
	for i, it := range items {
		where := fmt.Sprintf("tests[%d]", i)
		t, ok := it.(map[string]any)
		if !ok {
			p.unmapped(where, "test", "expected a mapping")
			continue
		}
		vars := maps.Clone(defVars)
		if vars == nil {
			vars = map[string]any{}
		}
		if tv, ok := t["vars"].(map[string]any); ok {
			maps.Copy(vars, tv)
		} else if s, ok := t["vars"].(string); ok {
			p.unmapped(where+".vars", s, "vars from a file are not read; inline them")
		}
		var scorers []Scorer
		if a, ok := t["assert"]; ok {
			scorers = p.asserts(a, where+".assert")
		}
		var threshold *float64
		if th, ok := num(t["threshold"]); ok {
			threshold = ptr(th)
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			switch k {
			case "vars", "assert", "description", "threshold":
			default:
				p.unmapped(where+"."+k, k, "no Yardstick equivalent")
			}
		}
		desc, _ := t["description"].(string)
		base := slug(desc, 40)
		if base == "" {
			base = fmt.Sprintf("t%d", i+1)
		}
		for j, vs := range expand(vars) {
			id := base
			if n := len(expand(vars)); n > 1 {
				id = fmt.Sprintf("%s-%d", base, j+1)
			}
			if ids[id]++; ids[id] > 1 {
				id = fmt.Sprintf("%s-%d", id, ids[id])
			}
			c := Case{ID: id, Vars: vs, Scorers: scorers, PassThreshold: threshold}
			cases = append(cases, c)
		}
	}
	return cases
}

// expand returns the combinations of list-valued vars (promptfoo runs a
// test once per combination), in key order.
func expand(vars map[string]any) []map[string]any {
	out := []map[string]any{{}}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		vals := []any{vars[k]}
		if l, ok := vars[k].([]any); ok && len(l) > 0 {
			vals = l
		}
		var next []map[string]any
		for _, o := range out {
			for _, v := range vals {
				m := maps.Clone(o)
				m[k] = v
				next = append(next, m)
			}
		}
		out = next
	}
	return out
}

// testFile reads tests from a file:// CSV (columns are vars; __expected
// columns are assertions, __description the description), YAML or JSON list.
func (p *pf) testFile(ref, where string) []any {
	b, name, err := p.readRef(ref)
	if err != nil {
		p.unmapped(where, ref, err.Error())
		return nil
	}
	switch path.Ext(name) {
	case ".csv":
		recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
		if err != nil || len(recs) < 2 {
			p.unmapped(where, ref, fmt.Sprintf("not a CSV with a header and rows (%v)", err))
			return nil
		}
		var out []any
		for _, rec := range recs[1:] {
			t := map[string]any{}
			vars := map[string]any{}
			var asserts []any
			for i, col := range recs[0] {
				if i >= len(rec) {
					break
				}
				switch {
				case strings.HasPrefix(col, "__expected"):
					if rec[i] != "" {
						asserts = append(asserts, csvAssert(rec[i]))
					}
				case col == "__description":
					t["description"] = rec[i]
				case strings.HasPrefix(col, "__"):
				default:
					vars[col] = rec[i]
				}
			}
			t["vars"] = vars
			if asserts != nil {
				t["assert"] = asserts
			}
			out = append(out, t)
		}
		return out
	case ".yaml", ".yml", ".json":
		var list []any
		if err := yaml.Unmarshal(b, &list); err != nil {
			p.unmapped(where, ref, "not a list of tests: "+err.Error())
			return nil
		}
		return list
	}
	p.unmapped(where, ref, "tests from code files are not read")
	return nil
}

// csvAssert reads a promptfoo CSV __expected cell: "type: value" for a few
// types, "grade: …" for llm-rubric, otherwise an equals value.
func csvAssert(cell string) map[string]any {
	for _, t := range []string{"not-contains", "contains-any", "contains-all", "icontains", "contains", "not-icontains", "starts-with", "regex", "not-regex", "is-json", "javascript", "python", "similar", "levenshtein", "llm-rubric", "grade", "equals", "not-equals"} {
		if rest, ok := strings.CutPrefix(cell, t+":"); ok {
			if t == "grade" {
				t = "llm-rubric"
			}
			v := strings.TrimSpace(rest)
			if t == "contains-any" || t == "contains-all" {
				return map[string]any{"type": t, "value": v} // comma-separated
			}
			return map[string]any{"type": t, "value": v}
		}
	}
	if cell == "is-json" {
		return map[string]any{"type": "is-json"}
	}
	return map[string]any{"type": "equals", "value": cell}
}

// unmappable explains the promptfoo assertion types Yardstick cannot check.
var unmappable = map[string]string{
	"javascript":                    "Yardstick runs no JavaScript; rewrite as regex, numeric or a judge",
	"python":                        "Yardstick runs no Python; rewrite as regex, numeric or a judge",
	"webhook":                       "Yardstick calls no webhooks",
	"similar":                       "no embedding-similarity scorer",
	"levenshtein":                   "no edit-distance scorer",
	"rouge-n":                       "no ROUGE scorer",
	"bleu":                          "no BLEU scorer",
	"perplexity":                    "no perplexity scorer",
	"perplexity-score":              "no perplexity scorer",
	"classifier":                    "no classifier scorer",
	"moderation":                    "no moderation scorer",
	"answer-relevance":              "no answer-relevance scorer",
	"context-recall":                "no RAG context scorers",
	"is-valid-openai-tools-call":    "no tool-call scorer",
	"is-valid-openai-function-call": "no tool-call scorer",
	"select-best":                   "no cross-answer comparison",
	"assert-set":                    "no nested assertion sets; list their assertions directly",
}

// asserts maps a list of promptfoo assertions.
func (p *pf) asserts(v any, where string) []Scorer {
	list, ok := v.([]any)
	if !ok {
		if v != nil {
			p.unmapped(where, "assert", "expected a list")
		}
		return nil
	}
	var out []Scorer
	for i, it := range list {
		w := fmt.Sprintf("%s[%d]", where, i)
		a, ok := it.(map[string]any)
		if !ok {
			p.unmapped(w, "assertion", "expected a mapping")
			continue
		}
		if s, ok := p.assert(a, w); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *pf) assert(a map[string]any, where string) (Scorer, bool) {
	typ, _ := a["type"].(string)
	base, neg := strings.CutPrefix(typ, "not-")
	not := ""
	if neg {
		not = "not-"
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		switch k {
		case "type", "value", "weight", "threshold", "provider", "metric":
		default:
			p.unmapped(where+"."+k, k, "no Yardstick equivalent for this assertion option")
		}
	}
	var s Scorer
	if w, ok := num(a["weight"]); ok {
		s.Weight = ptr(w)
	}
	value := a["value"]
	str := func() (*string, bool) {
		v, ok := value.(string)
		if !ok {
			if value == nil {
				p.unmapped(where, typ, "needs a value")
			} else {
				b, _ := json.Marshal(value)
				v, ok = string(b), true
				return ptr(v), true
			}
			return nil, false
		}
		c, err := nunjucks(v)
		if err != nil {
			p.unmapped(where, typ, err.Error())
			return nil, false
		}
		return ptr(c), true
	}
	strs := func() ([]string, bool) {
		var raw []string
		switch v := value.(type) {
		case []any:
			for _, x := range v {
				raw = append(raw, fmt.Sprint(x))
			}
		case string:
			for _, x := range strings.Split(v, ",") {
				raw = append(raw, strings.TrimSpace(x))
			}
		default:
			p.unmapped(where, typ, "needs a list of values")
			return nil, false
		}
		for i, x := range raw {
			c, err := nunjucks(x)
			if err != nil {
				p.unmapped(where, typ, err.Error())
				return nil, false
			}
			raw[i] = c
		}
		return raw, true
	}
	switch base {
	case "equals":
		if _, isObj := value.(map[string]any); isObj {
			v, _ := json.Marshal(value)
			s.Type, s.Value = not+"json-match", ptr(string(v))
			p.approx(where, typ, "an object value is compared as JSON (json-match: the answer's extra keys are ignored)")
			return s, true
		}
		v, ok := str()
		s.Type, s.Value = not+"exact", v
		return s, ok
	case "contains", "icontains", "starts-with":
		v, ok := str()
		s.Type, s.Value = not+base, v
		return s, ok
	case "contains-any", "contains-all", "icontains-any", "icontains-all":
		vs, ok := strs()
		s.Type, s.Values = not+strings.TrimPrefix(base, "i"), vs
		if strings.HasPrefix(base, "i") {
			s.Normalize = []string{"lower"}
		}
		return s, ok
	case "regex":
		v, ok := value.(string)
		if !ok {
			p.unmapped(where, typ, "needs a pattern")
			return s, false
		}
		if _, err := regexp.Compile(v); err != nil {
			p.unmapped(where, typ, "the JavaScript regex is not RE2 ("+err.Error()+")")
			return s, false
		}
		s.Type, s.Pattern = not+"regex", v
		return s, true
	case "is-json", "contains-json":
		s.Type = not + "is-json"
		if value != nil {
			sch, err := schemaValue(value)
			if err != nil {
				p.unmapped(where, typ, err.Error())
				return s, false
			}
			s.Type, s.Schema = not+"json-schema", sch
		}
		if base == "contains-json" {
			p.approx(where, typ, "the whole answer must be JSON (a ```json fence is allowed), not JSON somewhere inside it")
		}
		return s, true
	case "llm-rubric", "model-graded-closedqa", "factuality":
		v, ok := str()
		if !ok {
			return s, false
		}
		s.Type, s.Rubric = not+"judge", *v
		switch base {
		case "model-graded-closedqa":
			s.Rubric = "The answer meets this criterion: " + *v
			p.approx(where, typ, "graded by a judge rubric, not promptfoo's closed-QA prompt")
		case "factuality":
			s.Rubric = "The answer is factually consistent with this reference: " + *v
			p.approx(where, typ, "graded by a judge rubric, not promptfoo's factuality prompt")
		}
		s.Model = p.judge
		if pr, ok := a["provider"].(string); ok {
			if t, ok := mapProvider(pr); ok {
				s.Model = t
			} else {
				p.approx(where+".provider", pr, "no Yardstick provider for it; the default judge model grades")
			}
		}
		if s.Model == "" {
			s.Model = "openai:gpt-4o-mini"
			p.approx(where, typ, "no grading provider given; openai:gpt-4o-mini grades (set --judge-model)")
		}
		return s, true
	case "latency", "cost":
		th, ok := num(a["threshold"])
		if !ok || neg {
			p.unmapped(where, typ, "needs a threshold (and cannot be negated)")
			return s, false
		}
		if base == "latency" {
			p.latency = max(p.latency, th)
		} else {
			p.cost = max(p.cost, th)
		}
		p.approx(where, typ, "per-test limits become one suite threshold on the slowest (costliest) answer, at the largest limit given")
		return s, false
	}
	if why, ok := unmappable[base]; ok {
		p.unmapped(where, typ, why)
	} else if strings.HasPrefix(base, "context-") {
		p.unmapped(where, typ, "no RAG context scorers")
	} else {
		p.unmapped(where, typ, "unknown assertion type")
	}
	return s, false
}

// schemaValue is an is-json value: a schema object, or its JSON or YAML text.
func schemaValue(v any) (any, error) {
	if s, ok := v.(string); ok {
		var out any
		if err := yaml.Unmarshal([]byte(s), &out); err != nil {
			return nil, fmt.Errorf("the schema does not parse: %v", err)
		}
		v = out
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("the schema must be an object")
	}
	return v, nil
}
