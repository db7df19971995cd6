package finetune

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/nikolalohinski/gonja/v2"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"

	"github.com/yardstick-eval/yardstick/finetune/tokenize"
	"github.com/yardstick-eval/yardstick/providers"
)

// TemplateJinja is a model's own Jinja chat template (tokenizer_config.json's
// chat_template, GGUF's tokenizer.chat_template) that none of the built-in
// formats matches. It is rendered with github.com/nikolalohinski/gonja/v2
// configured as Hugging Face's apply_chat_template configures Jinja
// (trim_blocks, lstrip_blocks; messages, add_generation_prompt, bos_token,
// eos_token and raise_exception in scope; no file access). Training finds the
// reply's tokens by rendering the conversation up to each trained assistant
// message with and without it: the tokens between the two renderings (less
// trailing whitespace) are loss targets.
const TemplateJinja = "jinja"

// JinjaTemplate returns a Template that renders with the Jinja source src.
// The source must parse.
func JinjaTemplate(src string) (Template, error) {
	if _, err := compileJinja(src); err != nil {
		return Template{}, err
	}
	return Template{Name: TemplateJinja, Jinja: src}, nil
}

var jinjaCache sync.Map // source → *exec.Template

// noFiles is a template loader that refuses {% include %} and friends: a chat
// template from a downloaded model must not read local files.
type noFiles struct{}

func (noFiles) Read(path string) (io.Reader, error) {
	return nil, fmt.Errorf("chat templates may not load %q", path)
}
func (noFiles) Resolve(path string) (string, error) { return path, nil }
func (noFiles) Inherit(string) (loaders.Loader, error) {
	return noFiles{}, nil
}

func compileJinja(src string) (*exec.Template, error) {
	if t, ok := jinjaCache.Load(src); ok {
		return t.(*exec.Template), nil
	}
	cfg := config.New()
	cfg.TrimBlocks, cfg.LeftStripBlocks = true, true
	loader, err := loaders.NewShiftedLoader("chat_template", strings.NewReader(src), noFiles{})
	if err != nil {
		return nil, err
	}
	t, err := exec.NewTemplate("chat_template", cfg, loader, gonja.DefaultEnvironment)
	if err != nil {
		return nil, fmt.Errorf("finetune: chat template does not parse: %w", err)
	}
	jinjaCache.Store(src, t)
	return t, nil
}

// errTemplateRaised is returned when the template calls raise_exception.
var errTemplateRaised = errors.New("the chat template refused the conversation")

// tokenText is the vocabulary text of id, "" when there is none.
func tokenText(tok tokenize.Tokenizer, id int32) string {
	if id < 0 {
		return ""
	}
	if t, ok := tok.(interface{ Token(int32) string }); ok {
		return t.Token(id)
	}
	return tok.Decode([]int32{id})
}

// renderJinja renders msgs with the template's Jinja source.
func (t Template) renderJinja(tok tokenize.Tokenizer, msgs []providers.Message, addGenerationPrompt bool) (string, error) {
	tpl, err := compileJinja(t.Jinja)
	if err != nil {
		return "", err
	}
	ms := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		ms[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	sp := tok.Specials()
	ctx := exec.NewContext(map[string]any{
		"messages":              ms,
		"add_generation_prompt": addGenerationPrompt,
		"bos_token":             tokenText(tok, sp.BOS),
		"eos_token":             tokenText(tok, sp.EOS),
		"pad_token":             tokenText(tok, sp.Pad),
		"raise_exception": func(msg string) (string, error) {
			return "", fmt.Errorf("%w: %s", errTemplateRaised, msg)
		},
	})
	out, err := tpl.ExecuteToString(ctx)
	if err != nil {
		if strings.Contains(err.Error(), errTemplateRaised.Error()) {
			return "", fmt.Errorf("finetune: %s", err.Error()[strings.Index(err.Error(), errTemplateRaised.Error()):])
		}
		return "", fmt.Errorf("finetune: rendering the chat template: %w", err)
	}
	return out, nil
}

func commonPrefix(a, b []int32) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// encodeJinja tokenizes an example rendered by the Jinja template, with the
// loss mask on each trained reply.
func (t Template) encodeJinja(tok tokenize.Tokenizer, ex Example) (ids []int32, mask []bool, err error) {
	full, err := t.renderJinja(tok, ex.Messages, false)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%s)", err, ex.Source)
	}
	ids = tok.Encode(full)
	mask = make([]bool, len(ids))
	for i, m := range ex.Messages {
		if m.Role != providers.RoleAssistant || (len(ex.Weights) > 0 && ex.Weights[i] <= 0) {
			continue
		}
		pre, err := t.renderJinja(tok, ex.Messages[:i], true)
		if err != nil {
			return nil, nil, fmt.Errorf("%w (%s)", err, ex.Source)
		}
		post, err := t.renderJinja(tok, ex.Messages[:i+1], false)
		if err != nil {
			return nil, nil, fmt.Errorf("%w (%s)", err, ex.Source)
		}
		post = strings.TrimRight(post, " \t\r\n")
		if !strings.HasPrefix(full, pre) {
			// Some templates end the generation prompt with whitespace the
			// rendered reply does not have (a newline after a {{ … }}).
			pre = strings.TrimRight(pre, " \t\r\n")
		}
		if !strings.HasPrefix(full, pre) || !strings.HasPrefix(post, pre) || !strings.HasPrefix(full, post) {
			return nil, nil, fmt.Errorf("finetune: %s: the chat template does not render message %d as a continuation of the messages before it, so its reply cannot be located for training; choose a built-in template", ex.Source, i+1)
		}
		from := commonPrefix(tok.Encode(pre), ids)
		to := commonPrefix(tok.Encode(post), ids)
		for k := from; k < to; k++ {
			mask[k] = true
		}
	}
	return ids, mask, nil
}

// renderPromptJinja renders a generation prompt with the Jinja template.
func (t Template) renderPromptJinja(tok tokenize.Tokenizer, system string, msgs []providers.Message) ([]int32, int, error) {
	all := msgs
	if system != "" {
		all = append([]providers.Message{{Role: providers.RoleSystem, Content: system}}, msgs...)
	}
	text, err := t.renderJinja(tok, all, true)
	if err != nil {
		return nil, 0, err
	}
	ids := tok.Encode(text)
	nBegin := 0
	if len(ids) > 0 && ids[0] == tok.Specials().BOS {
		nBegin = 1
	}
	return ids, nBegin, nil
}

// jinjaStops are end-of-turn tokens of common templates: a Jinja template
// that writes one of them stops generation there.
var jinjaStops = []string{"<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "</s>"}
