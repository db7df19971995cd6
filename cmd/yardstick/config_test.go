package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppConfig(t *testing.T) {
	tests := []struct {
		name   string
		config string
		args   []string
		want   int
		stdout string
		stderr string
	}{
		{
			name:   "providers listed",
			config: "providers:\n  - {name: gpt, type: openai, model: gpt-4o-mini}\n  - {name: local-llama, type: vllm, model: llama, base_url: http://gpu:8000/v1}\n",
			args:   []string{"providers", "list"},
			want:   exitOK,
			stdout: "local-llama  vllm    llama        http://gpu:8000/v1",
		},
		{
			name:   "unknown key",
			config: "providerz: []\n",
			args:   []string{"providers", "list"},
			want:   exitUsage,
			stderr: "providerz",
		},
		{
			name:   "provider without a model",
			config: "providers:\n  - {name: gpt, type: openai}\n",
			args:   []string{"providers", "list"},
			want:   exitUsage,
			stderr: `providers[0] ("gpt"): type and model are required`,
		},
		{
			name:   "not YAML",
			config: "providers: [\n",
			args:   []string{"providers", "list"},
			want:   exitUsage,
			stderr: "app config",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, nil)
			path := filepath.Join(c.dir, "yardstick.yaml")
			writeFile(t, path, tt.config)
			code := c.run(context.Background(), append([]string{"--config", path}, tt.args...)...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.want, c.stdout.String(), c.stderr.String())
			}
			if !strings.Contains(c.stdout.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, c.stdout.String())
			}
			if !strings.Contains(c.stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, c.stderr.String())
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		c := newCLI(t, nil)
		if code := c.run(context.Background(), "--config", "nope.yaml", "providers", "list"); code != exitUsage {
			t.Errorf("exit %d, want %d", code, exitUsage)
		}
	})
}
