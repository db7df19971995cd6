package reports

import (
	"io"

	tables "github.com/yardstick-eval/yardstick/internal/table"
)

// style selects how a table is drawn; see internal/table.
type style = tables.Style

const (
	styleBox      = tables.Box      // terminal: light box-drawing borders
	stylePlain    = tables.Plain    // terminal: no borders, for short lists
	styleMarkdown = tables.Markdown // GitHub-flavoured Markdown
)

// table is a header, per-column alignment and rows of already escaped cells,
// drawn by the one table helper, internal/tables.
type table struct {
	header []string
	align  []tables.Align // per column; left when shorter than header
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// render draws t. Cells must already be escaped for the style (see cellFor):
// tablewriter itself escapes nothing in Markdown.
func (t *table) render(w io.Writer, st style) error {
	return (&tables.Table{Header: t.header, Align: t.align, Rows: t.rows}).Render(w, st)
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
