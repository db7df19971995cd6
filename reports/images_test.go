package reports

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
)

// TestHTMLThumbnails: a case image recorded with its bytes is embedded as a
// data URL for its thumbnail; one recorded without them (too large) leaves
// an empty entry the page shows as a note.
func TestHTMLThumbnails(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nfake")
	rs := sampleResults()
	for _, r := range rs {
		if r.CaseID == rs[0].CaseID && r.Suite == rs[0].Suite {
			r.Prompt = []providers.Message{{Role: "user", Content: "read this", Images: []providers.Image{
				{MIMEType: "image/png", Data: png},
				{MIMEType: "image/jpeg"},
			}}}
		}
	}
	var b bytes.Buffer
	if err := HTML(&b, sampleInput(), seqOf(rs), HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `["user","read this",["data:image/png;base64,` + base64.StdEncoding.EncodeToString(png) + `",""]]`
	if !strings.Contains(b.String(), want) {
		t.Errorf("page lacks the image record %s", want)
	}
}

// TestHTMLThumbnailBudget: past maxThumbBytes, images are no longer embedded.
func TestHTMLThumbnailBudget(t *testing.T) {
	img := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 200<<10)...)
	rs := sampleResults()
	for i, r := range rs {
		r.CaseID = "c" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		r.Prompt = []providers.Message{{Role: "user", Content: "q", Images: []providers.Image{{MIMEType: "image/png", Data: img}}}}
	}
	for len(rs) < 100 {
		r := *rs[0]
		r.CaseID = "x" + string(rune('a'+len(rs)%26)) + string(rune('a'+len(rs)/26))
		rs = append(rs, &r)
	}
	var b bytes.Buffer
	if err := HTML(&b, sampleInput(), seqOf(rs), HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "data:image/png;base64,"); n != maxThumbBytes/len(img) {
		t.Errorf("%d thumbnails embedded, want %d", n, maxThumbBytes/len(img))
	}
	if b.Len() > maxThumbBytes*4/3+1<<20 {
		t.Errorf("page is %d bytes", b.Len())
	}
}
