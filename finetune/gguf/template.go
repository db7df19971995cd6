package gguf

import (
	"github.com/yardstick-eval/yardstick/finetune"
)

// Template returns the finetune chat template for the file's
// tokenizer.chat_template: one of the built-in formats when it is one
// (finetune.TemplateFromChatTemplate: ChatML with its literal default system
// message, Llama 3, Zephyr), else the Jinja template itself
// (finetune.TemplateJinja). A file without a chat template gets the template
// its special tokens imply (finetune.DetectTemplate). A template that does
// not parse is an error naming the key.
func (f *File) Template() (finetune.Template, error) {
	jinja := f.ChatTemplate()
	if jinja != "" {
		if t, ok := finetune.TemplateFromChatTemplate(jinja); ok {
			return t, nil
		}
		t, err := finetune.JinjaTemplate(jinja)
		if err != nil {
			return finetune.Template{}, &FormatError{File: f.path, Offset: -1, Field: "tokenizer.chat_template", Err: err}
		}
		return t, nil
	}
	tok, err := f.Tokenizer()
	if err != nil {
		return finetune.Template{}, err
	}
	return finetune.DetectTemplate("", tok)
}
