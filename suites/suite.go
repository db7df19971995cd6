package suites

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/yardstick-eval/yardstick/internal/regfile"
	"github.com/yardstick-eval/yardstick/internal/suggest"
	"github.com/yardstick-eval/yardstick/internal/yamlx"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/suites/internal/tmpl"
	"github.com/yardstick-eval/yardstick/suites/score"
)

// LoadOptions configures Load and LoadFS. The zero value is valid.
type LoadOptions struct {
	// ValidateThreshold checks one threshold expression (the CLI passes
	// gate.Parse wrapped to drop its result). nil: thresholds are kept
	// unchecked. Its error is reported with the threshold's file:line.
	ValidateThreshold func(expr string) error
	// Judge resolves the model of a judge scorer (its `model:` text, a target
	// string such as "openai:gpt-4o-mini" or a provider name) to the provider
	// that grading requests go through, already wrapped in the caller's
	// retry, limit and cache decorators, and the model name to request. The
	// CLI builds it on providers/registry. It is called once per distinct
	// model text while loading, and should not make requests. nil: a suite
	// with a judge scorer does not load. Its error is reported with the
	// model's file:line.
	Judge func(target string) (providers.Provider, string, error)
	// JudgePrice returns the price of the judge model that Judge resolved
	// target to, for the cost of grading calls (bench.ScorePart.CostUSD).
	// It is called after a successful Judge call for the same target. nil,
	// or a nil result: the grading cost is unknown (usage is still recorded).
	JudgePrice func(target string) *providers.Price
	// AllowOutsidePaths lets a suite read datasets and schema files that
	// resolve (symbolic links followed) outside its own folder and outside
	// WorkDir. By default such a path is an error naming it, so a suite from
	// an untrusted pull request cannot send ../../.ssh/id_rsa to a model.
	AllowOutsidePaths bool
	// WorkDir is the folder whose files every suite may read, besides its
	// own; "" means the process's working directory.
	WorkDir string
	// MaxPromptBytes caps a case's rendered prompt (system and every
	// message, in bytes): a case over it is an error naming the case, found
	// before any call. 0 means DefaultMaxPromptBytes; negative, no cap.
	MaxPromptBytes int
}

// DefaultMaxPromptBytes is LoadOptions.MaxPromptBytes's default: 1 MiB.
const DefaultMaxPromptBytes = 1 << 20

// Threshold is a gate expression from the suite file with where it was written.
type Threshold struct {
	Expr   string // e.g. "pass_rate >= 0.85"
	Source string // "file.yaml:12"
}

// Defaults are the sampling parameters every request of the suite carries.
// Nil pointers mean "the provider's default".
type Defaults struct {
	Temperature *float64
	TopP        *float64
	MaxTokens   int // 0: provider default
	Seed        *int64
	Stop        []string
	JSONSchema  json.RawMessage
}

// Suite is a loaded, validated suite. It is immutable and safe for concurrent
// use; its cases are read from the dataset each time Cases is iterated.
type Suite struct {
	Name          string
	Description   string
	Version       string
	Path          string            // the suite file, as given to Load or LoadFS
	Tags          map[string]string // added to every case's tags
	Defaults      Defaults
	DefaultSplit  string // split run when CasesOptions.Split is ""; "" runs every case
	Dataset       string // dataset path (as opened), "" for inline cases
	PassThreshold float64
	Thresholds    []Threshold
	Scorer        *score.Composite // nil when the suite has no scorers: every answer passes

	src       source
	maxPrompt int // rendered prompt cap in bytes; < 0: none
	system    *promptPart
	messages  []promptPart
	images    []promptPart // prompt.images: templates of image references, for the last user message
	inline    []*row
	format    string      // "jsonl", "csv", "json" or "parquet" for a dataset
	fieldMaps []fieldMap  // cases.fields, id first
	graders   graderFunc  // judge model resolution, while loading
	files     []suiteFile // every file the suite reads, suite first, for Hash
	casesLine int         // line of the cases field
	splitLine int         // line of cases.split
	partLines []int       // line of each scorer entry
}

// suiteFile is a file the suite reads: where it is opened and how the suite
// names it (the name, not the location, goes into Hash).
type suiteFile struct {
	path, label string
}

type promptPart struct {
	role  string
	t     *tmpl.Template
	field string // e.g. "prompt.user"
}

// source abstracts the OS file system (paths as given, relative to the working
// directory or absolute) and an fs.FS (slash paths).
type source struct {
	fsys fs.FS // nil: the OS

	// confine, on the OS, refuses files (datasets, schemas) that resolve,
	// symbolic links followed, outside both the suite's folder and workDir.
	confine bool
	workDir string // "": the process's working directory
}

// open opens a file to stream (a dataset); on the OS it must be a regular
// file, so a FIFO or device is refused instead of hanging the run.
func (s source) open(name string) (io.ReadCloser, error) {
	if s.fsys == nil {
		return regfile.Open(name)
	}
	return s.fsys.Open(name)
}

// readFile reads a whole file (the suite file, a schema file): a regular
// file of at most yamlx.DefaultMaxBytes on the OS.
func (s source) readFile(name string) ([]byte, error) {
	if s.fsys == nil {
		return regfile.ReadFile(name, yamlx.DefaultMaxBytes)
	}
	return fs.ReadFile(s.fsys, name)
}

func (s source) stat(name string) (fs.FileInfo, error) {
	if s.fsys == nil {
		return os.Stat(name)
	}
	return fs.Stat(s.fsys, name)
}

// rel resolves name relative to the directory of the file base.
func (s source) rel(base, name string) (string, error) {
	if s.fsys == nil {
		p := name
		if !filepath.IsAbs(name) {
			p = filepath.Join(filepath.Dir(base), filepath.FromSlash(name))
		}
		if s.confine {
			if err := confined(base, name, p, s.workDir); err != nil {
				return "", err
			}
		}
		return p, nil
	}
	p := path.Join(path.Dir(base), name)
	if path.IsAbs(name) || !fs.ValidPath(p) {
		return "", fmt.Errorf("path %q leaves the suite's file system", name)
	}
	return p, nil
}

// Load reads and validates the suite file at path. It checks the dataset
// exists (and a CSV header) but does not read its rows; use Validate or
// Suite.Check for that. A non-nil error is an ErrorList, or an *Error for an
// unreadable file.
func Load(path string, opts LoadOptions) (*Suite, error) {
	return load(source{}, path, opts)
}

// LoadFS is Load on a file system, for embedded suites; path and the dataset
// path are slash-separated and resolved within fsys.
func LoadFS(fsys fs.FS, path string, opts LoadOptions) (*Suite, error) {
	return load(source{fsys: fsys}, path, opts)
}

var (
	suiteFields  = []string{"name", "description", "version", "tags", "prompt", "cases", "defaults", "scorers", "pass_threshold", "thresholds"}
	promptFields = []string{"system", "user", "messages", "images"}
	msgFields    = []string{"role", "content"}
	casesFields  = []string{"file", "split", "items", "fields"}
	caseFields   = []string{"id", "vars", "expected", "split", "tags", "pass_threshold", "scorers", "images"}
	defaultsKeys = []string{"temperature", "top_p", "max_tokens", "seed", "stop", "json_schema", "json_schema_file"}
	scorerFields = []string{"type", "weight", "value", "values", "normalize", "pattern", "schema", "schema_file",
		"labels", "match", "tolerance", "rel_tolerance", "extract", "strict", "model", "rubric", "choices", "samples", "temperature"}
	roles   = []string{providers.RoleSystem, providers.RoleUser, providers.RoleAssistant}
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	identRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
)

func load(src source, file string, opts LoadOptions) (*Suite, error) {
	src.confine, src.workDir = src.fsys == nil && !opts.AllowOutsidePaths, opts.WorkDir
	data, err := src.readFile(file)
	if err != nil {
		return nil, &Error{File: file, Err: err}
	}
	d := &decoder{file: file}
	top, err := yamlx.Parse(file, data, yamlx.Limits{})
	if err != nil {
		var ye *yamlx.Error
		if errors.As(err, &ye) {
			return nil, ErrorList{{File: ye.File, Line: ye.Line, Err: ye.Err}}
		}
		return nil, ErrorList{{File: file, Err: err}}
	}
	if top == nil {
		return nil, ErrorList{{File: file, Err: errors.New("empty suite file")}}
	}
	s := &Suite{Path: file, src: src, files: []suiteFile{{file, "suite"}}, PassThreshold: 1, maxPrompt: opts.MaxPromptBytes}
	if s.maxPrompt == 0 {
		s.maxPrompt = DefaultMaxPromptBytes
	}
	if opts.Judge != nil {
		s.graders = memoGraders(opts.Judge, opts.JudgePrice)
	}
	root := resolve(top)
	f, ok := d.fields(root, "", suiteFields)
	if !ok {
		return nil, d.errs
	}
	for _, key := range []string{"name", "prompt", "cases"} {
		if _, ok := f[key]; !ok {
			d.atf(root, "", "missing required field %q", key)
		}
	}
	if v, ok := f["name"]; ok {
		if s.Name, ok = d.str(v.node, "name"); ok && !nameRE.MatchString(s.Name) {
			d.atf(v.node, "name", "%q: use letters, digits, '.', '_' and '-', starting with a letter or digit", s.Name)
		}
	}
	if v, ok := f["description"]; ok {
		s.Description, _ = d.str(v.node, "description")
	}
	if v, ok := f["version"]; ok {
		s.Version, _ = d.str(v.node, "version")
	}
	if v, ok := f["tags"]; ok {
		s.Tags, _ = d.strMap(v.node, "tags")
	}
	if v, ok := f["prompt"]; ok {
		s.parsePrompt(d, v.node)
	}
	if v, ok := f["defaults"]; ok {
		s.parseDefaults(d, v.node)
	}
	if v, ok := f["pass_threshold"]; ok {
		if t, ok := d.num(v.node, "pass_threshold"); ok {
			if t < 0 || t > 1 {
				d.atf(v.node, "pass_threshold", "must be in [0, 1], got %g", t)
			} else {
				s.PassThreshold = t
			}
		}
	}
	if v, ok := f["scorers"]; ok {
		s.parseScorers(d, v.node, opts)
	}
	if v, ok := f["cases"]; ok {
		s.casesLine = v.line
		s.parseCases(d, v.node)
	}
	if v, ok := f["thresholds"]; ok {
		s.parseThresholds(d, v.node, opts)
	}
	// The suite file's errors in file order, then those of other files (a CSV
	// header) as found.
	slices.SortStableFunc(d.errs, func(a, b *Error) int {
		ao, bo := a.File != file, b.File != file
		switch {
		case ao != bo && ao:
			return 1
		case ao != bo:
			return -1
		case ao:
			return 0
		case a.Line != b.Line:
			return a.Line - b.Line
		}
		return a.col - b.col
	})
	if err := d.errs.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// parseTemplate parses a template field, mapping a syntax error's line inside
// a block scalar to the file line.
func (d *decoder) parseTemplate(n *yaml.Node, path string) *tmpl.Template {
	text, ok := d.str(n, path)
	if !ok {
		return nil
	}
	t, err := tmpl.Parse(text)
	if err != nil {
		d.add(templateLine(n, err), path, err)
		return nil
	}
	return t
}

func templateLine(n *yaml.Node, err error) int {
	var pe *tmpl.ParseError
	if !errors.As(err, &pe) {
		return n.Line
	}
	switch {
	case n.Style&yaml.LiteralStyle != 0:
		return n.Line + pe.Line // the text starts on the line after "|"
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.FoldedStyle) != 0:
		return n.Line // escapes and folding break the line correspondence
	default:
		return n.Line + pe.Line - 1
	}
}

func (s *Suite) parsePrompt(d *decoder, n *yaml.Node) {
	f, ok := d.fields(n, "prompt", promptFields)
	if !ok {
		return
	}
	msgs, hasMsgs := f["messages"]
	user, hasUser := f["user"]
	sys, hasSys := f["system"]
	if v, ok := f["images"]; ok {
		if _, nodes, ok := d.imageRefs(v.node, "prompt.images"); ok {
			for i, n := range nodes {
				p := index("prompt.images", i)
				if t := d.parseTemplate(n, p); t != nil {
					s.images = append(s.images, promptPart{role: providers.RoleUser, t: t, field: p})
				}
			}
		}
	}
	switch {
	case hasMsgs && (hasUser || hasSys):
		d.addf(msgs.line, "prompt.messages", "use either system and user, or messages, not both")
		return
	case !hasMsgs && !hasUser:
		d.atf(n, "prompt", "needs user (and optionally system), or messages")
		return
	}
	if hasSys {
		if t := d.parseTemplate(sys.node, "prompt.system"); t != nil {
			s.system = &promptPart{role: providers.RoleSystem, t: t, field: "prompt.system"}
		}
	}
	if hasUser {
		if t := d.parseTemplate(user.node, "prompt.user"); t != nil {
			s.messages = append(s.messages, promptPart{role: providers.RoleUser, t: t, field: "prompt.user"})
		}
		return
	}
	if msgs.node.Kind != yaml.SequenceNode || len(msgs.node.Content) == 0 {
		d.atf(msgs.node, "prompt.messages", "expected a non-empty list of {role, content}, got %s", describe(msgs.node))
		return
	}
	hasUserMsg, before := false, len(d.errs)
	for i, m := range msgs.node.Content {
		p := index("prompt.messages", i)
		mf, ok := d.fields(m, p, msgFields)
		if !ok {
			continue
		}
		role, okRole := mf["role"]
		content, okContent := mf["content"]
		if !okRole || !okContent {
			d.addf(resolve(m).Line, p, "needs role and content")
			continue
		}
		r, ok := d.str(role.node, join(p, "role"))
		if !ok {
			continue
		}
		if !slices.Contains(roles, r) {
			d.atf(role.node, join(p, "role"), "unknown role %q%s (known: system, user, assistant)", r, suggest.Hint(r, roles))
			continue
		}
		t := d.parseTemplate(content.node, join(p, "content"))
		if t == nil {
			continue
		}
		part := promptPart{role: r, t: t, field: join(p, "content")}
		if r == providers.RoleSystem {
			if i != 0 {
				d.atf(role.node, join(p, "role"), "a system message must come first")
				continue
			}
			s.system = &part
			continue
		}
		hasUserMsg = hasUserMsg || r == providers.RoleUser
		s.messages = append(s.messages, part)
	}
	if !hasUserMsg && len(d.errs) == before {
		d.atf(msgs.node, "prompt.messages", "needs at least one user message")
	}
}

func (s *Suite) parseDefaults(d *decoder, n *yaml.Node) {
	f, ok := d.fields(n, "defaults", defaultsKeys)
	if !ok {
		return
	}
	if v, ok := f["temperature"]; ok {
		if t, ok := d.num(v.node, "defaults.temperature"); ok {
			if t < 0 {
				d.atf(v.node, "defaults.temperature", "must be ≥ 0, got %g", t)
			} else {
				s.Defaults.Temperature = &t
			}
		}
	}
	if v, ok := f["top_p"]; ok {
		if t, ok := d.num(v.node, "defaults.top_p"); ok {
			if t <= 0 || t > 1 {
				d.atf(v.node, "defaults.top_p", "must be in (0, 1], got %g", t)
			} else {
				s.Defaults.TopP = &t
			}
		}
	}
	if v, ok := f["max_tokens"]; ok {
		if m, ok := d.integer(v.node, "defaults.max_tokens"); ok {
			if m < 1 || m > 1<<30 {
				d.atf(v.node, "defaults.max_tokens", "must be ≥ 1, got %d", m)
			} else {
				s.Defaults.MaxTokens = int(m)
			}
		}
	}
	if v, ok := f["seed"]; ok {
		if seed, ok := d.integer(v.node, "defaults.seed"); ok {
			s.Defaults.Seed = &seed
		}
	}
	if v, ok := f["stop"]; ok {
		if stop, ok := d.strs(v.node, "defaults.stop", true); ok {
			for i, st := range stop {
				if st == "" {
					d.atf(v.node, index("defaults.stop", i), "empty stop sequence")
				}
			}
			s.Defaults.Stop = stop
		}
	}
	s.Defaults.JSONSchema = s.schemaField(d, f, "defaults", "json_schema", "json_schema_file")
	if s.Defaults.JSONSchema != nil {
		if _, err := score.CompileSchema(s.Defaults.JSONSchema); err != nil {
			key := "json_schema"
			if _, inline := f[key]; !inline {
				key = "json_schema_file"
			}
			d.at(f[key].node, join("defaults", key), err)
		}
	}
}

// schemaField reads a JSON document given inline (key) or as a file (fileKey).
func (s *Suite) schemaField(d *decoder, f map[string]field, path, key, fileKey string) json.RawMessage {
	inline, hasInline := f[key]
	file, hasFile := f[fileKey]
	switch {
	case hasInline && hasFile:
		d.addf(file.line, join(path, fileKey), "set %s or %s, not both", key, fileKey)
	case hasInline:
		doc, _ := d.jsonDoc(inline.node, join(path, key))
		return doc
	case hasFile:
		name, ok := d.str(file.node, join(path, fileKey))
		if !ok {
			return nil
		}
		p, err := s.src.rel(s.Path, name)
		if err != nil {
			d.at(file.node, join(path, fileKey), err)
			return nil
		}
		b, err := s.src.readFile(p)
		if err != nil {
			d.atf(file.node, join(path, fileKey), "cannot read %s: %v", p, errors.Unwrap(err))
			return nil
		}
		if !json.Valid(b) {
			d.atf(file.node, join(path, fileKey), "%s is not valid JSON", p)
			return nil
		}
		s.files = append(s.files, suiteFile{p, name})
		return b
	}
	return nil
}

// errNoJudge is reported for a judge scorer loaded without LoadOptions.Judge.
var errNoJudge = errors.New("judge scorers need a model provider; run through the yardstick CLI or set LoadOptions.Judge")

// graderFunc resolves a judge scorer's model text to its grader, once per
// distinct text.
type graderFunc func(target string) (*score.Grader, error)

func memoGraders(resolve func(string) (providers.Provider, string, error), price func(string) *providers.Price) graderFunc {
	type result struct {
		g   *score.Grader
		err error
	}
	seen := map[string]result{}
	return func(target string) (*score.Grader, error) {
		if r, ok := seen[target]; ok {
			return r.g, r.err
		}
		var r result
		p, model, err := resolve(target)
		switch {
		case err != nil:
			r.err = err
		case p == nil:
			r.err = errors.New("no provider for the judge model")
		default:
			r.g = &score.Grader{Provider: p, Model: model}
			if price != nil {
				if pr := price(target); pr != nil {
					c := *pr
					r.g.Price = &c
				}
			}
		}
		seen[target] = r
		return r.g, r.err
	}
}

func (s *Suite) parseScorers(d *decoder, n *yaml.Node, opts LoadOptions) {
	if n.Kind != yaml.SequenceNode {
		d.atf(n, "scorers", "expected a list of scorers, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 {
		d.atf(n, "scorers", "empty list; omit the field to accept every answer")
		return
	}
	var parts []*score.Part
	graders := s.graders
	before := len(d.errs)
	for i, item := range n.Content {
		p := index("scorers", i)
		s.partLines = append(s.partLines, resolve(item).Line)
		start := len(d.errs)
		f, ok := d.fields(item, p, scorerFields)
		if !ok {
			continue
		}
		part := s.parseScorer(d, f, p, resolve(item).Line, start, graders)
		if part != nil {
			parts = append(parts, part)
		}
	}
	if len(d.errs) > before {
		return
	}
	c, err := score.NewComposite(s.PassThreshold, parts...)
	if err != nil {
		d.at(n, "scorers", err)
		return
	}
	s.Scorer = c
}

// parseScorer decodes and compiles one scorer entry; before is the error
// count before its fields were read, so that an entry with an unknown
// (misspelt) field is not also reported as missing the field.
func (s *Suite) parseScorer(d *decoder, f map[string]field, p string, line, before int, graders graderFunc) *score.Part {
	var spec score.Spec
	typ, ok := f["type"]
	if !ok {
		d.addf(line, p, "missing required field \"type\" (one of %s)", strings.Join(score.Types(), ", "))
		return nil
	}
	spec.Type, _ = d.str(typ.node, join(p, "type"))
	if v, ok := f["weight"]; ok {
		if w, ok := d.num(v.node, join(p, "weight")); ok {
			spec.Weight = &w
		}
	}
	if v, ok := f["value"]; ok {
		if s, ok := d.str(v.node, join(p, "value")); ok {
			spec.Value = &s
		}
	}
	if v, ok := f["values"]; ok {
		spec.Values, _ = d.strs(v.node, join(p, "values"), false)
	}
	if v, ok := f["normalize"]; ok {
		spec.Normalize, _ = d.strs(v.node, join(p, "normalize"), true)
	}
	if v, ok := f["pattern"]; ok {
		spec.Pattern, _ = d.str(v.node, join(p, "pattern"))
	}
	if v, ok := f["labels"]; ok {
		spec.Labels, _ = d.strs(v.node, join(p, "labels"), false)
	}
	if v, ok := f["tolerance"]; ok {
		if t, ok := d.num(v.node, join(p, "tolerance")); ok {
			spec.Tolerance = &t
		}
	}
	if v, ok := f["rel_tolerance"]; ok {
		if t, ok := d.num(v.node, join(p, "rel_tolerance")); ok {
			spec.RelTolerance = &t
		}
	}
	if v, ok := f["extract"]; ok {
		spec.Extract = d.extract(v.node, join(p, "extract"))
	}
	if v, ok := f["match"]; ok {
		spec.Match, _ = d.str(v.node, join(p, "match"))
	}
	if v, ok := f["strict"]; ok {
		if b, ok := d.boolean(v.node, join(p, "strict")); ok {
			spec.Strict = &b
		}
	}
	if v, ok := f["model"]; ok {
		if spec.Model, ok = d.str(v.node, join(p, "model")); ok && strings.TrimSpace(spec.Model) == "" {
			d.atf(v.node, join(p, "model"), "empty model")
		}
	}
	if v, ok := f["rubric"]; ok {
		spec.Rubric, _ = d.str(v.node, join(p, "rubric"))
	}
	if v, ok := f["choices"]; ok {
		spec.Choices, _ = d.choices(v.node, join(p, "choices"))
	}
	if v, ok := f["samples"]; ok {
		if n, ok := d.integer(v.node, join(p, "samples")); ok {
			i := int(n) // range-checked by NewPart
			spec.Samples = &i
		}
	}
	if v, ok := f["temperature"]; ok {
		if t, ok := d.num(v.node, join(p, "temperature")); ok {
			spec.Temperature = &t
		}
	}
	spec.Schema = s.schemaField(d, f, p, "schema", "schema_file")
	if len(d.errs) > before {
		return nil
	}
	if strings.TrimPrefix(spec.Type, "not-") == "judge" {
		if graders == nil {
			d.at(typ.node, join(p, "type"), errNoJudge)
			return nil
		}
		if m, ok := f["model"]; ok {
			g, err := graders(spec.Model)
			if err != nil {
				if !strings.Contains(err.Error(), spec.Model) {
					err = fmt.Errorf("judge model %q: %w", spec.Model, err)
				}
				d.at(m.node, join(p, "model"), err)
				return nil
			}
			spec.Grader = g
		}
	}
	part, err := score.NewPart(spec)
	if err == nil {
		return part
	}
	var fe *score.FieldError
	if !errors.As(err, &fe) {
		d.add(line, p, err)
		return nil
	}
	// Locate the field: "values[2]" is item 2 of values; a schema may come from schema_file.
	name, idx := fe.Field, -1
	if i := strings.IndexByte(name, '['); i > 0 {
		fmt.Sscanf(name[i:], "[%d]", &idx)
		name = name[:i]
	}
	name, _, _ = strings.Cut(name, ".") // extract.regex: the extract field
	errLine := line
	if v, ok := f[name]; ok {
		errLine = v.node.Line
		if idx >= 0 && v.node.Kind == yaml.SequenceNode && idx < len(v.node.Content) {
			errLine = v.node.Content[idx].Line
		} else if name == score.FieldChoices && v.node.Kind == yaml.MappingNode && 2*idx < len(v.node.Content) {
			errLine = v.line // choices: the key
			if idx >= 0 {
				errLine = v.node.Content[2*idx].Line // choices[i]: the i-th grade
			}
		} else if name == score.FieldValue || name == score.FieldRubric {
			errLine = templateLine(v.node, fe.Err)
		}
	} else if v, ok := f["schema_file"]; ok && name == score.FieldSchema {
		errLine, fe.Field = v.node.Line, "schema_file"
	}
	if idx >= 0 && name == score.FieldValues {
		if v, ok := f[name]; ok && idx < len(v.node.Content) {
			errLine = templateLine(v.node.Content[idx], fe.Err)
		}
	}
	d.add(errLine, join(p, fe.Field), fe.Err)
	return nil
}

var (
	extractFields = []string{"after", "regex", "answer", "pick"}
	extractWords  = []string{score.ExtractLast, score.ExtractFirst, score.ExtractOnly, score.ExtractAnswer}
)

// extract decodes a scorer's extract: a word (last, first, only, answer) or
// a mapping {after, regex, answer, pick}.
func (d *decoder) extract(n *yaml.Node, path string) *score.Extract {
	n = resolve(n)
	e := &score.Extract{}
	if n.Kind == yaml.ScalarNode {
		w, ok := d.str(n, path)
		switch {
		case !ok:
		case w == score.ExtractAnswer:
			e.Answer = true
		case slices.Contains(extractWords, w):
			e.Pick = w
		default:
			d.atf(n, path, "unknown extract %q%s: use one of %s, or {after: TEXT} or {regex: PATTERN}",
				w, suggest.Hint(w, extractWords), strings.Join(extractWords, ", "))
		}
		return e
	}
	f, ok := d.fields(n, path, extractFields)
	if !ok {
		return e
	}
	if v, ok := f["after"]; ok {
		if e.After, ok = d.str(v.node, join(path, "after")); ok && e.After == "" {
			d.atf(v.node, join(path, "after"), "empty marker")
		}
	}
	if v, ok := f["regex"]; ok {
		e.Regex, _ = d.str(v.node, join(path, "regex"))
	}
	if v, ok := f["answer"]; ok {
		e.Answer, _ = d.boolean(v.node, join(path, "answer"))
	}
	if v, ok := f["pick"]; ok {
		e.Pick, _ = d.str(v.node, join(path, "pick"))
	}
	return e
}

func (s *Suite) parseThresholds(d *decoder, n *yaml.Node, opts LoadOptions) {
	exprs, ok := d.strs(n, "thresholds", true)
	if !ok {
		return
	}
	for i, e := range exprs {
		line := n.Line
		if n.Kind == yaml.SequenceNode {
			line = n.Content[i].Line
		}
		field := index("thresholds", i)
		if strings.TrimSpace(e) == "" {
			d.addf(line, field, "empty threshold")
			continue
		}
		if opts.ValidateThreshold != nil {
			if err := opts.ValidateThreshold(e); err != nil {
				if strings.Contains(err.Error(), e) { // the validator already quotes it
					d.add(line, field, err)
				} else {
					d.addf(line, field, "invalid threshold %q: %v", e, err)
				}
				continue
			}
		}
		s.Thresholds = append(s.Thresholds, Threshold{Expr: e, Source: fmt.Sprintf("%s:%d", d.file, line)})
	}
}

func (s *Suite) parseCases(d *decoder, n *yaml.Node) {
	var items *yaml.Node
	switch n.Kind {
	case yaml.SequenceNode:
		items = n
	case yaml.MappingNode:
		f, ok := d.fields(n, "cases", casesFields)
		if !ok {
			return
		}
		if v, ok := f["split"]; ok {
			s.splitLine = v.node.Line
			if sp, ok := d.str(v.node, "cases.split"); ok {
				if sp == "" {
					d.atf(v.node, "cases.split", "empty split name")
				}
				s.DefaultSplit = sp
			}
		}
		if v, ok := f["fields"]; ok {
			s.parseFields(d, v.node)
		}
		file, hasFile := f["file"]
		list, hasItems := f["items"]
		switch {
		case hasFile && hasItems:
			d.addf(list.line, "cases.items", "set file or items, not both")
			return
		case hasItems:
			items = list.node
		case hasFile:
			s.parseDataset(d, file.node)
			return
		default:
			d.atf(n, "cases", "needs file (a .jsonl, .csv, .json or .parquet dataset) or items (inline cases)")
			return
		}
	default:
		d.atf(n, "cases", "expected a list of cases or {file: …}, got %s", describe(n))
		return
	}
	if items.Kind != yaml.SequenceNode {
		d.atf(items, "cases.items", "expected a list of cases, got %s", describe(items))
		return
	}
	if len(items.Content) == 0 {
		d.atf(items, "cases", "no cases")
		return
	}
	for i, item := range items.Content {
		if r := s.parseInlineCase(d, item, i); r != nil {
			s.inline = append(s.inline, r)
		}
	}
}

func (s *Suite) parseInlineCase(d *decoder, n *yaml.Node, i int) *row {
	p := index("cases", i)
	f, ok := d.fields(n, p, caseFields)
	if !ok {
		return nil
	}
	before := len(d.errs)
	r := &row{file: s.Path, line: resolve(n).Line, n: i + 1, vars: map[string]any{}}
	if v, ok := f["id"]; ok {
		if r.id, ok = d.str(v.node, join(p, "id")); ok && r.id == "" {
			d.atf(v.node, join(p, "id"), "empty id")
		}
	}
	if v, ok := f["expected"]; ok {
		if v.node.Kind == yaml.ScalarNode {
			r.expected, _ = d.str(v.node, join(p, "expected"))
		} else if doc, ok := d.jsonDoc(v.node, join(p, "expected")); ok {
			r.expected = string(doc) // structured expectations (json-match) as compact JSON
		}
	}
	if v, ok := f["split"]; ok {
		r.split, _ = d.str(v.node, join(p, "split"))
	}
	if v, ok := f["tags"]; ok {
		r.tags, _ = d.strMap(v.node, join(p, "tags"))
	}
	if v, ok := f["pass_threshold"]; ok {
		if t, ok := d.num(v.node, join(p, "pass_threshold")); ok {
			if t < 0 || t > 1 {
				d.atf(v.node, join(p, "pass_threshold"), "must be in [0, 1], got %g", t)
			} else {
				r.threshold = &t
			}
		}
	}
	if v, ok := f["vars"]; ok {
		if v.node.Kind != yaml.MappingNode {
			d.atf(v.node, join(p, "vars"), "expected a mapping, got %s", describe(v.node))
		} else if m, ok := d.value(v.node, join(p, "vars")); ok {
			r.vars = m.(map[string]any)
		}
	}
	if v, ok := f["scorers"]; ok {
		r.parts = s.parseCaseScorers(d, v.node, p)
	}
	if v, ok := f["images"]; ok {
		if refs, nodes, ok := d.imageRefs(v.node, join(p, "images")); ok {
			for j, ref := range refs {
				// Read now so a missing or wrong file is reported at load,
				// with its line; the bytes are read again when rendering.
				if _, err := s.loadImage(ref); err != nil {
					d.atf(nodes[j], index(join(p, "images"), j), "%v", err)
					continue
				}
				if !strings.HasPrefix(ref, "data:") {
					if fp, err := s.src.rel(s.Path, ref); err == nil {
						s.files = append(s.files, suiteFile{fp, ref})
					}
				}
				r.images = append(r.images, ref)
			}
		}
	}
	if len(d.errs) > before {
		return nil
	}
	return r
}

// parseCaseScorers decodes an inline case's own scorers, added to the
// suite's for that case (promptfoo's per-test assertions).
func (s *Suite) parseCaseScorers(d *decoder, n *yaml.Node, p string) []*score.Part {
	path := join(p, "scorers")
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.atf(n, path, "expected a non-empty list of scorers, got %s", describe(n))
		return nil
	}
	var parts []*score.Part
	for i, item := range n.Content {
		ip := index(path, i)
		start := len(d.errs)
		f, ok := d.fields(item, ip, scorerFields)
		if !ok {
			continue
		}
		if part := s.parseScorer(d, f, ip, resolve(item).Line, start, s.graders); part != nil {
			parts = append(parts, part)
		}
	}
	return parts
}

func (s *Suite) parseDataset(d *decoder, n *yaml.Node) {
	name, ok := d.str(n, "cases.file")
	if !ok {
		return
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".jsonl", ".ndjson":
		s.format = "jsonl"
	case ".csv":
		s.format = "csv"
	case ".json":
		s.format = "json"
	case ".parquet":
		s.format = "parquet"
	default:
		d.atf(n, "cases.file", "unsupported dataset %q: use .jsonl, .csv, .json (an array of objects) or .parquet", name)
		return
	}
	p, err := s.src.rel(s.Path, name)
	if err != nil {
		d.at(n, "cases.file", err)
		return
	}
	fi, err := s.src.stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.atf(n, "cases.file", "dataset %q not found (looked for %s)", name, p)
		return
	case err != nil:
		d.at(n, "cases.file", err)
		return
	case fi.IsDir():
		d.atf(n, "cases.file", "%s is a directory", p)
		return
	case !fi.Mode().IsRegular():
		// Reading a FIFO would wait for a writer; a device never ends.
		d.atf(n, "cases.file", "%s is %s, not a regular file", p, regfile.Kind(fi.Mode()))
		return
	}
	s.Dataset = p
	s.files = append(s.files, suiteFile{p, name})
	if s.format == "csv" {
		if _, err := s.csvHeader(); err != nil {
			d.errs = append(d.errs, err)
		}
	}
}
