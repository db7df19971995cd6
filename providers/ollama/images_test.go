package ollama_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/ollama"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

func TestImagesOnTheWire(t *testing.T) {
	c, srv := newClient(t, ollama.Config{})
	img := providertest.PNG(6, 2)
	req := &providers.Request{Model: "llama3.2-vision", Messages: []providers.Message{
		{Role: "user", Content: "What is drawn?", Images: []providers.Image{{MIMEType: "image/png", Data: img}}},
	}}
	if _, err := c.Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Messages []struct {
			Content string   `json:"content"`
			Images  []string `json:"images"`
		} `json:"messages"`
	}
	w := srv.Requests()[0]
	json.Unmarshal(w.Body, &body)
	if len(body.Messages) != 1 || body.Messages[0].Content != "What is drawn?" ||
		len(body.Messages[0].Images) != 1 || body.Messages[0].Images[0] != base64.StdEncoding.EncodeToString(img) {
		t.Errorf("body = %s", w.Body)
	}
	if got := w.Messages[0].Images; len(got) != 1 || !bytes.Equal(got[0].Data, img) || got[0].MIMEType != "image/png" {
		t.Errorf("fake decoded images %+v", got)
	}
	if _, err := c.Generate(context.Background(), &providers.Request{Model: model, Messages: []providers.Message{{Role: "user", Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	if b := srv.Requests()[1].Body; bytes.Contains(b, []byte(`"images"`)) {
		t.Errorf("text-only message carries images: %s", b)
	}
}
