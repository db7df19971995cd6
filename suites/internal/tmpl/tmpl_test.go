package tmpl

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseVars(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"plain text", []string{}},
		{"{{.text}}", []string{"text"}},
		{"{{.b}} {{.a}} {{.b}}", []string{"a", "b"}},
		{"{{lower .name | upper}}", []string{"name"}},
		{"{{if .flag}}{{.x}}{{else}}{{.y}}{{end}}", []string{"flag", "x", "y"}},
		{"{{range .items}}{{.inner}} {{$.outer}}{{end}}", []string{"items", "outer"}},
		{"{{with .obj}}{{.field}}{{end}}", []string{"obj"}},
		{"{{join .options \", \"}}", []string{"options"}},
		{"{{(.a).b}}", []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			tp, err := Parse(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := tp.Vars(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Vars() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		text     string
		line     int
		contains string
	}{
		{"{{.x", 1, "unclosed action"},
		{"line one\nline two {{nosuchfunc .x}}", 2, `function "nosuchfunc" not defined`},
		{"a\nb\n{{end}}", 3, "unexpected {{end}}"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := Parse(tt.text)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.contains) || strings.Contains(pe.Msg, "tmpl:") {
				t.Errorf("got line %d %q, want line %d containing %q", pe.Line, pe.Msg, tt.line, tt.contains)
			}
		})
	}
}

func TestExecute(t *testing.T) {
	var list []any
	if err := json.Unmarshal([]byte(`["a", 2, {"k": "<v>"}]`), &list); err != nil {
		t.Fatal(err)
	}
	data := map[string]any{"name": "  Ada ", "list": list, "obj": map[string]any{"k": "v&w"}}
	has := func(k string) bool { _, ok := data[k]; return ok }
	tests := []struct {
		text, want, err string
	}{
		{"Hi {{trim .name}}!", "Hi Ada!", ""},
		{"{{.name | trim | upper}}", "ADA", ""},
		{"{{lower \"ABC\"}}", "abc", ""},
		{"{{join .list \"|\"}}", `a|2|{"k":"<v>"}`, ""},
		{"{{json .obj}}", `{"k":"v&w"}`, ""},
		{"{{json .name}}", `"  Ada "`, ""},
		{"{{.missing}} {{.other}}", "", `missing variables "missing", "other"`},
		{"{{.nope}}", "", `missing variable "nope"`},
		{"{{join .obj \",\"}}", "", "join: cannot join map[string]interface {}"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			tp, err := Parse(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tp.Execute(data, has)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want containing %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
