package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yardstick-eval/yardstick/finetune/hosted"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

// fineTuneFake implements OpenAI's files and fine-tuning jobs endpoints; a
// job moves validating_files → queued → running → succeeded (or failed) one
// step per retrieval, with an event per step. Other paths (chat
// completions, for the tuned target) go to an OpenAIServer.
type fineTuneFake struct {
	*providertest.OpenAIServer
	srv *httptest.Server

	mu      sync.Mutex
	fail    string // set: jobs fail with this message
	hold    bool   // jobs stay running
	files   map[string]string
	jobs    map[string]*ftJob
	created int
	uploads int
}

type ftJob struct {
	id, model, file, status, tuned string
	events                         []map[string]any
}

func newFineTuneFake(t *testing.T) *fineTuneFake {
	chat := providertest.NewOpenAIServer(t, providertest.WithoutRecording())
	chat.SetResponder(capitalResponder)
	f := &fineTuneFake{OpenAIServer: chat, files: map[string]string{}, jobs: map[string]*ftJob{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func ftJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fineTuneFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := r.URL.Path
	switch {
	case r.Method == "POST" && p == "/v1/files":
		if err := r.ParseMultipartForm(32 << 20); err != nil || r.FormValue("purpose") != "fine-tune" {
			ftJSON(w, 400, map[string]any{"error": map[string]any{"message": "purpose must be fine-tune", "type": "invalid_request_error"}})
			return
		}
		file, _, _ := r.FormFile("file")
		data, _ := io.ReadAll(file)
		f.uploads++
		id := fmt.Sprintf("file-ft%d", f.uploads)
		f.files[id] = string(data)
		ftJSON(w, 200, map[string]any{"id": id, "object": "file", "bytes": len(data), "purpose": "fine-tune", "filename": "train.jsonl"})
	case r.Method == "POST" && p == "/v1/fine_tuning/jobs":
		var req struct {
			TrainingFile string `json:"training_file"`
			Model        string `json:"model"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		if _, ok := f.files[req.TrainingFile]; !ok {
			ftJSON(w, 400, map[string]any{"error": map[string]any{"message": "invalid training_file: " + req.TrainingFile, "type": "invalid_request_error", "param": "training_file"}})
			return
		}
		f.created++
		j := &ftJob{id: fmt.Sprintf("ftjob-%d", f.created), model: req.Model, file: req.TrainingFile, status: "validating_files"}
		j.event("info", "Validating training file: "+req.TrainingFile)
		f.jobs[j.id] = j
		ftJSON(w, 200, f.jobJSON(j))
	case r.Method == "GET" && strings.HasPrefix(p, "/v1/fine_tuning/jobs/"):
		rest := strings.TrimPrefix(p, "/v1/fine_tuning/jobs/")
		id, sub, _ := strings.Cut(rest, "/")
		j, ok := f.jobs[id]
		if !ok {
			ftJSON(w, 404, map[string]any{"error": map[string]any{"message": "No such fine-tuning job: " + id, "type": "invalid_request_error"}})
			return
		}
		if sub == "events" {
			data := make([]map[string]any, 0, len(j.events))
			for i := len(j.events) - 1; i >= 0; i-- { // newest first
				data = append(data, j.events[i])
			}
			ftJSON(w, 200, map[string]any{"object": "list", "data": data, "has_more": false})
			return
		}
		switch j.status {
		case "validating_files":
			j.status = "queued"
			j.event("info", "Files validated, moving job to queued state")
		case "queued":
			j.status = "running"
			j.event("info", "Fine-tuning job started")
		case "running":
			if f.hold {
				j.event("info", "Step 10/30: training loss=0.84")
				break
			}
			if f.fail != "" {
				j.status = "failed"
				j.event("error", f.fail)
				break
			}
			j.status = "succeeded"
			j.tuned = "ft:" + j.model + ":acme::" + j.id
			j.event("info", "New fine-tuned model created")
			j.event("info", "The job has successfully completed")
		}
		ftJSON(w, 200, f.jobJSON(j))
	default:
		f.OpenAIServer.ServeHTTP(w, r)
	}
}

func (j *ftJob) event(level, msg string) {
	j.events = append(j.events, map[string]any{"object": "fine_tuning.job.event", "id": fmt.Sprintf("ftevent-%d", len(j.events)),
		"created_at": time.Now().Unix() + int64(len(j.events)), "level": level, "message": msg, "type": "message"})
}

func (f *fineTuneFake) jobJSON(j *ftJob) map[string]any {
	out := map[string]any{"id": j.id, "object": "fine_tuning.job", "model": j.model, "status": j.status, "training_file": j.file,
		"created_at": time.Now().Unix(), "hyperparameters": map[string]any{"n_epochs": 3}, "result_files": []string{}}
	if j.tuned != "" {
		out["fine_tuned_model"] = j.tuned
	}
	if j.status == "failed" {
		out["error"] = map[string]any{"code": "invalid_training_file", "message": f.fail, "param": "training_file"}
	}
	return out
}

func trainingFile(t *testing.T, dir string, n int, bad string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"messages":[{"role":"system","content":"Answer with the city."},{"role":"user","content":"Capital of country %d?"},{"role":"assistant","content":"City %d"}]}`+"\n", i, i)
	}
	b.WriteString(bad)
	p := filepath.Join(dir, "train.jsonl")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHostedFineTuneInterruptedResumedOneJob(t *testing.T) {
	fake := newFineTuneFake(t)
	fake.hold = true
	c := newCLI(t, map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.srv.URL + "/v1"})
	data := trainingFile(t, c.dir, 12, "")
	out := filepath.Join(c.dir, "ft")
	args := []string{"finetune", "--provider", "openai", "--base", "gpt-4o-mini-2024-07-18", "--data", data, "--out", out, "--poll", "2ms"}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			fake.mu.Lock()
			running := fake.created == 1 && fake.jobs["ftjob-1"].status == "running"
			fake.mu.Unlock()
			if running {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	if code := c.run(ctx, args...); code != exitInterrupted {
		t.Fatalf("interrupted: exit %d, want %d\n%s", code, exitInterrupted, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "12 examples") || !strings.Contains(c.stderr.String(), "≈ $0.00") {
		t.Errorf("no validation summary with the estimated cost:\n%s", c.stderr.String())
	}
	fake.mu.Lock()
	fake.hold = false
	fake.mu.Unlock()
	if code := c.run(context.Background(), args...); code != exitOK {
		t.Fatalf("resumed: exit %d\n%s", code, c.stderr.String())
	}
	if fake.created != 1 || fake.uploads != 1 {
		t.Errorf("%d jobs created and %d files uploaded, want 1 and 1", fake.created, fake.uploads)
	}
	target := strings.TrimSpace(c.stdout.String())
	if target != "openai:ft:gpt-4o-mini-2024-07-18:acme::ftjob-1" {
		t.Fatalf("target %q", target)
	}
	if !strings.Contains(c.stderr.String(), "The job has successfully completed") {
		t.Errorf("events not followed:\n%s", c.stderr.String())
	}
	data2, _ := os.ReadFile(filepath.Join(out, hosted.StateName))
	if !strings.Contains(string(data2), target) {
		t.Errorf("job.json does not record the target:\n%s", data2)
	}
	// The tuned model is a ready target, compared with its base in one run.
	run := filepath.Join(c.dir, "run")
	if code := c.run(context.Background(), "run", "testdata/tiny.yaml", "-m", target, "-m", "openai:gpt-4o-mini-2024-07-18", "--no-cache", "-q", "--format", "none", "--out", run); code != exitOK {
		t.Fatalf("run with the tuned target: exit %d\n%s", code, c.stderr.String())
	}
}

func TestHostedFineTuneFailedAndInvalid(t *testing.T) {
	fake := newFineTuneFake(t)
	fake.fail = "The job failed due to an invalid training file. Expected file to have JSONL format."
	c := newCLI(t, map[string]string{"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.srv.URL + "/v1"})
	data := trainingFile(t, c.dir, 12, "")
	args := []string{"finetune", "--provider", "openai", "--base", "gpt-4o-mini-2024-07-18", "--data", data, "--out", filepath.Join(c.dir, "ft"), "--poll", "1ms"}
	if code := c.run(context.Background(), args...); code != exitFailure {
		t.Fatalf("failed job: exit %d, want %d\n%s", code, exitFailure, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "ftjob-1 failed: "+fake.fail) {
		t.Errorf("the provider's error is not shown:\n%s", c.stderr.String())
	}

	// Invalid data is refused before anything is uploaded, naming file:line and field.
	bad := trainingFile(t, t.TempDir(), 12, `{"messages":[{"role":"user","content":"hi"},{"role":"bot","content":"hello"}]}`+"\n")
	before := fake.uploads
	args = []string{"finetune", "--provider", "openai", "--base", "gpt-4o-mini-2024-07-18", "--data", bad, "--out", filepath.Join(c.dir, "ft2")}
	if code := c.run(context.Background(), args...); code != exitUsage {
		t.Fatalf("invalid data: exit %d, want %d\n%s", code, exitUsage, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "train.jsonl:13: messages[1].role: \"bot\"") || fake.uploads != before {
		t.Errorf("invalid data: uploads %d→%d\n%s", before, fake.uploads, c.stderr.String())
	}
	// Too few examples, and an example over the token limit.
	few := trainingFile(t, t.TempDir(), 3, "")
	args[6] = few
	if code := c.run(context.Background(), args...); code != exitUsage || !strings.Contains(c.stderr.String(), "needs at least 10") {
		t.Errorf("3 examples: exit %d\n%s", code, c.stderr.String())
	}
	long := trainingFile(t, t.TempDir(), 12, `{"messages":[{"role":"user","content":"`+strings.Repeat("word ", 17000)+`"},{"role":"assistant","content":"ok"}]}`+"\n")
	args[6] = long
	args[4] = "gpt-3.5-turbo-0125"
	if code := c.run(context.Background(), args...); code != exitUsage || !strings.Contains(c.stderr.String(), "limit of 16385") {
		t.Errorf("long example: exit %d\n%s", code, c.stderr.String())
	}
}
