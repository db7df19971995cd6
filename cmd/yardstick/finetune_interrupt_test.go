package main

import (
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune"
)

// TestInterruptedMessage: an interrupted finetune names the checkpoint it wrote and how to continue, not
// the suite runner's "partial results were flushed".
func TestInterruptedMessage(t *testing.T) {
	f := &finetuneFlags{out: "runs/ft"}
	got := interruptedMessage(f, &finetune.Checkpoint{Step: 12, MaxSteps: 76})
	for _, want := range []string{"step 12/76", finetune.CheckpointDir("runs/ft", 12), "--resume --out runs/ft"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "flushed") {
		t.Errorf("%q", got)
	}
	if got := interruptedMessage(f, &finetune.Checkpoint{}); !strings.Contains(got, "no checkpoint") {
		t.Errorf("before the first step: %q", got)
	}
}
