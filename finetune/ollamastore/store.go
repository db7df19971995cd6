// Package ollamastore finds a model's GGUF file in the local Ollama model
// store, so that Yardstick can load (or fine-tune) a model the user pulled
// with `ollama pull`, without Ollama running.
//
// The store is the directory OLLAMA_MODELS names, by default ~/.ollama/models,
// laid out as Ollama lays it:
//
//	manifests/<host>/<namespace>/<model>/<tag>   one JSON manifest per tag
//	blobs/sha256-<hex>                           content-addressed layers
//
// A name is [host/][namespace/]model[:tag], defaulting to registry.ollama.ai,
// library and latest, as `ollama run` reads it. The manifest's layer of media
// type application/vnd.ollama.image.model is the GGUF weights file. The
// package reads only; it does not pull, hash-verify (it checks sizes) or
// apply a manifest's adapter, template or parameter layers (ModelLayers
// reports them for a caller that wants to).
package ollamastore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Defaults of an Ollama model name.
const (
	DefaultHost      = "registry.ollama.ai"
	DefaultNamespace = "library"
	DefaultTag       = "latest"
	// Prefix marks an Ollama model reference in Yardstick's --base and
	// local: targets ("ollama:llama3.2:1b").
	Prefix = "ollama:"
)

// Media types of manifest layers.
const (
	MediaModel    = "application/vnd.ollama.image.model"
	MediaAdapter  = "application/vnd.ollama.image.adapter"
	MediaTemplate = "application/vnd.ollama.image.template"
	MediaParams   = "application/vnd.ollama.image.params"
	MediaSystem   = "application/vnd.ollama.image.system"
)

// Error is a model that cannot be resolved: Name as given, Path the file
// concerned ("" if none).
type Error struct {
	Name string
	Path string
	Err  error
}

func (e *Error) Error() string {
	s := "ollama model " + e.Name
	if e.Path != "" {
		s += ": " + e.Path
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrNotFound is wrapped by Error when the store has no such model.
var ErrNotFound = errors.New("not found")

// Dir is the store directory: $OLLAMA_MODELS, else ~/.ollama/models.
func Dir() (string, error) {
	if d := os.Getenv("OLLAMA_MODELS"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("ollama model store: %w (set OLLAMA_MODELS)", err)
	}
	return filepath.Join(home, ".ollama", "models"), nil
}

// Name is a parsed model name.
type Name struct {
	Host, Namespace, Model, Tag string
}

func (n Name) String() string {
	return n.Host + "/" + n.Namespace + "/" + n.Model + ":" + n.Tag
}

var partRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// ParseName parses [host/][namespace/]model[:tag], filling in the defaults.
func ParseName(s string) (Name, error) {
	n := Name{Host: DefaultHost, Namespace: DefaultNamespace, Tag: DefaultTag}
	rest := s
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i:], "/") {
		n.Tag, rest = rest[i+1:], rest[:i]
	}
	parts := strings.Split(rest, "/")
	switch len(parts) {
	case 1:
		n.Model = parts[0]
	case 2:
		n.Namespace, n.Model = parts[0], parts[1]
	case 3:
		n.Host, n.Namespace, n.Model = parts[0], parts[1], parts[2]
	default:
		return Name{}, &Error{Name: s, Err: errors.New("invalid name: want [host/][namespace/]model[:tag]")}
	}
	for _, p := range []string{n.Namespace, n.Model, n.Tag} {
		if !partRe.MatchString(p) {
			return Name{}, &Error{Name: s, Err: fmt.Errorf("invalid name: %q is not a valid name part", p)}
		}
	}
	if n.Host == "" || strings.Contains(n.Host, "..") || strings.ContainsAny(n.Host, `\`) {
		return Name{}, &Error{Name: s, Err: fmt.Errorf("invalid name: bad host %q", n.Host)}
	}
	return n, nil
}

// Layer is one layer of a manifest, with the path of its blob.
type Layer struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	Path      string `json:"-"`
}

// Resolve returns the path of the GGUF blob of the model name (without the
// "ollama:" prefix, which is accepted too) in the store Dir().
func Resolve(name string) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	return ResolveIn(dir, name)
}

// ResolveIn is Resolve in the store directory dir.
func ResolveIn(dir, name string) (string, error) {
	layers, err := ModelLayers(dir, name)
	if err != nil {
		return "", err
	}
	for _, l := range layers {
		if l.MediaType == MediaModel {
			return l.Path, nil
		}
	}
	return "", &Error{Name: name, Err: errors.New("its manifest has no " + MediaModel + " layer")}
}

// ModelLayers reads the manifest of name in dir and returns its layers with
// their blob paths, checking that every blob exists with the size the
// manifest states.
func ModelLayers(dir, name string) ([]Layer, error) {
	name = strings.TrimPrefix(name, Prefix)
	n, err := ParseName(name)
	if err != nil {
		return nil, err
	}
	mpath := filepath.Join(dir, "manifests", n.Host, n.Namespace, n.Model, n.Tag)
	b, err := os.ReadFile(mpath)
	if errors.Is(err, os.ErrNotExist) {
		hint := fmt.Errorf("%w in the Ollama store %s (pull it with `ollama pull %s`, or set OLLAMA_MODELS)", ErrNotFound, dir, name)
		return nil, &Error{Name: name, Path: mpath, Err: hint}
	}
	if err != nil {
		return nil, &Error{Name: name, Path: mpath, Err: err}
	}
	var m struct {
		SchemaVersion int     `json:"schemaVersion"`
		Layers        []Layer `json:"layers"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &Error{Name: name, Path: mpath, Err: fmt.Errorf("not an Ollama manifest: %v", err)}
	}
	if m.SchemaVersion != 2 {
		return nil, &Error{Name: name, Path: mpath, Err: fmt.Errorf("manifest schemaVersion %d, want 2", m.SchemaVersion)}
	}
	digestRe := regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	for i := range m.Layers {
		l := &m.Layers[i]
		if !digestRe.MatchString(l.Digest) {
			return nil, &Error{Name: name, Path: mpath, Err: fmt.Errorf("layers[%d].digest %q: want sha256:<64 hex digits>", i, l.Digest)}
		}
		l.Path = filepath.Join(dir, "blobs", strings.Replace(l.Digest, ":", "-", 1))
		st, err := os.Stat(l.Path)
		if errors.Is(err, os.ErrNotExist) {
			// Older Ollama versions named blobs sha256:<hex>.
			if old := filepath.Join(dir, "blobs", l.Digest); fileExists(old) {
				l.Path = old
				st, err = os.Stat(old)
			}
		}
		if err != nil {
			return nil, &Error{Name: name, Path: l.Path, Err: fmt.Errorf("blob of layer %s missing: %w", l.MediaType, err)}
		}
		if st.Size() != l.Size {
			return nil, &Error{Name: name, Path: l.Path, Err: fmt.Errorf("blob is %d bytes, the manifest says %d (incomplete pull?)", st.Size(), l.Size)}
		}
	}
	return m.Layers, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
