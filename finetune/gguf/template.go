package gguf

import (
	"fmt"

	"github.com/yardstick-eval/yardstick/finetune"
)

// Template returns the finetune chat template matching the file's
// tokenizer.chat_template (finetune.TemplateFromChatTemplate: ChatML with its
// literal default system message, Llama 3, Zephyr). A file without a chat
// template gets the template its special tokens imply
// (finetune.DetectTemplate). A template that is none of these is an error
// naming it: finetune's templates must know which tokens are the reply, for
// the loss mask, and a general Jinja engine cannot tell that.
func (f *File) Template() (finetune.Template, error) {
	jinja := f.ChatTemplate()
	if jinja != "" {
		if t, ok := finetune.TemplateFromChatTemplate(jinja); ok {
			return t, nil
		}
		snippet := jinja
		if len(snippet) > 120 {
			snippet = snippet[:120] + "…"
		}
		return finetune.Template{}, &FormatError{File: f.path, Offset: -1, Field: "tokenizer.chat_template",
			Err: fmt.Errorf("not a chat format Yardstick knows (chatml, llama3, zephyr); choose one explicitly. The template begins: %q", snippet)}
	}
	tok, err := f.Tokenizer()
	if err != nil {
		return finetune.Template{}, err
	}
	return finetune.DetectTemplate("", tok)
}
