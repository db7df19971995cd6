package torch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/torch"
	"github.com/yardstick-eval/yardstick/providers"
	"github.com/yardstick-eval/yardstick/providers/registry"
)

// TestLocalScheme: "-m local:DIR" builds through the registry. Without the torch tag it fails with
// finetune.ErrNotBuilt; with it, it serves the directory.
func TestLocalScheme(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "train.jsonl")
	line := `{"messages":[{"role":"user","content":"ping"},{"role":"assistant","content":"pong"}]}` + "\n"
	if err := os.WriteFile(data, []byte(line+line+line), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	cfg := finetune.DefaultTrainConfig()
	cfg.MaxSteps, cfg.BatchSize, cfg.SeqLen, cfg.EvalFraction, cfg.Threads = 2, 2, 32, 0, 1
	_, err := torch.Train(context.Background(), torch.TrainOptions{Data: data, Base: "scratch", Out: run, Config: cfg})
	if !torch.Built() {
		if !errors.Is(err, finetune.ErrNotBuilt) {
			t.Fatalf("Train without torch: %v, want ErrNotBuilt", err)
		}
		if err := os.MkdirAll(run, 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := registry.Build(mustParse(t, "local:"+run), registry.Options{})
		if !errors.Is(err, finetune.ErrNotBuilt) {
			t.Fatalf("registry.Build(local:) without torch: %v, want ErrNotBuilt", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	cfgp := mustParse(t, "local:"+run)
	cfgp.Options = map[string]string{"max_tokens": "3", "threads": "1"}
	b, err := registry.Build(cfgp, registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.Provider.Generate(context.Background(), &providers.Request{Messages: []providers.Message{{Role: "user", Content: "ping"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Model != "run" || resp.Usage.OutputTokens == 0 || resp.Usage.OutputTokens > 3 {
		t.Errorf("response %+v", resp)
	}
	fp1, _ := torch.Fingerprint(run)
	if b.Scope != "local@"+fp1 {
		t.Errorf("scope %q, want local@%s", b.Scope, fp1)
	}
	cfgp.Options = map[string]string{"temperature": "1"}
	if _, err := registry.Build(cfgp, registry.Options{}); err == nil {
		t.Error("unknown option accepted")
	}
	// A directory that is not a model: the error names the file and what is wrong with it, not just "load DIR".
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "config.json"), []byte(`{"hidden_size": "wide"}`), 0o644)
	_, err = registry.Build(mustParse(t, "local:"+bad), registry.Options{})
	if err == nil || !strings.Contains(err.Error(), "config.json") || !strings.Contains(err.Error(), "hidden_size") {
		t.Errorf("local: on a broken model directory: %v", err)
	}
}

func mustParse(t *testing.T, s string) registry.Config {
	t.Helper()
	c, err := registry.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
