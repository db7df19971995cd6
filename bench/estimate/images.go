package estimate

import (
	"bytes"
	"image"
	_ "image/gif" // DecodeConfig for GIF case images
	_ "image/jpeg"
	_ "image/png"
	"strings"

	"github.com/yardstick-eval/yardstick/providers"
)

// Image token rules, as the providers document them.
const (
	// OpenAI, high detail (what "auto" resolves to for images over 512px, and
	// the upper bound otherwise): the image is scaled to fit 2048×2048, then
	// its shortest side to 768px; each 512px tile costs 170 tokens, plus 85.
	openAIImageBase = 85
	openAIImageTile = 170
	// Gemini: an image with both sides at most 384px costs 258 tokens;
	// a larger one is cut into 768×768 tiles of 258 tokens each.
	geminiImageTokens = 258
	geminiSmallSide   = 384
	geminiTile        = 768
)

// imageRule is how one target's provider counts image tokens.
type imageRule int

const (
	imageRuleOpenAI imageRule = iota
	imageRuleGemini
	imageRuleUndocumented // counted with the OpenAI rule, marked approximate
)

// imageRuleFor picks the rule from the target's provider and model.
func imageRuleFor(provider, model string) imageRule {
	p, m := strings.ToLower(provider), normalizeModel(model)
	switch {
	case p == "gemini" || p == "vertex" || strings.HasPrefix(m, "gemini"):
		return imageRuleGemini
	case p == "openai" || p == "azure":
		return imageRuleOpenAI
	}
	return imageRuleUndocumented
}

// imageSize returns an image's pixel size; ok is false when its format has
// no decoder here (WebP) or its header is unreadable.
func imageSize(im providers.Image) (w, h int, ok bool) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(im.Data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, false
	}
	return cfg.Width, cfg.Height, true
}

// OpenAIImageTokens is the input tokens OpenAI documents for a w×h image at
// high detail.
func OpenAIImageTokens(w, h int) int {
	fw, fh := float64(w), float64(h)
	if s := 2048 / max(fw, fh); s < 1 {
		fw, fh = fw*s, fh*s
	}
	if s := 768 / min(fw, fh); s < 1 {
		fw, fh = fw*s, fh*s
	}
	tiles := ceilDiv(fw, 512) * ceilDiv(fh, 512)
	return openAIImageBase + openAIImageTile*tiles
}

// GeminiImageTokens is the input tokens Gemini documents for a w×h image.
func GeminiImageTokens(w, h int) int {
	if w <= geminiSmallSide && h <= geminiSmallSide {
		return geminiImageTokens
	}
	return geminiImageTokens * ceilDiv(float64(w), geminiTile) * ceilDiv(float64(h), geminiTile)
}

func ceilDiv(v, d float64) int {
	n := int(v / d)
	if float64(n)*d < v {
		n++
	}
	return n
}

// imageTokens counts the image tokens of msgs under rule; exact is false
// when the rule is undocumented or an image's size could not be read (then
// counted as one 512px tile image under the OpenAI rule, or one Gemini tile).
func imageTokens(msgs []providers.Message, rule imageRule) (n int, exact bool) {
	exact = rule != imageRuleUndocumented
	for _, m := range msgs {
		for _, im := range m.Images {
			w, h, ok := imageSize(im)
			if !ok {
				exact, w, h = false, 512, 512
			}
			if rule == imageRuleGemini {
				n += GeminiImageTokens(w, h)
			} else {
				n += OpenAIImageTokens(w, h)
			}
		}
	}
	return n, exact
}
