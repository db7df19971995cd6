package suites

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/yardstick-eval/yardstick/suites/internal/tmpl"
	"github.com/yardstick-eval/yardstick/suites/score"
)

// fieldMap fills one case field (id, expected, split or a variable) from a
// dataset's own fields, for datasets used as published (GSM8K's question and
// answer, a Hugging Face export's nested columns).
type fieldMap struct {
	target string           // id, expected, split, or a variable name
	path   string           // a field path ("answer", "meta.source", "choices.0"); "" with t
	t      *tmpl.Template   // a template over the row's fields
	x      *score.Extractor // applied to the value's text; nil: none
	line   int              // line of the mapping in the suite file
}

var fieldMapFields = []string{"field", "template", "after", "regex", "answer"}

// parseFields decodes cases.fields: target → a field path, a template
// ("{{.title}}: {{.body}}"), or {field|template, after|regex|answer}.
func (s *Suite) parseFields(d *decoder, n *yaml.Node) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		d.atf(n, "cases.fields", "expected a mapping of case fields to dataset fields, e.g. {expected: answer}, got %s", describe(n))
		return
	}
	var idMap []fieldMap
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		target := k.Value
		p := join("cases.fields", target)
		switch {
		case target == "pass_threshold" || target == "tags" || target == "vars" || strings.HasPrefix(target, "tags."):
			d.atf(k, p, "cannot be mapped (map id, expected, split or a variable)")
			continue
		case !identRE.MatchString(target):
			d.atf(k, p, "%q: a variable name is letters, digits and _, starting with a letter", target)
			continue
		}
		m := fieldMap{target: target, line: k.Line}
		var src *yaml.Node
		var isTemplate bool
		if v.Kind == yaml.MappingNode {
			f, ok := d.fields(v, p, fieldMapFields)
			if !ok {
				continue
			}
			fv, hasField := f["field"]
			tv, hasTmpl := f["template"]
			switch {
			case hasField && hasTmpl:
				d.addf(tv.line, join(p, "template"), "set field or template, not both")
				continue
			case hasField:
				src = fv.node
			case hasTmpl:
				src, isTemplate = tv.node, true
			default:
				d.atf(v, p, "needs field (a dataset field) or template")
				continue
			}
			var e score.Extract
			if a, ok := f["after"]; ok {
				e.After, _ = d.str(a.node, join(p, "after"))
			}
			if r, ok := f["regex"]; ok {
				e.Regex, _ = d.str(r.node, join(p, "regex"))
			}
			if a, ok := f["answer"]; ok {
				e.Answer, _ = d.boolean(a.node, join(p, "answer"))
			}
			x, err := score.NewExtractor(e)
			if err != nil {
				var fe *score.FieldError
				if errors.As(err, &fe) {
					err = fe.Err
				}
				d.at(v, p, err)
				continue
			}
			if x.Narrows() {
				m.x = x
			}
		} else {
			src = v
		}
		text, ok := d.str(src, p)
		if !ok {
			continue
		}
		if isTemplate || strings.Contains(text, "{{") {
			t := d.parseTemplate(src, p)
			if t == nil {
				continue
			}
			m.t = t
		} else if strings.TrimSpace(text) == "" {
			d.atf(src, p, "empty field name")
			continue
		} else {
			m.path = text
		}
		if target == "id" {
			idMap = append(idMap, m) // first, so later errors name the case
		} else {
			s.fieldMaps = append(s.fieldMaps, m)
		}
	}
	s.fieldMaps = append(idMap, s.fieldMaps...)
}

// lookupPath finds a field: the key as written first (a CSV column may
// contain dots), then a path through nested objects and arrays ("a.b.0").
func lookupPath(obj map[string]any, path string) (any, bool) {
	if v, ok := obj[path]; ok {
		return v, true
	}
	var cur any = obj
	for _, part := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		case string:
			// A JSON document in a CSV cell or a string column.
			var inner any
			dec := json.NewDecoder(strings.NewReader(c))
			dec.UseNumber()
			if dec.Decode(&inner) != nil {
				return nil, false
			}
			m, ok := inner.(map[string]any)
			if !ok {
				return nil, false
			}
			v, ok := m[part]
			if !ok {
				return nil, false
			}
			cur = v
		default:
			return nil, false
		}
	}
	return cur, true
}

// mapRow applies the suite's field mapping to r. The row's own fields are
// read as they were before any mapping.
func (s *Suite) mapRow(r *row) (err *Error) {
	defer func() {
		if err != nil && err.Case == "" {
			err.Case = fmt.Sprintf("row-%d", r.n) // as Cases names it
		}
	}()
	src := maps.Clone(r.vars)
	if r.id != "" {
		src["id"] = r.id
	}
	if r.expected != "" {
		src["expected"] = r.expected
	}
	if r.split != "" {
		src["split"] = r.split
	}
	has := func(k string) bool { _, ok := src[k]; return ok }
	for _, m := range s.fieldMaps {
		where := fmt.Sprintf("(cases.fields.%s, %s:%d)", m.target, s.Path, m.line)
		var v any
		field := m.path
		if m.t != nil {
			text, err := m.t.Execute(src, has)
			if err != nil {
				return r.errf(m.target, "%v %s", err, where)
			}
			v, field = text, m.target
		} else {
			var ok bool
			if v, ok = lookupPath(src, m.path); !ok {
				return r.errf(m.path, "missing field %s; fields present: %s", where, strings.Join(slices.Sorted(maps.Keys(src)), ", "))
			}
		}
		if m.x != nil {
			text, err := m.x.Apply(jsonText(v))
			if err != nil {
				return r.errf(field, "%v %s", err, where)
			}
			v = text
		}
		switch m.target {
		case "id":
			id, ok := v.(string)
			if n, isNum := v.(json.Number); isNum {
				id, ok = n.String(), true
			}
			if !ok || id == "" {
				return r.errf(field, "an id must be a non-empty string or number, got %s %s", jsonKind(v), where)
			}
			r.id = id
		case "expected":
			r.expected = jsonText(v)
		case "split":
			sp, ok := v.(string)
			if !ok {
				return r.errf(field, "a split must be a string, got %s %s", jsonKind(v), where)
			}
			r.split = sp
		default:
			r.vars[m.target] = v
		}
	}
	return nil
}
