package reports

import (
	"bytes"
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// style selects how a table is drawn.
type style int

const (
	styleBox      style = iota // terminal: light box-drawing borders
	stylePlain                 // terminal: no borders, for short lists
	styleMarkdown              // GitHub-flavoured Markdown
)

// table is a header, per-column alignment and rows of already escaped cells.
type table struct {
	header []string
	align  []tw.Align // per column; AlignLeft when shorter than header
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// render draws t with tablewriter's v1 API. Cells must already be escaped for
// the style (see cellFor): tablewriter itself escapes nothing in Markdown.
func (t *table) render(w io.Writer, st style) error {
	var r tw.Renderer
	switch st {
	case styleMarkdown:
		r = renderer.NewMarkdown()
	case stylePlain:
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
	ncol := len(t.header)
	if ncol == 0 && len(t.rows) > 0 {
		ncol = len(t.rows[0])
	}
	align := make(tw.Alignment, ncol)
	for i := range align {
		align[i] = tw.AlignLeft
		if i < len(t.align) {
			align[i] = t.align[i]
		}
	}
	var buf bytes.Buffer
	out := w
	if st == stylePlain {
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
	if len(t.header) > 0 {
		tbl.Header(t.header)
	}
	for _, row := range t.rows {
		if err := tbl.Append(row); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	if st != stylePlain {
		return nil
	}
	// Borderless tables pad their last column: drop the trailing blanks.
	for line := range bytes.Lines(buf.Bytes()) {
		line = bytes.TrimRight(line, " \n")
		if _, err := w.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// cellFor escapes untrusted free text for a table of style st.
func cellFor(st style, s string) string {
	if st == styleMarkdown {
		return mdText(s)
	}
	return oneLine(s)
}

// codeFor shows an untrusted identifier or expression literally: an inline
// code span in Markdown, plain text on a terminal.
func codeFor(st style, s string) string {
	if st == styleMarkdown {
		return mdCode(s, true)
	}
	return oneLine(s)
}
