package suites

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yardstick-eval/yardstick/providers/providertest"
)

func TestCaseImages(t *testing.T) {
	png := providertest.PNG(3, 3)
	other := providertest.PNG(2, 7)
	dataURL := "data:image/png;base64," + base64.StdEncoding.EncodeToString(other)
	fsys := fstest.MapFS{
		"s.yaml": {Data: []byte(`name: vision
prompt:
  system: read the image
  user: "What is on the {{.kind}}?"
  images: ["{{.image}}"]
cases:
  - id: file
    vars: {kind: receipt, image: img/a.png}
  - id: both
    vars: {kind: chart, image: ""}
    images: [img/a.png, "` + dataURL + `"]
  - id: none
    vars: {kind: text, image: ""}
`)},
		"img/a.png": {Data: png},
	}
	s, err := LoadFS(fsys, "s.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs, errs := collect(s, CasesOptions{})
	if len(errs) > 0 || len(cs) != 3 {
		t.Fatalf("cases %d errors %v", len(cs), errs)
	}
	want := map[string][][]byte{"file": {png}, "both": {png, other}, "none": nil}
	hashes := map[string]bool{}
	for _, c := range cs {
		m := c.Request.Messages[len(c.Request.Messages)-1]
		if len(m.Images) != len(want[c.ID]) {
			t.Fatalf("%s: %d images, want %d", c.ID, len(m.Images), len(want[c.ID]))
		}
		for i, im := range m.Images {
			if im.MIMEType != "image/png" || !bytes.Equal(im.Data, want[c.ID][i]) {
				t.Errorf("%s image %d: %s %d bytes", c.ID, i, im.MIMEType, len(im.Data))
			}
		}
		hashes[c.PromptHash] = true
	}
	if len(hashes) != 3 {
		t.Errorf("prompt hashes collide: %v", hashes)
	}
	// The suite hash covers an inline case's image file.
	h1, _ := s.Hash()
	fsys["img/a.png"] = &fstest.MapFile{Data: other}
	s2, err := LoadFS(fsys, "s.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h2, _ := s2.Hash(); h1 == h2 {
		t.Error("suite hash ignores the image file")
	}
}

func TestCaseImageErrors(t *testing.T) {
	png := providertest.PNG(2, 2)
	for _, c := range []struct {
		name, images, want string
	}{
		{"missing", `[nope.png]`, `s.yaml:5: cases[0].images[0]: open nope.png: file does not exist`},
		{"not an image", `[notes.txt]`, `s.yaml:5: cases[0].images[0]: notes.txt is not a PNG, JPEG, GIF or WebP image (content looks like text/plain; charset=utf-8)`},
		{"escapes", `[../x.png]`, `s.yaml:5: cases[0].images[0]: path "../x.png" leaves the suite's file system`},
		{"bad data URL", `["data:image/png,abc"]`, `s.yaml:5: cases[0].images[0]: data URL must be data:<type>;base64,<data>`},
		{"mislabelled", `["data:image/jpeg;base64,` + base64.StdEncoding.EncodeToString(png) + `"]`, `s.yaml:5: cases[0].images[0]: data URL declares image/jpeg but holds image/png`},
		{"not a list", `a.png`, `s.yaml:5: cases[0].images: expected a non-empty list of image files or data URLs, got "a.png"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"s.yaml":    {Data: []byte("name: x\nprompt: {user: hi}\ncases:\n  - id: a\n    images: " + c.images + "\n")},
				"notes.txt": {Data: []byte("hello")},
			}
			_, err := LoadFS(fsys, "s.yaml", LoadOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v\nwant %s", err, c.want)
			}
		})
	}
	// A templated reference fails when the case renders, naming the case.
	fsys := fstest.MapFS{"s.yaml": {Data: []byte("name: x\nprompt: {user: hi, images: [\"{{.img}}\"]}\ncases:\n  - id: a\n    vars: {img: gone.png}\n")}}
	s, err := LoadFS(fsys, "s.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, errs := collect(s, CasesOptions{})
	if len(errs) != 1 || errs[0] != `s.yaml:4: case "a": images: open gone.png: file does not exist` {
		t.Errorf("errors %q", errs)
	}
}

func TestExportChatRefusesImages(t *testing.T) {
	fsys := fstest.MapFS{
		"s.yaml": {Data: []byte("name: x\nprompt: {user: hi}\ncases:\n  - id: a\n    expected: ok\n    images: [a.png]\n")},
		"a.png":  {Data: providertest.PNG(2, 2)},
	}
	s, err := LoadFS(fsys, "s.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	err = ExportChat(t.Context(), s, "", &b)
	if err == nil || err.Error() != `case "a" carries images; the chat export is text only` || b.Len() != 0 {
		t.Errorf("err = %v, wrote %q", err, b.String())
	}
}

// TestHashCoversTemplatedImages: an image named through prompt.images is
// part of the suite hash although only a rendered case names it.
func TestHashCoversTemplatedImages(t *testing.T) {
	fsys := fstest.MapFS{
		"s.yaml": {Data: []byte("name: x\nprompt: {user: hi, images: [\"{{.img}}\"]}\ncases:\n  - id: a\n    vars: {img: a.png}\n")},
		"a.png":  {Data: providertest.PNG(2, 2)},
	}
	hash := func() string {
		s, err := LoadFS(fsys, "s.yaml", LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h, err := s.Hash()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	h1 := hash()
	fsys["a.png"] = &fstest.MapFile{Data: providertest.PNG(3, 2)}
	if hash() == h1 {
		t.Error("suite hash ignores a templated image")
	}
}
