package providertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// GeminiBatchMode shapes how the fake Gemini Batch Mode finishes a batch.
type GeminiBatchMode struct {
	// Hold keeps batches BATCH_STATE_RUNNING until Release is called.
	Hold bool
	// Expire ends batches BATCH_STATE_EXPIRED with only the first
	// ExpireDone lines answered in their output.
	Expire     bool
	ExpireDone int
	// Reverse writes the output (file lines or inlined responses) in
	// reverse input order.
	Reverse bool
	// FailEvery gives every n-th line (1-based) an error (500 INTERNAL,
	// with a google.rpc.DebugInfo detail) instead of a response.
	FailEvery int
	// DropMetadata sends inlined responses without their request's
	// metadata, as the API has been seen to do.
	DropMetadata bool
	// Fail ends batches BATCH_STATE_FAILED with this error and no output.
	Fail string
	// PageSize is the list page size when the client asks for none
	// (default 2, so that listing pages).
	PageSize int
	// Unavailable makes the next n Batch Mode and Files requests answer
	// 503 UNAVAILABLE (with a RetryInfo of 10ms).
	Unavailable int
	// DropCreate makes the next n creates make their batch, then close the
	// connection without answering.
	DropCreate int
}

// GeminiBatchServer is a fake of the Gemini API's Batch Mode as
// google.golang.org/genai speaks it (ai.google.dev/api/batch-api), in front
// of a GeminiServer, which answers the batch lines with its responder and
// serves every other path (real-time generateContent, counted by Count):
//
//   - POST /v1beta/models/{model}:batchGenerateContent with
//     {"batch": {"displayName", "inputConfig": {"requests": {"requests":
//     [{"request", "metadata"}]}} or {"fileName"}}} creates a batch and
//     answers its long-running Operation {"name": "batches/…", "metadata":
//     GenerateContentBatch};
//   - GET /v1beta/batches/{id} answers the Operation: state
//     BATCH_STATE_PENDING, then RUNNING, then (unless held) SUCCEEDED,
//     EXPIRED or FAILED with "done": true and the output in both
//     metadata.output and response: {"responsesFile": "files/…"} for a
//     file batch, {"inlinedResponses": {"inlinedResponses": […]}} for an
//     inline one; metadata.batchStats counts lines (int64 as strings, zero
//     counts left out, as proto3 JSON does);
//   - GET /v1beta/batches?pageSize=&pageToken= lists batches, newest first,
//     as {"operations": […], "nextPageToken"};
//   - POST /upload/v1beta/files (X-Goog-Upload-Protocol: resumable,
//     X-Goog-Upload-Command: start) opens an upload and answers its URL in
//     X-Goog-Upload-URL; POSTs to that URL send chunks at X-Goog-Upload-Offset
//     ("upload", then "upload, finalize"), answered with
//     X-Goog-Upload-Status active, then final and {"file": File};
//   - GET /v1beta/files/{id}:download?alt=media returns a file's bytes.
//
// Input file lines are {"key", "request"}; output file lines are
// {"key", "response"} or {"key", "error": google.rpc.Status}. Every path
// demands the API key. It is safe for concurrent use.
type GeminiBatchServer struct {
	*GeminiServer
	srv    *httptest.Server
	apiKey string

	mu      sync.Mutex
	mode    GeminiBatchMode
	files   map[string][]byte
	uploads map[string]*geminiUpload
	batches []*geminiBatch // in creation order
	lines   []WireRequest
	created int
	polls   int
	lists   int
	chunks  int
	seq     int
}

type geminiUpload struct {
	displayName, mimeType string
	data                  []byte
}

type geminiBatch struct {
	id, model, displayName string
	file                   string // the input file, or "" for inline
	state                  string
	keys                   []string
	reqs                   []json.RawMessage
	meta                   []map[string]string
	done, failed           int
	output                 map[string]any // GenerateContentBatchOutput, once done
	created                time.Time
}

// NewGeminiBatchServer starts the fake, demanding apiKey; answers come from
// responder.
func NewGeminiBatchServer(tb testing.TB, apiKey string, responder Responder) *GeminiBatchServer {
	rt := NewGeminiServer(tb, WithGeminiAPIKey(apiKey), WithGeminiResponder(responder))
	s := &GeminiBatchServer{GeminiServer: rt, apiKey: apiKey, files: map[string][]byte{}, uploads: map[string]*geminiUpload{}}
	s.srv = httptest.NewServer(s)
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL to give genai (base_url).
func (s *GeminiBatchServer) URL() string { return s.srv.URL }

// Client returns an HTTP client for the server.
func (s *GeminiBatchServer) Client() *http.Client { return s.srv.Client() }

// SetMode changes how batches finish from now on.
func (s *GeminiBatchServer) SetMode(m GeminiBatchMode) { s.mu.Lock(); s.mode = m; s.mu.Unlock() }

// Release lets held batches finish.
func (s *GeminiBatchServer) Release() { s.mu.Lock(); s.mode.Hold = false; s.mu.Unlock() }

// Created is the number of batches created.
func (s *GeminiBatchServer) Created() int { s.mu.Lock(); defer s.mu.Unlock(); return s.created }

// Polls is the number of batch retrievals.
func (s *GeminiBatchServer) Polls() int { s.mu.Lock(); defer s.mu.Unlock(); return s.polls }

// Lists is the number of list pages served.
func (s *GeminiBatchServer) Lists() int { s.mu.Lock(); defer s.mu.Unlock(); return s.lists }

// Uploads is the number of files uploaded (finalized).
func (s *GeminiBatchServer) Uploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for name := range s.files {
		if strings.HasPrefix(name, "files/input") {
			n++
		}
	}
	return n
}

// Chunks is the number of upload chunks received.
func (s *GeminiBatchServer) Chunks() int { s.mu.Lock(); defer s.mu.Unlock(); return s.chunks }

// Lines returns every batch line received, decoded as a generateContent
// request (Path names the batch's model).
func (s *GeminiBatchServer) Lines() []WireRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines)
}

// Inline reports whether batch id (e.g. "batches/1") was created with
// inlined requests.
func (s *GeminiBatchServer) Inline(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.batches {
		if b.id == id {
			return b.file == ""
		}
	}
	return false
}

func (s *GeminiBatchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	batchPath := r.Method == http.MethodPost && strings.HasPrefix(p, "/v1beta/models/") && strings.HasSuffix(p, ":batchGenerateContent")
	other := !batchPath && !strings.HasPrefix(p, "/v1beta/batches") && !strings.HasPrefix(p, "/upload/") &&
		!(strings.HasPrefix(p, "/v1beta/files/") && strings.HasSuffix(p, ":download"))
	if other {
		s.GeminiServer.ServeHTTP(w, r)
		return
	}
	if r.Header.Get("x-goog-api-key") != s.apiKey {
		writeGeminiError(w, http.StatusForbidden, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", nil)
		return
	}
	s.mu.Lock()
	down := s.mode.Unavailable > 0
	if down {
		s.mode.Unavailable--
	}
	s.mu.Unlock()
	if down {
		writeGeminiError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "The service is currently unavailable.",
			[]any{map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.010s"}})
		return
	}
	switch {
	case batchPath:
		s.create(w, r, strings.TrimSuffix(strings.TrimPrefix(p, "/v1beta/models/"), ":batchGenerateContent"))
	case r.Method == http.MethodGet && p == "/v1beta/batches":
		s.list(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/v1beta/batches/"):
		s.get(w, "batches/"+strings.TrimPrefix(p, "/v1beta/batches/"))
	case r.Method == http.MethodPost && p == "/upload/v1beta/files" && r.URL.Query().Get("upload_id") == "":
		s.startUpload(w, r)
	case r.Method == http.MethodPost && p == "/upload/v1beta/files":
		s.chunk(w, r, r.URL.Query().Get("upload_id"))
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/v1beta/files/"):
		s.download(w, r, "files/"+strings.TrimSuffix(strings.TrimPrefix(p, "/v1beta/files/"), ":download"))
	default:
		writeGeminiError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("Method not found: %s %s", r.Method, p), nil)
	}
}

func badRequest(w http.ResponseWriter, msg string) {
	writeGeminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", msg, nil)
}

func (s *GeminiBatchServer) create(w http.ResponseWriter, r *http.Request, model string) {
	var body struct {
		Batch struct {
			DisplayName string `json:"displayName"`
			InputConfig struct {
				FileName string `json:"fileName"`
				Requests *struct {
					Requests []struct {
						Request  json.RawMessage   `json:"request"`
						Metadata map[string]string `json:"metadata"`
					} `json:"requests"`
				} `json:"requests"`
			} `json:"inputConfig"`
		} `json:"batch"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		badRequest(w, "Invalid JSON payload received. "+err.Error())
		return
	}
	in := body.Batch.InputConfig
	if body.Batch.DisplayName == "" {
		badRequest(w, "batch.display_name is required")
		return
	}
	if (in.FileName == "") == (in.Requests == nil) {
		badRequest(w, "batch.input_config: exactly one of file_name and requests is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &geminiBatch{model: model, displayName: body.Batch.DisplayName, file: in.FileName, state: "BATCH_STATE_PENDING", created: time.Now().UTC()}
	if in.FileName != "" {
		data, ok := s.files[in.FileName]
		if !ok {
			writeGeminiError(w, http.StatusNotFound, "NOT_FOUND", "File "+in.FileName+" not found.", nil)
			return
		}
		seen := map[string]bool{}
		for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var l struct {
				Key     string          `json:"key"`
				Request json.RawMessage `json:"request"`
			}
			if err := json.Unmarshal([]byte(line), &l); err != nil || l.Key == "" || len(l.Request) == 0 {
				badRequest(w, fmt.Sprintf("input file line %d: want {\"key\", \"request\"}", i+1))
				return
			}
			if seen[l.Key] {
				badRequest(w, fmt.Sprintf("input file line %d: duplicate key %q", i+1, l.Key))
				return
			}
			seen[l.Key] = true
			b.keys, b.reqs, b.meta = append(b.keys, l.Key), append(b.reqs, l.Request), append(b.meta, nil)
		}
	} else {
		for i, rq := range in.Requests.Requests {
			if len(rq.Request) == 0 {
				badRequest(w, fmt.Sprintf("batch.input_config.requests.requests[%d].request is required", i))
				return
			}
			b.keys, b.reqs, b.meta = append(b.keys, ""), append(b.reqs, rq.Request), append(b.meta, rq.Metadata)
		}
	}
	if len(b.reqs) == 0 {
		badRequest(w, "the batch has no requests")
		return
	}
	for _, rq := range b.reqs {
		wr := WireRequest{Method: http.MethodPost, Path: "/v1beta/models/" + model + ":generateContent", Body: rq, Model: model}
		if err := decodeGemini(&wr); err != nil {
			badRequest(w, "Invalid JSON payload received. "+err.Error())
			return
		}
		s.lines = append(s.lines, wr)
	}
	s.seq++
	s.created++
	b.id = fmt.Sprintf("batches/%d", s.seq)
	s.batches = append(s.batches, b)
	if s.mode.DropCreate > 0 {
		s.mode.DropCreate--
		hijackAndClose(w)
		return
	}
	writeJSON(w, s.operation(b))
}

// operation is b as the long-running Operation the API answers.
func (s *GeminiBatchServer) operation(b *geminiBatch) map[string]any {
	stats := map[string]any{}
	for k, v := range map[string]int{"requestCount": len(b.reqs), "successfulRequestCount": b.done - b.failed, "failedRequestCount": b.failed,
		"pendingRequestCount": len(b.reqs) - b.done} {
		if v != 0 {
			stats[k] = strconv.Itoa(v) // int64 in proto3 JSON
		}
	}
	meta := map[string]any{
		"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
		"name":  b.id, "model": "models/" + b.model, "displayName": b.displayName, "state": b.state,
		"createTime": b.created.Format(time.RFC3339Nano), "updateTime": time.Now().UTC().Format(time.RFC3339Nano),
		"batchStats": stats,
	}
	op := map[string]any{"name": b.id, "metadata": meta}
	if b.output != nil {
		meta["output"] = b.output
		resp := map[string]any{"@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"}
		for k, v := range b.output {
			resp[k] = v
		}
		op["done"], op["response"] = true, resp
	}
	if b.state == "BATCH_STATE_FAILED" {
		op["done"] = true
		op["error"] = map[string]any{"code": 13, "message": s.mode.Fail}
	}
	return op
}

func (s *GeminiBatchServer) get(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls++
	i := slices.IndexFunc(s.batches, func(b *geminiBatch) bool { return b.id == id })
	if i < 0 {
		writeGeminiError(w, http.StatusNotFound, "NOT_FOUND", "Batch "+id+" not found.", nil)
		return
	}
	b := s.batches[i]
	switch b.state {
	case "BATCH_STATE_PENDING":
		b.state = "BATCH_STATE_RUNNING"
	case "BATCH_STATE_RUNNING":
		if !s.mode.Hold {
			s.finish(b)
		}
	}
	writeJSON(w, s.operation(b))
}

// finish answers b's lines and writes its output.
func (s *GeminiBatchServer) finish(b *geminiBatch) {
	if s.mode.Fail != "" {
		b.state = "BATCH_STATE_FAILED"
		return
	}
	n := len(b.reqs)
	if s.mode.Expire {
		n = min(n, s.mode.ExpireDone)
	}
	var out []map[string]any
	for i, rq := range b.reqs[:n] {
		item := map[string]any{}
		if s.mode.FailEvery > 0 && (i+1)%s.mode.FailEvery == 0 {
			item["error"] = map[string]any{"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL", "details": []any{map[string]any{"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": "backend"}}}
			b.failed++
		} else {
			wr := WireRequest{Method: http.MethodPost, Path: "/v1beta/models/" + b.model + ":generateContent", Body: rq, Model: b.model}
			if err := decodeGemini(&wr); err != nil {
				item["error"] = map[string]any{"code": 400, "message": "Invalid JSON payload received. " + err.Error(), "status": "INVALID_ARGUMENT"}
				b.failed++
			} else {
				text, finish := s.GeminiServer.answer(Behavior{}, wr)
				s.seq++
				item["response"] = geminiResponse(fmt.Sprintf("fake-gemini-batch-%d", s.seq), b.model, text, finish, usage(Behavior{}, wr, text), true)
			}
		}
		if b.file != "" {
			item["key"] = b.keys[i]
		} else if b.meta[i] != nil && !s.mode.DropMetadata {
			item["metadata"] = b.meta[i]
		}
		out = append(out, item)
		b.done++
	}
	if s.mode.Reverse {
		slices.Reverse(out)
	}
	if b.file != "" {
		var buf strings.Builder
		for _, item := range out {
			buf.WriteString(mustJSON(item) + "\n")
		}
		s.seq++
		name := fmt.Sprintf("files/output%d", s.seq)
		s.files[name] = []byte(buf.String())
		b.output = map[string]any{"responsesFile": name}
	} else {
		b.output = map[string]any{"inlinedResponses": map[string]any{"inlinedResponses": out}}
	}
	b.state = "BATCH_STATE_SUCCEEDED"
	if s.mode.Expire && n < len(b.reqs) {
		b.state = "BATCH_STATE_EXPIRED"
	}
}

func (s *GeminiBatchServer) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	size := s.mode.PageSize
	if size <= 0 {
		size = 2
	}
	if v := r.URL.Query().Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			badRequest(w, "page_size: "+v)
			return
		}
		size = n
	}
	start := 0
	if t := r.URL.Query().Get("pageToken"); t != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(t, "page-"))
		if err != nil || !strings.HasPrefix(t, "page-") || n > len(s.batches) {
			badRequest(w, "Invalid page token.")
			return
		}
		start = n
	}
	newest := slices.Clone(s.batches)
	slices.Reverse(newest)
	end := min(start+size, len(newest))
	ops := []any{}
	for _, b := range newest[start:end] {
		ops = append(ops, s.operation(b))
	}
	out := map[string]any{"operations": ops}
	if end < len(newest) {
		out["nextPageToken"] = fmt.Sprintf("page-%d", end)
	}
	writeJSON(w, out)
}

func (s *GeminiBatchServer) startUpload(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Goog-Upload-Protocol") != "resumable" || r.Header.Get("X-Goog-Upload-Command") != "start" {
		badRequest(w, "want X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start")
		return
	}
	var body struct {
		File struct {
			DisplayName string `json:"displayName"`
			MIMEType    string `json:"mimeType"`
		} `json:"file"`
	}
	json.NewDecoder(r.Body).Decode(&body)
	mt := body.File.MIMEType
	if mt == "" {
		mt = r.Header.Get("X-Goog-Upload-Header-Content-Type")
	}
	s.mu.Lock()
	s.seq++
	id := strconv.Itoa(s.seq)
	s.uploads[id] = &geminiUpload{displayName: body.File.DisplayName, mimeType: mt}
	s.mu.Unlock()
	w.Header().Set("X-Goog-Upload-URL", s.srv.URL+"/upload/v1beta/files?upload_id="+id+"&upload_protocol=resumable")
	w.Header().Set("X-Goog-Upload-Status", "active")
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
}

func (s *GeminiBatchServer) chunk(w http.ResponseWriter, r *http.Request, id string) {
	data, _ := io.ReadAll(r.Body)
	cmd := r.Header.Get("X-Goog-Upload-Command")
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.uploads[id]
	if !ok {
		writeGeminiError(w, http.StatusNotFound, "NOT_FOUND", "no upload "+id, nil)
		return
	}
	if off, err := strconv.Atoi(r.Header.Get("X-Goog-Upload-Offset")); err != nil || off != len(u.data) {
		badRequest(w, fmt.Sprintf("X-Goog-Upload-Offset %q: want %d", r.Header.Get("X-Goog-Upload-Offset"), len(u.data)))
		return
	}
	if !strings.Contains(cmd, "upload") {
		badRequest(w, "X-Goog-Upload-Command: want upload")
		return
	}
	u.data = append(u.data, data...)
	s.chunks++
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if !strings.Contains(cmd, "finalize") {
		w.Header().Set("X-Goog-Upload-Status", "active")
		w.WriteHeader(http.StatusOK)
		return
	}
	delete(s.uploads, id)
	name := "files/input" + id
	s.files[name] = u.data
	w.Header().Set("X-Goog-Upload-Status", "final")
	now := time.Now().UTC()
	writeJSON(w, map[string]any{"file": map[string]any{
		"name": name, "displayName": u.displayName, "mimeType": u.mimeType, "sizeBytes": strconv.Itoa(len(u.data)),
		"createTime": now.Format(time.RFC3339Nano), "updateTime": now.Format(time.RFC3339Nano),
		"expirationTime": now.Add(48 * time.Hour).Format(time.RFC3339Nano),
		"uri":            s.srv.URL + "/v1beta/" + name, "state": "ACTIVE", "source": "UPLOADED",
	}})
}

func (s *GeminiBatchServer) download(w http.ResponseWriter, r *http.Request, name string) {
	if r.URL.Query().Get("alt") != "media" {
		badRequest(w, "want alt=media")
		return
	}
	s.mu.Lock()
	data, ok := s.files[name]
	s.mu.Unlock()
	if !ok {
		writeGeminiError(w, http.StatusNotFound, "NOT_FOUND", "File "+name+" not found.", nil)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(data)
}
