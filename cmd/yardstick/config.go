package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/yardstick-eval/yardstick/internal/regfile"
	"github.com/yardstick-eval/yardstick/internal/suggest"
	"github.com/yardstick-eval/yardstick/internal/yamlx"
	"github.com/yardstick-eval/yardstick/providers/pricing"
	"github.com/yardstick-eval/yardstick/providers/registry"
)

// appConfig is yardstick.yaml: provider definitions and defaults for runs.
// Suite files are not app config; package suites parses them strictly.
type appConfig struct {
	// Providers are named targets usable with -m NAME.
	Providers []registry.Config `mapstructure:"providers"`
	// Prices extend or override the built-in price table: provider → model → price.
	Prices pricing.Table `mapstructure:"prices"`
	Cache  struct {
		Dir      string `mapstructure:"dir"`      // default: the user cache dir
		Disabled bool   `mapstructure:"disabled"` // no response cache at all
	} `mapstructure:"cache"`
	Run struct {
		Concurrency int    `mapstructure:"concurrency"`
		Out         string `mapstructure:"out"` // parent folder of run directories
		// MaxPromptBytes caps a case's rendered prompt (0: 1 MiB; -1: none).
		MaxPromptBytes int `mapstructure:"max_prompt_bytes"`
	} `mapstructure:"run"`
}

// loadConfig reads the app config: --config FILE, or ./yardstick.yaml when
// present, then YARDSTICK_* environment variables (YARDSTICK_RUN_CONCURRENCY,
// YARDSTICK_CACHE_DIR, …). Unknown keys are a configuration error.
//
// The file is parsed as YAML twice: once into a yaml.Node, which reports
// syntax errors with their line and lets decoding errors be traced back to the
// line of the offending key, and once by viper, which does the loading. Every
// error is a usage error (exit 2) of the form "app config FILE:LINE: FIELD: …".
func (a *app) loadConfig() error {
	// Viper's default key delimiter "." would split map keys such as the
	// model "gpt-4.1" in prices; "::" appears in no key.
	v := viper.NewWithOptions(viper.KeyDelimiter(viperKeyDelim))
	// Bind the scalar keys so environment variables reach Unmarshal.
	for _, k := range []string{"cache.dir", "cache.disabled", "run.concurrency", "run.out"} {
		env := "YARDSTICK_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(k))
		if val := a.getenv(env); val != "" {
			if err := checkEnvValue(k, val); err != nil {
				return usageErrf("%s=%q: %v", env, val, err)
			}
			v.Set(strings.ReplaceAll(k, ".", viperKeyDelim), val)
		}
	}
	file := a.cfgFile
	if file == "" {
		if f := a.getenv("YARDSTICK_CONFIG"); f != "" {
			file = f
		} else if _, err := os.Stat("yardstick.yaml"); err == nil {
			file = "yardstick.yaml"
		}
	}
	var src *configSource
	if file != "" {
		data, err := regfile.ReadFile(file, yamlx.DefaultMaxBytes)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return usageErrf("app config %s: not found", file)
			}
			return usageErrf("app config %s: %v", file, err)
		}
		if src, err = parseConfigSource(file, data); err != nil {
			return usageErr(err)
		}
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return usageErrf("app config %s: %v", file, err)
		}
	}
	var cfg appConfig
	if err := v.UnmarshalExact(&cfg); err != nil {
		return usageErr(src.decodeError(err))
	}
	for i, p := range cfg.Providers {
		if p.Type == "" || p.Model == "" {
			path := fmt.Sprintf("providers[%d]", i)
			return usageErrf("%s: %s (%q): type and model are required", src.where(src.line(path)), path, p.Name)
		}
	}
	a.conf = cfg
	return nil
}

// viperKeyDelim separates the levels of a viper key path.
const viperKeyDelim = "::"

// configSource is the YAML app config file as a node tree, kept so errors
// found while decoding it can name the line of the offending field.
type configSource struct {
	name string
	root *yaml.Node // the document's top node; nil for an empty file
}

// yamlLineErr matches yaml.v3's syntax errors and type-error entries.
var yamlLineErr = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// parseConfigSource parses data (the file name) into a node tree. Syntax
// errors, and the errors yaml.v3 finds when decoding to plain maps (a key
// defined twice), are returned as "app config NAME:LINE: message".
func parseConfigSource(name string, data []byte) (*configSource, error) {
	src := &configSource{name: name}
	// Bounded first (size, aliases, one document, located syntax errors):
	// viper decodes the same bytes afterwards, expanding every alias.
	top, err := yamlx.Parse(name, data, yamlx.Limits{})
	if err != nil {
		var ye *yamlx.Error
		if errors.As(err, &ye) {
			return nil, fmt.Errorf("%s: %v", src.where(ye.Line), ye.Err)
		}
		return nil, fmt.Errorf("%s: %v", src.where(0), err)
	}
	if top != nil {
		src.root = top
		var plain map[string]any
		err = top.Decode(&plain)
	}
	if err == nil {
		return src, nil
	}
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	lines := make([]string, len(msgs))
	for i, m := range msgs {
		if sub := yamlLineErr.FindStringSubmatch(m); sub != nil {
			n, _ := strconv.Atoi(sub[1])
			lines[i] = src.where(n) + ": " + sub[2]
		} else {
			lines[i] = src.where(0) + ": " + strings.TrimPrefix(m, "yaml: ")
		}
	}
	return nil, errors.New(strings.Join(lines, "\n"))
}

// where is "app config NAME:LINE", or "app config NAME" when line is 0.
// It works on a nil receiver (configuration from the environment only).
func (s *configSource) where(line int) string {
	if s == nil {
		return "app config (environment)"
	}
	if line <= 0 {
		return "app config " + s.name
	}
	return fmt.Sprintf("app config %s:%d", s.name, line)
}

// line is the line of the node at path (mapstructure's notation:
// "providers[1].limits", "prices[openai][gpt-4o]"), or 0 when not in the file.
func (s *configSource) line(path string) int {
	if n := s.node(path); n != nil {
		return n.Line
	}
	return 0
}

// node returns the node at path, or nil. Keys match case-insensitively, as
// viper's do.
func (s *configSource) node(path string) *yaml.Node {
	if s == nil || s.root == nil {
		return nil
	}
	n := s.root
	for _, seg := range splitKeyPath(path) {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if strings.EqualFold(n.Content[i].Value, seg) {
					next = n.Content[i+1]
				}
			}
			if next == nil {
				return nil
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			return nil
		}
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// splitKeyPath splits "providers[1].price.input_per_m" into
// ["providers", "1", "price", "input_per_m"]. A bracketed segment is taken
// verbatim, so map keys may contain dots.
func splitKeyPath(p string) []string {
	var segs []string
	for p != "" {
		switch p[0] {
		case '.':
			p = p[1:]
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return append(segs, p[1:])
			}
			segs = append(segs, p[1:end])
			p = p[end+1:]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			segs = append(segs, p[:end])
			p = p[end:]
		}
	}
	return segs
}

// configProblem is one decoding error traced to its place in the file.
type configProblem struct {
	line int
	path string
	msg  string
}

// decodeError turns viper's UnmarshalExact error (a tree of mapstructure
// DecodeErrors) into one line per problem, ordered by line:
// `app config yardstick.yaml:14: providers[1].limitz: unknown field; did you mean "limits"?`.
// Errors it cannot trace are kept as they are.
func (s *configSource) decodeError(err error) error {
	var leaves []*mapstructure.DecodeError
	collectDecodeErrors(err, &leaves)
	if len(leaves) == 0 {
		return fmt.Errorf("%s: %w", s.where(0), err)
	}
	root := reflect.TypeFor[appConfig]()
	var probs []configProblem
	for _, de := range leaves {
		path, inner := de.Name(), de.Unwrap()
		typ := typeAtPath(root, path)
		if keys, ok := strings.CutPrefix(inner.Error(), "has invalid keys: "); ok {
			probs = append(probs, s.unknownKeys(path, typ, strings.Split(keys, ", "))...)
			continue
		}
		n := s.node(path)
		p := configProblem{line: s.line(path), path: path, msg: inner.Error()}
		if typ != nil && n != nil {
			p.msg = fmt.Sprintf("want %s, got %s", describeType(typ), describeNode(n))
		}
		probs = append(probs, p)
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].line < probs[j].line })
	lines := make([]string, len(probs))
	for i, p := range probs {
		lines[i] = s.where(p.line) + ": " + orDefault(p.path, "(top level)") + ": " + p.msg
	}
	return errors.New(strings.Join(lines, "\n"))
}

// unknownKeys reports the keys of the mapping at path that typ has no field
// for, each at its own line with a "did you mean" hint. keys (from the
// decoder's message) are used when the mapping is not in the file.
func (s *configSource) unknownKeys(path string, typ reflect.Type, keys []string) []configProblem {
	known := fieldNames(typ)
	hint := func(k string) string {
		if c := suggest.Closest(k, known); c != "" {
			return fmt.Sprintf("unknown field; did you mean %q?", c)
		}
		if len(known) > 0 {
			return "unknown field; known fields: " + strings.Join(known, ", ")
		}
		return "unknown field"
	}
	var probs []configProblem
	if n := s.node(path); n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !slices.ContainsFunc(known, func(f string) bool { return strings.EqualFold(f, k.Value) }) {
				probs = append(probs, configProblem{line: k.Line, path: joinKeyPath(path, k.Value), msg: hint(k.Value)})
			}
		}
	}
	if len(probs) > 0 {
		return probs
	}
	for _, k := range keys {
		probs = append(probs, configProblem{path: joinKeyPath(path, k), msg: hint(k)})
	}
	return probs
}

func joinKeyPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// collectDecodeErrors appends the innermost mapstructure DecodeErrors in the
// error tree err (joined errors included) to out.
func collectDecodeErrors(err error, out *[]*mapstructure.DecodeError) {
	switch e := err.(type) {
	case nil:
		return
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			collectDecodeErrors(x, out)
		}
		return
	case *mapstructure.DecodeError:
		var inner *mapstructure.DecodeError
		if errors.As(e.Unwrap(), &inner) {
			collectDecodeErrors(e.Unwrap(), out)
		} else {
			*out = append(*out, e)
		}
		return
	}
	collectDecodeErrors(errors.Unwrap(err), out)
}

// typeAtPath is the Go type that decodes the value at path (mapstructure's
// notation) within t, or nil when the path leaves the type.
func typeAtPath(t reflect.Type, path string) reflect.Type {
	for _, seg := range splitKeyPath(path) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := fieldByKey(t, seg)
			if !ok {
				return nil
			}
			t = f
		case reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		default:
			return nil
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// fieldNames are the keys a struct type accepts, from its mapstructure tags
// (the field name when untagged), in declaration order; nil for non-structs.
func fieldNames(t reflect.Type) []string {
	if t == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("mapstructure")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case name == "-":
		case strings.Contains(opts, "squash"):
			names = append(names, fieldNames(f.Type)...)
		case name == "":
			names = append(names, f.Name)
		default:
			names = append(names, name)
		}
	}
	return names
}

// fieldByKey is the type of t's field that key decodes into.
func fieldByKey(t reflect.Type, key string) (reflect.Type, bool) {
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if strings.Contains(opts, "squash") {
			if ft, ok := fieldByKey(f.Type, key); ok {
				return ft, true
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name != "-" && strings.EqualFold(name, key) {
			return f.Type, true
		}
	}
	return nil, false
}

// describeType names what a field of type t wants, for error messages.
func describeType(t reflect.Type) string {
	if t == reflect.TypeFor[time.Duration]() {
		return `a duration such as "2s"`
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return t.String()
}

// describeNode names what the file has at n, for error messages.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "a " + n.ShortTag()
}

// checkEnvValue checks the type of an environment override here, so a bad one
// is reported under its variable's name rather than as the config file's.
func checkEnvValue(key, val string) error {
	switch key {
	case "cache.disabled":
		if _, err := strconv.ParseBool(val); err != nil {
			return errors.New("want true or false")
		}
	case "run.concurrency":
		if _, err := strconv.Atoi(val); err != nil {
			return errors.New("want an integer")
		}
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// prices returns the app config's price entries only; the registry
// (registry.Options.Prices) and estimateTargets merge them over the built-in
// table (pricing.Default).
func (a *app) prices() pricing.Table {
	return a.conf.Prices
}
