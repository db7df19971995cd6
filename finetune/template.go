package finetune

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/yardstick-eval/yardstick/finetune/tokenize"
	"github.com/yardstick-eval/yardstick/providers"
)

// Template is a chat format: how messages become one token sequence. The
// same Template must be used for training (Encode) and generation
// (RenderPrompt). Three formats are built in:
//
//	yardstick  <|bos|><|system|>…<|end|><|user|>…<|end|><|assistant|>…<|end|>
//	           for the byte tokenizer (models trained from scratch); every
//	           marker is a special token.
//	chatml     <|im_start|>system\n…<|im_end|>\n<|im_start|>user\n…<|im_end|>\n
//	           <|im_start|>assistant\n…<|im_end|>\n   (SmolLM2, Qwen, …)
//	llama3     <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n…<|eot_id|>
//	           (Llama 3; contents are trimmed as its template does; the 3.1
//	           "Cutting Knowledge Date" system preamble is not added)
//	zephyr     BOS<|user|>\n…EOS\n<|assistant|>\n…EOS\n   (TinyLlama-Chat, Zephyr)
//	           the role markers are plain text; BOS and EOS are the
//	           tokenizer's, so it suits any tokenizer that has an EOS.
//
// Any other chat template is rendered by a Jinja engine (TemplateJinja).
//
// Special markers are looked up with Tokenizer.TokenID (BOS/EOS with
// Specials) and never produced from text. The text between two special
// tokens (a header, the content, a separator) is tokenized as one string, as
// Hugging Face's apply_chat_template does; where a loss-mask boundary falls
// inside such a run it is found by tokenizing the run's prefix. The prompt
// RenderPrompt builds is therefore a prefix of the training sequence, and the
// model generates after exactly the ids it saw in training.
type Template struct {
	Name string `json:"name"`
	// DefaultSystem is inserted as the system message when a conversation
	// has none (SmolLM2's template does this); "" inserts nothing.
	DefaultSystem string `json:"default_system,omitempty"`
	// Jinja is the source of a TemplateJinja template ("" for the built-in
	// formats).
	Jinja string `json:"jinja,omitempty"`
}

// Template names.
const (
	TemplateYardstick = "yardstick"
	TemplateChatML    = "chatml"
	TemplateLlama3    = "llama3"
	TemplateZephyr    = "zephyr"
)

// TemplateNames lists the built-in templates.
var TemplateNames = []string{TemplateYardstick, TemplateChatML, TemplateLlama3, TemplateZephyr}

// TemplateByName returns a built-in template.
func TemplateByName(name string) (Template, error) {
	switch name {
	case TemplateYardstick, TemplateChatML, TemplateLlama3, TemplateZephyr:
		return Template{Name: name}, nil
	}
	return Template{}, fmt.Errorf("unknown chat template %q (have yardstick, chatml, llama3, zephyr)", name)
}

// chatmlDefaultSystem finds a literal default system message; the newline
// after the role is a real one or, inside a Jinja string literal, the escape \n.
var chatmlDefaultSystem = regexp.MustCompile(`<\|im_start\|>system(?:\n|\\n)([^<'"{}\\]+)<\|im_end\|>`)

// TemplateFromChatTemplate recognises a Jinja chat_template from
// tokenizer_config.json: ChatML markers give chatml (with a literal default
// system message carried over, as in SmolLM2's), Llama-3 header markers give
// llama3, <|user|> text markers closed by eos_token give zephyr. ok is false
// for anything else.
func TemplateFromChatTemplate(jinja string) (t Template, ok bool) {
	switch {
	case strings.Contains(jinja, "<|im_start|>"):
		t = Template{Name: TemplateChatML}
		if m := chatmlDefaultSystem.FindStringSubmatch(jinja); m != nil {
			t.DefaultSystem = m[1]
		}
		return t, true
	case strings.Contains(jinja, "<|start_header_id|>"):
		return Template{Name: TemplateLlama3}, true
	case strings.Contains(jinja, "<|user|>") && strings.Contains(jinja, "<|assistant|>") && strings.Contains(jinja, "eos_token"):
		return Template{Name: TemplateZephyr}, true
	}
	return Template{}, false
}

// DetectTemplate picks the template for a model directory: the one recorded
// in dir's yardstick_checkpoint.json; else the tokenizer's chat_template
// (TemplateFromChatTemplate), or that Jinja template itself (TemplateJinja)
// when it is none of the built-in formats; else by the special tokens the tokenizer has
// (ChatML, Llama 3 or the byte tokenizer's markers); else zephyr when the
// tokenizer has an EOS token (a base model without a chat format).
func DetectTemplate(dir string, tok tokenize.Tokenizer) (Template, error) {
	if dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, CheckpointFile)); err == nil {
			var ck struct {
				Template      string `json:"template"`
				DefaultSystem string `json:"default_system"`
			}
			if err := json.Unmarshal(b, &ck); err == nil && ck.Template != "" {
				if ck.Template == TemplateJinja {
					if hf, ok := tok.(*tokenize.HF); ok && hf.ChatTemplate() != "" {
						return JinjaTemplate(hf.ChatTemplate())
					}
					return Template{}, errors.New("finetune: the run used the model's Jinja chat template, but its tokenizer_config.json has none")
				}
				t, err := TemplateByName(ck.Template)
				t.DefaultSystem = ck.DefaultSystem
				return t, err
			}
		}
	}
	if hf, ok := tok.(*tokenize.HF); ok {
		if t, ok := TemplateFromChatTemplate(hf.ChatTemplate()); ok {
			return t, nil
		}
		if src := hf.ChatTemplate(); src != "" {
			if t, err := JinjaTemplate(src); err == nil {
				return t, nil
			}
		}
	}
	has := func(s ...string) bool {
		for _, x := range s {
			if _, ok := tok.TokenID(x); !ok {
				return false
			}
		}
		return true
	}
	switch {
	case has("<|im_start|>", "<|im_end|>"):
		return Template{Name: TemplateChatML}, nil
	case has("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"):
		return Template{Name: TemplateLlama3}, nil
	case has(tokenize.ByteUser, tokenize.ByteAssistant, tokenize.ByteEnd):
		return Template{Name: TemplateYardstick}, nil
	case tok.Specials().EOS >= 0:
		return Template{Name: TemplateZephyr}, nil
	}
	return Template{}, errors.New("finetune: cannot tell the model's chat template; set it explicitly (yardstick, chatml, llama3 or zephyr)")
}

// piece is one run of a rendered conversation.
type piece struct {
	text    string
	special bool // text names a special token (or bosMarker/eosMarker)
	train   bool // tokens are loss targets
}

// Markers standing for the tokenizer's own BOS and EOS ids.
const (
	bosMarker = "\x00BOS"
	eosMarker = "\x00EOS"
)

// markers returns the special tokens the template uses: begin (may be "")
// and end of message.
func (t Template) markers() (begin, end string) {
	switch t.Name {
	case TemplateYardstick:
		return tokenize.ByteBOS, tokenize.ByteEnd
	case TemplateChatML:
		return "", "<|im_end|>"
	case TemplateLlama3:
		return "<|begin_of_text|>", "<|eot_id|>"
	case TemplateZephyr:
		return bosMarker, eosMarker
	}
	return "", ""
}

// header renders the start of a message from role up to its content.
func (t Template) header(role string) []piece {
	switch t.Name {
	case TemplateYardstick:
		return []piece{{text: "<|" + role + "|>", special: true}}
	case TemplateChatML:
		return []piece{{text: "<|im_start|>", special: true}, {text: role + "\n"}}
	case TemplateZephyr:
		return []piece{{text: "<|" + role + "|>\n"}}
	default: // llama3
		return []piece{{text: "<|start_header_id|>", special: true}, {text: role}, {text: "<|end_header_id|>", special: true}, {text: "\n\n"}}
	}
}

// message renders one whole message; train marks its content and end token
// as loss targets.
func (t Template) message(role, content string, train bool) []piece {
	_, end := t.markers()
	if t.Name == TemplateLlama3 {
		content = strings.TrimSpace(content)
	}
	ps := t.header(role)
	ps = append(ps, piece{text: content, train: train}, piece{text: end, special: true, train: train})
	if t.Name == TemplateChatML || t.Name == TemplateZephyr {
		ps = append(ps, piece{text: "\n"})
	}
	return ps
}

// begin returns the pieces that open every sequence.
func (t Template) begin(tok tokenize.Tokenizer) []piece {
	b, _ := t.markers()
	if b == "" || (b == bosMarker && tok.Specials().BOS < 0) {
		return nil
	}
	return []piece{{text: b, special: true}}
}

func (t Template) check() error {
	if t.Name == TemplateJinja {
		if t.Jinja == "" {
			return errors.New("finetune: a jinja chat template needs its source")
		}
		_, err := compileJinja(t.Jinja)
		return err
	}
	_, err := TemplateByName(t.Name)
	return err
}

// specialID resolves a special piece to its id.
func specialID(tok tokenize.Tokenizer, t Template, name string) (int32, error) {
	switch name {
	case bosMarker:
		if id := tok.Specials().BOS; id >= 0 {
			return id, nil
		}
		return -1, fmt.Errorf("finetune: chat template %s needs the tokenizer's BOS token, and it has none", t.Name)
	case eosMarker:
		if id := tok.Specials().EOS; id >= 0 {
			return id, nil
		}
		return -1, fmt.Errorf("finetune: chat template %s needs the tokenizer's EOS token, and it has none", t.Name)
	}
	id, ok := tok.TokenID(name)
	if !ok {
		return -1, fmt.Errorf("finetune: chat template %s needs the special token %q, which the tokenizer lacks", t.Name, name)
	}
	return id, nil
}

// encodePieces tokenizes pieces: special ones by id, each maximal run of text
// pieces as one string. mask[i] is the train flag of the piece token i came
// from.
func encodePieces(tok tokenize.Tokenizer, t Template, ps []piece) (ids []int32, mask []bool, err error) {
	for i := 0; i < len(ps); {
		if ps[i].special {
			id, err := specialID(tok, t, ps[i].text)
			if err != nil {
				return nil, nil, err
			}
			ids = append(ids, id)
			mask = append(mask, ps[i].train)
			i++
			continue
		}
		j := i
		for j < len(ps) && !ps[j].special {
			j++
		}
		ids, mask = encodeRun(tok, ps[i:j], ids, mask, len(ids) == 0)
		i = j
	}
	return ids, mask, nil
}

// encodeRun tokenizes consecutive text pieces as one string. Where the train
// flag changes between pieces, the boundary is the number of leading tokens
// the run's prefix up to that piece shares with the whole run's tokens; a
// token spanning the boundary (BPE merged across it) goes to the later piece.
// A run that does not start the sequence is encoded as a continuation
// (tokenize.Continuer), as it is inside a whole rendered conversation.
func encodeRun(tok tokenize.Tokenizer, run []piece, ids []int32, mask []bool, atStart bool) ([]int32, []bool) {
	encode := tok.Encode
	if c, ok := tok.(tokenize.Continuer); ok && !atStart {
		encode = c.EncodeContinuation
	}
	var sb strings.Builder
	mixed := false
	for _, p := range run {
		sb.WriteString(p.text)
		mixed = mixed || p.train != run[0].train
	}
	if sb.Len() == 0 {
		return ids, mask
	}
	enc := encode(sb.String())
	ids = append(ids, enc...)
	if !mixed {
		for range enc {
			mask = append(mask, run[0].train)
		}
		return ids, mask
	}
	var prefix strings.Builder
	done := 0
	for k, p := range run {
		end := len(enc)
		if k < len(run)-1 {
			prefix.WriteString(p.text)
			pe := encode(prefix.String())
			end = 0
			for end < len(pe) && end < len(enc) && pe[end] == enc[end] {
				end++
			}
			end = max(end, done)
		}
		for range end - done {
			mask = append(mask, p.train)
		}
		done = end
	}
	return ids, mask
}

// Encode renders an example with the template and tokenizes it into one
// training sequence. lossMask[i] is true when ids[i] is a loss target: the
// content and end-of-message token of every assistant message with weight 1,
// nothing else (headers, system and user turns, separators are context only).
// A causal LM is trained to predict ids[i] from ids[:i] where lossMask[i].
//
// Truncation, when maxLen > 0 and the sequence is longer: tokens after the
// last trained token are dropped; if it is still too long, the begin token
// (if the template has one) is kept, the prompt before the final trained
// answer is cut from the left, and the answer (content + end token) is kept
// whole unless it needs more than half the window: the prompt always keeps
// min(its length, half the window) of its last tokens, and an answer longer
// than the rest loses its end. maxLen must leave room for the begin token and
// two more.
func Encode(tok tokenize.Tokenizer, tmpl Template, ex Example, maxLen int) (ids []int32, lossMask []bool, err error) {
	if err := tmpl.check(); err != nil {
		return nil, nil, err
	}
	if len(ex.Messages) == 0 {
		return nil, nil, fmt.Errorf("finetune: %s: example has no messages", ex.Source)
	}
	if len(ex.Weights) != 0 && len(ex.Weights) != len(ex.Messages) {
		return nil, nil, fmt.Errorf("finetune: %s: %d weights for %d messages", ex.Source, len(ex.Weights), len(ex.Messages))
	}
	if tmpl.Name == TemplateJinja {
		ids, mask, err := tmpl.encodeJinja(tok, ex)
		if err != nil {
			return nil, nil, err
		}
		nBegin := 0
		if len(ids) > 0 && ids[0] == tok.Specials().BOS {
			nBegin = 1
		}
		return truncateExample(ids, mask, nBegin, maxLen, ex.Source)
	}
	ps := tmpl.begin(tok)
	nBegin := len(ps)
	if tmpl.DefaultSystem != "" && ex.Messages[0].Role != providers.RoleSystem {
		ps = append(ps, tmpl.message(providers.RoleSystem, tmpl.DefaultSystem, false)...)
	}
	for i, m := range ex.Messages {
		train := m.Role == providers.RoleAssistant
		if len(ex.Weights) > 0 {
			train = train && ex.Weights[i] > 0
		}
		ps = append(ps, tmpl.message(m.Role, m.Content, train)...)
	}
	ids, mask, err := encodePieces(tok, tmpl, ps)
	if err != nil {
		return nil, nil, err
	}
	return truncateExample(ids, mask, nBegin, maxLen, ex.Source)
}

// truncateExample applies Encode's truncation rule to a sequence whose first
// nBegin tokens are the template's begin token.
func truncateExample(ids []int32, mask []bool, nBegin, maxLen int, source string) ([]int32, []bool, error) {
	last := -1
	for i, m := range mask {
		if m {
			last = i
		}
	}
	if last < 0 {
		return nil, nil, fmt.Errorf("finetune: %s: no assistant tokens to train on", source)
	}
	if maxLen <= 0 || len(ids) <= maxLen {
		return ids, mask, nil
	}
	if maxLen < nBegin+2 {
		return nil, nil, fmt.Errorf("finetune: maxLen %d is too small (need at least %d)", maxLen, nBegin+2)
	}
	ids, mask = ids[:last+1], mask[:last+1]
	if len(ids) <= maxLen {
		return ids, mask, nil
	}
	// The final answer is the trailing run of trained tokens.
	answerStart := last
	for answerStart > nBegin && mask[answerStart-1] {
		answerStart--
	}
	prompt, answer := answerStart-nBegin, last+1-answerStart
	budget := maxLen - nBegin
	keepPrompt := min(prompt, max(budget-answer, budget/2))
	keepAnswer := min(answer, budget-keepPrompt)
	outIDs := make([]int32, 0, maxLen)
	outMask := make([]bool, 0, maxLen)
	outIDs = append(outIDs, ids[:nBegin]...)
	outMask = append(outMask, mask[:nBegin]...)
	outIDs = append(outIDs, ids[answerStart-keepPrompt:answerStart+keepAnswer]...)
	outMask = append(outMask, mask[answerStart-keepPrompt:answerStart+keepAnswer]...)
	return outIDs, outMask, nil
}

// RenderPrompt renders a conversation for generation: system (if non-empty)
// as the first message, then msgs, then the assistant header, so the model
// continues as the assistant. When there is no system message at all, the
// template's DefaultSystem is used. With maxLen > 0 a longer prompt is cut
// from the left, keeping the begin token.
func RenderPrompt(tok tokenize.Tokenizer, tmpl Template, system string, msgs []providers.Message, maxLen int) ([]int32, error) {
	if err := tmpl.check(); err != nil {
		return nil, err
	}
	if tmpl.Name == TemplateJinja {
		ids, nBegin, err := tmpl.renderPromptJinja(tok, system, msgs)
		if err != nil {
			return nil, err
		}
		return cutPrompt(ids, nBegin, maxLen)
	}
	ps := tmpl.begin(tok)
	nBegin := len(ps)
	hasSystem := system != ""
	for _, m := range msgs {
		hasSystem = hasSystem || m.Role == providers.RoleSystem
	}
	if system != "" {
		ps = append(ps, tmpl.message(providers.RoleSystem, system, false)...)
	} else if !hasSystem && tmpl.DefaultSystem != "" {
		ps = append(ps, tmpl.message(providers.RoleSystem, tmpl.DefaultSystem, false)...)
	}
	for _, m := range msgs {
		ps = append(ps, tmpl.message(m.Role, m.Content, false)...)
	}
	ps = append(ps, tmpl.header(providers.RoleAssistant)...)
	ids, _, err := encodePieces(tok, tmpl, ps)
	if err != nil {
		return nil, err
	}
	return cutPrompt(ids, nBegin, maxLen)
}

// cutPrompt keeps the begin token and the last maxLen-nBegin tokens.
func cutPrompt(ids []int32, nBegin, maxLen int) ([]int32, error) {
	if maxLen > 0 && len(ids) > maxLen {
		if maxLen <= nBegin {
			return nil, fmt.Errorf("finetune: maxLen %d is too small for a prompt", maxLen)
		}
		ids = append(ids[:nBegin:nBegin], ids[len(ids)-(maxLen-nBegin):]...)
	}
	return ids, nil
}

// StopIDs are the ids that end generation: the template's end-of-message
// token and the tokenizer's EOS (and Llama 3's <|end_of_text|>), without
// duplicates; ids the tokenizer lacks are left out.
func StopIDs(tok tokenize.Tokenizer, tmpl Template) []int32 {
	_, end := tmpl.markers()
	var out []int32
	add := func(id int32) {
		if id < 0 {
			return
		}
		for _, x := range out {
			if x == id {
				return
			}
		}
		out = append(out, id)
	}
	if id, err := specialID(tok, tmpl, end); err == nil {
		add(id)
	}
	if tmpl.Name == TemplateLlama3 {
		if id, ok := tok.TokenID("<|end_of_text|>"); ok {
			add(id)
		}
	}
	add(tok.Specials().EOS)
	if tmpl.Name == TemplateJinja {
		for _, s := range jinjaStops {
			if id, ok := tok.TokenID(s); ok && strings.Contains(tmpl.Jinja, s) {
				add(id)
			}
		}
	}
	return out
}
