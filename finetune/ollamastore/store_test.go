package ollamastore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/models is laid out as Ollama lays its store (manifests/<host>/
// <namespace>/<model>/<tag>, blobs/sha256-<hex>); the model blob is a small
// GGUF file, and the manifests also carry template and params layers.
const modelBlob = "sha256-2262acb83ad69de7d09680cad19e03153b9a1c7f1830fce38ced710653537e33"

func TestResolve(t *testing.T) {
	dir := filepath.Join("testdata", "models")
	want := filepath.Join(dir, "blobs", modelBlob)
	for _, name := range []string{"tiny", "tiny:latest", "ollama:tiny", "tiny:q8_0", "library/tiny", "registry.ollama.ai/library/tiny:latest", "someone/mymodel:v1"} {
		got, err := ResolveIn(dir, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	t.Setenv("OLLAMA_MODELS", dir)
	if got, err := Resolve("tiny"); err != nil || got != want {
		t.Errorf("Resolve via OLLAMA_MODELS: %q %v", got, err)
	}
	layers, err := ModelLayers(dir, "tiny")
	if err != nil || len(layers) != 3 || layers[1].MediaType != MediaTemplate {
		t.Errorf("layers %+v %v", layers, err)
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("OLLAMA_MODELS", "")
	t.Setenv("HOME", "/home/someone")
	if d, err := Dir(); err != nil || d != "/home/someone/.ollama/models" {
		t.Errorf("Dir() = %q, %v", d, err)
	}
}

func TestResolveErrors(t *testing.T) {
	dir := filepath.Join("testdata", "models")
	for _, c := range []struct{ name, want string }{
		{"absent", "ollama pull absent"},
		{"tiny:7b", "not found"},
		{"nomodel", "no application/vnd.ollama.image.model layer"},
		{"truncated", "incomplete pull"},
		{"../passwd", "not a valid name part"},
		{"../x/y", "bad host"},
		{"a/b/c/d", "want [host/][namespace/]model[:tag]"},
		{"tiny:", "not a valid name part"},
	} {
		_, err := ResolveIn(dir, c.name)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to mention %q", c.name, err, c.want)
		}
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Errorf("%s: %T is not *Error", c.name, err)
		}
	}
	if _, err := ResolveIn(dir, "absent"); !errors.Is(err, ErrNotFound) {
		t.Errorf("absent model: %v is not ErrNotFound", err)
	}
}

func TestParseName(t *testing.T) {
	for in, want := range map[string]Name{
		"llama3.2":                 {DefaultHost, DefaultNamespace, "llama3.2", DefaultTag},
		"llama3.2:1b":              {DefaultHost, DefaultNamespace, "llama3.2", "1b"},
		"hf.co/bartowski/x:Q4_K_M": {"hf.co", "bartowski", "x", "Q4_K_M"},
		"localhost:5000/ns/m:t":    {"localhost:5000", "ns", "m", "t"},
	} {
		got, err := ParseName(in)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", in, got, err, want)
		}
	}
}

func TestResolveOldBlobNames(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("testdata", "models")
	m, _ := os.ReadFile(filepath.Join(src, "manifests", "registry.ollama.ai", "library", "tiny", "latest"))
	mdir := filepath.Join(dir, "manifests", "registry.ollama.ai", "library", "tiny")
	os.MkdirAll(mdir, 0o755)
	os.WriteFile(filepath.Join(mdir, "latest"), m, 0o644)
	os.MkdirAll(filepath.Join(dir, "blobs"), 0o755)
	entries, _ := os.ReadDir(filepath.Join(src, "blobs"))
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(src, "blobs", e.Name()))
		os.WriteFile(filepath.Join(dir, "blobs", strings.Replace(e.Name(), "-", ":", 1)), b, 0o644)
	}
	got, err := ResolveIn(dir, "tiny")
	if err != nil || filepath.Base(got) != strings.Replace(modelBlob, "-", ":", 1) {
		t.Errorf("%q %v", got, err)
	}
}
