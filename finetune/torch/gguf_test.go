//go:build torch

package torch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/yardstick-eval/yardstick/finetune/gguf"
	"github.com/yardstick-eval/yardstick/providers"
)

const ggufFixture = "../gguf/testdata/tiny_llama.gguf"

// TestGGUFLoadMatchesTransformers: a model loaded from a GGUF file (dequantised, Q/K unpermuted by
// finetune/gguf) gives the logits of the same model built from the state dict transformers'
// load_gguf_checkpoint makes of that file (stored by finetune/gguf's fixture script in
// tiny_llama_hf.gguf, HF names, float32). TestForwardParity separately pins this forward pass to
// PyTorch's.
func TestGGUFLoadMatchesTransformers(t *testing.T) {
	lockThread(t)
	prev := setGradEnabled(false)
	defer setGradEnabled(prev)
	l, err := loadDir(ggufFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer l.free()
	hf, err := gguf.Open("../gguf/testdata/tiny_llama_hf.gguf")
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	params := map[string]tensor{}
	for _, ti := range hf.Tensors() {
		raw, err := hf.RawTensor(ti.Name)
		if err != nil {
			t.Fatal(err)
		}
		v := unsafe.Slice((*float32)(unsafe.Pointer(&raw[0])), len(raw)/4)
		params[ti.Name] = fromFloat32s(append([]float32(nil), v...), ti.HFShape()...)
	}
	ref, err := newModel(l.m.cfg, params)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.free()
	ids := []int32{1, 17, 33, 90, 5, 64, 101, 7, 300, 599}
	var s scope
	defer s.free()
	x := s.t(fromInt32sAsInt64(ids, 1, int64(len(ids))))
	got := l.m.logits(&s, x, 1, int64(len(ids)), nil).float32s()
	want := ref.logits(&s, x, 1, int64(len(ids)), nil).float32s()
	compare(t, "logits from GGUF vs transformers' state dict", got, want, 1e-5)
	if l.window != 128 {
		t.Errorf("window %d, want max_position_embeddings 128", l.window)
	}
}

// TestGGUFProvider: local:FILE.gguf serves the file with its own tokenizer and chat template, and a file
// that is not a model is refused with the reason.
func TestGGUFProvider(t *testing.T) {
	p, err := NewProvider(ggufFixture, ProviderOptions{MaxTokens: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer p.(interface{ Close() error }).Close()
	resp, err := p.Generate(context.Background(), &providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: "hello there"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage.InputTokens == 0 || (resp.FinishReason == "length" && resp.Usage.OutputTokens != 6) {
		t.Errorf("response %+v", resp)
	}
	bad := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(bad, []byte("not a model"), 0o644)
	_, err = NewProvider(bad, ProviderOptions{})
	if err == nil || !strings.Contains(err.Error(), "neither a GGUF model nor a model directory") {
		t.Errorf("a text file: %v", err)
	}
	_, err = NewProvider(filepath.Join(t.TempDir(), "missing.gguf"), ProviderOptions{})
	if err == nil || !strings.Contains(err.Error(), "missing.gguf") || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a missing .gguf: %v", err)
	}
}
