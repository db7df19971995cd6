package gemini

// The Gemini API's Batch Mode (models/{model}:batchGenerateContent) as a
// backend for the batch decorator in providers/batch, through genai's
// Batches and Files.
//
// Each line is the real-time request: prepare builds its contents and
// GenerateContentConfig, so the sampling knobs (temperature 0 included),
// max tokens, stop sequences, system instruction, JSON schema and images
// reach the batch exactly as they reach generateContent.
//
// Two ways in, one rule for mapping answers back: a line's custom id is its
// key, and an answer is taken only under the key it carries.
//   - File (the default): the lines go up as a JSONL file of
//     {"key", "request"} objects through the Files API (resumable upload),
//     the batch reads it by file name, and its output file has one
//     {"key", "response"|"error"} line per request. Keys make the mapping
//     exact whatever the order of the output lines.
//   - Inline (Config.BatchInline): lines of at most that many bytes of JSON
//     in all are sent in the create request (the API takes up to 20 MB),
//     each with metadata {"key": id}. The API documents inlined responses
//     as positional, but they have been seen out of order
//     (googleapis/python-genai#1909) and without the request's metadata
//     (#2008), so a position is never trusted: a response without its key
//     is dropped and its line goes through the real-time path.
//
// The JSONL request lines are genai's own encoding of an inlined request
// (the SDK exports no REST encoder): an encoder client, whose transport
// keeps the body genai built and never reaches the network, turns the
// lines into the create request, and each {request, metadata.key} of it
// becomes a file line {key, request}.
//
// Batches are read from the Operation's wire body, recorded by the
// adapter's transport, rather than from genai's BatchJob (see operation).
// Batch Mode is a Gemini API feature: Vertex AI's batch prediction jobs read
// from Cloud Storage or BigQuery, and Batches returns nil for Vertex.

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/genai"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/batch"
	"github.com/yardstick-eval/yardstick/providers/internal/httprec"
)

// keyField is the inlined request's metadata key holding the custom id.
const keyField = "key"

// Batch Mode's exchanges take at least these bounds.
const (
	maxListPages  = 10000 // Find gives up after this many pages
	batchAttempts = 4     // per Batch Mode call (see retry)
)

// retryWait is the first wait between attempts of a Batch Mode call.
var retryWait = time.Second

// Batches returns the Gemini API's Batch Mode backend for the batch
// decorator, or nil for Vertex AI (whose batch prediction needs Cloud
// Storage or BigQuery). The backend is also a batch.Finder: the submission
// tag is the batch's display name.
func (c *Client) Batches() batch.Backend {
	if c.backend != BackendGeminiAPI {
		return nil
	}
	return &batchBackend{c: c}
}

type batchBackend struct {
	c *Client

	once sync.Once
	enc  *genai.Client // encodes lines; never reaches the network
	err  error
}

var (
	_ batch.Backend = (*batchBackend)(nil)
	_ batch.Finder  = (*batchBackend)(nil)
)

func (b *batchBackend) fail(kind providers.Kind, msg string) error {
	return &providers.Error{Kind: kind, Provider: b.c.name, Message: msg}
}

// call runs f with a context recording its exchanges and classifies its
// error as Generate does. genai's Files.Upload flattens the API's error
// into text, so an error body is read again from the wire.
func (b *batchBackend) call(ctx context.Context, f func(ctx context.Context) error) error {
	x := &bodyExchange{}
	err := f(httprec.WithRecorder(ctx, x))
	if err == nil {
		return nil
	}
	var ae genai.APIError
	var aep *genai.APIError
	if status, _ := x.snapshot(); status >= http.StatusBadRequest && ctx.Err() == nil && !errors.As(err, &ae) && !errors.As(err, &aep) {
		var body struct {
			Error *genai.APIError `json:"error"`
		}
		if json.Unmarshal(x.bytes(), &body) == nil && body.Error != nil {
			return b.c.tag(fromAPIError(*body.Error, &x.exchange))
		}
	}
	return b.c.tag(fromError(ctx, err, &x.exchange))
}

// retry runs f (which returns classified errors) with the Retry
// decorator's policy (providers.RetryCall): batchAttempts calls at most,
// waiting the error's RetryAfter or a backoff from retryWait. f must be safe
// to repeat (create makes sure). Without it one 503 would send a whole
// batch's lines through the real-time path at twice the price.
func (b *batchBackend) retry(ctx context.Context, f func() error) error {
	return providers.RetryCall(ctx, providers.RetryConfig{MaxAttempts: batchAttempts, BaseDelay: retryWait, MaxDelay: 8 * retryWait}, f)
}

// refused reports whether a create failed with the server's refusal (429,
// 503): no batch was made, so sending it again cannot make a second one.
func refused(err error) bool {
	var pe *providers.Error
	return errors.As(err, &pe) && (pe.StatusCode == http.StatusTooManyRequests || pe.StatusCode == http.StatusServiceUnavailable)
}

// Submit sends the lines that the real-time path would send as one batch
// for the first line's model. A line the real-time path refuses (or for
// another model) is left out: the batch ends without it and the decorator
// sends it the normal way, which fails it (or answers it) as a real-time
// run would. When no line is left, Submit fails with the first refusal.
func (b *batchBackend) Submit(ctx context.Context, tag string, lines []batch.Line) (string, error) {
	if len(lines) == 0 {
		return "", b.fail(providers.KindInvalidRequest, "batch: no lines")
	}
	var model string
	var firstRefusal error
	inlined := make([]*genai.InlinedRequest, 0, len(lines))
	for _, l := range lines {
		m, contents, cfg, err := b.c.prepare(l.Request)
		if err == nil && model != "" && m != model {
			err = b.fail(providers.KindInvalidRequest, fmt.Sprintf("batch: line %q asks for model %q, the batch is for %q (one model per batch)", l.CustomID, m, model))
		}
		if err != nil {
			firstRefusal = cmp.Or(firstRefusal, b.c.tag(err))
			continue
		}
		model = m
		inlined = append(inlined, &genai.InlinedRequest{Model: m, Contents: contents, Config: cfg, Metadata: map[string]string{keyField: l.CustomID}})
	}
	if len(inlined) == 0 {
		return "", firstRefusal
	}
	jsonl, size, err := b.encode(ctx, model, tag, inlined)
	if err != nil {
		return "", err
	}
	src := &genai.BatchJobSource{InlinedRequests: inlined}
	if size > b.c.batchInline {
		var f *genai.File
		err := b.retry(ctx, func() error { // an orphan upload is harmless
			return b.call(ctx, func(ctx context.Context) (err error) {
				f, err = b.c.bgc.Files.Upload(ctx, bytes.NewReader(jsonl), &genai.UploadFileConfig{MIMEType: "jsonl", DisplayName: tag})
				return err
			})
		})
		if err != nil {
			return "", err
		}
		if f == nil || f.Name == "" {
			return "", b.fail(providers.KindBadResponse, "batch: the uploaded file has no name")
		}
		src = &genai.BatchJobSource{FileName: f.Name}
	}
	return b.create(ctx, model, tag, src)
}

// create creates the batch. A create that failed with the server's refusal
// is sent again; one whose fate is unknown (the connection dropped, a
// timeout) is looked up by its tag first, so it is never made twice.
func (b *batchBackend) create(ctx context.Context, model, tag string, src *genai.BatchJobSource) (string, error) {
	var job *genai.BatchJob
	unsure := false
	err := b.retry(ctx, func() error {
		if unsure {
			id, found, err := b.Find(ctx, tag)
			if err != nil {
				return err
			}
			if found {
				job = &genai.BatchJob{Name: id}
				return nil
			}
		}
		err := b.call(ctx, func(ctx context.Context) (err error) {
			job, err = b.c.bgc.Batches.Create(ctx, model, src, &genai.CreateBatchJobConfig{DisplayName: tag})
			return err
		})
		unsure = err != nil && !refused(err)
		return err
	})
	if err != nil {
		return "", err
	}
	if job == nil || job.Name == "" {
		return "", b.fail(providers.KindBadResponse, "batch: the created batch has no name")
	}
	return job.Name, nil
}

// encode returns the lines as the JSONL input file and the size of their
// JSON in the create request.
func (b *batchBackend) encode(ctx context.Context, model, tag string, inlined []*genai.InlinedRequest) ([]byte, int64, error) {
	b.once.Do(func() {
		b.enc, b.err = genai.NewClient(context.Background(), &genai.ClientConfig{
			Backend: genai.BackendGeminiAPI, APIKey: "encode-only",
			HTTPOptions: genai.HTTPOptions{BaseURL: "http://encode.invalid/"},
			HTTPClient:  &http.Client{Transport: captureTransport{}},
		})
	})
	if b.err != nil {
		return nil, 0, b.c.tag(&providers.Error{Kind: providers.KindInvalidRequest, Err: b.err})
	}
	capt := &captured{}
	_, err := b.enc.Batches.Create(context.WithValue(ctx, captureKey{}, capt), model, &genai.BatchJobSource{InlinedRequests: inlined}, &genai.CreateBatchJobConfig{DisplayName: tag})
	if capt.body == nil {
		// genai refused the lines before building a request.
		return nil, 0, b.c.tag(&providers.Error{Kind: providers.KindInvalidRequest, Message: "batch: encoding the lines", Err: err})
	}
	var body struct {
		Batch struct {
			InputConfig struct {
				Requests struct {
					Requests []struct {
						Request  json.RawMessage   `json:"request"`
						Metadata map[string]string `json:"metadata"`
					} `json:"requests"`
				} `json:"requests"`
			} `json:"inputConfig"`
		} `json:"batch"`
	}
	if err := json.Unmarshal(capt.body, &body); err != nil {
		return nil, 0, b.c.tag(&providers.Error{Kind: providers.KindInvalidRequest, Message: "batch: encoding the lines", Err: err})
	}
	reqs := body.Batch.InputConfig.Requests.Requests
	if len(reqs) != len(inlined) {
		return nil, 0, b.fail(providers.KindInvalidRequest, fmt.Sprintf("batch: genai encoded %d of %d lines", len(reqs), len(inlined)))
	}
	var out bytes.Buffer
	for i, r := range reqs {
		if k := r.Metadata[keyField]; k != inlined[i].Metadata[keyField] {
			return nil, 0, b.fail(providers.KindInvalidRequest, fmt.Sprintf("batch: line %d encoded with key %q, want %q", i+1, k, inlined[i].Metadata[keyField]))
		}
		line, err := json.Marshal(fileLine{Key: r.Metadata[keyField], Request: r.Request})
		if err != nil {
			return nil, 0, b.c.tag(&providers.Error{Kind: providers.KindInvalidRequest, Err: err})
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes(), int64(len(capt.body)), nil
}

// fileLine is one line of a batch input file.
type fileLine struct {
	Key     string          `json:"key"`
	Request json.RawMessage `json:"request"`
}

type captureKey struct{}

type captured struct{ body []byte }

var errCaptured = errors.New("gemini: request captured, not sent")

// captureTransport keeps the body of the request genai built in the
// context's *captured and sends nothing.
type captureTransport struct{}

func (captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		defer r.Body.Close()
	}
	c, ok := r.Context().Value(captureKey{}).(*captured)
	if !ok {
		return nil, errors.New("gemini: the batch encoder sends nothing")
	}
	body := []byte{}
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
	}
	c.body = body
	return nil, errCaptured
}

// bodyExchange is an exchange that also keeps a copy of the response body
// (genai keeps only what its types have).
type bodyExchange struct {
	exchange
	bmu  sync.Mutex
	body bytes.Buffer
}

func (x *bodyExchange) Record(resp *http.Response) {
	x.exchange.Record(resp)
	resp.Body = teeBody{ReadCloser: resp.Body, x: x}
}

func (x *bodyExchange) bytes() []byte {
	x.bmu.Lock()
	defer x.bmu.Unlock()
	return bytes.Clone(x.body.Bytes())
}

type teeBody struct {
	io.ReadCloser
	x *bodyExchange
}

func (t teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	t.x.bmu.Lock()
	t.x.body.Write(p[:n])
	t.x.bmu.Unlock()
	return n, err
}

var _ httprec.Recorder = (*bodyExchange)(nil)

// count is an int64 as proto3 JSON spells it (a string), or a number.
type count int64

func (n *count) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	if s == "" || s == "null" {
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	*n = count(v)
	return err
}

// batchStats is GenerateContentBatch.batchStats.
type batchStats struct {
	RequestCount           count `json:"requestCount"`
	SuccessfulRequestCount count `json:"successfulRequestCount"`
	FailedRequestCount     count `json:"failedRequestCount"`
	PendingRequestCount    count `json:"pendingRequestCount"`
}

// operation is a batch's long-running Operation as the API sends it:
// {"name", "metadata": GenerateContentBatch, "done", "error"}. It is read
// from the wire body, not from genai's BatchJob, which drops batchStats and
// the Operation's error, and whose JobError cannot hold a google.rpc.Status
// with details (objects, not strings): an inlined response carrying one
// makes genai fail to decode the whole batch.
type operation struct {
	Name     string `json:"name"`
	Metadata struct {
		DisplayName string     `json:"displayName"`
		Model       string     `json:"model"`
		State       string     `json:"state"`
		BatchStats  batchStats `json:"batchStats"`
		Output      *struct {
			ResponsesFile    string `json:"responsesFile"`
			InlinedResponses *struct {
				InlinedResponses []inlinedResponse `json:"inlinedResponses"`
			} `json:"inlinedResponses"`
		} `json:"output"`
	} `json:"metadata"`
	Error *lineError `json:"error"` // why a batch failed
}

type inlinedResponse struct {
	Response *genai.GenerateContentResponse `json:"response"`
	Metadata map[string]string              `json:"metadata"`
	Error    *lineError                     `json:"error"`
}

// state is the SDK's word for the batch's state (genai's JobState, as
// Batches.Get gives it: BATCH_STATE_X is JOB_STATE_X).
func (op *operation) state() genai.JobState {
	if rest, ok := strings.CutPrefix(op.Metadata.State, "BATCH_STATE_"); ok {
		return genai.JobState("JOB_STATE_" + rest)
	}
	return genai.JobState(op.Metadata.State)
}

// raw calls f (a genai call) with a context recording its exchange and
// decodes the response body into v. A body that genai could not decode
// but v can is no failure.
func (b *batchBackend) raw(ctx context.Context, v any, f func(ctx context.Context) error) error {
	x := &bodyExchange{}
	err := f(httprec.WithRecorder(ctx, x))
	status, _ := x.snapshot()
	var pe *providers.Error // a transport limit, or ADC
	if err != nil && (status != http.StatusOK || ctx.Err() != nil || errors.As(err, &pe)) {
		return b.c.tag(fromError(ctx, err, &x.exchange))
	}
	if derr := json.Unmarshal(x.bytes(), v); derr != nil {
		if err == nil {
			err = derr
		}
		return b.c.tag(&providers.Error{Kind: providers.KindBadResponse, StatusCode: status, Message: "malformed batch operation", Err: err})
	}
	return nil
}

func (b *batchBackend) get(ctx context.Context, id string) (*operation, error) {
	var op *operation
	err := b.retry(ctx, func() error {
		op = &operation{}
		return b.raw(ctx, op, func(ctx context.Context) error {
			_, err := b.c.bgc.Batches.Get(ctx, id, nil)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if op.Name == "" {
		op.Name = id
	}
	return op, nil
}

// terminal reports whether nothing more will happen to a batch in state s.
func terminal(s genai.JobState) bool {
	switch s {
	case genai.JobStateSucceeded, genai.JobStateFailed, genai.JobStateCancelled, genai.JobStateExpired, genai.JobStatePartiallySucceeded:
		return true
	}
	return false
}

func (b *batchBackend) Status(ctx context.Context, id string) (batch.Status, error) {
	op, err := b.get(ctx, id)
	if err != nil {
		return batch.Status{}, err
	}
	stats := op.Metadata.BatchStats
	st := batch.Status{ID: op.Name, State: string(op.state()), Done: terminal(op.state()),
		Total: int(stats.RequestCount), Completed: int(stats.SuccessfulRequestCount), Failed: int(stats.FailedRequestCount)}
	if op.Error != nil && op.Error.Message != "" {
		st.State += " (" + op.Error.Message + ")"
	}
	if out := op.Metadata.Output; out != nil && out.ResponsesFile != "" {
		st.Files = []string{out.ResponsesFile}
	}
	return st, nil
}

// lineError is the google.rpc.Status of a failed line (details ignored).
type lineError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
}

func (b *batchBackend) lineErr(e *lineError) error {
	return b.c.tag(fromAPIError(genai.APIError{Code: e.Code, Message: e.Message, Status: e.Status}, &exchange{}))
}

// line converts one line's answer with the real-time converter, or its
// error as the real-time path classifies it.
func (b *batchBackend) line(r *genai.GenerateContentResponse, e *lineError, model string) (*providers.Response, error) {
	switch {
	case e != nil:
		return nil, b.lineErr(e)
	case r == nil:
		return nil, b.fail(providers.KindBadResponse, "batch line without response or error")
	}
	resp, err := toResponse(r, model)
	if err != nil {
		return nil, b.c.tag(err)
	}
	resp.Attempts = 1
	return resp, nil
}

// Results reads a done batch's answers: its output file, or its inlined
// responses. Every answer is mapped by the key it carries; output lines in
// any order are fine, inlined responses without a key are dropped (their
// lines go through the real-time path).
func (b *batchBackend) Results(ctx context.Context, st batch.Status, fn func(string, *providers.Response, error)) error {
	op, err := b.get(ctx, st.ID)
	if err != nil {
		return err
	}
	model := strings.TrimPrefix(op.Metadata.Model, "models/")
	out := op.Metadata.Output
	switch {
	case out == nil:
		return nil // no output (a failed or cancelled batch)
	case out.ResponsesFile != "":
		return b.readFile(ctx, op.Name, out.ResponsesFile, model, fn)
	case out.InlinedResponses == nil:
		return nil
	}
	unkeyed := 0
	for _, r := range out.InlinedResponses.InlinedResponses {
		key := r.Metadata[keyField]
		if key == "" {
			unkeyed++
			continue
		}
		resp, err := b.line(r.Response, r.Error, model)
		fn(key, resp, err)
	}
	if unkeyed > 0 {
		return fmt.Errorf("batch %s: %d inlined responses carry no %q metadata; their lines are not mapped by position", op.Name, unkeyed, keyField)
	}
	return nil
}

// readFile downloads and reads an output file.
func (b *batchBackend) readFile(ctx context.Context, id, name, model string, fn func(string, *providers.Response, error)) error {
	var data []byte
	err := b.retry(ctx, func() error {
		x := &exchange{}
		var err error
		data, err = b.c.bgc.Files.Download(withExchange(ctx, x), genai.NewDownloadURIFromFile(&genai.File{DownloadURI: name}), nil)
		if err != nil {
			return b.c.tag(fromError(ctx, err, x))
		}
		if status, _ := x.snapshot(); status >= http.StatusBadRequest {
			// genai returns an error page's body as the file's content.
			var body struct {
				Error lineError `json:"error"`
			}
			json.Unmarshal(data, &body)
			return b.c.tag(fromAPIError(genai.APIError{Code: status, Message: body.Error.Message, Status: body.Error.Status}, x))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("batch %s: downloading %s: %w", id, name, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l struct {
			Key      string                         `json:"key"`
			Response *genai.GenerateContentResponse `json:"response"`
			Error    *lineError                     `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("batch %s: output file %s: line %d: %v", id, name, n, err)
		}
		if l.Key == "" {
			return fmt.Errorf("batch %s: output file %s: line %d: no key", id, name, n)
		}
		resp, err := b.line(l.Response, l.Error, model)
		fn(l.Key, resp, err)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("batch %s: output file %s: %v", id, name, err)
	}
	return nil
}

// Find looks a batch up by the tag it was submitted with (its display
// name), listing every batch job page by page.
func (b *batchBackend) Find(ctx context.Context, tag string) (string, bool, error) {
	token := ""
	for range maxListPages {
		var page struct {
			Operations    []operation `json:"operations"`
			NextPageToken string      `json:"nextPageToken"`
		}
		err := b.retry(ctx, func() error {
			return b.raw(ctx, &page, func(ctx context.Context) error {
				_, err := b.c.bgc.Batches.List(ctx, &genai.ListBatchJobsConfig{PageToken: token})
				return err
			})
		})
		if err != nil {
			return "", false, err
		}
		for _, op := range page.Operations {
			if op.Metadata.DisplayName == tag && op.Name != "" {
				return op.Name, true, nil
			}
		}
		if page.NextPageToken == "" || page.NextPageToken == token {
			return "", false, nil
		}
		token = page.NextPageToken
	}
	return "", false, b.fail(providers.KindBadResponse, fmt.Sprintf("batch: listing batches: more than %d pages", maxListPages))
}
