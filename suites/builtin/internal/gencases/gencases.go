// Package gencases is the shared plumbing of the built-in suites' dataset
// generators (suites/builtin/*/gen): writing cases as JSONL, the command's
// main, and the test that the committed dataset is the generator's output.
// It does not generate cases.
package gencases

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"testing"
)

// Write writes cases as JSONL, one object per line, HTML characters unescaped.
func Write[T any](w io.Writer, cases []T) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, c := range cases {
		if err := enc.Encode(c); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Main is a generator command: it writes generate's cases to the file named
// by -o (default cases.jsonl) and exits 1 on any error.
func Main[T any](generate func() []T) {
	out := flag.String("o", "cases.jsonl", "output file")
	flag.Parse()
	if err := writeFile(*out, generate()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func writeFile[T any](path string, cases []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Write(f, cases); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// CheckCommitted fails t when the dataset at path is not exactly what Write
// makes of cases: it was edited by hand, or the generator changed without
// regenerating it (go generate ./suites/builtin/).
func CheckCommitted[T any](t testing.TB, path string, cases []T) {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, cases); err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), committed) {
		t.Fatalf("%s differs from the generator's output; run go generate ./suites/builtin/", path)
	}
}
