//go:build torch

package torch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/gguf"
	"github.com/yardstick-eval/yardstick/finetune/tokenize"
)

// Built reports whether this binary was built with libtorch (the torch build tag).
func Built() bool { return true }

// ExportMerged loads dir (a LoRA adapter directory, e.g. a run trained without Merge) and writes out as a
// self-contained model directory: the base weights with the adapter folded in (W + (alpha/r)·B·A),
// config.json, the tokenizer, generation_config.json and the run's yardstick_checkpoint.json (so the chat
// template is kept). out may equal dir.
func ExportMerged(ctx context.Context, dir, out string) error {
	return onTorchThread(ctx, func() error { return exportMerged(dir, out) })
}

func exportMerged(dir, out string) error {
	l, err := loadDir(dir)
	if err != nil {
		return err
	}
	defer l.free()
	if l.m.lora == nil {
		return errors.New(dir + ": no LoRA adapter to merge")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := l.m.saveModel(out, true); err != nil {
		return err
	}
	if err := tokenize.Save(l.tok, out); err != nil {
		return err
	}
	gc := finetune.NewGenerationConfig(l.m.cfg, finetune.StopIDs(l.tok, l.tmpl))
	if err := gc.Save(filepath.Join(out, finetune.GenerationConfigFile)); err != nil {
		return err
	}
	ck, err := finetune.ReadCheckpoint(dir)
	if err != nil {
		ck = &finetune.Checkpoint{Done: true}
	}
	ck.Template, ck.DefaultSystem = l.tmpl.Name, l.tmpl.DefaultSystem
	ck.SavedAt = time.Now().UTC()
	return finetune.WriteCheckpoint(out, ck)
}

// ExportGGUF loads dir (a run, checkpoint, adapter or model directory, or a GGUF model) and writes out as
// a GGUF file for llama.cpp and Ollama. With adapter false it is the whole model, LoRA merged in
// (W + (alpha/r)·B·A), with weights of type typ ("f16", "q8_0", "f32", "bf16"; "" means f16) and the
// tokenizer and chat template as metadata, so `ollama create` with a Modelfile `FROM out` serves it. With
// adapter true it is the LoRA adapter alone, in llama.cpp's GGUF LoRA format (typ "f32" or "f16"), for
// llama.cpp's --lora or an Ollama ADAPTER line on the base GGUF.
func ExportGGUF(ctx context.Context, dir, out, typ string, adapter bool) error {
	return onTorchThread(ctx, func() error { return exportGGUF(dir, out, typ, adapter) })
}

func exportGGUF(dir, out, typ string, adapter bool) error {
	if typ == "" {
		typ = "f16"
	}
	t, err := gguf.ParseType(typ)
	if err != nil {
		return err
	}
	prev := setGradEnabled(false)
	defer setGradEnabled(prev)
	l, err := loadDir(dir)
	if err != nil {
		return err
	}
	defer l.free()
	m := l.m
	name := filepath.Base(strings.TrimSuffix(dir, string(filepath.Separator)))
	projs := map[string]*proj{}
	for _, ly := range m.layers {
		for _, p := range ly.projs() {
			projs[p.name] = p
		}
	}
	if adapter {
		if m.lora == nil {
			return errors.New(dir + ": no LoRA adapter to export (export the model instead)")
		}
		src := func(hfName string, shape []int64) ([]float32, error) {
			for _, part := range []string{"lora_A", "lora_B"} {
				for pn, p := range projs {
					if finetune.PEFTTensorName(pn, part) == hfName && p.a.ok() {
						if part == "lora_A" {
							return p.a.float32s(), nil
						}
						return p.b.float32s(), nil
					}
				}
			}
			return nil, fmt.Errorf("%s: no adapter tensor %s", dir, hfName)
		}
		return gguf.WriteLoRA(out, m.cfg, m.lora, src, gguf.LoRAOptions{Type: t, Name: name})
	}
	src := func(hfName string, shape []int64) ([]float32, error) {
		w, ok := m.params[hfName]
		if !ok {
			return nil, fmt.Errorf("%s: no tensor %s", dir, hfName)
		}
		if p, ok := projs[strings.TrimSuffix(hfName, ".weight")]; ok && p.a.ok() {
			var s scope
			defer s.free()
			delta := s.t(mulScalar(s.t(matmul(p.b, p.a)), m.loraScale))
			return s.t(add(w, delta)).float32s(), nil
		}
		return w.float32s(), nil
	}
	return gguf.WriteModel(out, m.cfg, src, gguf.ModelOptions{Type: t, Tokenizer: l.tok, ChatTemplate: chatTemplateOf(l), Name: name})
}

// chatTemplateOf is the Jinja chat template to store with an exported model: the tokenizer's own when it
// has one; otherwise the standard template of the chat format the model was trained with.
func chatTemplateOf(l *loaded) string {
	if hf, ok := l.tok.(*tokenize.HF); ok && hf.ChatTemplate() != "" {
		return ""
	}
	switch l.tmpl.Name {
	case finetune.TemplateChatML:
		sys := ""
		if l.tmpl.DefaultSystem != "" {
			sys = "{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n" + jinjaEscape(l.tmpl.DefaultSystem) + "<|im_end|>\n' }}{% endif %}"
		}
		return "{% for message in messages %}" + sys + "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
	case finetune.TemplateLlama3:
		return "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
	}
	return ""
}

// jinjaEscape escapes s for a single-quoted Jinja string literal.
func jinjaEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s)
}
