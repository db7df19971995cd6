package openai_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/openai"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

func TestImagesOnTheWire(t *testing.T) {
	srv := providertest.NewOpenAIServer(t)
	c := newClient(t, openai.Config{BaseURL: srv.URL()})
	img := providertest.PNG(4, 3)
	req := &providers.Request{Model: "gpt-4o", Messages: []providers.Message{
		{Role: "user", Content: "What is drawn?", Images: []providers.Image{{MIMEType: "image/png", Data: img}}},
	}}
	if _, err := c.Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Messages []struct {
			Content []struct {
				Type     string `json:"type"`
				Text     string `json:"text"`
				ImageURL struct {
					URL string `json:"url"`
				} `json:"image_url"`
			} `json:"content"`
		} `json:"messages"`
	}
	w := srv.Requests()[0]
	if err := json.Unmarshal(w.Body, &body); err != nil {
		t.Fatalf("content is not an array of parts: %v\n%s", err, w.Body)
	}
	parts := body.Messages[0].Content
	want := "data:image/png;base64," + base64.StdEncoding.EncodeToString(img)
	if len(parts) != 2 || parts[0].Type != "text" || parts[0].Text != "What is drawn?" || parts[1].Type != "image_url" || parts[1].ImageURL.URL != want {
		t.Errorf("content parts = %+v", parts)
	}
	if got := w.Messages[0].Images; len(got) != 1 || !bytes.Equal(got[0].Data, img) || got[0].MIMEType != "image/png" {
		t.Errorf("fake decoded images %+v", got)
	}

	// A text-only message keeps its plain string content.
	if _, err := c.Generate(context.Background(), userRequest("gpt-4o")); err != nil {
		t.Fatal(err)
	}
	if b := srv.Requests()[1].Body; !bytes.Contains(b, []byte(`"content":"`)) {
		t.Errorf("text-only content is not a string: %s", b)
	}

	// Images on an assistant turn are refused before any call.
	bad := &providers.Request{Model: "gpt-4o", Messages: []providers.Message{
		{Role: "assistant", Content: "x", Images: []providers.Image{{MIMEType: "image/png", Data: img}}},
		{Role: "user", Content: "y"},
	}}
	if _, err := c.Generate(context.Background(), bad); providers.KindOf(err) != providers.KindInvalidRequest {
		t.Errorf("assistant image: err = %v", err)
	}
	if srv.Count() != 2 {
		t.Errorf("server saw %d requests, want 2", srv.Count())
	}
}
