package torch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/yardstick-eval/yardstick/finetune"
)

// Fingerprint identifies the contents of a model directory without reading the weights: a hash of its
// absolute path and the name, size and modification time of every file in it (and, for a LoRA adapter
// directory, in its base model directory). Retraining into the same directory changes it, so a response
// cache scoped by it never serves answers of an older model. It is pure Go and works in every build.
//
// A GGUF model (a .gguf file or "ollama:NAME", see GGUFPath) is fingerprinted by its resolved file's path,
// size and modification time.
func Fingerprint(dir string) (string, error) {
	if path, ok, err := GGUFPath(dir); ok || err != nil {
		if err != nil {
			return "", err
		}
		dir = path
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	dirs := []string{abs}
	if b, err := os.ReadFile(filepath.Join(abs, finetune.AdapterConfigFile)); err == nil {
		var ac struct {
			Base string `json:"base_model_name_or_path"`
		}
		if json.Unmarshal(b, &ac) == nil && ac.Base != "" {
			base := ac.Base
			if !filepath.IsAbs(base) && !strings.HasPrefix(base, OllamaPrefix) {
				base = filepath.Join(abs, base)
			}
			dirs = append(dirs, base)
		}
	}
	for _, d := range dirs {
		if path, ok, _ := GGUFPath(d); ok {
			st, err := os.Stat(path)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "file %s %d %d\n", path, st.Size(), st.ModTime().UnixNano())
			continue
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			return "", err
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		fmt.Fprintf(h, "dir %s\n", d)
		for _, n := range names {
			st, err := os.Stat(filepath.Join(d, n))
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%s %d %d\n", n, st.Size(), st.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
