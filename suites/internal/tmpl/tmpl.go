// Package tmpl is the template dialect of suite files: Go text/template with
// missingkey=error and the functions lower, upper, trim, join and json. It
// reports parse errors with their line inside the template text and missing
// variables by name, before executing anything. It does not know about files.
package tmpl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

const name = "tmpl"

// Funcs are the functions available in every suite template.
var Funcs = template.FuncMap{
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"trim":  strings.TrimSpace,
	"join":  join,
	"json":  toJSON,
}

// Template is a parsed template and the top-level variables it refers to.
type Template struct {
	t    *template.Template
	vars []string // sorted, unique
	text string
}

// ParseError is a template syntax error. Line is 1-based within the template text.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return e.Msg }

// MissingError names the variables a template needs that the data lacks.
type MissingError struct {
	Vars []string // sorted
}

func (e *MissingError) Error() string {
	q := make([]string, len(e.Vars))
	for i, v := range e.Vars {
		q[i] = strconv.Quote(v)
	}
	if len(q) == 1 {
		return "missing variable " + q[0]
	}
	return "missing variables " + strings.Join(q, ", ")
}

var parseErrRE = regexp.MustCompile(`^template: ` + name + `:(\d+): (.*)$`)

// Parse parses text. A syntax error is a *ParseError.
func Parse(text string) (*Template, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(Funcs).Parse(text)
	if err != nil {
		msg := err.Error()
		if m := parseErrRE.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &ParseError{Line: line, Msg: "template: " + m[2]}
		}
		return nil, &ParseError{Line: 1, Msg: msg}
	}
	seen := map[string]bool{}
	if t.Tree != nil {
		walk(t.Tree.Root, true, seen)
	}
	vars := make([]string, 0, len(seen))
	for v := range seen {
		vars = append(vars, v)
	}
	sort.Strings(vars)
	return &Template{t: t, vars: vars, text: text}, nil
}

// Vars returns the top-level variables the template refers to (.x or $.x).
func (t *Template) Vars() []string { return slices.Clone(t.vars) }

// Text returns the template source.
func (t *Template) Text() string { return t.text }

// Static reports whether the template has no actions: its output is its text.
func (t *Template) Static() bool {
	return !strings.Contains(t.text, "{{")
}

// Execute renders the template. has reports whether a variable exists; when
// some referenced variable is missing the error is a *MissingError and nothing
// is rendered. Safe for concurrent use.
func (t *Template) Execute(data any, has func(string) bool) (string, error) {
	var missing []string
	for _, v := range t.vars {
		if !has(v) {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return "", &MissingError{Vars: missing}
	}
	var b bytes.Buffer
	if err := t.t.Execute(&b, data); err != nil {
		msg := err.Error()
		// text/template prefixes "template: tmpl:L:C: executing "tmpl" at <…>: ".
		if i := strings.Index(msg, ">: "); i >= 0 {
			msg = msg[i+3:]
		}
		return "", fmt.Errorf("template: %s", msg)
	}
	return b.String(), nil
}

// walk collects top-level field names; root says whether dot is still the data.
func walk(n parse.Node, root bool, seen map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, root, seen)
		}
	case *parse.ActionNode:
		walkPipe(n.Pipe, root, seen)
	case *parse.IfNode:
		walkPipe(n.Pipe, root, seen)
		walk(n.List, root, seen)
		walk(n.ElseList, root, seen)
	case *parse.RangeNode:
		walkPipe(n.Pipe, root, seen)
		walk(n.List, false, seen)
		walk(n.ElseList, root, seen)
	case *parse.WithNode:
		walkPipe(n.Pipe, root, seen)
		walk(n.List, false, seen)
		walk(n.ElseList, root, seen)
	case *parse.TemplateNode:
		walkPipe(n.Pipe, root, seen)
	}
}

func walkPipe(p *parse.PipeNode, root bool, seen map[string]bool) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			walkArg(a, root, seen)
		}
	}
}

func walkArg(a parse.Node, root bool, seen map[string]bool) {
	switch a := a.(type) {
	case *parse.FieldNode:
		if root && len(a.Ident) > 0 {
			seen[a.Ident[0]] = true
		}
	case *parse.VariableNode:
		if len(a.Ident) > 1 && a.Ident[0] == "$" {
			seen[a.Ident[1]] = true
		}
	case *parse.ChainNode:
		walkArg(a.Node, root, seen)
	case *parse.PipeNode:
		walkPipe(a, root, seen)
	}
}

// join joins a list with sep; a string is returned as is. Non-string items are
// written as JSON.
func join(v any, sep string) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case []string:
		return strings.Join(v, sep), nil
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			if s, ok := x.(string); ok {
				parts[i] = s
				continue
			}
			s, err := toJSON(x)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, sep), nil
	default:
		return "", fmt.Errorf("join: cannot join %T", v)
	}
}

// toJSON writes v as compact JSON without HTML escaping.
func toJSON(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("json: %w", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
