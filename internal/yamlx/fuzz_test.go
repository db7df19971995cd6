package yamlx

import (
	"errors"
	"testing"

	"go.yaml.in/yaml/v3"
)

type yamlNode = yaml.Node

// FuzzParse: any bytes either parse to a tree or give an *Error with a line
// inside the file, quickly and without panicking; alias expansion stays
// within the limits whatever the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"name: x\n", "a: &a [1, 2]\nb: *a\n", laughs(4, 9), "a: [\n", "x: \"\xe9\"\n", "a: 1\n---\nb: 2\n", "\t- x\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxAliasNodes: 200, MaxAliasBytes: 4096}
		n, err := Parse("f.yaml", data, lim)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if e.Line < 0 || e.Line > len(lineEnds(data))+1 {
				t.Fatalf("error line %d outside the file (%d lines): %v", e.Line, len(lineEnds(data)), err)
			}
			return
		}
		if n == nil {
			return
		}
		c := &aliasChecker{memo: map[*yamlNode]size{}, busy: map[*yamlNode]bool{}}
		if s, ok := c.expanded(n); !ok || s.nodes > int64(len(data))+lim.MaxAliasNodes+1 {
			t.Fatalf("accepted a document that expands to %d nodes (ok %v) from %d bytes", s.nodes, ok, len(data))
		}
	})
}
