// Command gen writes the chart-reading suite: bar charts drawn with Go's
// image package (chart-NN.png, 320×200, white ground, one light gridline per
// unit from 0 to 10, 3–6 bars in distinct named colours) and cases.jsonl,
// one question per chart whose answer is read off the picture: how many bars
// there are, how tall the tallest is, or how tall the bar of a named colour
// is. Deterministic (fixed seed); every case is in the "test" split.
//
//	go run ./suites/builtin/chart-reading/gen -dir suites/builtin/chart-reading
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/yardstick-eval/yardstick/suites/builtin/internal/gencases"
)

// Case is one line of cases.jsonl.
type Case struct {
	ID       string            `json:"id"`
	Split    string            `json:"split"`
	Image    string            `json:"image"` // relative to the suite file
	Question string            `json:"question"`
	Expected string            `json:"expected"`
	Tags     map[string]string `json:"tags"`
}

// Chart is one chart's data.
type Chart struct {
	Colours []string
	Values  []int // 1..10
}

var palette = []struct {
	name string
	c    color.RGBA
}{
	{"red", color.RGBA{220, 30, 30, 255}},
	{"green", color.RGBA{30, 160, 60, 255}},
	{"blue", color.RGBA{30, 80, 220, 255}},
	{"orange", color.RGBA{245, 140, 20, 255}},
	{"purple", color.RGBA{130, 50, 170, 255}},
	{"black", color.RGBA{20, 20, 20, 255}},
}

// Chart geometry.
const (
	width, height = 320, 200
	left, bottom  = 20, 180 // plot origin
	unit          = 16      // pixels per value unit (10 units = 160 px)
	maxValue      = 10
	nCharts       = 12
)

// generate returns the charts and their cases.
func generate() ([]Chart, []Case) {
	rng := rand.New(rand.NewPCG(10, 2026))
	var charts []Chart
	var cases []Case
	for i := range nCharts {
		n := 3 + rng.IntN(4)
		perm := rng.Perm(len(palette))[:n]
		ch := Chart{}
		for _, p := range perm {
			ch.Colours = append(ch.Colours, palette[p].name)
		}
		// Distinct values, so "the tallest" is unambiguous.
		for _, v := range rng.Perm(maxValue)[:n] {
			ch.Values = append(ch.Values, v+1)
		}
		charts = append(charts, ch)
		c := Case{ID: fmt.Sprintf("chart-%02d", i+1), Split: "test", Image: fmt.Sprintf("chart-%02d.png", i+1)}
		switch i % 3 {
		case 0:
			c.Question = "How many bars does the chart show?"
			c.Expected = fmt.Sprint(n)
			c.Tags = map[string]string{"question": "count"}
		case 1:
			top := 0
			for _, v := range ch.Values {
				top = max(top, v)
			}
			c.Question = "How tall is the tallest bar?"
			c.Expected = fmt.Sprint(top)
			c.Tags = map[string]string{"question": "max"}
		default:
			k := rng.IntN(n)
			c.Question = fmt.Sprintf("How tall is the %s bar?", ch.Colours[k])
			c.Expected = fmt.Sprint(ch.Values[k])
			c.Tags = map[string]string{"question": "colour"}
		}
		cases = append(cases, c)
	}
	return charts, cases
}

// draw renders a chart.
func draw(ch Chart) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	fill(img, image.Rect(0, 0, width, height), color.RGBA{255, 255, 255, 255})
	grid := color.RGBA{200, 200, 200, 255}
	for v := 0; v <= maxValue; v++ {
		y := bottom - v*unit
		fill(img, image.Rect(left, y, width-10, y+1), grid)
	}
	fill(img, image.Rect(left-1, bottom-maxValue*unit, left, bottom+1), color.RGBA{0, 0, 0, 255}) // y axis
	slot := (width - 10 - left) / len(ch.Values)
	for i, v := range ch.Values {
		x := left + i*slot + slot/4
		c := palette[0].c
		for _, p := range palette {
			if p.name == ch.Colours[i] {
				c = p.c
			}
		}
		fill(img, image.Rect(x, bottom-v*unit, x+slot/2, bottom), c)
	}
	return img
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func main() {
	dir := flag.String("dir", ".", "suite folder to write cases.jsonl and the charts into")
	flag.Parse()
	if err := write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func write(dir string) error {
	charts, cases := generate()
	for i, ch := range charts {
		var b bytes.Buffer
		if err := png.Encode(&b, draw(ch)); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, cases[i].Image), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	var b bytes.Buffer
	if err := gencases.Write(&b, cases); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "cases.jsonl"), b.Bytes(), 0o644)
}
