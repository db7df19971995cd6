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
