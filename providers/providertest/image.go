package providertest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// PNG returns a w×h PNG with a diagonal stripe, for tests that send images.
func PNG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 255, 255, 255}
			if x == y {
				c = color.RGBA{200, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}
