package suites

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"strconv"
	"strings"

	"github.com/yardstick-eval/yardstick/internal/utf8x"
	"github.com/yardstick-eval/yardstick/suites/score"
)

// row is one case before rendering.
type row struct {
	file      string
	line      int
	n         int // 1-based index among the dataset's non-blank rows
	id        string
	expected  string
	split     string
	tags      map[string]string
	vars      map[string]any // string, json.Number, bool, nil, []any, map[string]any
	threshold *float64
	parts     []*score.Part // an inline case's own scorers, after the suite's
	images    []string      // an inline case's image references, after prompt.images
}

func (r *row) errf(field, format string, args ...any) *Error {
	return r.err(field, fmt.Errorf(format, args...))
}

func (r *row) err(field string, err error) *Error {
	e := &Error{File: r.file, Line: r.line, Case: r.id, Field: field, Err: err}
	if r.line == 0 {
		e.Row = r.n
	}
	return e
}

// pos is where the row is: "file:line", or "file row N" for Parquet.
func (r *row) pos() string {
	if r.line == 0 {
		return fmt.Sprintf("%s row %d", r.file, r.n)
	}
	return fmt.Sprintf("%s:%d", r.file, r.line)
}

// rows streams the suite's rows: inline ones, or the dataset read one row at
// a time. A row that cannot be parsed is an *Error and iteration goes on; an
// unreadable file ends it.
func (s *Suite) rows() iter.Seq2[*row, error] {
	return func(yield func(*row, error) bool) {
		if s.Dataset == "" {
			for _, r := range s.inline {
				if len(s.fieldMaps) > 0 {
					c := *r
					c.vars = maps.Clone(r.vars)
					if err := s.mapRow(&c); err != nil {
						if !yield(nil, err) {
							return
						}
						continue
					}
					r = &c
				}
				if !yield(r, nil) {
					return
				}
			}
			return
		}
		f, err := s.src.open(s.Dataset)
		if err != nil {
			yield(nil, &Error{File: s.Dataset, Err: err})
			return
		}
		defer f.Close()
		if len(s.fieldMaps) > 0 {
			inner := yield
			yield = func(r *row, err error) bool {
				if err == nil {
					if merr := s.mapRow(r); merr != nil {
						return inner(nil, merr)
					}
				}
				return inner(r, err)
			}
		}
		switch s.format {
		case "csv":
			s.csvRows(f, yield)
		case "json":
			s.jsonArrayRows(f, yield)
		case "parquet":
			s.parquetRows(f, yield)
		default:
			s.jsonlRows(f, yield)
		}
	}
}

var bom = []byte("\xef\xbb\xbf")

func (s *Suite) jsonlRows(f io.Reader, yield func(*row, error) bool) {
	br := bufio.NewReaderSize(f, 64<<10)
	line, n := 0, 0
	for {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			line++
			if line == 1 {
				b = bytes.TrimPrefix(b, bom)
			}
			if t := bytes.TrimSpace(b); len(t) > 0 {
				n++
				r, perr := parseJSONLRow(t, s.Dataset, line, n)
				if perr != nil {
					if !yield(nil, perr) {
						return
					}
				} else if !yield(r, nil) {
					return
				}
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			yield(nil, &Error{File: s.Dataset, Line: line + 1, Err: err})
			return
		}
	}
}

func parseJSONLRow(b []byte, file string, line, n int) (*row, error) {
	if inv, bad := utf8x.Find(b); bad {
		// encoding/json would turn the bytes into U+FFFD without a word.
		return nil, &Error{File: file, Line: line + inv.Line - 1, Field: jsonFieldAt(b, inv.Offset), Err: inv}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, &Error{File: file, Line: line, Err: fmt.Errorf("invalid JSON: %v", jsonErrText(err))}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{File: file, Line: line, Err: fmt.Errorf("invalid JSON: expected an object, got %s", jsonKind(v))}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &Error{File: file, Line: line, Err: errors.New("invalid JSON: more than one value on the line")}
	}
	return rowFromObject(obj, &row{file: file, line: line, n: n, vars: map[string]any{}})
}

// rowFromObject fills r from one decoded JSON object (or Parquet row).
func rowFromObject(obj map[string]any, r *row) (*row, error) {
	// id first, so later errors name the case.
	if v, ok := obj["id"]; ok {
		switch v := v.(type) {
		case string:
			r.id = v
		case json.Number:
			r.id = v.String()
		default:
			return nil, r.errf("id", "expected a string, got %s", jsonKind(v))
		}
		if r.id == "" {
			return nil, r.errf("id", "empty id")
		}
	}
	for k, v := range obj {
		switch {
		case k == "id":
		case k == "expected":
			r.expected = jsonText(v)
		case k == "split":
			sp, ok := v.(string)
			if !ok {
				return nil, r.errf("split", "expected a string, got %s", jsonKind(v))
			}
			r.split = sp
		case k == "pass_threshold":
			t, err := threshold(v)
			if err != nil {
				return nil, r.errf("pass_threshold", "%v", err)
			}
			r.threshold = &t
		case k == "tags":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, r.errf("tags", "expected an object, got %s", jsonKind(v))
			}
			for tk, tv := range m {
				r.setTag(tk, jsonText(tv))
			}
		case strings.HasPrefix(k, "tags."):
			r.setTag(k[len("tags."):], jsonText(v))
		case k == "vars":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, r.errf("vars", "expected an object, got %s", jsonKind(v))
			}
			for vk, vv := range m {
				r.vars[vk] = vv
			}
		default:
			r.vars[k] = v
		}
	}
	return r, nil
}

// jsonFieldAt names the top-level field of the JSON object b whose key or
// value holds byte offset off ("" when it cannot tell).
func jsonFieldAt(b []byte, off int) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for dec.More() {
		start := dec.InputOffset()
		k, err := dec.Token()
		if err != nil {
			return ""
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return ""
		}
		if key, ok := k.(string); ok && int(start) <= off && off < int(dec.InputOffset()) {
			return strings.ToValidUTF8(key, "?")
		}
	}
	return ""
}

func (r *row) setTag(k, v string) {
	if r.tags == nil {
		r.tags = map[string]string{}
	}
	r.tags[k] = v
}

func threshold(v any) (float64, error) {
	var t float64
	var err error
	switch v := v.(type) {
	case json.Number:
		t, err = v.Float64()
	case string:
		t, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
	default:
		return 0, fmt.Errorf("expected a number, got %s", jsonKind(v))
	}
	if err != nil {
		return 0, fmt.Errorf("expected a number, got %q", fmt.Sprint(v))
	}
	if !(t >= 0 && t <= 1) {
		return 0, fmt.Errorf("must be in [0, 1], got %g", t)
	}
	return t, nil
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	default:
		return "an object"
	}
}

// jsonText is a value as a case variable string: strings as they are, null as
// "", everything else as compact JSON.
func jsonText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// csvColumns is a parsed CSV header.
type csvColumns struct {
	names []string
	id    int // index of the id column, -1 when absent
}

// csvHeader reads and checks the dataset's header row.
func (s *Suite) csvHeader() (*csvColumns, *Error) {
	f, err := s.src.open(s.Dataset)
	if err != nil {
		return nil, &Error{File: s.Dataset, Err: err}
	}
	defer f.Close()
	cr := newCSVReader(f)
	return readCSVHeader(cr, s.Dataset)
}

func newCSVReader(f io.Reader) *csv.Reader {
	br := bufio.NewReaderSize(f, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, bom) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return cr
}

func readCSVHeader(cr *csv.Reader, file string) (*csvColumns, *Error) {
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: file, Err: errors.New("empty CSV file: the first row must name the columns")}
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	line, _ := cr.FieldPos(0)
	if err := csvUTF8(cr, rec, nil, file); err != nil {
		return nil, err
	}
	cols := &csvColumns{names: append([]string(nil), rec...), id: -1}
	seen := map[string]int{}
	for i, name := range cols.names {
		switch {
		case strings.TrimSpace(name) == "":
			return nil, &Error{File: file, Line: line, Field: fmt.Sprintf("column %d", i+1), Err: errors.New("empty column name")}
		case name == "tags." || name == "vars":
			return nil, &Error{File: file, Line: line, Field: fmt.Sprintf("column %d", i+1), Err: fmt.Errorf("invalid column name %q", name)}
		}
		if j, dup := seen[name]; dup {
			return nil, &Error{File: file, Line: line, Field: fmt.Sprintf("column %d", i+1), Err: fmt.Errorf("duplicate column %q (also column %d)", name, j+1)}
		}
		seen[name] = i
		if name == "id" {
			cols.id = i
		}
	}
	return cols, nil
}

func csvError(file string, err error) *Error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Line, Err: fmt.Errorf("invalid CSV: %v", pe.Err)}
	}
	return &Error{File: file, Err: err}
}

func (s *Suite) csvRows(f io.Reader, yield func(*row, error) bool) {
	cr := newCSVReader(f)
	cols, herr := readCSVHeader(cr, s.Dataset)
	if herr != nil {
		yield(nil, herr)
		return
	}
	n := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return
		}
		n++
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				yield(nil, &Error{File: s.Dataset, Err: err})
				return
			}
			if !yield(nil, csvError(s.Dataset, err)) {
				return
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if err := csvUTF8(cr, rec, cols.names, s.Dataset); err != nil {
			if !yield(nil, err) {
				return
			}
			continue
		}
		r := &row{file: s.Dataset, line: line, n: n, vars: make(map[string]any, len(rec))}
		if len(rec) == len(cols.names) && cols.id >= 0 {
			r.id = rec[cols.id]
		}
		if len(rec) != len(cols.names) {
			if !yield(nil, &Error{File: s.Dataset, Line: line, Err: fmt.Errorf("row has %s, header has %d", plural(len(rec), "field"), len(cols.names))}) {
				return
			}
			continue
		}
		var rerr error
		for i, name := range cols.names {
			v := rec[i]
			switch {
			case name == "id":
			case name == "expected":
				r.expected = v
			case name == "split":
				r.split = v
			case name == "pass_threshold":
				if v == "" {
					continue
				}
				t, err := threshold(v)
				if err != nil {
					rerr = r.errf("pass_threshold", "%v", err)
				}
				r.threshold = &t
			case strings.HasPrefix(name, "tags."):
				r.setTag(name[len("tags."):], v)
			default:
				r.vars[name] = v
			}
		}
		if rerr == nil && cols.id >= 0 && r.id == "" {
			rerr = r.errf("id", "empty id")
		}
		if rerr != nil {
			if !yield(nil, rerr) {
				return
			}
			continue
		}
		if !yield(r, nil) {
			return
		}
	}
}

// csvUTF8 refuses a record with a field that is not valid UTF-8, naming
// the field's line and column (names: the header, nil for the header itself).
func csvUTF8(cr *csv.Reader, rec, names []string, file string) *Error {
	for i, v := range rec {
		inv, bad := utf8x.Find([]byte(v))
		if !bad {
			continue
		}
		line, col := cr.FieldPos(i)
		field := fmt.Sprintf("column %d", i+1)
		if i < len(names) {
			field = names[i]
		}
		// FieldPos is the field's start: add the offset within the field.
		if inv.Line > 1 {
			line, col = line+inv.Line-1, inv.Column
		} else {
			col += inv.Column - 1
		}
		inv.Line, inv.Column = line, col
		return &Error{File: file, Line: line, Field: field, Err: inv}
	}
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
