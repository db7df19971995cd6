package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/yardstick-eval/yardstick/suites/builtin/internal/gencases"
)

// TestCommittedSuiteIsReproducible fails when cases.jsonl or a chart was
// edited by hand or the generator changed without regenerating them (go
// generate ./suites/builtin/). Charts are compared pixel by pixel, so a PNG
// encoder change in a new Go release does not fail it.
func TestCommittedSuiteIsReproducible(t *testing.T) {
	charts, cases := generate()
	gencases.CheckCommitted(t, "../cases.jsonl", cases)
	for i, ch := range charts {
		f, err := os.Open(filepath.Join("..", cases[i].Image))
		if err != nil {
			t.Fatal(err)
		}
		got, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", cases[i].Image, err)
		}
		want := draw(ch)
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%s: bounds %v, want %v", cases[i].Image, got.Bounds(), want.Bounds())
		}
		for y := range want.Bounds().Dy() {
			for x := range want.Bounds().Dx() {
				if !sameColour(got, want, x, y) {
					t.Fatalf("%s differs from the generator's output at (%d, %d); run go generate ./suites/builtin/", cases[i].Image, x, y)
				}
			}
		}
	}
}

func sameColour(a, b image.Image, x, y int) bool {
	r1, g1, b1, a1 := a.At(x, y).RGBA()
	r2, g2, b2, a2 := b.At(x, y).RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

// TestAnswersAreInThePicture checks each expected answer against the pixels:
// bars are counted and measured from the image alone.
func TestAnswersAreInThePicture(t *testing.T) {
	charts, cases := generate()
	for i, ch := range charts {
		img := draw(ch)
		// Scan the row just above the x axis for bar runs.
		bars, heights := 0, []int{}
		white := func(x, y int) bool {
			r, g, b, _ := img.At(x, y).RGBA()
			return r == 0xffff && g == 0xffff && b == 0xffff
		}
		in := false
		for x := left + 1; x < width-10; x++ {
			isBar := !white(x, bottom-1)
			if isBar && !in {
				bars++
				h := 0
				for y := bottom - 1; y >= 0 && !white(x, y) && !isGrid(img, x, y); y-- {
					h++
				}
				heights = append(heights, h/unit)
			}
			in = isBar
		}
		if bars != len(ch.Values) {
			t.Errorf("%s: %d bars in the picture, %d in the data", cases[i].ID, bars, len(ch.Values))
		}
		for j, h := range heights {
			if j < len(ch.Values) && h != ch.Values[j] {
				t.Errorf("%s bar %d: %d units tall in the picture, %d in the data", cases[i].ID, j, h, ch.Values[j])
			}
		}
	}
}

func isGrid(img image.Image, x, y int) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	return r == 200*0x101 && g == 200*0x101 && b == 200*0x101
}
