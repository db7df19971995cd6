package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/providers/providertest"
	"github.com/yardstick-eval/yardstick/suites/builtin"
)

// chartAnswers maps the SHA-256 of each chart-reading image to its expected
// answer: a fake "reads" the chart by recognising the bytes it was sent, so a
// case passes only if its image reached the server intact.
func chartAnswers(t *testing.T) map[[32]byte]string {
	t.Helper()
	fsys := builtin.FS()
	data, err := fs.ReadFile(fsys, "chart-reading/cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	out := map[[32]byte]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var c struct{ Image, Expected string }
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		img, err := fs.ReadFile(fsys, "chart-reading/"+c.Image)
		if err != nil {
			t.Fatal(err)
		}
		out[sha256.Sum256(img)] = c.Expected
	}
	return out
}

// TestRunImageSuite runs the chart-reading built-in against the OpenAI,
// Gemini and Ollama fakes through their real SDKs: every case passes only if
// its chart arrived, and each fake's recorded bodies show the image in its
// API's documented format.
func TestRunImageSuite(t *testing.T) {
	answers := chartAnswers(t)
	responder := func(req providertest.WireRequest) string {
		for _, m := range req.Messages {
			for _, im := range m.Images {
				if a, ok := answers[sha256.Sum256(im.Data)]; ok && im.MIMEType == "image/png" {
					return a
				}
			}
		}
		return "I see no chart"
	}
	oa := providertest.NewOpenAIServer(t)
	gem := providertest.NewGeminiServer(t)
	oll := providertest.NewOllamaServer(t)
	for _, s := range []interface {
		SetResponder(providertest.Responder)
	}{oa, gem, oll} {
		s.SetResponder(responder)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "yardstick.yaml")
	writeFile(t, config, `
providers:
  - name: gemini
    type: gemini
    model: gemini-2.5-flash
    base_url: `+gem.URL()+`
`)
	c := newCLI(t, map[string]string{
		"OPENAI_API_KEY": "sk-openai", "OPENAI_BASE_URL": oa.URL(),
		"GEMINI_API_KEY": "gem-key",
		"OLLAMA_HOST":    oll.URL(),
	})
	out := filepath.Join(dir, "run")
	code := c.run(context.Background(), "--config", config, "run", "chart-reading", "-q", "--out", out, "--format", "json",
		"-m", "openai:gpt-4o", "-m", "gemini", "-m", "ollama:llama3.2-vision")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, c.stdout.String(), c.stderr.String())
	}
	var rep struct {
		Summaries []struct {
			Target string `json:"target"`
			N      int    `json:"n"`
			Passed int    `json:"passed"`
		} `json:"summaries"`
	}
	if err := json.Unmarshal(c.stdout.Bytes(), &rep); err != nil {
		t.Fatalf("summary JSON: %v\n%s", err, c.stdout.String())
	}
	if len(rep.Summaries) != 3 {
		t.Fatalf("%d summaries, want 3", len(rep.Summaries))
	}
	for _, s := range rep.Summaries {
		if s.N != 12 || s.Passed != 12 {
			t.Errorf("%s: passed %d of %d, want 12 of 12", s.Target, s.Passed, s.N)
		}
	}

	// The wire formats, read from the recorded bodies.
	for _, r := range oa.Requests() {
		var body struct {
			Messages []struct {
				Role    string          `json:"role"`
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		json.Unmarshal(r.Body, &body)
		last := body.Messages[len(body.Messages)-1]
		var parts []struct {
			Type     string `json:"type"`
			ImageURL struct {
				URL string `json:"url"`
			} `json:"image_url"`
		}
		if err := json.Unmarshal(last.Content, &parts); err != nil || len(parts) != 2 || parts[1].Type != "image_url" ||
			!strings.HasPrefix(parts[1].ImageURL.URL, "data:image/png;base64,iVBORw0KGgo") {
			t.Fatalf("openai user content is not [text, image_url data URL]: %s", last.Content)
		}
	}
	for _, r := range gem.Requests() {
		var body struct {
			Contents []struct {
				Parts []struct {
					Text       *string `json:"text"`
					InlineData *struct {
						MIMEType string `json:"mimeType"`
						Data     string `json:"data"`
					} `json:"inlineData"`
				} `json:"parts"`
			} `json:"contents"`
		}
		json.Unmarshal(r.Body, &body)
		ps := body.Contents[0].Parts
		if len(ps) != 2 || ps[0].Text == nil || ps[1].InlineData == nil || ps[1].InlineData.MIMEType != "image/png" ||
			!strings.HasPrefix(ps[1].InlineData.Data, "iVBORw0KGgo") {
			t.Fatalf("gemini parts are not [text, inlineData png]: %s", r.Body)
		}
	}
	for _, r := range oll.Requests() {
		var body struct {
			Messages []struct {
				Role   string   `json:"role"`
				Images []string `json:"images"`
			} `json:"messages"`
		}
		json.Unmarshal(r.Body, &body)
		last := body.Messages[len(body.Messages)-1]
		if last.Role != "user" || len(last.Images) != 1 {
			t.Fatalf("ollama user message has no images: %s", r.Body)
		}
		if b, err := base64.StdEncoding.DecodeString(last.Images[0]); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Fatalf("ollama image is not base64 PNG bytes: %v", err)
		}
	}

	// Streamed, the same images arrive (the stream paths share the conversion).
	n := oa.Count() + gem.Count() + oll.Count()
	code = c.run(context.Background(), "--config", config, "run", "chart-reading", "-q", "--stream", "--no-cache", "--out", filepath.Join(dir, "stream"), "--format", "json",
		"-m", "openai:gpt-4o", "-m", "gemini", "-m", "ollama:llama3.2-vision")
	if code != exitOK {
		t.Fatalf("streamed run: exit %d\n%s", code, c.stderr.String())
	}
	if got := oa.Count() + gem.Count() + oll.Count() - n; got != 36 {
		t.Errorf("streamed run made %d requests, want 36", got)
	}

	// Re-run from the cache: no request is made, and every case still gets
	// its own chart's answer although four charts share each question text
	// (the cache key holds the image hashes).
	n = oa.Count() + gem.Count() + oll.Count()
	c.stdout.Reset()
	code = c.run(context.Background(), "--config", config, "run", "chart-reading", "-q", "--out", filepath.Join(dir, "cached"), "--format", "json",
		"-m", "openai:gpt-4o", "-m", "gemini", "-m", "ollama:llama3.2-vision")
	if code != exitOK {
		t.Fatalf("cached run: exit %d\n%s", code, c.stderr.String())
	}
	if got := oa.Count() + gem.Count() + oll.Count() - n; got != 0 {
		t.Errorf("cached run made %d requests, want 0", got)
	}
	rep.Summaries = nil
	if err := json.Unmarshal(c.stdout.Bytes(), &rep); err != nil || len(rep.Summaries) != 3 {
		t.Fatalf("cached summary: %v\n%s", err, c.stdout.String())
	}
	for _, s := range rep.Summaries {
		if s.Passed != 12 {
			t.Errorf("cached %s: passed %d of 12", s.Target, s.Passed)
		}
	}
	c.stdout.Reset()

	// estimate counts the charts' image tokens by each provider's rule:
	// 320×200 is one 512px tile for OpenAI (85+170) and one small image for
	// Gemini (258).
	code = c.run(context.Background(), "--config", config, "estimate", "chart-reading", "-m", "openai:gpt-4o", "-m", "gemini")
	if code != exitOK {
		t.Fatalf("estimate exit %d\n%s\n%s", code, c.stdout.String(), c.stderr.String())
	}
	est := c.stdout.String()
	for _, want := range []string{"openai:gpt-4o: input tokens include 3060 for case images", "gemini: input tokens include 3096 for case images"} {
		if !strings.Contains(est, want) {
			t.Errorf("estimate output lacks %q:\n%s", want, est)
		}
	}
}
