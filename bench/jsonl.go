package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"

	"github.com/yardstick-eval/yardstick/internal/redact"
)

// ErrTruncated is wrapped by the *LineError ReadResults yields for an
// incomplete last line: the writer was killed mid-line. Resume ignores it.
var ErrTruncated = errors.New("truncated last line")

// LineError is a bad line of a results file.
type LineError struct {
	File string // name given to ReadResults
	Line int    // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// JSONLWriter is a Sink that writes results.jsonl.
//
// A results file holds one JSON object per line, one line per case × target ×
// repeat, in completion order (not dataset order). Lines are written whole and
// flushed one at a time, so after Ctrl-C or a crash the file is a valid prefix
// of the run, except possibly a torn last line when the process was killed in
// the middle of a write (ReadResults reports it as ErrTruncated; OpenResume
// removes it). The fields are those of Result; JSON names are stable:
//
//	suite           string   suite name
//	suite_version   string   suite's declared version (omitted when empty)
//	case_id         string   case identifier, unique within the suite
//	target          string   target display name, e.g. "openai:gpt-4o-mini"
//	model           string   model requested
//	resolved_model  string   model the provider reported answering (omitted when empty)
//	repeat          int      repeat index, 0-based
//	prompt_hash     string   hex SHA-256 of the rendered prompt fields
//	prompt          [{role, content}]  the prompt sent, system message first (omitted when empty)
//	expected        string   reference answer (omitted when empty)
//	output          string   the model's answer ("" when the case failed)
//	finish_reason   string   stop, length, content_filter, tool_calls or the provider's own word
//	score           float    weighted score in [0, 1]; 0 when the case failed
//	pass            bool     the case passed; false when the case failed
//	reason          string   why it failed scoring (omitted when empty)
//	scores          [{name, value, weight, pass, reason, usage, cost_usd, cached}]  one per
//	                scorer (omitted when empty); usage, cost_usd and cached only on
//	                scorers that call a model (judge): the grading calls' summed usage,
//	                their cost at the grader's price (nominal for cache hits; omitted
//	                when no price is known), all calls served from the cache
//	error           {kind, message, status_code, stage}  only when the case failed:
//	                kind is a providers.Kind ("rate_limit", "timeout", …), stage is
//	                "generate" (the provider failed) or "score" (the scorer failed)
//	start           RFC 3339 time the request was sent
//	latency_ns      int      request sent → full response received, nanoseconds
//	ttft_ns         int      time to first token, nanoseconds; streamed targets only (omitted when 0)
//	usage           {input_tokens, cached_input_tokens, output_tokens, estimated}  estimated
//	                (omitted when false): the server reported none, counted locally
//	cost_usd        float    this response's cost in US dollars at the target's price; also
//	                         set on cached responses (their nominal cost, though serving
//	                         them cost nothing); omitted when no price is known
//	cached          bool     served from the response cache (omitted when false)
//	attempts        int      provider calls made, retries included (omitted when unknown)
//	tags            {string: string}  the case's labels (omitted when empty)
//	judge_usage     {input_tokens, cached_input_tokens, output_tokens}  summed usage of
//	                the scorers' model calls (judge), not included in usage; also set
//	                when scoring failed after grading calls (omitted when zero)
//	judge_cost_usd  float    their cost at the graders' prices, not included in cost_usd;
//	                nominal for cache hits; omitted when no grader has a price
//
// Readers ignore unknown fields, so fields may be added.
//
// Each line is written with a single Write call and, if the writer has a Flush() error
// method (a *bufio.Writer), flushed before Add returns. An *os.File is not
// synced: a line survives a crash of the process, not of the machine.
// After a write error every Add returns that error. Not safe for concurrent
// use (the Runner calls Add from one goroutine).
type JSONLWriter struct {
	w   io.Writer
	buf bytes.Buffer
	enc *json.Encoder
	err error
	n   int
}

// NewJSONLWriter returns a JSONLWriter writing to w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	jw := &JSONLWriter{w: w}
	jw.enc = json.NewEncoder(&jw.buf)
	jw.enc.SetEscapeHTML(false)
	return jw
}

// Add writes r as one line.
func (jw *JSONLWriter) Add(r *Result) error {
	if jw.err != nil {
		return jw.err
	}
	jw.buf.Reset()
	if err := jw.enc.Encode(r); err != nil { // Encode appends the newline
		return fmt.Errorf("bench: encoding result: %w", err) // not sticky: nothing was written
	}
	// Defensive: no registered secret (an API key a server echoed into an
	// answer or an error) reaches the file, whatever field it is in.
	if _, err := jw.w.Write(redact.Bytes(jw.buf.Bytes())); err != nil {
		jw.err = err
		return err
	}
	if f, ok := jw.w.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			jw.err = err
			return err
		}
	}
	jw.n++
	return nil
}

// Count returns the number of results written.
func (jw *JSONLWriter) Count() int { return jw.n }

var _ Sink = (*JSONLWriter)(nil)

// ReadResults streams the results in r; name is used in errors ("results.jsonl").
// A line that is not a valid result yields a *LineError naming name:line and
// reading goes on; an incomplete last line (no newline, not valid JSON) yields
// a *LineError wrapping ErrTruncated. A read error from r is yielded and ends
// the sequence. Blank lines are skipped. Each yielded *Result is new.
func ReadResults(r io.Reader, name string) iter.Seq2[*Result, error] {
	return func(yield func(*Result, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		var line []byte
		for n := 1; ; n++ {
			line = line[:0]
			var err error
			for {
				var chunk []byte
				chunk, err = br.ReadSlice('\n')
				line = append(line, chunk...)
				if err != bufio.ErrBufferFull {
					break
				}
			}
			if err != nil && err != io.EOF {
				yield(nil, fmt.Errorf("%s:%d: %w", name, n, err))
				return
			}
			if len(bytes.TrimSpace(line)) > 0 {
				complete := err == nil // ended by a newline
				res, perr := parseResultLine(line)
				if perr != nil {
					if !complete {
						perr = fmt.Errorf("%w: %v", ErrTruncated, perr)
					}
					if !yield(nil, &LineError{File: name, Line: n, Err: perr}) {
						return
					}
				} else if !yield(res, nil) {
					return
				}
			}
			if err == io.EOF {
				return
			}
		}
	}
}

func parseResultLine(line []byte) (*Result, error) {
	res := new(Result)
	if err := json.Unmarshal(line, res); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, se)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fmt.Errorf("field %s: %v", te.Field, err)
		}
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	switch {
	case res.Suite == "":
		return nil, errors.New("field suite: missing")
	case res.CaseID == "":
		return nil, errors.New("field case_id: missing")
	case res.Target == "":
		return nil, errors.New("field target: missing")
	case res.Repeat < 0:
		return nil, fmt.Errorf("field repeat: %d is negative", res.Repeat)
	}
	return res, nil
}

// ReadKeys returns the keys of the results in the file at path, for resume.
// A truncated last line is ignored; any other bad line is an error naming
// path:line. A missing file is an error (test with errors.Is(err, fs.ErrNotExist)).
func ReadKeys(path string) (map[Key]struct{}, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readKeys(f, path)
}

func readKeys(r io.Reader, name string) (map[Key]struct{}, error) {
	keys := make(map[Key]struct{})
	for res, err := range ReadResults(r, name) {
		if errors.Is(err, ErrTruncated) {
			continue
		}
		if err != nil {
			return nil, err
		}
		keys[res.Key()] = struct{}{}
	}
	return keys, nil
}

// Resume is a results file reopened to continue a run.
type Resume struct {
	File *os.File         // opened for appending; the caller closes it
	Done map[Key]struct{} // keys already present
	Torn int64            // bytes of a torn last line that were removed; 0 if none
}

// Skip reports whether k already has a result: use it as Config.Skip.
func (r *Resume) Skip(k Key) bool {
	_, ok := r.Done[k]
	return ok
}

// OpenResume prepares the results file at path for a resumed run: it reads
// the keys already present, removes a torn last line left by a killed writer
// (a complete last line that only lacks its newline gets one instead), and
// returns the file opened for appending. A missing file is created empty.
// A bad line before the last is an error naming path:line, and the file is
// left untouched.
func OpenResume(path string) (*Resume, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	res, err := openResume(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return res, nil
}

func openResume(f *os.File, path string) (*Resume, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	keys, err := readKeys(io.NewSectionReader(f, 0, size), path)
	if err != nil {
		return nil, err
	}
	tail, err := lastLineStart(f, size)
	if err != nil {
		return nil, err
	}
	out := &Resume{File: f, Done: keys}
	if tail < size {
		frag := make([]byte, size-tail)
		if _, err := f.ReadAt(frag, tail); err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(frag)) == 0 {
			// trailing blanks: harmless, but make the file end with a newline
			if _, err := f.Write([]byte("\n")); err != nil {
				return nil, err
			}
		} else if _, perr := parseResultLine(frag); perr == nil {
			if _, err := f.Write([]byte("\n")); err != nil {
				return nil, err
			}
		} else {
			if err := f.Truncate(tail); err != nil {
				return nil, fmt.Errorf("removing torn last line of %s: %w", path, err)
			}
			out.Torn = size - tail
		}
	}
	return out, nil
}

// lastLineStart returns the offset just after the last newline in the first
// size bytes of f (0 when there is none).
func lastLineStart(f *os.File, size int64) (int64, error) {
	buf := make([]byte, 32<<10)
	end := size
	for end > 0 {
		n := int64(len(buf))
		if n > end {
			n = end
		}
		chunk := buf[:n]
		if _, err := f.ReadAt(chunk, end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}
