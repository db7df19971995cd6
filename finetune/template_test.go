package finetune

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune/tokenize"
	"github.com/yardstick-eval/yardstick/providers"
)

func loadHF(t *testing.T, name string) *tokenize.HF {
	t.Helper()
	tok, err := tokenize.LoadHF(filepath.Join("tokenize", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// renderMasked decodes ids, wrapping trained runs in ⟦…⟧.
func renderMasked(tok tokenize.Tokenizer, ids []int32, mask []bool) string {
	var b strings.Builder
	for i := 0; i < len(ids); {
		j := i
		for j < len(ids) && mask[j] == mask[i] {
			j++
		}
		s := tok.Decode(ids[i:j])
		if mask[i] {
			s = "⟦" + s + "⟧"
		}
		b.WriteString(s)
		i = j
	}
	return b.String()
}

func msg(role, content string) providers.Message {
	return providers.Message{Role: role, Content: content}
}

var templateExamples = []struct {
	name string
	ex   Example
}{
	{"single turn", Example{
		Messages: []providers.Message{msg("system", "Be brief."), msg("user", "Where is my order?"), msg("assistant", "It ships tomorrow.")},
		Weights:  []float64{0, 0, 1},
	}},
	{"multi turn with weight 0", Example{
		Messages: []providers.Message{msg("user", "Hi"), msg("assistant", "Hello!"), msg("user", "Refund?"), msg("assistant", " Sure, done. \n")},
		Weights:  []float64{0, 0, 0, 1},
	}},
	{"both answers trained, trailing user", Example{
		Messages: []providers.Message{msg("user", "a"), msg("assistant", "b"), msg("user", "c"), msg("assistant", "d 😀"), msg("user", "e")},
		Weights:  []float64{0, 1, 0, 1, 0},
	}},
}

func TestEncodeGolden(t *testing.T) {
	toks := []struct {
		name string
		tok  tokenize.Tokenizer
		tmpl Template
	}{
		{"yardstick", tokenize.NewBytes(), Template{Name: TemplateYardstick}},
		{"chatml", loadHF(t, "smol.json"), Template{Name: TemplateChatML, DefaultSystem: "You are helpful."}},
		{"llama3", loadHF(t, "llama3.json"), Template{Name: TemplateLlama3}},
	}
	for _, tt := range toks {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			for _, ex := range templateExamples {
				ids, mask, err := Encode(tt.tok, tt.tmpl, ex.ex, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(ids) != len(mask) {
					t.Fatalf("%d ids, %d mask entries", len(ids), len(mask))
				}
				fmt.Fprintf(&b, "## %s\nids:  %v\nmask: %s\n%s\n", ex.name, ids, maskString(mask), renderMasked(tt.tok, ids, mask))
				prompt, err := RenderPrompt(tt.tok, tt.tmpl, "", ex.ex.Messages[:len(ex.ex.Messages)-1], 0)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "prompt for the last message:\n%s\n\n", tt.tok.Decode(prompt))
			}
			fmt.Fprintf(&b, "stop ids: %v\n", StopIDs(tt.tok, tt.tmpl))
			golden(t, "encode_"+tt.name+".txt", []byte(b.String()))
		})
	}
}

func maskString(m []bool) string {
	b := make([]byte, len(m))
	for i, x := range m {
		b[i] = '0'
		if x {
			b[i] = '1'
		}
	}
	return string(b)
}

// TestEncodeYardstickExact spells out the byte-tokenizer sequence by hand.
func TestEncodeYardstickExact(t *testing.T) {
	tok := tokenize.NewBytes()
	ex := Example{Messages: []providers.Message{msg("user", "hi"), msg("assistant", "yo")}}
	ids, mask, err := Encode(tok, Template{Name: TemplateYardstick}, ex, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []int32{256, 260, 'h', 'i', 262, 261, 'y', 'o', 262}
	wantMask := []bool{false, false, false, false, false, false, true, true, true}
	if !slices.Equal(ids, wantIDs) || !slices.Equal(mask, wantMask) {
		t.Errorf("Encode = %v %v, want %v %v", ids, mask, wantIDs, wantMask)
	}
	prompt, err := RenderPrompt(tok, Template{Name: TemplateYardstick}, "sys", ex.Messages[:1], 0)
	if err != nil {
		t.Fatal(err)
	}
	wantPrompt := []int32{256, 259, 's', 'y', 's', 262, 260, 'h', 'i', 262, 261}
	if !slices.Equal(prompt, wantPrompt) {
		t.Errorf("RenderPrompt = %v, want %v", prompt, wantPrompt)
	}
	// Training ids up to the answer equal the prompt ids: what the model learns to continue is what it sees at inference.
	prompt, _ = RenderPrompt(tok, Template{Name: TemplateYardstick}, "", ex.Messages[:1], 0)
	if !slices.Equal(ids[:len(prompt)], prompt) {
		t.Errorf("prompt %v is not a prefix of the training ids %v", prompt, ids)
	}
}

func TestPromptIsPrefixOfTraining(t *testing.T) {
	for _, tmplName := range []string{TemplateChatML, TemplateLlama3} {
		tok := loadHF(t, map[string]string{TemplateChatML: "smol.json", TemplateLlama3: "llama3.json"}[tmplName])
		tmpl := Template{Name: tmplName}
		for _, ex := range templateExamples {
			ids, _, err := Encode(tok, tmpl, ex.ex, 0)
			if err != nil {
				t.Fatal(err)
			}
			last := len(ex.ex.Messages) - 1
			for ex.ex.Weights[last] == 0 {
				last--
			}
			prompt, err := RenderPrompt(tok, tmpl, "", ex.ex.Messages[:last], 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(prompt) > len(ids) || !slices.Equal(ids[:len(prompt)], prompt) {
				t.Errorf("%s/%s: prompt is not a prefix of the training sequence\nprompt %v\nids    %v", tmplName, ex.name, prompt, ids)
			}
		}
	}
}

func TestEncodeTruncation(t *testing.T) {
	tok := tokenize.NewBytes()
	tmpl := Template{Name: TemplateYardstick}
	long := strings.Repeat("p", 40)
	ex := Example{Messages: []providers.Message{msg("user", long), msg("assistant", "answer"), msg("user", "trailing")}, Weights: []float64{0, 1, 0}}
	full, _, err := Encode(tok, tmpl, ex, 0)
	if err != nil {
		t.Fatal(err)
	}
	// full: bos user p×40 end assistant a-n-s-w-e-r end user t-r-a-i-l-i-n-g end = 1+1+40+1+1+6+1+1+8+1 = 61
	if len(full) != 61 {
		t.Fatalf("len(full) = %d", len(full))
	}
	tests := []struct {
		name      string
		maxLen    int
		wantLen   int
		wantText  string
		wantTrain int
	}{
		{"fits", 61, 61, "", 7},
		{"drop trailing turn", 52, 51, "<|bos|><|user|>" + long + "<|end|><|assistant|>answer<|end|>", 7},
		{"cut prompt from the left", 20, 20, "<|bos|>" + strings.Repeat("p", 10) + "<|end|><|assistant|>answer<|end|>", 7},
		// budget 9: the prompt keeps half (4 tokens), the answer the remaining 5 of its 7.
		{"answer longer than half the window", 10, 10, "<|bos|>pp<|end|><|assistant|>answe", 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids, mask, err := Encode(tok, tmpl, ex, tc.maxLen)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != tc.wantLen || len(mask) != tc.wantLen {
				t.Errorf("len = %d/%d, want %d", len(ids), len(mask), tc.wantLen)
			}
			if tc.wantText != "" {
				if got := tok.Decode(ids); got != tc.wantText {
					t.Errorf("text = %q, want %q", got, tc.wantText)
				}
			}
			if ids[0] != 256 {
				t.Errorf("begin token lost: %v", ids[:3])
			}
			n := 0
			for _, m := range mask {
				if m {
					n++
				}
			}
			if n != tc.wantTrain {
				t.Errorf("%d trained tokens, want %d (mask %s)", n, tc.wantTrain, maskString(mask))
			}
		})
	}
	if _, _, err := Encode(tok, tmpl, ex, 2); err == nil {
		t.Error("maxLen 2 accepted with a begin token")
	}
	p, err := RenderPrompt(tok, tmpl, "", ex.Messages[:1], 8)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Decode(p); got != "<|bos|>ppppp<|end|><|assistant|>" || len(p) != 8 {
		t.Errorf("truncated prompt = %q (%d ids)", got, len(p))
	}
}

func TestEncodeErrors(t *testing.T) {
	ex := Example{Messages: []providers.Message{msg("user", "q"), msg("assistant", "a")}, Source: "f.jsonl:3"}
	tests := []struct {
		name string
		tok  tokenize.Tokenizer
		tmpl Template
		ex   Example
		want string
	}{
		{"missing special", tokenize.NewBytes(), Template{Name: TemplateChatML}, ex, `needs the special token "<|im_start|>"`},
		{"unknown template", tokenize.NewBytes(), Template{Name: "alpaca"}, ex, "unknown chat template"},
		{"nothing trained", tokenize.NewBytes(), Template{Name: TemplateYardstick}, Example{Messages: ex.Messages, Weights: []float64{0, 0}, Source: "f.jsonl:3"}, "f.jsonl:3: no assistant tokens"},
		{"weights mismatch", tokenize.NewBytes(), Template{Name: TemplateYardstick}, Example{Messages: ex.Messages, Weights: []float64{1}, Source: "f.jsonl:3"}, "1 weights for 2 messages"},
		{"empty", tokenize.NewBytes(), Template{Name: TemplateYardstick}, Example{Source: "f.jsonl:3"}, "no messages"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Encode(tc.tok, tc.tmpl, tc.ex, 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDetectTemplate(t *testing.T) {
	smolLM2Jinja := "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
	if tm, ok := TemplateFromChatTemplate(smolLM2Jinja); !ok || tm.Name != TemplateChatML || tm.DefaultSystem != "You are a helpful AI assistant named SmolLM, trained by Hugging Face" {
		t.Errorf("SmolLM2 chat_template → %+v, %v", tm, ok)
	}
	if tm, ok := TemplateFromChatTemplate("{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}"); !ok || tm.Name != TemplateLlama3 {
		t.Errorf("Llama 3 chat_template → %+v, %v", tm, ok)
	}
	if _, ok := TemplateFromChatTemplate("{{ '[INST]' }}"); ok {
		t.Error("Mistral template recognised")
	}

	withConfig := func(name, cfg string) string {
		dir := t.TempDir()
		raw, _ := os.ReadFile(filepath.Join("tokenize", "testdata", name))
		os.WriteFile(filepath.Join(dir, tokenize.HFFile), raw, 0o644)
		if cfg != "" {
			os.WriteFile(filepath.Join(dir, tokenize.HFConfigFile), []byte(cfg), 0o644)
		}
		return dir
	}
	cfgJSON := func(jinja string) string {
		b := strings.ReplaceAll(jinja, "\n", `\n`)
		return `{"chat_template": "` + b + `"}`
	}
	tests := []struct {
		name    string
		dir     string
		tok     func(dir string) tokenize.Tokenizer
		want    Template
		wantErr bool
	}{
		{"bytes by specials", "", func(string) tokenize.Tokenizer { return tokenize.NewBytes() }, Template{Name: TemplateYardstick}, false},
		{"smol from chat_template", withConfig("smol.json", cfgJSON(smolLM2Jinja)), nil, Template{Name: TemplateChatML, DefaultSystem: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"}, false},
		{"smol by specials", withConfig("smol.json", ""), nil, Template{Name: TemplateChatML}, false},
		{"llama3 by specials", withConfig("llama3.json", ""), nil, Template{Name: TemplateLlama3}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tok tokenize.Tokenizer
			if tc.tok != nil {
				tok = tc.tok(tc.dir)
			} else {
				var err error
				if tok, err = tokenize.Load(tc.dir); err != nil {
					t.Fatal(err)
				}
			}
			got, err := DetectTemplate(tc.dir, tok)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("DetectTemplate = %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("checkpoint wins", func(t *testing.T) {
		dir := withConfig("smol.json", "")
		if err := WriteCheckpoint(dir, &Checkpoint{Template: TemplateLlama3, DefaultSystem: "x"}); err != nil {
			t.Fatal(err)
		}
		tok, _ := tokenize.Load(dir)
		got, err := DetectTemplate(dir, tok)
		if err != nil || got != (Template{Name: TemplateLlama3, DefaultSystem: "x"}) {
			t.Errorf("DetectTemplate = %+v, %v", got, err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		raw, _ := os.ReadFile("tokenize/testdata/smol.json")
		// A tokenizer without any chat markers.
		s := strings.NewReplacer("<|im_start|>", "<|a|>", "<|im_end|>", "<|b|>").Replace(string(raw))
		tok, err := tokenize.ParseHF([]byte(s), nil, "x")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DetectTemplate("", tok); err == nil {
			t.Error("no error")
		}
	})
}
