package tokenize

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

type expectedCase struct {
	Text    string  `json:"text"`
	IDs     []int32 `json:"ids"`
	Decoded string  `json:"decoded"`
}

type expectedFile struct {
	Tokenizers map[string]struct {
		VocabSize int            `json:"vocab_size"`
		Cases     []expectedCase `json:"cases"`
	} `json:"tokenizers"`
}

func loadExpected(t testing.TB) expectedFile {
	t.Helper()
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e expectedFile
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestHFParity checks ids and decoded text against Python's tokenizers for
// every fixture string.
func TestHFParity(t *testing.T) {
	exp := loadExpected(t)
	if len(exp.Tokenizers) != 4 {
		t.Fatalf("fixture has %d tokenizers, want 4", len(exp.Tokenizers))
	}
	for name, want := range exp.Tokenizers {
		t.Run(name, func(t *testing.T) {
			tok, err := LoadHF(filepath.Join("testdata", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if tok.VocabSize() != want.VocabSize {
				t.Errorf("VocabSize = %d, Python %d", tok.VocabSize(), want.VocabSize)
			}
			for i, c := range want.Cases {
				t.Run(fmt.Sprint(i), func(t *testing.T) {
					got := tok.Encode(c.Text)
					if !slices.Equal(got, c.IDs) {
						t.Errorf("Encode(%q)\n got  %v\n want %v", c.Text, got, c.IDs)
					}
					if dec := tok.Decode(c.IDs); dec != c.Decoded {
						t.Errorf("Decode(ids of %q) = %q, Python %q", c.Text, dec, c.Decoded)
					}
				})
			}
		})
	}
}

func TestHFConcurrentUse(t *testing.T) {
	exp := loadExpected(t)
	tok, err := LoadHF("testdata/smol.json")
	if err != nil {
		t.Fatal(err)
	}
	cases := exp.Tokenizers["smol"].Cases
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(cases))
	for g := range 8 {
		wg.Go(func() {
			for i := range cases {
				c := cases[(i+g)%len(cases)]
				if got := tok.Encode(c.Text); !slices.Equal(got, c.IDs) {
					errs <- fmt.Sprintf("Encode(%q) = %v, want %v", c.Text, got, c.IDs)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestHFSpecialsFromConfig(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		want    Specials
		wantErr string
	}{
		{"none", "", Specials{-1, -1, -1}, ""},
		{"strings", `{"bos_token":"<|im_start|>","eos_token":"<|im_end|>","pad_token":null}`, Specials{1, 2, -1}, ""},
		{"added token objects", `{"bos_token":{"__type":"AddedToken","content":"<|endoftext|>"},"eos_token":{"content":"<|im_end|>"},"pad_token":"<|pad|>"}`, Specials{0, 2, 601}, ""},
		{"unknown token", `{"eos_token":"</s>"}`, Specials{}, `eos_token: "</s>" is not in the vocabulary`},
		{"bad type", `{"bos_token":3}`, Specials{}, "bos_token: want a string"},
	}
	raw, err := os.ReadFile("testdata/smol.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cfg []byte
			if tc.config != "" {
				cfg = []byte(tc.config)
			}
			tok, err := ParseHF(raw, cfg, "smol.json")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Specials(); got != tc.want {
				t.Errorf("Specials = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestHFLoadErrors(t *testing.T) {
	raw, err := os.ReadFile("testdata/smol.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(d map[string]any)) []byte {
		var d map[string]any
		json.Unmarshal(raw, &d)
		f(d)
		b, _ := json.Marshal(d)
		return b
	}
	model := func(d map[string]any) map[string]any { return d["model"].(map[string]any) }
	tests := []struct {
		name  string
		data  []byte
		field string
		want  string
	}{
		{"not json", []byte("{"), "", "not a tokenizer.json"},
		{"wordpiece", mutate(func(d map[string]any) { model(d)["type"] = "WordPiece" }), "model.type", "only BPE"},
		{"dropout", mutate(func(d map[string]any) { model(d)["dropout"] = 0.1 }), "model.dropout", "not supported"},
		{"bad merge", mutate(func(d map[string]any) { model(d)["merges"] = []any{[]any{"zzz", "q"}} }), "model.merges[0]", "missing from the vocabulary"},
		{"merge arity", mutate(func(d map[string]any) { model(d)["merges"] = []any{"a b c"} }), "model.merges[0]", "two space-separated"},
		{"whitespace", mutate(func(d map[string]any) { d["pre_tokenizer"] = map[string]any{"type": "Whitespace"} }), "pre_tokenizer", `"Whitespace" is not supported`},
		{"metaspace replacement", mutate(func(d map[string]any) { d["pre_tokenizer"] = map[string]any{"type": "Metaspace", "replacement": ""} }), "pre_tokenizer", "must be one character"},
		{"bad regex", mutate(func(d map[string]any) {
			d["pre_tokenizer"] = map[string]any{"type": "Split", "pattern": map[string]any{"Regex": "(("}, "behavior": "Isolated"}
		}), "pre_tokenizer", "regex"},
		{"wordpiece decoder", mutate(func(d map[string]any) { d["decoder"] = map[string]any{"type": "WordPiece"} }), "decoder", "not supported"},
		{"unk missing", mutate(func(d map[string]any) { model(d)["unk_token"] = "<unk>" }), "model.unk_token", "not in the vocabulary"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHF(tc.data, nil, "tok.json")
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want *LoadError", err)
			}
			if le.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q (field %q), want field %q and %q", err, le.Field, tc.field, tc.want)
			}
		})
	}
}

func TestHFMergesStringFormat(t *testing.T) {
	// Older tokenizer.json files spell merges as "a b" strings.
	raw, _ := os.ReadFile("testdata/smol.json")
	var d map[string]any
	json.Unmarshal(raw, &d)
	m := d["model"].(map[string]any)
	var merges []any
	for _, p := range m["merges"].([]any) {
		pp := p.([]any)
		merges = append(merges, pp[0].(string)+" "+pp[1].(string))
	}
	m["merges"] = merges
	b, _ := json.Marshal(d)
	old, err := ParseHF(b, nil, "old.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range loadExpected(t).Tokenizers["smol"].Cases {
		if got := old.Encode(c.Text); !slices.Equal(got, c.IDs) {
			t.Errorf("Encode(%q) = %v, want %v", c.Text, got, c.IDs)
		}
	}
}

func TestBytes(t *testing.T) {
	b := NewBytes()
	tests := []string{"", "hello", "日本語 😀", "<|end|> stays bytes", "\x00\xff\xfe invalid", strings.Repeat("ab", 100)}
	for _, s := range tests {
		t.Run(fmt.Sprintf("%.10q", s), func(t *testing.T) {
			ids := b.Encode(s)
			if len(ids) != len(s) {
				t.Errorf("len(ids) = %d, want %d bytes", len(ids), len(s))
			}
			for _, id := range ids {
				if id < 0 || id > 255 {
					t.Errorf("Encode produced non-byte id %d", id)
				}
			}
			if got := b.Decode(ids); got != s {
				t.Errorf("Decode(Encode(%q)) = %q", s, got)
			}
		})
	}
	if b.VocabSize() != 263 {
		t.Errorf("VocabSize = %d, want 263", b.VocabSize())
	}
	for i, sp := range ByteSpecialTokens() {
		id, ok := b.TokenID(sp)
		if !ok || id != int32(256+i) {
			t.Errorf("TokenID(%q) = %d, %v; want %d", sp, id, ok, 256+i)
		}
		if got := b.Decode([]int32{id}); got != sp {
			t.Errorf("Decode(%d) = %q, want %q", id, got, sp)
		}
	}
	if got, want := b.Specials(), (Specials{BOS: 256, EOS: 257, Pad: 258}); got != want {
		t.Errorf("Specials = %+v, want %+v", got, want)
	}
	if _, ok := b.TokenID("<|nope|>"); ok {
		t.Error("TokenID found an unknown special")
	}
	if got := b.Decode([]int32{104, -1, 9999, 105}); got != "hi" {
		t.Errorf("Decode skipped unknown ids wrongly: %q", got)
	}
}

func TestLoadSave(t *testing.T) {
	t.Run("bytes", func(t *testing.T) {
		dir := t.TempDir()
		if err := Save(NewBytes(), dir); err != nil {
			t.Fatal(err)
		}
		tok, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := tok.(*Bytes); !ok {
			t.Fatalf("Load returned %T, want *Bytes", tok)
		}
	})
	t.Run("hf", func(t *testing.T) {
		src := t.TempDir()
		raw, _ := os.ReadFile("testdata/llama3.json")
		os.WriteFile(filepath.Join(src, HFFile), raw, 0o644)
		os.WriteFile(filepath.Join(src, HFConfigFile), []byte(`{"bos_token":"<|begin_of_text|>","eos_token":"<|eot_id|>","chat_template":"{{ '<|start_header_id|>' }}"}`), 0o644)
		tok, err := Load(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := t.TempDir()
		if err := Save(tok, dst); err != nil {
			t.Fatal(err)
		}
		again, err := Load(dst)
		if err != nil {
			t.Fatal(err)
		}
		h := again.(*HF)
		if h.Specials() != (Specials{BOS: 0, EOS: 4, Pad: -1}) {
			t.Errorf("Specials after reload = %+v", h.Specials())
		}
		if h.ChatTemplate() != "{{ '<|start_header_id|>' }}" {
			t.Errorf("ChatTemplate = %q", h.ChatTemplate())
		}
		if got, want := again.Encode("hello world"), tok.Encode("hello world"); !slices.Equal(got, want) {
			t.Errorf("reloaded Encode = %v, want %v", got, want)
		}
	})
	t.Run("empty dir", func(t *testing.T) {
		if _, err := Load(t.TempDir()); !errors.Is(err, ErrNoTokenizer) {
			t.Errorf("err = %v, want ErrNoTokenizer", err)
		}
	})
	t.Run("bad marker", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, BytesMarkerFile), []byte(`{"type":"yardstick-bytes","version":1,"special_tokens":["<|bos|>"]}`), 0o644)
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "special_tokens") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestLossyUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ok é", "ok é"},
		{"\xff\xfe", "\uFFFD\uFFFD"},
		{"a\xf0\x9f\x98", "a\uFFFD"},           // emoji cut short: one replacement
		{"\xe2\x82x", "\uFFFDx"},               // 3-byte sequence cut short
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"}, // surrogate: each byte
		{"\xc0\xaf", "\uFFFD\uFFFD"},           // overlong
	}
	for _, tc := range tests {
		if got := lossyUTF8([]byte(tc.in)); got != tc.want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !utf8.ValidString(lossyUTF8([]byte(tc.in))) {
			t.Errorf("lossyUTF8(%q) is not valid UTF-8", tc.in)
		}
	}
}

func BenchmarkHFEncode(b *testing.B) {
	tok, err := LoadHF("testdata/llama3.json")
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for _, c := range loadExpected(b).Tokenizers["llama3"].Cases {
		sb.WriteString(c.Text)
		sb.WriteString(" ")
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Encode(text)
	}
}
