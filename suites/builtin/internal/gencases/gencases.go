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
	"math/rand/v2"
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

// SplitStratum shuffles one stratum (an intent's cases) with r and marks the
// first share of it "train" and the rest "test" through setSplit, rounding
// the train count to the nearest case.
func SplitStratum[T any](r *rand.Rand, cases []T, share float64, setSplit func(*T, string)) {
	r.Shuffle(len(cases), func(i, j int) { cases[i], cases[j] = cases[j], cases[i] })
	nTrain := int(float64(len(cases))*share + 0.5)
	for i := range cases {
		split := "test"
		if i < nTrain {
			split = "train"
		}
		setSplit(&cases[i], split)
	}
}

// ShuffleAndNumber shuffles all cases with r and gives them the ids
// prefix-0001, prefix-0002, … in their new order through setID.
func ShuffleAndNumber[T any](r *rand.Rand, all []T, prefix string, setID func(*T, string)) {
	r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for i := range all {
		setID(&all[i], fmt.Sprintf("%s-%04d", prefix, i+1))
	}
}
