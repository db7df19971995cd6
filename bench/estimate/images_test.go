package estimate

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

func TestOpenAIImageTokens(t *testing.T) {
	for _, c := range []struct{ w, h, want int }{
		{1024, 1024, 765},  // OpenAI's example: scaled to 768², 4 tiles
		{2048, 4096, 1105}, // OpenAI's example: 1024×2048 → 768×1536, 6 tiles
		{512, 512, 255},    // one tile
		{100, 50, 255},     // small images are not scaled up: one tile
		{513, 200, 425},    // two tiles
	} {
		if got := OpenAIImageTokens(c.w, c.h); got != c.want {
			t.Errorf("OpenAIImageTokens(%d, %d) = %d, want %d", c.w, c.h, got, c.want)
		}
	}
}

func TestGeminiImageTokens(t *testing.T) {
	for _, c := range []struct{ w, h, want int }{
		{384, 384, 258},
		{300, 100, 258},
		{385, 100, 258},       // one 768 tile
		{1000, 1000, 4 * 258}, // 2×2 tiles
		{1536, 769, 4 * 258},
	} {
		if got := GeminiImageTokens(c.w, c.h); got != c.want {
			t.Errorf("GeminiImageTokens(%d, %d) = %d, want %d", c.w, c.h, got, c.want)
		}
	}
}

func encode(t *testing.T, w, h int, jpg bool) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	var b bytes.Buffer
	var err error
	if jpg {
		err = jpeg.Encode(&b, img, nil)
	} else {
		err = png.Encode(&b, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestEstimateImages(t *testing.T) {
	e, err := New([]Target{
		{Name: "gpt", Model: "gpt-4o", Provider: "openai"},
		{Name: "flash", Model: "gemini-2.5-flash", Provider: "gemini"},
		{Name: "vision", Model: "llama3.2-vision", Provider: "ollama"},
	}, Config{Repeats: 2, DefaultMaxTokens: 10})
	if err != nil {
		t.Fatal(err)
	}
	text := &bench.Case{ID: "t", Request: providers.Request{Messages: user("hello world")}}
	img := &bench.Case{ID: "i", Request: providers.Request{Messages: []providers.Message{{
		Role: providers.RoleUser, Content: "hello world",
		Images: []providers.Image{
			{MIMEType: "image/png", Data: encode(t, 1024, 1024, false)},
			{MIMEType: "image/jpeg", Data: encode(t, 200, 100, true)},
		},
	}}}}
	e.Add(text)
	e.Add(img)
	rows := e.Close()
	want := []int{2 * (765 + 255), 2 * (4*258 + 258), 2 * (765 + 255)}
	for i, r := range rows {
		if r.ImageTokens != want[i] {
			t.Errorf("%s: image tokens %d, want %d", r.Target, r.ImageTokens, want[i])
		}
	}
	// The text part is counted as for a text-only case: input = 2 × (text + text) + images.
	t2, _ := New([]Target{{Name: "gpt", Model: "gpt-4o", Provider: "openai"}}, Config{Repeats: 2, DefaultMaxTokens: 10})
	t2.Add(text)
	t2.Add(text)
	if got, base := rows[0].InputTokens, t2.Close()[0].InputTokens; got != base+want[0] {
		t.Errorf("input tokens %d, want %d + %d", got, base, want[0])
	}
	if !rows[2].Approximate {
		t.Error("ollama image tokens (no documented rule) are not marked approximate")
	}
	if rows[0].Approximate {
		t.Error("openai image tokens marked approximate")
	}
	// An image whose size cannot be read counts as one 512px tile, approximately.
	e3, _ := New([]Target{{Name: "gpt", Model: "gpt-4o", Provider: "openai"}}, Config{Repeats: 1})
	e3.Add(&bench.Case{Request: providers.Request{Messages: []providers.Message{{Role: "user", Images: []providers.Image{{MIMEType: "image/webp", Data: []byte("RIFF....WEBP")}}}}}})
	if r := e3.Close()[0]; r.ImageTokens != 255 || !r.Approximate {
		t.Errorf("unreadable image: %d tokens, approximate %v", r.ImageTokens, r.Approximate)
	}
}
