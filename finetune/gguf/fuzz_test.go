package gguf

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen: no input makes the reader panic or allocate without bound; a
// file that opens yields tensors that read or fail with an error.
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"quant_Q4_K.gguf", "tok_gpt2.gguf", "written_lora.gguf"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "f.gguf")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Skip()
		}
		g, err := Open(p)
		if err != nil {
			return
		}
		defer g.Close()
		for _, ti := range g.Tensors() {
			if ti.Elements() < 1<<20 {
				g.ReadTensor(ti.Name)
			}
		}
		g.ModelConfig()
		g.TokenizerJSON()
	})
}
