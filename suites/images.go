package suites

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/yardstick-eval/yardstick/providers"
)

// MaxImageBytes bounds one case image: the inline limit of the hosted APIs
// (OpenAI and Gemini take at most 20 MB per request).
const MaxImageBytes = 20 << 20

// imageTypes are the MIME types the hosted vision APIs accept.
var imageTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// imageRefs decodes a list of image references (file names relative to
// the suite, or data: URLs) at path, returning each entry and its node.
func (d *decoder) imageRefs(n *yaml.Node, path string) ([]string, []*yaml.Node, bool) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.atf(n, path, "expected a non-empty list of image files or data URLs, got %s", describe(n))
		return nil, nil, false
	}
	refs := make([]string, 0, len(n.Content))
	nodes := make([]*yaml.Node, 0, len(n.Content))
	ok := true
	for i, item := range n.Content {
		item = resolve(item)
		s, good := d.str(item, index(path, i))
		if good && strings.TrimSpace(s) == "" {
			d.atf(item, index(path, i), "empty image reference")
			good = false
		}
		ok = ok && good
		refs, nodes = append(refs, s), append(nodes, item)
	}
	return refs, nodes, ok
}

// loadImage reads one image reference: a data:<type>;base64, URL or a
// file relative to the suite file. The MIME type is sniffed from the bytes
// (a data URL's declared type must agree) and must be one the APIs accept.
func (s *Suite) loadImage(ref string) (providers.Image, error) {
	var data []byte
	declared := ""
	if rest, ok := strings.CutPrefix(ref, "data:"); ok {
		meta, b64, ok := strings.Cut(rest, ",")
		mime, isB64 := strings.CutSuffix(meta, ";base64")
		if !ok || !isB64 {
			return providers.Image{}, errors.New("data URL must be data:<type>;base64,<data>")
		}
		if base64.StdEncoding.DecodedLen(len(b64)) > MaxImageBytes {
			return providers.Image{}, fmt.Errorf("image is over %d MiB", MaxImageBytes>>20)
		}
		var err error
		if data, err = base64.StdEncoding.DecodeString(b64); err != nil {
			return providers.Image{}, fmt.Errorf("data URL: %w", err)
		}
		declared = mime
	} else {
		p, err := s.src.rel(s.Path, ref)
		if err != nil {
			return providers.Image{}, err
		}
		fi, err := s.src.stat(p)
		if err != nil {
			return providers.Image{}, err
		}
		if !fi.Mode().IsRegular() {
			return providers.Image{}, fmt.Errorf("%s is not a regular file", ref)
		}
		if fi.Size() > MaxImageBytes {
			return providers.Image{}, fmt.Errorf("%s is %d bytes, over the %d MiB limit", ref, fi.Size(), MaxImageBytes>>20)
		}
		if data, err = s.src.readFile(p); err != nil {
			return providers.Image{}, err
		}
	}
	mime := http.DetectContentType(data)
	known := false
	for _, t := range imageTypes {
		known = known || mime == t
	}
	if !known {
		return providers.Image{}, fmt.Errorf("%s is not a PNG, JPEG, GIF or WebP image (content looks like %s)", shortRef(ref), mime)
	}
	if declared != "" && declared != mime {
		return providers.Image{}, fmt.Errorf("data URL declares %s but holds %s", declared, mime)
	}
	return providers.Image{MIMEType: mime, Data: data}, nil
}

// shortRef keeps a data URL out of an error message.
func shortRef(ref string) string {
	if strings.HasPrefix(ref, "data:") {
		return "data URL"
	}
	return ref
}

// attachImages appends images to the last user message of msgs.
func attachImages(msgs []providers.Message, images []providers.Image) {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == providers.RoleUser {
			msgs[i].Images = append(msgs[i].Images, images...)
			return
		}
	}
}
