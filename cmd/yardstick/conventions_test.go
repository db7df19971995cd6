package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/internal/table"
)

// TestProvidersListAlignsHangul checks that a listing with Korean provider
// names lines its columns up by display width, as a terminal shows them.
func TestProvidersListAlignsHangul(t *testing.T) {
	config := filepath.Join(t.TempDir(), "yardstick.yaml")
	writeFile(t, config, `
providers:
  - name: 상담-모델
    type: openai
    model: gpt-4o-mini
  - name: fast
    type: ollama
    model: llama3.2
  - name: 한국어-요약기-큰모델
    type: openai
    model: gpt-4o
`)
	c := newCLI(t, nil)
	if code := c.run(context.Background(), "--config", config, "providers", "list"); code != exitOK {
		t.Fatalf("exit %d\n%s", code, c.stderr.String())
	}
	var starts []int
	for _, line := range strings.Split(c.stdout.String(), "\n") {
		for _, typ := range []string{"TYPE", "openai", "ollama"} {
			if i := strings.Index(line, typ); i >= 0 && !strings.HasPrefix(line, "schemes") {
				starts = append(starts, table.Width(line[:i]))
				break
			}
		}
	}
	if len(starts) != 4 {
		t.Fatalf("want header + 3 rows, found %d:\n%s", len(starts), c.stdout.String())
	}
	for _, s := range starts {
		if s != starts[0] {
			t.Fatalf("TYPE column starts at display columns %v:\n%s", starts, c.stdout.String())
		}
	}
}
