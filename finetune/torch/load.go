//go:build torch

package torch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/tokenize"
)

// loaded is a model ready to run, with its tokenizer and chat template.
type loaded struct {
	m    *model
	tok  tokenize.Tokenizer
	tmpl finetune.Template
	dir  string
	// window is how many positions (prompt + reply) generation may use: max_position_embeddings, or, for a
	// model trained from scratch by Yardstick, the sequence length it was trained on (seq_len + 1), since it
	// has never seen later positions.
	window int
	// promptMax, when > 0, caps the prompt: for a model trained from scratch, the prompt length its long
	// training examples were cut to (promptBudget).
	promptMax int
}

func (l *loaded) free() {
	if l.m != nil {
		l.m.free()
	}
}

// loadDir loads a model directory: a Hugging Face model directory, a Yardstick run or checkpoint
// directory, or a PEFT adapter directory (adapter_config.json naming its base model). A directory with
// both a full model (config.json + weights, e.g. a merged export) and an adapter loads the full model.
// Relative base_model_name_or_path values are resolved against the adapter directory.
func loadDir(dir string) (_ *loaded, err error) {
	l := &loaded{dir: dir}
	defer func() {
		if err != nil {
			l.free()
		}
	}()
	if path, ok, err := GGUFPath(dir); ok || err != nil {
		if err != nil {
			return nil, err
		}
		g, err := loadGGUF(path, true)
		if err != nil {
			return nil, err
		}
		if l.m, err = newModel(g.cfg, g.params); err != nil {
			for _, t := range g.params {
				t.free()
			}
			return nil, err
		}
		l.tok, l.tmpl, l.window = g.tok, g.tmpl, g.cfg.MaxPositionEmbeddings
		return l, nil
	}
	weightsDir := dir
	adapter := false
	_, noModel := os.Stat(filepath.Join(dir, configFile))
	if _, err := os.Stat(filepath.Join(dir, adapterCfgFile)); err == nil && noModel != nil {
		base, err := adapterBase(dir)
		if err != nil {
			return nil, err
		}
		adapter = true
		weightsDir = base
	}
	var cfg *finetune.ModelConfig
	var params map[string]tensor
	var baseTok tokenize.Tokenizer
	if path, ok, err := GGUFPath(weightsDir); ok || err != nil {
		// An adapter trained on a GGUF base.
		if err != nil {
			return nil, err
		}
		g, err := loadGGUF(path, false)
		if err != nil {
			return nil, err
		}
		cfg, params, baseTok = g.cfg, g.params, g.tok
	} else {
		if cfg, err = finetune.LoadModelConfig(filepath.Join(weightsDir, configFile)); err != nil {
			return nil, err
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		if params, err = loadParams(weightsDir, cfg); err != nil {
			return nil, err
		}
	}
	if l.m, err = newModel(cfg, params); err != nil {
		for _, t := range params {
			t.free()
		}
		return nil, err
	}
	if adapter {
		if err := l.m.loadAdapter(dir); err != nil {
			return nil, err
		}
	}
	switch {
	case hasTokenizer(dir) || baseTok == nil:
		tokDir := dir
		if !hasTokenizer(dir) {
			tokDir = weightsDir
		}
		if l.tok, err = tokenize.Load(tokDir); err != nil {
			return nil, err
		}
	default:
		l.tok = baseTok
	}
	if l.tok.VocabSize() > cfg.VocabSize {
		return nil, fmt.Errorf("%s: tokenizer has %d ids but config.json vocab_size is %d", dir, l.tok.VocabSize(), cfg.VocabSize)
	}
	if l.tmpl, err = finetune.DetectTemplate(dir, l.tok); err != nil {
		return nil, err
	}
	l.window = cfg.MaxPositionEmbeddings
	if ck, err := finetune.ReadCheckpoint(dir); err == nil && ck.BaseModel == "" && ck.TrainConfig.SeqLen > 0 {
		if l.window <= 0 || ck.TrainConfig.SeqLen+1 < l.window {
			l.window = ck.TrainConfig.SeqLen + 1
		}
		l.promptMax = promptBudget(ck.TrainConfig.SeqLen)
	}
	return l, nil
}

func hasTokenizer(dir string) bool {
	for _, f := range []string{tokenize.HFFile, tokenize.BytesMarkerFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// adapterBase returns the base model directory an adapter directory names.
func adapterBase(dir string) (string, error) {
	p := filepath.Join(dir, adapterCfgFile)
	ac, err := finetune.LoadAdapterConfig(p)
	if err != nil {
		return "", err
	}
	base := ac.BaseModelNameOrPath
	if base == "" {
		return "", fmt.Errorf("%s: base_model_name_or_path is empty", p)
	}
	if strings.HasPrefix(base, OllamaPrefix) {
		return base, nil
	}
	if !filepath.IsAbs(base) {
		base = filepath.Join(dir, base)
	}
	if _, ok, err := GGUFPath(base); ok || err != nil {
		if err != nil {
			return "", fmt.Errorf("%s: base_model_name_or_path: %w", p, err)
		}
		return base, nil
	}
	if _, err := os.Stat(filepath.Join(base, configFile)); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: base_model_name_or_path %q is not a local model directory (no %s)", p, ac.BaseModelNameOrPath, configFile)
	}
	return base, nil
}

// parseScratch reports whether base asks for a model trained from scratch, and which preset.
func parseScratch(base string) (preset string, ok bool) {
	if base == "scratch" {
		return "tiny", true
	}
	if p, found := strings.CutPrefix(base, "scratch:"); found {
		return p, true
	}
	return "", false
}
