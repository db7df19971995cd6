//go:build torch

package torch

import (
	"fmt"
	"slices"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/gguf"
	"github.com/yardstick-eval/yardstick/finetune/tokenize"
)

// ggufModel is what a GGUF file provides: config, weights (dequantised to float32, HF names), tokenizer
// and chat template.
type ggufModel struct {
	cfg    *finetune.ModelConfig
	params map[string]tensor
	tok    tokenize.Tokenizer
	tmpl   finetune.Template
}

// loadGGUF reads a llama GGUF file (finetune/gguf): its config, every tensor cfg.Tensors() names (extra
// ones, such as an output.weight beside tied embeddings, are skipped), tokenizer and template. Pass
// withTemplate false when the caller picks the template itself.
func loadGGUF(path string, withTemplate bool) (_ *ggufModel, err error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	g := &ggufModel{params: map[string]tensor{}}
	defer func() {
		if err != nil {
			for _, t := range g.params {
				t.free()
			}
		}
	}()
	if g.cfg, err = f.ModelConfig(); err != nil {
		return nil, err
	}
	if err := g.cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	want := map[string][]int64{}
	for _, spec := range g.cfg.Tensors() {
		want[spec.Name] = spec.Shape
	}
	err = f.ForEachHF(func(name string, shape []int64, data []float32) error {
		sh, ok := want[name]
		if !ok {
			return nil
		}
		if !slices.Equal(sh, shape) {
			return fmt.Errorf("%s: tensor %q has shape %v, the file's metadata implies %v", path, name, shape, sh)
		}
		g.params[name] = fromFloat32s(data, shape...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for name := range want {
		if _, ok := g.params[name]; !ok {
			return nil, fmt.Errorf("%s: no tensor for %q", path, name)
		}
	}
	tok, err := f.Tokenizer()
	if err != nil {
		return nil, err
	}
	g.tok = tok
	if tok.VocabSize() > g.cfg.VocabSize {
		return nil, fmt.Errorf("%s: tokenizer has %d ids but the model's vocabulary is %d", path, tok.VocabSize(), g.cfg.VocabSize)
	}
	if withTemplate {
		if g.tmpl, err = f.Template(); err != nil {
			return nil, err
		}
	}
	return g, nil
}
