package suites

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"
)

// checkErrors asserts the contract of Load and Check errors: an ErrorList
// of *Error, each naming a file.
func checkErrors(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var list ErrorList
	var one *Error
	switch {
	case errors.As(err, &list):
		for _, e := range list {
			if e == nil || e.File == "" || e.Line < 0 {
				t.Fatalf("bad error in list: %#v", e)
			}
		}
	case errors.As(err, &one):
		if one.File == "" {
			t.Fatalf("error without a file: %v", err)
		}
	default:
		t.Fatalf("error %v (%T) is neither ErrorList nor *Error", err, err)
	}
}

// loadCheck loads suite.yaml from fsys and checks every case.
func loadCheck(t *testing.T, fsys fstest.MapFS) {
	s, err := LoadFS(fsys, "suite.yaml", LoadOptions{ValidateThreshold: badThreshold})
	if err == nil {
		err = s.Check(context.Background())
	}
	checkErrors(t, err)
}

// FuzzSuiteDecoder: any suite file loads or fails with located errors.
func FuzzSuiteDecoder(f *testing.F) {
	for _, s := range []string{
		validHead + "cases: [{id: a, vars: {text: hi}, expected: x}]\nscorers: [{type: exact}]\n",
		validHead + "cases:\n  - {id: a, vars: {text: hi}}\ndefaults: {temperature: 0, max_tokens: 8, json_schema: {type: object}}\nthresholds: [pass_rate >= 0.5]\n",
		validHead + "cases: [{id: a, vars: &v {text: hi}}, {id: b, vars: *v}]\n",
		"name: x\n---\nname: y\n", "cases: [\n", "\xff\xfe", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		loadCheck(t, fstest.MapFS{"suite.yaml": {Data: data}})
	})
}

// FuzzJSONLDataset: any JSONL dataset yields cases or located errors.
func FuzzJSONLDataset(f *testing.F) {
	for _, s := range []string{
		"{\"id\": \"a\", \"text\": \"hi\", \"expected\": \"x\"}\n{\"id\": \"b\", \"text\": \"yo\", \"tags\": {\"k\": \"v\"}}\n",
		"{\"text\": \"caf\xe9\"}\n", "{\"id\": 5, \"pass_threshold\": 2}\n", "[1, 2]\n", "{\"id\": \"a\"}{\"id\": \"b\"}\n", "\xef\xbb\xbf{}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		loadCheck(t, fstest.MapFS{
			"suite.yaml": {Data: []byte(validHead + "cases: {file: d.jsonl}\n")},
			"d.jsonl":    {Data: data},
		})
	})
}

// FuzzCSVDataset: any CSV dataset yields cases or located errors.
func FuzzCSVDataset(f *testing.F) {
	for _, s := range []string{
		"id,text,expected\na,hi,x\nb,\"multi\nline\",y\n", "id,t\xe9xt\na,b\n", "text\n\"unclosed\n", "id,id\n1,2\n", ",\n", "id,text,tags.k,pass_threshold\na,hi,v,0.5\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		loadCheck(t, fstest.MapFS{
			"suite.yaml": {Data: []byte(validHead + "cases: {file: d.csv}\n")},
			"d.csv":      {Data: data},
		})
	})
}
