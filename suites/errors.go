package suites

import (
	"fmt"
	"strings"
)

// Error is a problem in a suite file or dataset, located by file and line.
type Error struct {
	File  string // as given to Load, or joined to the suite's directory
	Line  int    // 1-based; 0 when unknown
	Row   int    // 1-based row of a dataset without lines (Parquet); 0 otherwise
	Case  string // case ID, when the error concerns one case
	Field string // field path, e.g. "scorers[1].type"; may be empty
	Err   error

	col int // column, to keep errors on one line in file order
}

// Error formats as "file:line: case "id": field: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Line == 0 && e.Row > 0 {
		fmt.Fprintf(&b, "row %d: ", e.Row)
	}
	if e.Case != "" {
		fmt.Fprintf(&b, "case %q: ", e.Case)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Pos is "file:line", "file row N" for a Parquet row, or the file alone
// when the line is unknown.
func (e *Error) Pos() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Row > 0 {
		return fmt.Sprintf("%s row %d", e.File, e.Row)
	}
	return e.File
}

// ErrorList is every error found in a suite, in file order. Load and
// Validate return one when there is at least one error.
type ErrorList []*Error

// Error is one error per line.
func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap gives errors.Is and errors.As access to each error.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// err returns l as an error, or nil when it is empty.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
