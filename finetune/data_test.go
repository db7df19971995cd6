package finetune

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// renderExamples prints a dataset's examples and errors, one per line.
func renderExamples(path string) string {
	var b strings.Builder
	for ex, err := range ReadExamples(path) {
		if err != nil {
			fmt.Fprintf(&b, "ERROR %v\n", err)
			continue
		}
		fmt.Fprintf(&b, "%s #%d:", ex.Source, ex.Index)
		for i, m := range ex.Messages {
			fmt.Fprintf(&b, " %s(w=%g)=%q", m.Role, ex.Weights[i], m.Content)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestReadExamplesGolden(t *testing.T) {
	for _, name := range []string{"chat.jsonl", "prompt_completion.jsonl", "bad.jsonl", "bad_pc.jsonl"} {
		t.Run(name, func(t *testing.T) {
			got := renderExamples(filepath.Join("testdata", "data", name))
			golden(t, "data_"+strings.TrimSuffix(name, ".jsonl")+".txt", []byte(got))
		})
	}
}

func TestReadExamplesErrors(t *testing.T) {
	var errs []*InputError
	for _, err := range ReadExamples("testdata/data/bad.jsonl") {
		if err == nil {
			continue
		}
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Fatalf("error %v is not an *InputError", err)
		}
		errs = append(errs, ie)
	}
	// Every line but the first is bad.
	if len(errs) != 15 {
		t.Fatalf("%d errors, want 15", len(errs))
	}
	for i, ie := range errs {
		if ie.File != "testdata/data/bad.jsonl" || ie.Line != i+2 {
			t.Errorf("error %d at %s:%d, want line %d", i, ie.File, ie.Line, i+2)
		}
	}
	if _, err := func() (Example, error) {
		for ex, err := range ReadExamples("testdata/data/missing.jsonl") {
			return ex, err
		}
		return Example{}, nil
	}(); err == nil || !strings.Contains(err.Error(), "missing.jsonl") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestParseExamplesStopsEarly(t *testing.T) {
	in := strings.Repeat(`{"prompt":"a","completion":"b"}`+"\n", 10)
	n := 0
	for range ParseExamples(strings.NewReader(in), "x") {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("n = %d", n)
	}
	// No trailing newline, CRLF, BOM.
	n = 0
	for ex, err := range ParseExamples(strings.NewReader("\xef\xbb\xbf{\"prompt\":\"a\",\"completion\":\"b\"}\r\n{\"prompt\":\"c\",\"completion\":\"d\"}"), "x") {
		if err != nil {
			t.Fatal(err)
		}
		if ex.Index != n {
			t.Errorf("Index = %d, want %d", ex.Index, n)
		}
		n++
	}
	if n != 2 {
		t.Errorf("read %d examples, want 2", n)
	}
}
