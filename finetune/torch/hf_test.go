//go:build torch

package torch

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/tokenize"
	"github.com/yardstick-eval/yardstick/providers"
)

// hfModelDir writes a Hugging Face style model directory: config.json, model.safetensors (random weights),
// tokenizer.json (finetune/tokenize's SmolLM2-style test tokenizer) and a tokenizer_config.json whose
// ChatML chat_template carries a default system prompt, as SmolLM2-Instruct's does.
func hfModelDir(t testing.TB, dir string) string {
	t.Helper()
	lockThread(t)
	out := filepath.Join(dir, "hf-base")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("..", "tokenize", "testdata", "smol.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, tokenize.HFFile), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	tc := `{"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|pad|>",
 "chat_template": "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"}`
	if err := os.WriteFile(filepath.Join(out, "tokenizer_config.json"), []byte(tc), 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenize.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	cfg := finetune.TinyConfig(tok.VocabSize())
	cfg.TieWordEmbeddings = false
	cfg.SetTokenIDs(tok.Specials())
	m, err := newModel(cfg, initParams(cfg, 3))
	if err != nil {
		t.Fatal(err)
	}
	defer m.free()
	if err := m.saveModel(out, false); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHuggingFaceModelDir: a Hugging Face model directory (HF tokenizer, ChatML template from
// tokenizer_config.json, untied lm_head) fine-tunes with LoRA and full fine-tuning, and serves.
func TestHuggingFaceModelDir(t *testing.T) {
	dir := t.TempDir()
	base := hfModelDir(t, dir)
	data := writeChatData(t, dir, 16)
	for _, lora := range []bool{true, false} {
		name := "full"
		cfg := smallConfig(8)
		if lora {
			name = "lora"
			l := finetune.DefaultLoRAConfig()
			cfg.LoRA = &l
		}
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(dir, name)
			ck, err := Train(context.Background(), TrainOptions{Data: data, Base: base, Out: out, Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			if ck.Template != finetune.TemplateChatML || ck.DefaultSystem == "" || ck.Tokenizer != "hf" || ck.Adapter != lora {
				t.Errorf("checkpoint template %q default system %q tokenizer %q adapter %v", ck.Template, ck.DefaultSystem, ck.Tokenizer, ck.Adapter)
			}
			p, err := NewProvider(out, ProviderOptions{MaxTokens: 5, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer p.(interface{ Close() error }).Close()
			req := &providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: "Where is order 3?"}}}
			resp, err := p.Generate(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := tokenize.Load(base)
			tmpl, _ := finetune.DetectTemplate(base, tok)
			prompt, _ := finetune.RenderPrompt(tok, tmpl, "", req.Messages, 0)
			if resp.Usage.InputTokens != len(prompt) || resp.Usage.OutputTokens == 0 {
				t.Errorf("usage %+v, want %d input tokens", resp.Usage, len(prompt))
			}
			if resp.Model != name {
				t.Errorf("model %q, want %q", resp.Model, name)
			}
		})
	}
	// The untouched base directory serves as is, too.
	p, err := NewProvider(base, ProviderOptions{MaxTokens: 3, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.(interface{ Close() error }).Close()
	if _, err := p.Generate(context.Background(), &providers.Request{Messages: []providers.Message{{Role: "user", Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
}

// TestEvalDataFile: a separate held-out file replaces the EvalFraction split.
func TestEvalDataFile(t *testing.T) {
	dir := t.TempDir()
	train := writeChatData(t, dir, 10)
	evalDir := filepath.Join(dir, "eval")
	os.MkdirAll(evalDir, 0o755)
	eval := writeChatData(t, evalDir, 3)
	cfg := smallConfig(2)
	cfg.EvalFraction = 0.5 // ignored: EvalData is set
	ck, err := Train(context.Background(), TrainOptions{Data: train, EvalData: eval, Base: "scratch", Out: filepath.Join(dir, "run"), Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if ck.TrainExamples != 10 || ck.EvalExamples != 3 || len(ck.EvalLoss) != 1 {
		t.Errorf("train %d eval %d examples, %d eval points; want 10, 3, 1", ck.TrainExamples, ck.EvalExamples, len(ck.EvalLoss))
	}
}
