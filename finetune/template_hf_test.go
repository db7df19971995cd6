package finetune

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune/tokenize"
	"github.com/yardstick-eval/yardstick/providers"
)

// testTokenizerConfig gives the SentencePiece-style fixtures their <s>/</s>.
const testTokenizerConfig = `{"bos_token": "<s>", "eos_token": "</s>"}`

func loadHFWithConfig(t *testing.T, name, config string) *tokenize.HF {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("tokenize", "testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg []byte
	if config != "" {
		cfg = []byte(config)
	}
	tok, err := tokenize.ParseHF(raw, cfg, name)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestEncodeMatchesHFChatTemplate: Encode's ids equal Python tokenizers'
// ids for the same conversation rendered as the model's Jinja chat template
// renders it (the strings and ids are fixtures made by
// tokenize/testdata/make_tokenizers.py).
func TestEncodeMatchesHFChatTemplate(t *testing.T) {
	raw, err := os.ReadFile("tokenize/testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Chats []struct {
			Tokenizer string              `json:"tokenizer"`
			Template  string              `json:"template"`
			Messages  []providers.Message `json:"messages"`
			Text      string              `json:"text"`
			IDs       []int32             `json:"ids"`
		} `json:"chats"`
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Chats) < 12 {
		t.Fatalf("only %d chat fixtures", len(exp.Chats))
	}
	toks := map[string]*tokenize.HF{}
	for _, c := range exp.Chats {
		t.Run(c.Tokenizer+"/"+c.Template, func(t *testing.T) {
			tok := toks[c.Tokenizer]
			if tok == nil {
				cfg := ""
				if c.Template == TemplateZephyr {
					cfg = testTokenizerConfig
				}
				tok = loadHFWithConfig(t, c.Tokenizer, cfg)
				toks[c.Tokenizer] = tok
			}
			tmpl, err := TemplateByName(c.Template)
			if err != nil {
				t.Fatal(err)
			}
			ids, mask, err := Encode(tok, tmpl, Example{Messages: c.Messages}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, c.IDs) {
				t.Errorf("text %q\n Encode %v\n Python %v", c.Text, ids, c.IDs)
			}
			// The last trained token is the end-of-turn token.
			last := -1
			for i, m := range mask {
				if m {
					last = i
				}
			}
			stop := StopIDs(tok, tmpl)
			if last < 0 || !slices.Contains(stop, ids[last]) {
				t.Errorf("last trained token %d is not a stop id %v", ids[max(last, 0)], stop)
			}
		})
	}
}

func TestZephyrTemplate(t *testing.T) {
	tok := loadHFWithConfig(t, "llama2", testTokenizerConfig)
	tmpl := Template{Name: TemplateZephyr}
	var out []byte
	for _, ex := range templateExamples {
		ids, mask, err := Encode(tok, tmpl, ex.ex, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, "## "+ex.name+"\nmask: "+maskString(mask)+"\n"+renderMasked(tok, ids, mask)+"\n"...)
		last := len(ex.ex.Messages) - 1
		for ex.ex.Weights[last] == 0 {
			last--
		}
		prompt, err := RenderPrompt(tok, tmpl, "", ex.ex.Messages[:last], 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids[:len(prompt)], prompt) {
			t.Errorf("%s: prompt is not a prefix of the training ids\nprompt %v\nids    %v", ex.name, prompt, ids)
		}
	}
	golden(t, "encode_zephyr.txt", out)
	if got := StopIDs(tok, tmpl); !slices.Equal(got, []int32{2}) {
		t.Errorf("StopIDs = %v, want [2]", got)
	}
	noEOS := loadHFWithConfig(t, "llama2", "")
	if _, _, err := Encode(noEOS, tmpl, templateExamples[0].ex, 0); err == nil {
		t.Error("zephyr without an EOS token: no error")
	}
	if got, err := DetectTemplate("", tok); err != nil || got.Name != TemplateZephyr {
		t.Errorf("DetectTemplate(llama2 with EOS) = %+v, %v", got, err)
	}
	if got, ok := TemplateFromChatTemplate("{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}{% endfor %}"); !ok || got.Name != TemplateZephyr {
		t.Errorf("TinyLlama chat_template → %+v, %v", got, ok)
	}
}
