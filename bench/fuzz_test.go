package bench

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzReadResults: any file yields results and *LineErrors with lines in
// the file; LatestResults yields at most one result per key, and the same
// errors.
func FuzzReadResults(f *testing.F) {
	for _, s := range []string{
		`{"suite":"s","case_id":"a","target":"t","repeat":0,"output":"x","pass":true,"score":1}` + "\n",
		`{"suite":"s","case_id":"a","target":"t","error":{"kind":"timeout","message":"m"}}` + "\n" + `{"suite":"s","case_id":"a","target":"t"}` + "\n",
		"not json\n{}\n", `{"suite":"s","case_id":"a","target":"t","repeat":-1}`, `{"suite":"s","case_id":"a","tar`, "\n\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		var all, errs int
		for r, err := range ReadResults(bytes.NewReader(data), "r.jsonl") {
			if err != nil {
				var le *LineError
				if !errors.As(err, &le) || le.Line < 1 || le.Line > lines {
					t.Fatalf("error %v: want a *LineError within %d lines", err, lines)
				}
				errs++
				continue
			}
			if r.Suite == "" || r.CaseID == "" || r.Target == "" || r.Repeat < 0 {
				t.Fatalf("yielded an invalid result %+v", r)
			}
			all++
		}
		seen := map[Key]bool{}
		var latestErrs int
		for r, err := range LatestResults(bytes.NewReader(data), "r.jsonl") {
			if err != nil {
				latestErrs++
				continue
			}
			if seen[r.Key()] {
				t.Fatalf("LatestResults yielded %v twice", r.Key())
			}
			seen[r.Key()] = true
		}
		if latestErrs != errs || len(seen) > all {
			t.Fatalf("LatestResults: %d errors, %d keys; ReadResults: %d errors, %d results", latestErrs, len(seen), errs, all)
		}
	})
}
