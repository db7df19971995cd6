package gguf

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hdr builds a GGUF header by hand.
type hdr struct{ b []byte }

func (h *hdr) u32(x uint32) *hdr { h.b = binary.LittleEndian.AppendUint32(h.b, x); return h }
func (h *hdr) u64(x uint64) *hdr { h.b = binary.LittleEndian.AppendUint64(h.b, x); return h }
func (h *hdr) str(s string) *hdr { h.u64(uint64(len(s))); h.b = append(h.b, s...); return h }
func (h *hdr) raw(s string) *hdr { h.b = append(h.b, s...); return h }

func start(version uint32, tensors, kvs uint64) *hdr {
	return (&hdr{}).raw("GGUF").u32(version).u64(tensors).u64(kvs)
}

const pad = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

func TestOpenErrors(t *testing.T) {
	good, _ := os.ReadFile("testdata/quant_Q8_0.gguf")
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"magic", []byte("GGML\x03\x00\x00\x00"), `not a GGUF file (starts with "GGML"`},
		{"v1", start(1, 0, 0).b, "version 1 is not supported"},
		{"v9", start(9, 0, 0).b, "unknown GGUF version 9"},
		{"big-endian", (&hdr{}).raw("GGUF").u32(0x03000000).b, "big-endian"},
		{"huge counts", start(3, 1<<40, 0).b, "implausible header"},
		{"cut in kv", start(3, 0, 1).str("general.architecture").b, "file ends inside the header"},
		{"long string", start(3, 0, 1).u64(1 << 40).raw(pad).b, "longer than the limit"},
		{"string past the end", start(3, 0, 1).u64(1000).raw(pad).b, "runs past the end of the file"},
		{"array past the end", start(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeInt32)).u64(1000).raw(pad).b, "array of 1000 int32 elements runs past the end"},
		{"bad value type", start(3, 0, 1).str("k").u32(77).b, "k: unknown value type 77"},
		{"long array", start(3, 0, 1).str("k").u32(uint32(TypeArray)).u32(uint32(TypeInt32)).u64(1 << 40).b, "array of 1099511627776 elements"},
		{"dup key", start(3, 0, 2).str("k").u32(uint32(TypeBool)).raw("\x01").str("k").u32(uint32(TypeBool)).raw("\x00").b, "k: duplicate metadata key"},
		{"bad bool", start(3, 0, 1).str("k").u32(uint32(TypeBool)).raw("\x05").b, "bool value 5"},
		{"bad alignment", start(3, 0, 1).str("general.alignment").u32(uint32(TypeUint32)).u32(3).b, "general.alignment: want a power of two"},
		{"5 dims", start(3, 1, 0).str("w").u32(5).raw(pad).b, "w: 5 dimensions"},
		{"unknown type", start(3, 1, 0).str("w").u32(1).u64(32).u32(99).u64(0).b, "w: unknown tensor type 99"},
		{"partial block", start(3, 1, 0).str("w").u32(1).u64(30).u32(uint32(Q8_0)).u64(0).b, "multiple of 32"},
		{"misaligned", start(3, 1, 0).str("w").u32(1).u64(32).u32(uint32(F32)).u64(4).b, "not aligned"},
		{"outside", start(3, 1, 0).str("w").u32(1).u64(32).u32(uint32(F32)).u64(0).b, "truncated download?"},
		{"truncated file", good[:len(good)-100], "expected: tensor data"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name+".gguf")
			os.WriteFile(p, c.data, 0o644)
			f, err := Open(p)
			if err == nil {
				f.Close()
				t.Fatalf("opened")
			}
			var fe *FormatError
			if !errors.As(err, &fe) || fe.File != p {
				t.Errorf("%T %v: want a *FormatError naming the file", err, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
}

func TestMetadataAccessors(t *testing.T) {
	f := open(t, "testdata/tiny_llama.gguf")
	m := f.Metadata()
	if f.Version() != 3 || f.Architecture() != "llama" {
		t.Errorf("version %d arch %q", f.Version(), f.Architecture())
	}
	if n, ok := m.Int("llama.block_count"); !ok || n != 2 {
		t.Errorf("block_count %d %v", n, ok)
	}
	if _, ok := m.Int("llama.no_such_key"); ok {
		t.Error("absent key reported present")
	}
	if _, ok := m.String("llama.block_count"); ok {
		t.Error("an integer read as a string")
	}
	if v, ok := m.Float("llama.rope.freq_base"); !ok || v != 10000 {
		t.Errorf("freq_base %v", v)
	}
	if toks, ok := m.Strings("tokenizer.ggml.tokens"); !ok || len(toks) != 602 {
		t.Errorf("tokens %d", len(toks))
	}
	if types, ok := m.Ints("tokenizer.ggml.token_type"); !ok || types[0] != TokenControl {
		t.Errorf("token types %v", types[:3])
	}
	if !IsGGUF("testdata/tiny_llama.gguf") || IsGGUF("testdata/make_fixtures.py") || IsGGUF("testdata") {
		t.Error("IsGGUF")
	}
}

func TestUnsupportedModels(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "qwen.gguf")
	os.WriteFile(p, start(3, 0, 1).str("general.architecture").u32(uint32(TypeString)).str("qwen2").b, 0o644)
	f := open(t, p)
	if _, err := f.ModelConfig(); err == nil || !strings.Contains(err.Error(), `"qwen2": only the llama architecture`) {
		t.Errorf("qwen2: %v", err)
	}
	if _, err := f.Tokenizer(); err == nil || !strings.Contains(err.Error(), "tokenizer.ggml.model") {
		t.Errorf("no tokenizer: %v", err)
	}
	if err := f.ForEachHF(func(string, []int64, []float32) error { return nil }); err == nil {
		t.Error("ForEachHF on a non-llama file")
	}
}
