//go:build torch

package torch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/gguf"
	"github.com/yardstick-eval/yardstick/finetune/safetensors"
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

// TestGGUFExportRoundTrip: a LoRA fine-tune of a GGUF base, exported as a merged GGUF (F32, F16, Q8_0)
// and read back by this package's own loader, gives the logits of the run it came from (exactly for F32,
// within the format's rounding otherwise); the GGUF LoRA export holds the adapter's matrices; the run's
// adapter_config.json lists the modules for PEFT; and the trained adapter serves from its GGUF base.
func TestGGUFExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	data := writeChatData(t, dir, 16)
	run := filepath.Join(dir, "run")
	cfg := smallConfig(6)
	lc := finetune.DefaultLoRAConfig()
	lc.Rank, lc.Alpha, lc.TargetModules = 4, 8, []string{finetune.LoRAAllLinear}
	cfg.LoRA = &lc
	if _, err := Train(context.Background(), TrainOptions{Data: data, Base: ggufFixture, Out: run, Config: cfg}); err != nil {
		t.Fatal(err)
	}
	ac, err := finetune.LoadAdapterConfig(run)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ac.TargetModules, finetune.LoRATargetModules) {
		t.Errorf("adapter_config.json target_modules %q, want the explicit list %q", ac.TargetModules, finetune.LoRATargetModules)
	}
	ids := []int32{1, 17, 33, 90, 5, 64, 101, 7}
	logitsOf := func(path string) []float32 {
		t.Helper()
		var out []float32
		err := onTorchThread(context.Background(), func() error {
			prev := setGradEnabled(false)
			defer setGradEnabled(prev)
			l, err := loadDir(path)
			if err != nil {
				return err
			}
			defer l.free()
			var s scope
			defer s.free()
			out = l.m.logits(&s, s.t(fromInt32sAsInt64(ids, 1, int64(len(ids)))), 1, int64(len(ids)), nil).float32s()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := logitsOf(run)
	if d := maxAbsDiff(want, logitsOf(ggufFixture)); d < 1e-4 {
		t.Fatalf("the fine-tune did not change the model (max |Δlogit| vs base %g)", d)
	}
	for _, c := range []struct {
		typ string
		tol float64
	}{{"f32", 1e-5}, {"f16", 2e-2}, {"q8_0", 1e-1}} {
		out := filepath.Join(dir, "merged-"+c.typ+".gguf")
		if err := ExportGGUF(context.Background(), run, out, c.typ, false); err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		f, err := gguf.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		if f.ChatTemplate() == "" {
			t.Errorf("%s: no tokenizer.chat_template", c.typ)
		}
		if _, err := f.Tokenizer(); err != nil {
			t.Errorf("%s: tokenizer: %v", c.typ, err)
		}
		f.Close()
		d := maxAbsDiff(want, logitsOf(out))
		t.Logf("%s: max |Δlogit| vs the run %.3g", c.typ, d)
		if d > c.tol {
			t.Errorf("%s export: logits differ by %g (tolerance %g)", c.typ, d, c.tol)
		}
	}
	lora := filepath.Join(dir, "adapter.gguf")
	if err := ExportGGUF(context.Background(), run, lora, "f32", true); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(lora)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if typ, _ := f.Metadata().String("general.type"); typ != "adapter" {
		t.Errorf("general.type %q", typ)
	}
	base, _ := finetune.LoadModelConfig("../gguf/testdata/tiny_llama_config.json")
	if n, want := len(f.Tensors()), 2*len(base.LoRATensors(ac.LoRA())); n != want {
		t.Errorf("GGUF LoRA holds %d tensors, want %d", n, want)
	}
	// v_proj is not permuted: its A (GGUF [in, r] = PEFT [r, in] row-major) reads back bit for bit.
	st, err := safetensorsTensor(filepath.Join(run, adapterFile), finetune.PEFTTensorName("model.layers.0.self_attn.v_proj", "lora_A"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.RawTensor("blk.0.attn_v.weight.lora_a")
	if err != nil {
		t.Fatal(err)
	}
	got := unsafe.Slice((*float32)(unsafe.Pointer(&raw[0])), len(raw)/4)
	if d := maxAbsDiff(got, st); d != 0 {
		t.Errorf("blk.0.attn_v.weight.lora_a differs from the adapter's lora_A by %g", d)
	}
}

func safetensorsTensor(path, name string) ([]float32, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Tensor(name)
	if err != nil {
		return nil, err
	}
	return st.Float32s()
}

// TestOllamaBase: "ollama:NAME:TAG" serves the GGUF blob of a store laid out as Ollama lays it
// (OLLAMA_MODELS/manifests/…/NAME/TAG → blobs/sha256-…), and a name the store lacks says how to get it.
func TestOllamaBase(t *testing.T) {
	store := t.TempDir()
	blob, err := os.ReadFile(ggufFixture)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(blob)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	blobs := filepath.Join(store, "blobs")
	mdir := filepath.Join(store, "manifests", "registry.ollama.ai", "library", "tiny")
	for _, d := range []string{blobs, mdir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(blobs, "sha256-"+hex.EncodeToString(sum[:])), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"%[1]s","size":%[2]d},
"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"%[1]s","size":%[2]d}]}`, digest, len(blob))
	if err := os.WriteFile(filepath.Join(mdir, "1b"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OLLAMA_MODELS", store)
	if _, err := Fingerprint("ollama:tiny:1b"); err != nil {
		t.Fatalf("Fingerprint: %v", err)
	}
	p, err := NewProvider("ollama:tiny:1b", ProviderOptions{MaxTokens: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer p.(interface{ Close() error }).Close()
	if _, err := p.Generate(context.Background(), &providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	_, err = NewProvider("ollama:absent", ProviderOptions{})
	if err == nil || !strings.Contains(err.Error(), "ollama pull absent") {
		t.Errorf("a model the store lacks: %v", err)
	}
}
