package openai

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/batch"
)

// Batches returns c's Batch API backend (Files + Batches, chat
// completions endpoint, 24h completion window) for the batch decorator. It
// is a batch.Finder: each batch carries its submission tag as metadata
// yardstick_tag, found again by listing the organization's batches.
//
// For Azure OpenAI (Config.Azure) go-openai puts the same calls under
// {endpoint}/openai/… with the api-version query and the api-key header;
// the backend writes Azure's endpoint and line url, "/chat/completions",
// and each line's body names the deployment (Config.BatchDeployment, else
// the real-time one), which must be a Global-Batch deployment. An api-version without the batch API
// (before 2024-10-21) is refused by Azure at the first call.
func (c *Client) Batches() batch.Backend { return batchBackend{c} }

type batchBackend struct{ c *Client }

var _ batch.Finder = batchBackend{}

// tagKey is the batch metadata key holding the submission tag.
const tagKey = "yardstick_tag"

// findSlack is how much older than its tag a batch may look (clocks
// differ) before Find stops paging.
const findSlack = time.Hour

// Find pages through the batches, newest first, for the one whose metadata
// carries tag, stopping at the end of the list or at batches created well
// before the tag was made.
func (b batchBackend) Find(ctx context.Context, tag string) (string, bool, error) {
	since, bounded := batch.TagTime(tag)
	limit := 100
	var after *string
	for {
		page, err := b.c.bulk.ListBatch(ctx, after, &limit)
		if err != nil {
			return "", false, b.c.classify(ctx, &callState{}, err)
		}
		for _, bt := range page.Data {
			if v, _ := bt.Metadata[tagKey].(string); v == tag {
				return bt.ID, true, nil
			}
		}
		if !page.HasMore || len(page.Data) == 0 {
			return "", false, nil
		}
		if last := page.Data[len(page.Data)-1]; bounded && time.Unix(int64(last.CreatedAt), 0).Before(since.Add(-findSlack)) {
			return "", false, nil
		}
		next := page.LastID
		if next == "" {
			next = page.Data[len(page.Data)-1].ID
		}
		if after != nil && next == *after {
			return "", false, fmt.Errorf("%s: listing batches: the page after %s is the same page again", b.c.name, next)
		}
		after = &next
	}
}

func (b batchBackend) Submit(ctx context.Context, tag string, lines []batch.Line) (string, error) {
	endpoint := goopenai.BatchEndpointChatCompletions
	if b.c.deployment != nil {
		endpoint = "/chat/completions" // Azure's batch endpoint and line url
	}
	up := goopenai.UploadBatchFileRequest{FileName: "yardstick-batch.jsonl"}
	for _, l := range lines {
		creq, patch, err := toChatRequest(l.Request, b.c.conv)
		var body []byte
		if err == nil {
			if b.c.deployment != nil {
				creq.Model = b.c.deployment(creq.Model)
			}
			body, err = chatBody(creq, patch)
		}
		if err != nil {
			err = fmt.Errorf("batch line %s: %w", l.CustomID, err)
			return "", &providers.Error{Kind: providers.KindInvalidRequest, Provider: b.c.name, Message: err.Error(), Err: err}
		}
		up.Lines = append(up.Lines, batchLine{CustomID: l.CustomID, Method: "POST", URL: endpoint, Body: body})
	}
	resp, err := b.c.bulk.CreateBatchWithUploadFile(ctx, goopenai.CreateBatchWithUploadFileRequest{
		Endpoint: endpoint, CompletionWindow: "24h",
		Metadata: map[string]any{"created_by": "yardstick", tagKey: tag}, UploadBatchFileRequest: up,
	})
	if err != nil {
		return "", b.c.classify(ctx, &callState{}, err)
	}
	return resp.ID, nil
}

// batchLine is one line of a batch input file. Its body is the one the
// real-time path sends (chatBody), patch included: go-openai's own line
// type holds a ChatCompletionRequest, which would drop an explicit
// temperature 0 and round 0.7 to float32.
type batchLine struct {
	CustomID string                 `json:"custom_id"`
	Method   string                 `json:"method"`
	URL      goopenai.BatchEndpoint `json:"url"`
	Body     json.RawMessage        `json:"body"`
}

func (l batchLine) MarshalBatchLineItem() []byte {
	data, _ := json.Marshal(l) // a RawMessage of valid JSON and strings: cannot fail
	return data
}

func (b batchBackend) Status(ctx context.Context, id string) (batch.Status, error) {
	r, err := b.c.bulk.RetrieveBatch(ctx, id)
	if err != nil {
		return batch.Status{}, b.c.classify(ctx, &callState{}, err)
	}
	st := batch.Status{ID: r.ID, State: r.Status, Total: r.RequestCounts.Total, Completed: r.RequestCounts.Completed, Failed: r.RequestCounts.Failed}
	if r.Errors != nil && len(r.Errors.Data) > 0 {
		// A batch that failed validation says why: name the first reason.
		e := r.Errors.Data[0]
		st.State += " (" + e.Code + ": " + shorten(e.Message)
		if e.Line != nil {
			st.State += fmt.Sprintf(", input line %d", *e.Line)
		}
		st.State += ")"
	}
	switch r.Status {
	case "completed", "failed", "expired", "cancelled":
		st.Done = true
	}
	st.Files = []string{deref(r.OutputFileID), deref(r.ErrorFileID)}
	return st, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// outputLine is one line of a batch output or error file.
type outputLine struct {
	CustomID string `json:"custom_id"`
	Response *struct {
		StatusCode int             `json:"status_code"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (b batchBackend) Results(ctx context.Context, st batch.Status, fn func(string, *providers.Response, error)) error {
	for _, fid := range st.Files {
		if fid == "" {
			continue
		}
		raw, err := b.c.bulk.GetFileContent(ctx, fid)
		if err != nil {
			return b.c.classify(ctx, &callState{}, err)
		}
		err = readOutput(raw, func(l outputLine) {
			switch {
			case l.Error != nil:
				fn(l.CustomID, nil, &providers.Error{Kind: providers.KindBadResponse, Provider: b.c.name, Message: l.Error.Code + ": " + l.Error.Message})
			case l.Response == nil:
				fn(l.CustomID, nil, &providers.Error{Kind: providers.KindBadResponse, Provider: b.c.name, Message: "batch line without response"})
			case l.Response.StatusCode != 200:
				fn(l.CustomID, nil, &providers.Error{Kind: providers.KindBadResponse, Provider: b.c.name, StatusCode: l.Response.StatusCode, Message: shorten(string(l.Response.Body))})
			default:
				var cr goopenai.ChatCompletionResponse
				if err := json.Unmarshal(l.Response.Body, &cr); err != nil {
					fn(l.CustomID, nil, &providers.Error{Kind: providers.KindBadResponse, Provider: b.c.name, Message: err.Error(), Err: err})
					return
				}
				resp, err := fromChatResponse(cr)
				if err != nil {
					fn(l.CustomID, nil, &providers.Error{Kind: providers.KindBadResponse, Provider: b.c.name, Message: err.Error(), Err: err})
					return
				}
				resp.Attempts = 1
				fn(l.CustomID, resp, nil)
			}
		})
		raw.Close()
		if err != nil {
			return fmt.Errorf("batch %s file %s: %w", st.ID, fid, err)
		}
	}
	return nil
}

func readOutput(r io.Reader, fn func(outputLine)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l outputLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("line %d: %v", n, err)
		}
		fn(l)
	}
	return sc.Err()
}
