// Package yamlx parses Yardstick's own YAML files (suite files and
// yardstick.yaml) into a yaml.Node tree, with the checks a file from an
// untrusted pull request needs before anything walks the tree:
//
//   - a size cap on the file (Limits.MaxBytes) and on the nodes it can
//     hold (Limits.MaxItems), checked before yaml.v3 builds its tree;
//   - bounded alias expansion: the nodes and scalar bytes that expanding every
//     alias would add are counted, without expanding anything, and a file
//     whose aliases add more than Limits.MaxAliasNodes nodes or
//     Limits.MaxAliasBytes bytes is refused at the alias that crosses the
//     line (a "billion laughs" file is refused in microseconds);
//   - exactly one document: a second document after "---" is an error, not
//     silently ignored;
//   - syntax errors that name the line of the problem: yaml.v3 reports some
//     errors at the start of the enclosing collection, some with a 0-based
//     line and some with none (invalid UTF-8, control characters, unknown
//     anchors); Parse finds the first line at which the document fails.
//
// Every error is an *Error naming file:line. yamlx does not decode into Go
// values or know any schema: callers walk the returned tree.
package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/yardstick-eval/yardstick/internal/utf8x"
)

// Limits bound what Parse accepts. A zero field takes its default.
type Limits struct {
	// MaxBytes caps the file's size. Default 10 MiB: inline cases beyond
	// that belong in a dataset file, which is streamed.
	MaxBytes int64
	// MaxItems caps the file's structural characters — ',', '[', '{', '-',
	// '?' and line breaks — counted before parsing: no YAML node starts
	// without one, so this bounds the node tree yaml.v3 builds (about 200
	// bytes a node) for files that pack a node into every two bytes.
	// Default 100,000.
	MaxItems int
	// MaxAliasNodes caps the nodes that expanding every alias would add to
	// the document, aliases inside aliased nodes included. Default 10,000.
	MaxAliasNodes int64
	// MaxAliasBytes caps the scalar bytes (keys and values) that expanding
	// every alias would add. Default 1 MiB.
	MaxAliasBytes int64
}

// Defaults for Limits.
const (
	DefaultMaxBytes      = 10 << 20
	DefaultMaxItems      = 100_000
	DefaultMaxAliasNodes = 10_000
	DefaultMaxAliasBytes = 1 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxItems <= 0 {
		l.MaxItems = DefaultMaxItems
	}
	if l.MaxAliasNodes <= 0 {
		l.MaxAliasNodes = DefaultMaxAliasNodes
	}
	if l.MaxAliasBytes <= 0 {
		l.MaxAliasBytes = DefaultMaxAliasBytes
	}
	return l
}

// Error is a file Parse refused, located by line (0 when the file as a
// whole is at fault, e.g. its size).
type Error struct {
	File string
	Line int // 1-based; 0: the whole file
	Err  error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrTooLarge is wrapped by the *Error for a file or an alias expansion over
// its limit.
var ErrTooLarge = errors.New("too large")

// Parse parses data, the contents of file, as a single YAML document and
// returns its top node, or nil for an empty document. See the package doc
// for the checks.
func Parse(file string, data []byte, lim Limits) (*yaml.Node, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, &Error{File: file, Err: fmt.Errorf("%w: %d bytes, over the %d-byte limit for a YAML file", ErrTooLarge, len(data), lim.MaxBytes)}
	}
	if n := items(data); n > lim.MaxItems {
		return nil, &Error{File: file, Err: fmt.Errorf("%w: %d list items, mapping entries and lines, over the limit of %d for a YAML file; move cases to a dataset file (cases: {file: …})", ErrTooLarge, n, lim.MaxItems)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, data, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(file, data, err)
	default:
		return nil, &Error{File: file, Line: next.Line, Err: errors.New("a second YAML document starts here (after ---): a file holds one document; remove the --- or split the file")}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	if err := checkAliases(file, &doc, lim); err != nil {
		return nil, err
	}
	return doc.Content[0], nil
}

// items counts the bytes at which a YAML node can start.
func items(data []byte) int {
	n := 0
	for _, b := range data {
		switch b {
		case ',', '[', '{', '-', '?', '\n':
			n++
		}
	}
	return n
}

// size is what a node amounts to with its aliases expanded.
type size struct{ nodes, bytes int64 }

func (s size) add(t size) size {
	return size{sat(s.nodes + t.nodes), sat(s.bytes + t.bytes)}
}

// sat keeps sums far from overflow: anything this large is over any limit.
func sat(v int64) int64 { return min(v, 1<<60) }

type aliasChecker struct {
	memo  map[*yaml.Node]size
	busy  map[*yaml.Node]bool
	added size // by the aliases met so far, in document order
}

// checkAliases walks the document once, adding for each alias the expanded
// size of what it stands for (computed once per anchor), and refuses the
// alias at which the total crosses a limit.
func checkAliases(file string, doc *yaml.Node, lim Limits) error {
	c := &aliasChecker{memo: map[*yaml.Node]size{}, busy: map[*yaml.Node]bool{}}
	var walk func(n *yaml.Node) error
	walk = func(n *yaml.Node) error {
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return &Error{File: file, Line: n.Line, Err: fmt.Errorf("alias *%s refers to nothing", n.Value)}
			}
			s, ok := c.expanded(n.Alias)
			if !ok {
				return &Error{File: file, Line: n.Line, Err: fmt.Errorf("alias *%s contains itself", n.Value)}
			}
			c.added = c.added.add(s)
			if c.added.nodes > lim.MaxAliasNodes || c.added.bytes > lim.MaxAliasBytes {
				return &Error{File: file, Line: n.Line, Err: fmt.Errorf("%w: alias *%s takes the document's aliases past %d expanded nodes or %d bytes (they would add %d nodes, %d bytes so far); repeat the content instead of nesting aliases",
					ErrTooLarge, n.Value, lim.MaxAliasNodes, lim.MaxAliasBytes, c.added.nodes, c.added.bytes)}
			}
			return nil
		}
		for _, k := range n.Content {
			if err := walk(k); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(doc)
}

// expanded is n's size with every alias in it expanded; ok is false for a
// node that contains itself.
func (c *aliasChecker) expanded(n *yaml.Node) (size, bool) {
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return size{nodes: 1}, true
		}
		n = n.Alias
	}
	if s, ok := c.memo[n]; ok {
		return s, true
	}
	if c.busy[n] {
		return size{}, false
	}
	c.busy[n] = true
	s := size{nodes: 1, bytes: int64(len(n.Value))}
	for _, k := range n.Content {
		ks, ok := c.expanded(k)
		if !ok {
			return size{}, false
		}
		s = s.add(ks)
	}
	delete(c.busy, n)
	c.memo[n] = s
	return s, true
}

// yamlLine matches the "yaml: line N: " prefix of yaml.v3's errors.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// message is a yaml.v3 error's text without "yaml: " and its line.
func message(err error) (msg string, line int) {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	} else {
		msg = err.Error()
	}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	return strings.TrimPrefix(msg, "yaml: "), line
}

// syntaxError turns a yaml.v3 error into an *Error at the line of the
// problem: the first line at which a prefix of the file fails with the same
// message. yaml.v3's own line is a lower bound where it gives one (it names
// the collection the problem is in, or the line before for parser errors),
// so the search starts there; a message without a line (invalid UTF-8,
// control characters, an unknown anchor) is searched from the top.
func syntaxError(file string, data []byte, err error) *Error {
	msg, reported := message(err)
	if strings.Contains(msg, "UTF-8") {
		if inv, ok := utf8x.Find(data); ok {
			return &Error{File: file, Line: inv.Line, Err: inv}
		}
	}
	ends := lineEnds(data)
	lo := max(reported, 1)
	hi := len(ends)
	if lo > hi {
		lo = hi
	}
	failsAt := func(k int) bool {
		var n yaml.Node
		dec := yaml.NewDecoder(bytes.NewReader(data[:ends[k-1]]))
		perr := dec.Decode(&n)
		if perr == nil {
			var next yaml.Node
			perr = dec.Decode(&next)
			if errors.Is(perr, io.EOF) {
				return false
			}
		}
		if perr == nil { // the prefix holds a second document that parses
			return false
		}
		m, _ := message(perr)
		return m == msg
	}
	line := 0
	if hi > 0 && failsAt(hi) {
		// Smallest k in [lo, hi] with failsAt(k); failsAt(hi) holds.
		for lo < hi {
			mid := (lo + hi) / 2
			if failsAt(mid) {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		line = lo
	} else if reported > 0 {
		line = reported
	}
	return &Error{File: file, Line: line, Err: fmt.Errorf("invalid YAML: %s", msg)}
}

// lineEnds returns the offset just past each line of data (a last line
// without a newline included).
func lineEnds(data []byte) []int {
	var ends []int
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	return ends
}
