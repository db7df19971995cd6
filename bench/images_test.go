package bench

import (
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
)

func TestPromptOfBoundsImages(t *testing.T) {
	small := make([]byte, 10)
	big := make([]byte, MaxRecordedImage+1)
	req := &providers.Request{System: "s", Messages: []providers.Message{{Role: "user", Content: "q", Images: []providers.Image{
		{MIMEType: "image/png", Data: small}, {MIMEType: "image/jpeg", Data: big},
	}}}}
	p := promptOf(req)
	ims := p[1].Images
	if len(p) != 2 || len(ims) != 2 || len(ims[0].Data) != 10 || ims[1].Data != nil || ims[1].MIMEType != "image/jpeg" {
		t.Fatalf("prompt = %+v", p)
	}
	if len(req.Messages[0].Images[1].Data) != len(big) {
		t.Error("promptOf changed the request")
	}
}
