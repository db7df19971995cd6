package suites

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// Inputs that used to be accepted silently, or rejected without a line.
var hostile = []struct {
	name  string
	files map[string]string
	want  []string // exact errors, in order
}{
	{"second YAML document", map[string]string{"suite.yaml": validHead + `cases: [{id: a, vars: {text: hi}}]
---
name: other
`}, []string{`suite.yaml:5: a second YAML document starts here (after ---): a file holds one document; remove the --- or split the file`}},

	{"tab indentation", map[string]string{"suite.yaml": validHead + "cases:\n\t- {id: a, vars: {text: hi}}\n"},
		[]string{`suite.yaml:5: invalid YAML: found character that cannot start any token`}},

	{"unclosed quote", map[string]string{"suite.yaml": validHead + "description: \"never closed\ncases: [{id: a, vars: {text: hi}}]\n"},
		[]string{`suite.yaml:4: invalid YAML: found unexpected end of stream`}},

	{"bad indentation in a case", map[string]string{"suite.yaml": validHead + `cases:
  - id: a
    vars:
      text: hi
     expected: x
`}, []string{`suite.yaml:8: invalid YAML: did not find expected key`}},

	{"latin-1 in the suite file", map[string]string{"suite.yaml": validHead + "description: caf\xe9\ncases: [{id: a, vars: {text: hi}}]\n"},
		[]string{`suite.yaml:4: invalid UTF-8: byte 0xE9 at column 17 (is the file Latin-1? save it as UTF-8)`}},

	{"latin-1 in JSONL", map[string]string{"suite.yaml": validHead + "cases: {file: d.jsonl}\n",
		"d.jsonl": "{\"id\": \"a\", \"text\": \"fine\"}\n{\"id\": \"b\", \"text\": \"caf\xe9\"}\n"},
		[]string{`d.jsonl:2: text: invalid UTF-8: byte 0xE9 at column 25 (is the file Latin-1? save it as UTF-8)`}},

	{"latin-1 in a JSON array", map[string]string{"suite.yaml": validHead + "cases: {file: d.json}\n",
		"d.json": "[\n  {\"id\": \"a\",\n   \"text\": \"caf\xe9\"}\n]\n"},
		[]string{`d.json:3: text: invalid UTF-8: byte 0xE9 at column 16 (is the file Latin-1? save it as UTF-8)`}},

	{"latin-1 in CSV", map[string]string{"suite.yaml": validHead + "cases: {file: d.csv}\n",
		"d.csv": "id,text\na,fine\nb,caf\xe9 au lait\n"},
		[]string{`d.csv:3: text: invalid UTF-8: byte 0xE9 at column 6 (is the file Latin-1? save it as UTF-8)`}},

	{"latin-1 in a CSV header", map[string]string{"suite.yaml": validHead + "cases: {file: d.csv}\n",
		"d.csv": "id,t\xe9xt\na,fine\n"},
		[]string{`d.csv:1: column 2: invalid UTF-8: byte 0xE9 at column 5 (is the file Latin-1? save it as UTF-8)`}},

	{"alias bomb", map[string]string{"suite.yaml": validHead + laughs(8, 9) + "cases: [{id: a, vars: {text: *l8}}]\n"},
		nil}, // checked by prefix below: the line of the alias that crosses the limit
}

// laughs is a billion-laughs block: anchors l0..levels in a tags mapping,
// each a list of fanout aliases to the one before.
func laughs(levels, fanout int) string {
	var b strings.Builder
	b.WriteString("tags:\n  l0: &l0 lol\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "  l%d: &l%d [", i, i)
		for j := range fanout {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestHostileInputs(t *testing.T) {
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, text := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(text)}
			}
			got := loadAndCheck(t, fsys, "suite.yaml")
			if tt.want == nil {
				// Levels 1-4 add 8,298 nodes; the first alias of level 5 (line 10) crosses 10,000.
				if len(got) != 1 || !strings.HasPrefix(got[0], "suite.yaml:10: too large: alias *l4 takes the document's aliases past 10000 expanded nodes") {
					t.Errorf("errors: %q", got)
				}
				return
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(tt.want, "\n      "))
			}
		})
	}
}
