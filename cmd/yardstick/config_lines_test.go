package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestAppConfigLines checks that app config errors name file:line and field.
func TestAppConfigLines(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   int
		stderr []string // each must appear; "FILE" is the config's path
		not    []string // none may appear
	}{
		{
			name:   "syntax error",
			config: "run:\n  concurrency: 2\nproviders: [\n",
			want:   exitUsage,
			// yaml.v3 blames the line where the unclosed list starts.
			stderr: []string{"app config FILE:3: invalid YAML: did not find expected node content"},
		},
		{
			name:   "bad indentation",
			config: "run:\n  concurrency: 2\n out: x\n",
			want:   exitUsage,
			// yaml.v3 blames the block the stray key ends (line 2); yamlx finds line 3.
			stderr: []string{"app config FILE:3: invalid YAML: did not find expected key"},
		},
		{
			name:   "second document",
			config: "run:\n  concurrency: 2\n---\nrun:\n  out: x\n",
			want:   exitUsage,
			stderr: []string{"app config FILE:3: a second YAML document starts here"},
		},
		{
			name:   "alias bomb",
			config: "x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\nx1: &x1 [*x0, *x0, *x0, *x0, *x0, *x0, *x0, *x0, *x0]\nx2: &x2 [*x1, *x1, *x1, *x1, *x1, *x1, *x1, *x1, *x1]\nx3: &x3 [*x2, *x2, *x2, *x2, *x2, *x2, *x2, *x2, *x2]\nx4: &x4 [*x3, *x3, *x3, *x3, *x3, *x3, *x3, *x3, *x3]\nx5: [*x4, *x4, *x4, *x4, *x4, *x4, *x4, *x4, *x4]\n",
			want:   exitUsage,
			stderr: []string{"app config FILE:5: too large: alias *x3 takes the document's aliases past 10000 expanded nodes"},
		},
		{
			name:   "key defined twice",
			config: "run:\n  concurrency: 2\nrun:\n  out: x\n",
			want:   exitUsage,
			stderr: []string{`app config FILE:3: mapping key "run" already defined at line 1`},
		},
		{
			name:   "unknown top-level key",
			config: "# app config\nproviders: []\nproviderz: []\n",
			want:   exitUsage,
			stderr: []string{`app config FILE:3: providerz: unknown field; did you mean "providers"?`},
		},
		{
			name:   "unknown top-level key without a near match",
			config: "zzzzzzzz: 1\n",
			want:   exitUsage,
			stderr: []string{"app config FILE:1: zzzzzzzz: unknown field; known fields: providers, prices, cache, run"},
		},
		{
			name: "unknown provider field with suggestion",
			config: `providers:
  - name: gpt
    type: openai
    model: gpt-4o-mini
  - name: llama
    type: ollama
    model: llama3.2
    limitz:
      rpm: 60
`,
			want:   exitUsage,
			stderr: []string{`app config FILE:8: providers[1].limitz: unknown field; did you mean "limits"?`},
		},
		{
			name:   "unknown provider field in flow style",
			config: "providers:\n  - {name: gpt, type: openai, model: gpt-4o-mini}\n  - {name: x, type: openai, modle: gpt-4o}\n",
			want:   exitUsage,
			stderr: []string{`app config FILE:3: providers[1].modle: unknown field; did you mean "model"?`},
		},
		{
			name:   "wrong type",
			config: "cache:\n  disabled: false\nrun:\n  out: runs\n  concurrency: \"many\"\n",
			want:   exitUsage,
			stderr: []string{`app config FILE:5: run.concurrency: want an integer, got "many"`},
		},
		{
			name:   "wrong type in a provider",
			config: "providers:\n  - name: gpt\n    type: openai\n    model: gpt-4o-mini\n    retry:\n      base_delay: soon\n",
			want:   exitUsage,
			stderr: []string{`app config FILE:6: providers[0].retry.base_delay: want a duration such as "2s", got "soon"`},
		},
		{
			name:   "mapping where a scalar belongs",
			config: "run:\n  concurrency:\n    max: 3\n",
			want:   exitUsage,
			stderr: []string{"app config FILE:3: run.concurrency: want an integer, got a mapping"},
		},
		{
			name:   "provider missing model",
			config: "run:\n  concurrency: 2\nproviders:\n  - name: gpt\n    type: openai\n    model: gpt-4o-mini\n  - name: broken\n    type: openai\n",
			want:   exitUsage,
			stderr: []string{`app config FILE:7: providers[1] ("broken"): type and model are required`},
		},
		{
			name: "nested price field typo",
			config: `providers:
  - name: gpt
    type: openai
    model: gpt-4o-mini
    price:
      input_per_m: 0.15
      outptu_per_m: 0.6
`,
			want:   exitUsage,
			stderr: []string{`app config FILE:7: providers[0].price.outptu_per_m: unknown field; did you mean "output_per_m"?`},
		},
		{
			name:   "price table field typo",
			config: "prices:\n  openai:\n    gpt-4o-mini:\n      input_per_m: 0.15\n      output_per_mm: 0.6\n",
			want:   exitUsage,
			stderr: []string{`app config FILE:5: prices[openai][gpt-4o-mini].output_per_mm: unknown field; did you mean "output_per_m"?`},
		},
		{
			name:   "several problems, in line order",
			config: "run:\n  concurency: 2\ncache:\n  dri: /tmp\n",
			want:   exitUsage,
			stderr: []string{
				`app config FILE:2: run.concurency: unknown field; did you mean "concurrency"?` + "\n" +
					`app config FILE:4: cache.dri: unknown field; did you mean "dir"?`,
			},
		},
		{
			name:   "keys match case-insensitively, as viper's do",
			config: "Run:\n  Concurrency: 2\nproviders:\n  - {name: gpt, type: openai, model: gpt-4o-mini}\n",
			want:   exitOK,
			not:    []string{"app config"},
		},
		{
			name:   "valid file",
			config: "run:\n  concurrency: 3\nproviders:\n  - {name: gpt, type: openai, model: gpt-4o-mini, price: {input_per_m: 0.15, output_per_m: 0.6}}\n",
			want:   exitOK,
			not:    []string{"app config"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, nil)
			path := filepath.Join(c.dir, "yardstick.yaml")
			writeFile(t, path, tt.config)
			code := c.run(context.Background(), "--config", path, "providers", "list")
			if code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, c.stdout.String(), c.stderr.String())
			}
			for _, s := range tt.stderr {
				if s = strings.ReplaceAll(s, "FILE", path); !strings.Contains(c.stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, c.stderr.String())
				}
			}
			for _, s := range tt.not {
				if strings.Contains(c.stderr.String(), s) {
					t.Errorf("stderr has %q:\n%s", s, c.stderr.String())
				}
			}
		})
	}
}

// TestAppConfigEnvErrors checks that a bad environment override is still
// reported under its variable's name, and that a good one overrides the file
// without the file's lines being blamed.
func TestAppConfigEnvErrors(t *testing.T) {
	tests := []struct {
		env    map[string]string
		want   int
		stderr string
	}{
		{map[string]string{"YARDSTICK_RUN_CONCURRENCY": "many"}, exitUsage, `YARDSTICK_RUN_CONCURRENCY="many": want an integer`},
		{map[string]string{"YARDSTICK_CACHE_DISABLED": "maybe"}, exitUsage, `YARDSTICK_CACHE_DISABLED="maybe": want true or false`},
		{map[string]string{"YARDSTICK_RUN_CONCURRENCY": "4"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.stderr, func(t *testing.T) {
			c := newCLI(t, tt.env)
			path := filepath.Join(c.dir, "yardstick.yaml")
			writeFile(t, path, "run:\n  concurrency: 2\n")
			code := c.run(context.Background(), "--config", path, "providers", "list")
			if code != tt.want {
				t.Fatalf("exit %d, want %d\n%s", code, tt.want, c.stderr.String())
			}
			if !strings.Contains(c.stderr.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, c.stderr.String())
			}
		})
	}
}

func TestSplitKeyPath(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{
		{"", ""},
		{"run.concurrency", "run|concurrency"},
		{"providers[1].limitz", "providers|1|limitz"},
		{"prices[openai][gpt-4.1].input_per_m", "prices|openai|gpt-4.1|input_per_m"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := strings.Join(splitKeyPath(tt.path), "|"); got != tt.want {
				t.Errorf("splitKeyPath(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

// TestLoadConfigValues checks what a valid file and environment load to:
// model names with dots stay whole map keys, and environment variables
// override the file.
func TestLoadConfigValues(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "yardstick.yaml")
	writeFile(t, path, `run:
  concurrency: 2
  out: runs
prices:
  openai:
    gpt-4.1:
      input_per_m: 2
      output_per_m: 8
providers:
  - {name: g, type: openai, model: gpt-4.1, limits: {rpm: 60}}
`)
	env := map[string]string{"YARDSTICK_RUN_CONCURRENCY": "7", "YARDSTICK_CACHE_DIR": "/tmp/c"}
	a := &app{cfgFile: path, getenv: func(k string) string { return env[k] }}
	if err := a.loadConfig(); err != nil {
		t.Fatal(err)
	}
	if got := a.conf.Prices["openai"]["gpt-4.1"]; got.InputPerM != 2 || got.OutputPerM != 8 {
		t.Errorf(`Prices["openai"]["gpt-4.1"] = %+v, want input 2, output 8 (all: %v)`, got, a.conf.Prices)
	}
	if a.conf.Run.Concurrency != 7 || a.conf.Run.Out != "runs" || a.conf.Cache.Dir != "/tmp/c" {
		t.Errorf("run/cache = %+v %+v, want concurrency 7 (env), out runs, cache dir /tmp/c (env)", a.conf.Run, a.conf.Cache)
	}
	if len(a.conf.Providers) != 1 || a.conf.Providers[0].Limits.RPM != 60 {
		t.Errorf("providers = %+v, want one with rpm 60", a.conf.Providers)
	}
}
