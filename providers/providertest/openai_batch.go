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

// BatchMode shapes how the fake Batch API finishes a batch.
type BatchMode struct {
	// Hold keeps batches in_progress until Release is called.
	Hold bool
	// Expire ends batches "expired" with only the first ExpireDone lines
	// answered (the rest are in no file, as OpenAI does for expired work).
	Expire     bool
	ExpireDone int
	// Shuffle writes the output file in reverse input order.
	Shuffle bool
	// FailEvery puts every n-th line (1-based) in the error file with a 500.
	FailEvery int
}

// OpenAIBatchServer is an OpenAI Files + Batches API fake (upload a JSONL
// file, create a batch with metadata, retrieve it, list batches newest
// first with limit/after paging, download its output and error files) in
// front of an OpenAIServer, which answers the batch lines with its
// responder and serves every other path (real-time chat completions).
//
// Made by NewAzureBatchServer it is Azure OpenAI's batch API instead: the
// same calls under {endpoint}/openai/… with a required api-version query
// (404 "Resource not found" without) and api-key header (401 otherwise),
// endpoint and line url "/chat/completions", and each line's body model
// naming a global-batch deployment: a batch with another fails validation
// (status "failed", errors naming the line), as Azure's does.
type OpenAIBatchServer struct {
	*OpenAIServer
	srv *httptest.Server

	prefix      string // "/v1", or Azure's "/openai"
	endpoint    string // the batch endpoint and line url
	azureKey    string
	deployments map[string]bool // Azure: the global-batch deployments

	mu       sync.Mutex
	mode     BatchMode
	files    map[string][]byte
	batches  map[string]*fakeBatch
	created  int
	polls    int
	lists    int
	seq      int
	order    []*fakeBatch // creation order
	onCreate func()
}

type fakeBatch struct {
	id, input, output, errors string
	status                    string
	total, completed, failed  int
	lines                     []json.RawMessage
	metadata                  map[string]string
	createdAt                 int64
	invalid                   map[string]any // a validation error: the batch fails
}

// NewOpenAIBatchServer starts the fake; answers come from responder.
func NewOpenAIBatchServer(tb testing.TB, responder Responder) *OpenAIBatchServer {
	chat := NewOpenAIServer(tb, WithoutRecording())
	chat.SetResponder(responder)
	s := &OpenAIBatchServer{OpenAIServer: chat, prefix: "/v1", endpoint: "/v1/chat/completions", files: map[string][]byte{}, batches: map[string]*fakeBatch{}}
	s.srv = httptest.NewServer(s)
	tb.Cleanup(s.srv.Close)
	return s
}

// NewAzureBatchServer starts the Azure OpenAI batch fake: key is the
// api-key every request must carry, deployments the global-batch
// deployments batch lines may name. Real-time requests
// (/openai/deployments/{d}/chat/completions) need the key too. Give clients
// Endpoint().
func NewAzureBatchServer(tb testing.TB, responder Responder, key string, deployments ...string) *OpenAIBatchServer {
	chat := NewOpenAIServer(tb, WithoutRecording(), WithAPIKey(key))
	chat.SetResponder(responder)
	s := &OpenAIBatchServer{OpenAIServer: chat, prefix: "/openai", endpoint: "/chat/completions", azureKey: key,
		deployments: map[string]bool{}, files: map[string][]byte{}, batches: map[string]*fakeBatch{}}
	for _, d := range deployments {
		s.deployments[d] = true
	}
	s.srv = httptest.NewServer(s)
	tb.Cleanup(s.srv.Close)
	return s
}

// Endpoint is the Azure resource endpoint to give the client.
func (s *OpenAIBatchServer) Endpoint() string { return s.srv.URL }

// URL is the base URL to give the client (OPENAI_BASE_URL).
func (s *OpenAIBatchServer) URL() string { return s.srv.URL + "/v1" }

// SetMode changes how batches finish from now on.
func (s *OpenAIBatchServer) SetMode(m BatchMode) { s.mu.Lock(); s.mode = m; s.mu.Unlock() }

// Release lets held batches finish.
func (s *OpenAIBatchServer) Release() { s.mu.Lock(); s.mode.Hold = false; s.mu.Unlock() }

// Created is the number of batches created.
func (s *OpenAIBatchServer) Created() int { s.mu.Lock(); defer s.mu.Unlock(); return s.created }

// Polls is the number of batch retrievals.
func (s *OpenAIBatchServer) Polls() int { s.mu.Lock(); defer s.mu.Unlock(); return s.polls }

// Lists is the number of list requests (pages) served.
func (s *OpenAIBatchServer) Lists() int { s.mu.Lock(); defer s.mu.Unlock(); return s.lists }

// OnCreate sets fn to run when a batch has been created, before the reply
// is sent (to stand for a client killed while the reply is on its way).
func (s *OpenAIBatchServer) OnCreate(fn func()) { s.mu.Lock(); s.onCreate = fn; s.mu.Unlock() }

// AddBatches creates n completed batches of nobody's (no input, no lines),
// newer than every batch so far: what a busy organization's list holds.
func (s *OpenAIBatchServer) AddBatches(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.seq++
		b := &fakeBatch{id: fmt.Sprintf("batch_%d", s.seq), status: "completed", createdAt: time.Now().Unix(),
			metadata: map[string]string{"yardstick_tag": fmt.Sprintf("someone-else-%d", s.seq)}}
		s.batches[b.id] = b
		s.order = append(s.order, b)
	}
}

func (s *OpenAIBatchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.azureKey != "" && !strings.HasPrefix(r.URL.Path, "/openai/deployments/") {
		if r.URL.Query().Get("api-version") == "" {
			writeOpenAIError(w, http.StatusNotFound, "", "404", "Resource not found")
			return
		}
		if r.Header.Get("api-key") != s.azureKey {
			writeOpenAIError(w, http.StatusUnauthorized, "", "401", "Access denied due to invalid subscription key or wrong API endpoint.")
			return
		}
	}
	path, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	switch {
	case !ok || strings.HasPrefix(r.URL.Path, "/openai/deployments/"):
		s.OpenAIServer.ServeHTTP(w, r)
	case r.Method == http.MethodPost && path == "/files":
		s.upload(w, r)
	case r.Method == http.MethodPost && path == "/batches":
		s.create(w, r)
	case r.Method == http.MethodGet && path == "/batches":
		s.list(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/batches/"):
		s.retrieve(w, strings.TrimPrefix(path, "/batches/"))
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/files/") && strings.HasSuffix(path, "/content"):
		s.content(w, strings.TrimSuffix(strings.TrimPrefix(path, "/files/"), "/content"))
	default:
		s.OpenAIServer.ServeHTTP(w, r)
	}
}

func batchError(w http.ResponseWriter, status int, msg string) {
	writeOpenAIError(w, status, "invalid_request_error", "", msg)
}

func (s *OpenAIBatchServer) upload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(64 << 20); err != nil {
		batchError(w, 400, "multipart: "+err.Error())
		return
	}
	if p := r.FormValue("purpose"); p != "batch" {
		batchError(w, 400, fmt.Sprintf("purpose %q: want batch", p))
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		batchError(w, 400, "file: "+err.Error())
		return
	}
	data, _ := io.ReadAll(f)
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("file-%d", s.seq)
	s.files[id] = data
	s.mu.Unlock()
	writeJSON(w, map[string]any{"id": id, "object": "file", "bytes": len(data), "created_at": time.Now().Unix(), "filename": hdr.Filename, "purpose": "batch"})
}

func (s *OpenAIBatchServer) create(w http.ResponseWriter, r *http.Request) {
	var req struct {
		InputFileID      string            `json:"input_file_id"`
		Endpoint         string            `json:"endpoint"`
		CompletionWindow string            `json:"completion_window"`
		Metadata         map[string]string `json:"metadata"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		batchError(w, 400, err.Error())
		return
	}
	if req.Endpoint != s.endpoint || req.CompletionWindow != "24h" {
		batchError(w, 400, "endpoint must be "+s.endpoint+" and completion_window 24h")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.files[req.InputFileID]
	if !ok {
		batchError(w, 404, "no such file "+req.InputFileID)
		return
	}
	if len(req.Metadata) > 16 {
		batchError(w, 400, "metadata: at most 16 keys")
		return
	}
	b := &fakeBatch{input: req.InputFileID, status: "validating", metadata: req.Metadata, createdAt: time.Now().Unix()}
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var l struct {
			CustomID string          `json:"custom_id"`
			Method   string          `json:"method"`
			URL      string          `json:"url"`
			Body     json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil || l.CustomID == "" || l.Method != "POST" || l.URL != s.endpoint {
			batchError(w, 400, fmt.Sprintf("input line %d: want custom_id, method POST, url %s", i+1, s.endpoint))
			return
		}
		if s.deployments != nil && b.invalid == nil {
			var body struct {
				Model string `json:"model"`
			}
			json.Unmarshal(l.Body, &body)
			if !s.deployments[body.Model] {
				b.invalid = map[string]any{"code": "model_not_found", "line": i + 1,
					"message": fmt.Sprintf("The provided model deployment '%s' does not exist or is not a global batch deployment.", body.Model)}
			}
		}
		if seen[l.CustomID] {
			batchError(w, 400, fmt.Sprintf("input line %d: duplicate custom_id %q", i+1, l.CustomID))
			return
		}
		seen[l.CustomID] = true
		b.lines = append(b.lines, json.RawMessage(line))
	}
	s.seq++
	s.created++
	b.id = fmt.Sprintf("batch_%d", s.seq)
	b.total = len(b.lines)
	s.batches[b.id] = b
	s.order = append(s.order, b)
	if s.onCreate != nil {
		s.onCreate()
	}
	writeJSON(w, s.batchJSON(b))
}

// list serves GET /v1/batches?limit=&after=: batches newest first, limit
// 1–100 (default 20), after the batch id given, with first_id, last_id and
// has_more.
func (s *OpenAIBatchServer) list(w http.ResponseWriter, r *http.Request) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			batchError(w, 400, fmt.Sprintf("limit %q: want 1 to 100", v))
			return
		}
		limit = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	start := len(s.order) - 1
	if after := r.URL.Query().Get("after"); after != "" {
		start = -2
		for i, b := range s.order {
			if b.id == after {
				start = i - 1
			}
		}
		if start == -2 {
			batchError(w, 400, "after: no batch "+after)
			return
		}
	}
	data := []map[string]any{}
	for i := start; i >= 0 && len(data) < limit; i-- {
		data = append(data, s.batchJSON(s.order[i]))
	}
	out := map[string]any{"object": "list", "data": data, "has_more": start-len(data) >= 0, "first_id": nil, "last_id": nil}
	if len(data) > 0 {
		out["first_id"], out["last_id"] = data[0]["id"], data[len(data)-1]["id"]
	}
	writeJSON(w, out)
}

func (s *OpenAIBatchServer) batchJSON(b *fakeBatch) map[string]any {
	out := map[string]any{"id": b.id, "object": "batch", "endpoint": s.endpoint, "input_file_id": b.input,
		"completion_window": "24h", "status": b.status, "created_at": b.createdAt, "metadata": b.metadata,
		"request_counts": map[string]int{"total": b.total, "completed": b.completed, "failed": b.failed}}
	if b.output != "" {
		out["output_file_id"] = b.output
	}
	if b.errors != "" {
		out["error_file_id"] = b.errors
	}
	if b.invalid != nil && b.status == "failed" {
		out["errors"] = map[string]any{"object": "list", "data": []any{b.invalid}}
	}
	return out
}

func (s *OpenAIBatchServer) retrieve(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls++
	b, ok := s.batches[id]
	if !ok {
		writeOpenAIError(w, 404, "invalid_request_error", "", "No batch found with id '"+id+"'.")
		return
	}
	switch b.status {
	case "validating":
		b.status = "in_progress"
		if b.invalid != nil {
			b.status = "failed"
		}
	case "in_progress":
		if !s.mode.Hold {
			s.finish(b)
		}
	}
	writeJSON(w, s.batchJSON(b))
}

// finish answers the lines and writes the output and error files.
func (s *OpenAIBatchServer) finish(b *fakeBatch) {
	var out, errs []string
	n := len(b.lines)
	if s.mode.Expire {
		n = min(n, s.mode.ExpireDone)
	}
	for i, raw := range b.lines[:n] {
		var l struct {
			CustomID string          `json:"custom_id"`
			Body     json.RawMessage `json:"body"`
		}
		json.Unmarshal(raw, &l)
		if s.mode.FailEvery > 0 && (i+1)%s.mode.FailEvery == 0 {
			errs = append(errs, mustJSON(map[string]any{"id": fmt.Sprintf("batch_req_%d", i), "custom_id": l.CustomID,
				"response": map[string]any{"status_code": 500, "request_id": "req", "body": map[string]any{"error": map[string]any{"message": "The server had an error", "type": "server_error"}}}, "error": nil}))
			b.failed++
			continue
		}
		wr := WireRequest{Method: "POST", Path: s.endpoint, Body: l.Body}
		if err := decodeOpenAI(&wr); err != nil {
			errs = append(errs, mustJSON(map[string]any{"custom_id": l.CustomID, "response": nil, "error": map[string]any{"code": "invalid_request", "message": err.Error()}}))
			b.failed++
			continue
		}
		text, finish := s.OpenAIServer.answer(Behavior{}, wr)
		rp := reply{wr: wr, text: text, finish: finish, model: wr.Model, usage: usage(Behavior{}, wr, text), seq: int64(i + 1)}
		out = append(out, mustJSON(map[string]any{"id": fmt.Sprintf("batch_req_%d", i), "custom_id": l.CustomID,
			"response": map[string]any{"status_code": 200, "request_id": fmt.Sprintf("req_%d", i), "body": json.RawMessage(s.OpenAIServer.body(rp, false))}, "error": nil}))
		b.completed++
	}
	if s.mode.Shuffle {
		slices.Reverse(out)
	}
	s.seq++
	b.output = fmt.Sprintf("file-%d", s.seq)
	s.files[b.output] = []byte(strings.Join(out, "\n") + "\n")
	if len(errs) > 0 {
		s.seq++
		b.errors = fmt.Sprintf("file-%d", s.seq)
		s.files[b.errors] = []byte(strings.Join(errs, "\n") + "\n")
	}
	b.status = "completed"
	if s.mode.Expire && n < len(b.lines) {
		b.status = "expired"
	}
}

func (s *OpenAIBatchServer) content(w http.ResponseWriter, id string) {
	s.mu.Lock()
	data, ok := s.files[id]
	s.mu.Unlock()
	if !ok {
		writeOpenAIError(w, 404, "invalid_request_error", "", "No such File object: "+id)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(data)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(data)
}
