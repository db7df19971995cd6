package suites

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/yardstick-eval/yardstick/internal/suggest"
	"github.com/yardstick-eval/yardstick/suites/score"
)

// decoder walks a yaml.Node tree, collecting errors with file:line and path.
type decoder struct {
	file string
	errs ErrorList
}

func (d *decoder) add(line int, field string, err error) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Field: field, Err: err})
}

func (d *decoder) addf(line int, field, format string, args ...any) {
	d.add(line, field, fmt.Errorf(format, args...))
}

// at reports an error at a node, whose column orders errors on one line.
func (d *decoder) at(n *yaml.Node, field string, err error) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, col: n.Column, Field: field, Err: err})
}

func (d *decoder) atf(n *yaml.Node, field, format string, args ...any) {
	d.at(n, field, fmt.Errorf(format, args...))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// describe names a node's kind for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!bool":
			return "boolean " + n.Value
		case "!!int", "!!float":
			return "number " + n.Value
		default:
			return strconv.Quote(n.Value)
		}
	}
	return "nothing"
}

// field is a mapping entry: its key's line and its value.
type field struct {
	line int
	node *yaml.Node
}

// fields checks that n is a mapping whose keys are all known and unique.
func (d *decoder) fields(n *yaml.Node, path string, known []string) (map[string]field, bool) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.atf(n, path, "expected a mapping, got %s", describe(n))
		return nil, false
	}
	out := make(map[string]field, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.atf(k, path, "expected a field name, got %s", describe(k))
			continue
		}
		key := k.Value
		switch {
		case key == "<<":
			d.atf(k, path, "merge keys (<<) are not supported; repeat the fields")
		case !slices.Contains(known, key):
			d.atf(k, path, "unknown field %q%s", key, suggest.Hint(key, known))
		default:
			if prev, dup := out[key]; dup {
				d.atf(k, join(path, key), "duplicate field (first at line %d)", prev.line)
				continue
			}
			out[key] = field{line: k.Line, node: resolve(v)}
		}
	}
	return out, true
}

// str accepts any non-null scalar as text (so version: 1.2 is "1.2").
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle != 0 {
		// value: {{.x}} is a YAML flow mapping, not text.
		d.atf(n, path, "expected a string, got a mapping; quote template text, e.g. \"{{.expected}}\"")
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.atf(n, path, "expected a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) num(n *yaml.Node, path string) (float64, bool) {
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		var f float64
		if err := n.Decode(&f); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, true
		}
	}
	d.atf(n, path, "expected a number, got %s", describe(n))
	return 0, false
}

func (d *decoder) integer(n *yaml.Node, path string) (int64, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, true
		}
	}
	d.atf(n, path, "expected an integer, got %s", describe(n))
	return 0, false
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	d.atf(n, path, "expected true or false, got %s", describe(n))
	return false, false
}

// strs decodes a list of strings; a lone scalar is a one-item list when
// scalarOK. An empty list is a non-nil empty slice.
func (d *decoder) strs(n *yaml.Node, path string, scalarOK bool) ([]string, bool) {
	if scalarOK && n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		return []string{n.Value}, true
	}
	if n.Kind != yaml.SequenceNode {
		what := "a list of strings"
		if scalarOK {
			what = "a string or a list of strings"
		}
		d.atf(n, path, "expected %s, got %s", what, describe(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for i, c := range n.Content {
		s, good := d.str(resolve(c), index(path, i))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// strMap decodes a mapping of scalar values.
func (d *decoder) strMap(n *yaml.Node, path string) (map[string]string, bool) {
	if n.Kind != yaml.MappingNode {
		d.atf(n, path, "expected a mapping, got %s", describe(n))
		return nil, false
	}
	out := map[string]string{}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if _, dup := out[k.Value]; dup {
			d.atf(k, join(path, k.Value), "duplicate key")
			ok = false
			continue
		}
		s, good := d.str(v, join(path, k.Value))
		ok = ok && good
		out[k.Value] = s
	}
	return out, ok
}

// choices decodes a judge's grades, a mapping of label to value, keeping
// their order. Labels and values are checked by score.NewPart.
func (d *decoder) choices(n *yaml.Node, path string) ([]score.Choice, bool) {
	if n.Kind != yaml.MappingNode {
		d.atf(n, path, "expected a mapping of grade to score, e.g. {PASS: 1, FAIL: 0}, got %s", describe(n))
		return nil, false
	}
	out := make([]score.Choice, 0, len(n.Content)/2)
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.atf(k, path, "expected a grade name, got %s", describe(k))
			ok = false
			out = append(out, score.Choice{}) // keeps out[j] at n.Content[2*j]
			continue
		}
		dup := false
		for j, c := range out {
			if c.Label == k.Value {
				d.atf(k, index(path, i/2), "duplicate grade %q (first at line %d)", k.Value, n.Content[2*j].Line)
				dup = true
			}
		}
		f, good := d.num(v, index(path, i/2))
		ok = ok && good && !dup
		out = append(out, score.Choice{Label: k.Value, Value: f})
	}
	return out, ok
}

// value converts a node to a JSON-compatible value: map[string]any, []any,
// string, json.Number, bool or nil.
func (d *decoder) value(n *yaml.Node, path string) (any, bool) {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		ok := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if _, dup := m[k.Value]; dup {
				d.atf(k, join(path, k.Value), "duplicate key")
				ok = false
				continue
			}
			v, good := d.value(n.Content[i+1], join(path, k.Value))
			ok = ok && good
			m[k.Value] = v
		}
		return m, ok
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		ok := true
		for i, c := range n.Content {
			v, good := d.value(c, index(path, i))
			ok = ok && good
			s = append(s, v)
		}
		return s, ok
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!bool":
			var b bool
			err := n.Decode(&b)
			return b, err == nil
		case "!!int", "!!float":
			f, ok := d.num(n, path)
			if !ok {
				return nil, false
			}
			var i int64
			if n.ShortTag() == "!!int" && n.Decode(&i) == nil {
				return json.Number(strconv.FormatInt(i, 10)), true
			}
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
		default:
			return n.Value, true
		}
	}
	d.atf(n, path, "unsupported YAML value")
	return nil, false
}

// jsonDoc decodes a JSON document given inline as YAML, or as a string
// holding JSON text.
func (d *decoder) jsonDoc(n *yaml.Node, path string) (json.RawMessage, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if !json.Valid([]byte(n.Value)) {
			d.atf(n, path, "expected a mapping or a string of JSON, got %s", describe(n))
			return nil, false
		}
		return json.RawMessage(n.Value), true
	}
	v, ok := d.value(n, path)
	if !ok {
		return nil, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		d.at(n, path, err)
		return nil, false
	}
	return b, true
}
