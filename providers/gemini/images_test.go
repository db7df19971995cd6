package gemini_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/providertest"
)

func TestImagesOnTheWire(t *testing.T) {
	c, srv := newAPI(t)
	img := providertest.PNG(5, 5)
	req := &providers.Request{Model: "gemini-2.5-flash", Messages: []providers.Message{
		{Role: "user", Content: "What is drawn?", Images: []providers.Image{{MIMEType: "image/png", Data: img}}},
	}}
	if _, err := c.Generate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Contents []struct {
			Parts []map[string]json.RawMessage `json:"parts"`
		} `json:"contents"`
	}
	w := srv.Requests()[0]
	json.Unmarshal(w.Body, &body)
	if len(body.Contents) != 1 || len(body.Contents[0].Parts) != 2 {
		t.Fatalf("body = %s", w.Body)
	}
	var inline struct {
		MIMEType string `json:"mimeType"`
		Data     string `json:"data"`
	}
	if err := json.Unmarshal(body.Contents[0].Parts[1]["inlineData"], &inline); err != nil {
		t.Fatalf("second part has no inlineData: %s", w.Body)
	}
	if inline.MIMEType != "image/png" || inline.Data != base64.StdEncoding.EncodeToString(img) {
		t.Errorf("inlineData = %+v", inline)
	}
	if got := w.Messages[0].Images; len(got) != 1 || !bytes.Equal(got[0].Data, img) {
		t.Errorf("fake decoded images %+v", got)
	}
	bad := &providers.Request{Model: "gemini-2.5-flash", Messages: []providers.Message{
		{Role: "system", Content: "x", Images: []providers.Image{{MIMEType: "image/png", Data: img}}},
		{Role: "user", Content: "y"},
	}}
	if _, err := c.Generate(context.Background(), bad); providers.KindOf(err) != providers.KindInvalidRequest {
		t.Errorf("system image: err = %v", err)
	}
	if srv.Count() != 1 {
		t.Errorf("server saw %d requests, want 1", srv.Count())
	}
}
