package suites

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
)

// lineCounter counts the lines of what it reads, keeping only the newline
// offsets a decoder has read ahead of its position, so a JSON value's line is
// known without holding the file.
type lineCounter struct {
	r      io.Reader
	off    int64   // bytes read
	nl     []int64 // offsets of newlines not yet passed
	passed int     // newlines before nl[0]
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			c.nl = append(c.nl, c.off+int64(i))
		}
	}
	c.off += int64(n)
	return n, err
}

// line is the 1-based line of byte offset off; offsets must not decrease
// from one call to the next.
func (c *lineCounter) line(off int64) int {
	i := 0
	for i < len(c.nl) && c.nl[i] < off {
		i++
	}
	c.passed += i
	c.nl = c.nl[i:]
	return c.passed + 1
}

// jsonArrayRows reads a .json dataset: one array of objects, streamed.
func (s *Suite) jsonArrayRows(f io.Reader, yield func(*row, error) bool) {
	br := bufio.NewReaderSize(f, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, bom) {
		br.Discard(3)
	}
	lc := &lineCounter{r: br}
	dec := json.NewDecoder(lc)
	dec.UseNumber()
	syntax := func(err error) {
		var se *json.SyntaxError
		line := 0
		if errors.As(err, &se) {
			line = lc.line(se.Offset)
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errors.New("unexpected end of file")
		}
		yield(nil, &Error{File: s.Dataset, Line: line, Err: fmt.Errorf("invalid JSON: %v", jsonErrText(err))})
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			yield(nil, &Error{File: s.Dataset, Err: errors.New("empty JSON file: expected an array of objects")})
			return
		}
		syntax(err)
		return
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		yield(nil, &Error{File: s.Dataset, Line: lc.line(dec.InputOffset()),
			Err: errors.New("expected a JSON array of objects (one object per line is a .jsonl file)")})
		return
	}
	n := 0
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			syntax(err)
			return
		}
		n++
		line := lc.line(dec.InputOffset() - int64(len(raw)))
		r, perr := parseJSONLRow(raw, s.Dataset, line, n)
		if perr != nil {
			if !yield(nil, perr) {
				return
			}
			continue
		}
		if !yield(r, nil) {
			return
		}
	}
	if _, err := dec.Token(); err != nil {
		syntax(err)
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		yield(nil, &Error{File: s.Dataset, Line: lc.line(dec.InputOffset()), Err: errors.New("invalid JSON: data after the array")})
	}
}

// parquetRows reads a .parquet dataset (Hugging Face datasets' format) one
// row at a time. Columns become fields as JSON values would: strings,
// numbers, booleans, nulls, lists and nested groups (a.b.c paths).
func (s *Suite) parquetRows(f io.Reader, yield func(*row, error) bool) {
	ra, size, err := readerAt(f)
	if err != nil {
		yield(nil, &Error{File: s.Dataset, Err: err})
		return
	}
	pf, err := parquet.OpenFile(ra, size)
	if err != nil {
		yield(nil, &Error{File: s.Dataset, Err: fmt.Errorf("invalid Parquet file: %v", err)})
		return
	}
	pr := parquet.NewReader(pf)
	defer pr.Close()
	for n := 1; ; n++ {
		m := map[string]any{}
		if err := pr.Read(&m); err != nil {
			if err != io.EOF {
				yield(nil, &Error{File: s.Dataset, Row: n, Err: fmt.Errorf("invalid Parquet row: %v", err)})
			} else if n == 1 {
				yield(nil, &Error{File: s.Dataset, Err: errors.New("no rows")})
			}
			return
		}
		obj, _ := jsonValue(m).(map[string]any)
		r, perr := rowFromObject(obj, &row{file: s.Dataset, n: n, vars: map[string]any{}})
		if perr != nil {
			if !yield(nil, perr) {
				return
			}
			continue
		}
		if !yield(r, nil) {
			return
		}
	}
}

// readerAt gives random access to a dataset file: os and embedded files
// have it; anything else is read into memory.
func readerAt(f io.Reader) (io.ReaderAt, int64, error) {
	if ra, ok := f.(io.ReaderAt); ok {
		if sk, ok := f.(io.Seeker); ok {
			size, err := sk.Seek(0, io.SeekEnd)
			if err != nil {
				return nil, 0, err
			}
			return ra, size, nil
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(b), int64(len(b)), nil
}

// jsonValue converts a Parquet value to the types JSON decoding gives
// (string, json.Number, bool, nil, []any, map[string]any); byte arrays that
// are UTF-8 become strings.
func jsonValue(v any) any {
	switch v := v.(type) {
	case nil, string, bool, json.Number:
		return v
	case []byte:
		if utf8.Valid(v) {
			return string(v)
		}
		return v
	case int:
		return json.Number(strconv.Itoa(v))
	case int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return json.Number(fmt.Sprint(v))
	case float32:
		return floatNumber(float64(v), 32)
	case float64:
		return floatNumber(v, 64)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = jsonValue(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonValue(x)
		}
		return out
	default:
		return fmt.Sprint(v)
	}
}

func floatNumber(f float64, bits int) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, bits)
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, bits))
}
