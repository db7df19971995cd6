package torch

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/yardstick-eval/yardstick/finetune/ollamastore"
)

// OllamaPrefix marks a base model or local target taken from the local Ollama model store:
// "ollama:NAME[:TAG]" (finetune/ollamastore resolves it to the model's GGUF blob).
const OllamaPrefix = "ollama:"

// GGUFPath reports whether base names a GGUF model and returns the file: "ollama:NAME[:TAG]" is resolved
// in the Ollama store; a regular file whose name ends in .gguf, or that starts with GGUF's magic, is
// itself. A directory (a Hugging Face or Yardstick model) is not a GGUF model. A file named .gguf that
// does not exist, or an Ollama name the store lacks, is an error saying so. Pure Go: every build has it.
func GGUFPath(base string) (string, bool, error) {
	if name, ok := strings.CutPrefix(base, OllamaPrefix); ok {
		p, err := ollamastore.Resolve(name)
		if err != nil {
			return "", true, err
		}
		return p, true, nil
	}
	st, err := os.Stat(base)
	if err != nil {
		if strings.HasSuffix(strings.ToLower(base), ".gguf") {
			return "", true, fmt.Errorf("GGUF model %s: %w", base, err)
		}
		return "", false, nil
	}
	if st.IsDir() {
		return "", false, nil
	}
	if strings.HasSuffix(strings.ToLower(base), ".gguf") {
		return base, true, nil
	}
	f, err := os.Open(base)
	if err != nil {
		return "", false, nil
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err == nil && bytes.Equal(magic, []byte("GGUF")) {
		return base, true, nil
	}
	return "", false, fmt.Errorf("%s is a file, but neither a GGUF model nor a model directory (config.json, model.safetensors, tokenizer.json)", base)
}
