package table

import (
	"bytes"
	"strings"
	"testing"
)

// columnStarts are the display columns at which each of cells starts on line.
func columnStarts(t *testing.T, line string, cells []string) []int {
	t.Helper()
	var starts []int
	rest := line
	for _, c := range cells {
		i := strings.Index(rest, c)
		if i < 0 {
			t.Fatalf("line %q lacks %q", line, c)
		}
		starts = append(starts, Width(line[:len(line)-len(rest)+i]))
		rest = rest[i+len(c):]
	}
	return starts
}

func TestWideCharactersAlign(t *testing.T) {
	rows := [][]string{
		{"openai:gpt-4o-mini", "0.800", "$0.0042"},
		{"고객지원-모델", "0.500", "$1.20"},
		{"한국어", "1.000", "—"},
		{"\x1b[31mred\x1b[0m", "0.250", "$0"},
	}
	for _, st := range []struct {
		name  string
		style Style
	}{{"box", Box}, {"plain", Plain}, {"list", List}, {"markdown", Markdown}} {
		t.Run(st.name, func(t *testing.T) {
			tb := Table{Header: []string{"target", "pass", "cost"}, Align: Aligns("lrr")}
			for _, r := range rows {
				tb.Add(r...)
			}
			var buf bytes.Buffer
			if err := tb.Render(&buf, st.style); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			var widths []int
			var passEnd []int
			for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
				if strings.TrimSpace(line) == "" {
					continue
				}
				// Every line of a bordered table has the same display width.
				if st.style == Box || st.style == Markdown {
					widths = append(widths, Width(line))
				}
				for _, r := range rows {
					if strings.Contains(line, r[0]) {
						s := columnStarts(t, line, r)
						passEnd = append(passEnd, s[1]+Width(r[1]))
					}
				}
			}
			for _, w := range widths {
				if w != widths[0] {
					t.Errorf("lines of different display widths %v:\n%s", widths, out)
					break
				}
			}
			if len(passEnd) != len(rows) {
				t.Fatalf("found %d of %d rows:\n%s", len(passEnd), len(rows), out)
			}
			// The right-aligned column ends at the same display column on every row.
			for _, e := range passEnd {
				if e != passEnd[0] {
					t.Errorf("pass column misaligned %v:\n%s", passEnd, out)
					break
				}
			}
		})
	}
}

func TestListIsFlushLeftWithoutBlankLines(t *testing.T) {
	tb := Table{Header: []string{"NAME", "MODEL"}}
	tb.Add("a", "x")
	tb.Add("bb", "y")
	var buf bytes.Buffer
	if err := tb.Render(&buf, List); err != nil {
		t.Fatal(err)
	}
	want := "NAME  MODEL\na     x\nbb    y\n"
	if buf.String() != want {
		t.Errorf("got\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestAligns(t *testing.T) {
	got := Aligns("lrcx")
	want := []Align{Left, Right, Center, Left}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Aligns[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}
