package finetune

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune/tokenize"
	"github.com/yardstick-eval/yardstick/providers"
)

type jinjaFixture struct {
	Templates map[string]string `json:"templates"`
	Cases     []struct {
		Template string              `json:"template"`
		Messages []providers.Message `json:"messages"`
		AddGen   bool                `json:"add_generation_prompt"`
		Text     *string             `json:"text"`
		Error    string              `json:"error"`
	} `json:"cases"`
}

func loadJinja(t *testing.T) jinjaFixture {
	b, err := os.ReadFile("testdata/jinja_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx jinjaFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	return fx
}

// llama2Tok is the SentencePiece-style fixture tokenizer with <s> and </s>
// as BOS and EOS.
func llama2Tok(t *testing.T) *tokenize.HF {
	b, err := os.ReadFile("tokenize/testdata/llama2.json")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenize.ParseHF(b, []byte(`{"bos_token":"<s>","eos_token":"</s>"}`), "llama2.json")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Templates of common model families rendered as Python's Jinja2 renders
// them under transformers' apply_chat_template settings (testdata/make_jinja.py).
func TestJinjaRenderMatchesJinja2(t *testing.T) {
	fx := loadJinja(t)
	tok := llama2Tok(t)
	for _, c := range fx.Cases {
		tmpl, err := JinjaTemplate(fx.Templates[c.Template])
		if err != nil {
			t.Fatalf("%s: %v", c.Template, err)
		}
		got, err := tmpl.renderJinja(tok, c.Messages, c.AddGen)
		switch {
		case c.Error != "":
			if err == nil || !strings.Contains(err.Error(), c.Error) {
				t.Errorf("%s %v: error %v, want %q", c.Template, c.Messages, err, c.Error)
			}
		case err != nil:
			t.Errorf("%s: %v", c.Template, err)
		case got != *c.Text:
			t.Errorf("%s gen=%v:\n got %q\nwant %q", c.Template, c.AddGen, got, *c.Text)
		}
	}
}

func TestJinjaEncode(t *testing.T) {
	fx := loadJinja(t)
	tok := llama2Tok(t)
	conv := []providers.Message{{Role: "user", Content: "Where is my order?"}, {Role: "assistant", Content: "It ships tomorrow."},
		{Role: "user", Content: "Refund?"}, {Role: "assistant", Content: "Sure, done."}}
	for _, name := range []string{"mistral", "llama2", "gemma", "phi3", "chatml-ns"} {
		t.Run(name, func(t *testing.T) {
			tmpl, _ := JinjaTemplate(fx.Templates[name])
			full, err := tmpl.renderJinja(tok, conv, false)
			if err != nil {
				t.Fatal(err)
			}
			ids, mask, err := Encode(tok, tmpl, Example{Messages: conv, Weights: []float64{0, 0, 0, 1}, Source: "x:1"}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, tok.Encode(full)) {
				t.Errorf("ids are not the rendered conversation's")
			}
			var trained []int32
			for i, m := range mask {
				if m {
					trained = append(trained, ids[i])
				}
			}
			text := tok.Decode(trained)
			if !strings.Contains(text, "Sure, done.") || strings.Contains(text, "ships") || strings.Contains(text, "Refund") {
				t.Errorf("trained tokens %q", text)
			}
			// The generation prompt is a prefix of the training sequence.
			prompt, err := RenderPrompt(tok, tmpl, "", conv[:3], 0)
			if err != nil {
				t.Fatal(err)
			}
			if n := commonPrefix(prompt, ids); n < len(prompt)-1 && name != "phi3" { // phi3's prompt ends "\n\n"
				t.Errorf("prompt diverges from the training sequence at %d of %d", n, len(prompt))
			}
			if stops := StopIDs(tok, tmpl); len(stops) == 0 {
				t.Error("no stop ids")
			}
		})
	}
	tmpl, _ := JinjaTemplate(fx.Templates["mistral"])
	_, _, err := Encode(tok, tmpl, Example{Messages: []providers.Message{{Role: "system", Content: "x"}, {Role: "user", Content: "a"}, {Role: "assistant", Content: "b"}}, Source: "d.jsonl:3"}, 0)
	if err == nil || !strings.Contains(err.Error(), "Conversation roles must alternate") || !strings.Contains(err.Error(), "d.jsonl:3") {
		t.Errorf("raise_exception: %v", err)
	}
}

func TestJinjaSafety(t *testing.T) {
	if _, err := JinjaTemplate("{% for %}"); err == nil {
		t.Error("a broken template parsed")
	}
	tmpl, err := JinjaTemplate(`{% include "/etc/passwd" %}`)
	if err == nil {
		_, err = tmpl.renderJinja(llama2Tok(t), nil, true)
	}
	if err == nil {
		t.Error("a template read a local file")
	}
}

func TestDetectTemplateJinja(t *testing.T) {
	fx := loadJinja(t)
	b, _ := os.ReadFile("tokenize/testdata/llama2.json")
	cfg, _ := json.Marshal(map[string]any{"bos_token": "<s>", "eos_token": "</s>", "chat_template": fx.Templates["mistral"]})
	tok, err := tokenize.ParseHF(b, cfg, "llama2.json")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := DetectTemplate("", tok)
	if err != nil || tm.Name != TemplateJinja || tm.Jinja != fx.Templates["mistral"] {
		t.Errorf("%+v %v", tm, err)
	}
	dir := t.TempDir()
	os.WriteFile(dir+"/"+CheckpointFile, []byte(`{"template":"jinja"}`), 0o644)
	if tm, err := DetectTemplate(dir, tok); err != nil || tm.Name != TemplateJinja || tm.Jinja == "" {
		t.Errorf("from a checkpoint: %+v %v", tm, err)
	}
}
