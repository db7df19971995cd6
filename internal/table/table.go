// Package table is the one way Yardstick draws a table: every table the CLI
// and the reports print goes through Render, over olekukonko/tablewriter, so
// columns are measured in terminal display cells (Hangul and other wide
// characters take two, ANSI colour codes none) and every table of one style
// looks the same.
//
// It does not escape cells: callers escape untrusted text for the style first
// (the reports package's cellFor, for instance), since tablewriter escapes
// nothing in Markdown.
package table

import (
	"bytes"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Style selects how a table is drawn.
type Style int

const (
	Box      Style = iota // terminal: light box-drawing borders
	Plain                 // terminal: no borders, two spaces between columns, for lists
	Markdown              // GitHub-flavoured Markdown
	List                  // CLI listings: like Plain, flush left, no blank lines
)

// Align is a column's alignment.
type Align = tw.Align

// Column alignments.
const (
	Left   = tw.AlignLeft
	Right  = tw.AlignRight
	Center = tw.AlignCenter
)

// Aligns turns a string of 'l', 'r' and 'c' into per-column alignments:
// Aligns("lrr") is left, right, right.
func Aligns(s string) []Align {
	a := make([]Align, 0, len(s))
	for _, c := range s {
		switch c {
		case 'r':
			a = append(a, Right)
		case 'c':
			a = append(a, Center)
		default:
			a = append(a, Left)
		}
	}
	return a
}

// Table is a header, per-column alignment and rows of already escaped cells.
// The zero value is an empty table without a header.
type Table struct {
	Header []string
	Align  []Align // per column; Left where shorter than the header
	Rows   [][]string
}

// Add appends a row.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// Width is the display width of s in terminal cells, as Render measures it:
// wide characters count two, ANSI escape sequences none.
func Width(s string) int { return twwidth.Width(s) }

// Render draws t on w in style st.
func (t *Table) Render(w io.Writer, st Style) error {
	var r tw.Renderer
	switch st {
	case Markdown:
		r = renderer.NewMarkdown()
	case Plain, List:
		r = renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})
	default:
		r = renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})
	}
	ncol := len(t.Header)
	for _, row := range t.Rows {
		ncol = max(ncol, len(row))
	}
	align := make(tw.Alignment, ncol)
	for i := range align {
		align[i] = tw.AlignLeft
		if i < len(t.Align) {
			align[i] = t.Align[i]
		}
	}
	var buf bytes.Buffer
	out := w
	if st == Plain || st == List {
		out = &buf // trimmed below
	}
	tbl := tablewriter.NewTable(out,
		tablewriter.WithRenderer(r),
		tablewriter.WithHeaderAutoFormat(tw.Off), // keep headers as written, no upper-casing or camel-case splitting
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAutoWrap(tw.WrapNone), // a wrapped Markdown cell would break the row
		tablewriter.WithAlignment(align),
		tablewriter.WithTrimSpace(tw.Off),
	)
	if len(t.Header) > 0 {
		tbl.Header(t.Header)
	}
	for _, row := range t.Rows {
		if err := tbl.Append(row); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	if st != Plain && st != List {
		return nil
	}
	// Borderless tables pad their last column: drop the trailing blanks. A
	// List also drops the blank first column and the empty closing line.
	var lines [][]byte
	indent := -1
	for line := range bytes.Lines(buf.Bytes()) {
		line = bytes.TrimRight(line, " \n")
		if st == List {
			if len(line) == 0 {
				continue
			}
			n := len(line) - len(bytes.TrimLeft(line, " "))
			if indent < 0 || n < indent {
				indent = n
			}
		}
		lines = append(lines, line)
	}
	for _, line := range lines {
		if indent > 0 {
			line = line[indent:]
		}
		if _, err := w.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	return nil
}
