package gguf

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"
)

type tokCase struct {
	Text         string  `json:"text"`
	HF           []int32 `json:"hf"`
	Transformers []int32 `json:"transformers"`
	Lossy        bool    `json:"lossy"`
}

func loadTokCases(t *testing.T) map[string][]tokCase {
	b, err := os.ReadFile("testdata/tok_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Files map[string][]tokCase `json:"files"`
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	return fx.Files
}

// The GGUF tokenizer of each fixture against the Hugging Face tokenizer it
// was converted from (which llama.cpp's pre-tokenizer of the same name
// reproduces). Texts that use an added token with lstrip/rstrip flags, which
// GGUF cannot store, are compared with transformers' GGUF tokenizer, which
// loses them the same way.
func TestTokenizerMatchesReference(t *testing.T) {
	cases := loadTokCases(t)
	for _, name := range []string{"smollm", "gpt2", "llama-bpe", "spm"} {
		t.Run(name, func(t *testing.T) {
			f := open(t, "testdata/tok_"+name+".gguf")
			tok, err := f.Tokenizer()
			if err != nil {
				t.Fatal(err)
			}
			cs := cases[name]
			if len(cs) < 200 {
				t.Fatalf("only %d cases", len(cs))
			}
			var korean, emoji, spaces, agreeHF, agreeTF, bad int
			for _, c := range cs {
				for _, r := range c.Text {
					switch {
					case unicode.Is(unicode.Hangul, r):
						korean++
					case r >= 0x1F300:
						emoji++
					}
				}
				if strings.Contains(c.Text, "   ") || strings.Contains(c.Text, "\n\n") {
					spaces++
				}
				got := tok.Encode(c.Text)
				want := c.HF
				if c.Lossy {
					want = c.Transformers
				}
				if slices.Equal(got, c.HF) {
					agreeHF++
				}
				if slices.Equal(got, c.Transformers) {
					agreeTF++
				}
				if !slices.Equal(got, want) {
					bad++
					if bad <= 5 {
						t.Errorf("%q:\n got %v\nwant %v", c.Text, got, want)
					}
				}
				if !c.Lossy {
					if d := tok.Decode(got); d != c.Text && name != "spm" {
						t.Errorf("decode(%q) = %q", c.Text, d)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d texts differ", bad, len(cs))
			}
			if korean == 0 || emoji == 0 || spaces == 0 {
				t.Errorf("fixture lacks Korean (%d), emoji (%d) or whitespace runs (%d)", korean, emoji, spaces)
			}
			t.Logf("%d texts: %d equal to the HF tokenizer, %d to transformers' GGUF tokenizer", len(cs), agreeHF, agreeTF)
		})
	}
}
