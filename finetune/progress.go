package finetune

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Progress events.
const (
	EventStep       = "step"       // a train-loss report (every LogEvery steps)
	EventEval       = "eval"       // an eval-loss measurement
	EventCheckpoint = "checkpoint" // a checkpoint was written
	EventDone       = "done"       // training finished or stopped
)

// Progress is one training progress report, emitted by finetune/torch.Train
// and rendered by the CLI.
type Progress struct {
	Event        string        `json:"event"`          // EventStep, EventEval, EventCheckpoint or EventDone
	Step         int           `json:"step"`           // optimizer steps done
	MaxSteps     int           `json:"max_steps"`      // optimizer steps planned
	Epoch        float64       `json:"epoch"`          // fractional epochs over the training split
	Loss         float64       `json:"loss"`           // mean train loss per target token since the last report
	EvalLoss     float64       `json:"eval_loss"`      // valid when HasEval
	HasEval      bool          `json:"has_eval"`       // EvalLoss is set
	LR           float64       `json:"lr"`             // learning rate of the last step
	Tokens       int64         `json:"tokens"`         // target (loss) tokens trained on so far
	TokensPerSec float64       `json:"tokens_per_sec"` // all input tokens per second since the last report
	Elapsed      time.Duration `json:"elapsed_ns"`
	ETA          time.Duration `json:"eta_ns"`               // estimated time to MaxSteps; 0 when unknown
	Checkpoint   string        `json:"checkpoint,omitempty"` // directory written (events checkpoint and done)
	PeakRSS      int64         `json:"peak_rss,omitempty"`   // the process's peak resident memory in bytes so far; 0 unknown
}

// ETA estimates the time left from the time spent on the steps done so far
// in this process (stepsDone steps took elapsed); 0 when nothing is known.
func ETA(elapsed time.Duration, stepsDone, stepsLeft int) time.Duration {
	if stepsDone <= 0 || stepsLeft <= 0 {
		return 0
	}
	return time.Duration(float64(elapsed) / float64(stepsDone) * float64(stepsLeft)).Round(time.Second)
}

// String renders one line such as
// "step 120/300  40% loss 1.2346 lr 2.10e-04 1234 tok/s 1m30s ETA 2m15s".
func (p Progress) String() string {
	var b strings.Builder
	pct := 0.0
	if p.MaxSteps > 0 {
		pct = 100 * float64(p.Step) / float64(p.MaxSteps)
	}
	fmt.Fprintf(&b, "step %d/%d %3.0f%%", p.Step, p.MaxSteps, pct)
	switch p.Event {
	case EventEval:
		if p.HasEval {
			fmt.Fprintf(&b, " eval loss %.4f", p.EvalLoss)
		}
	case EventCheckpoint:
		fmt.Fprintf(&b, " checkpoint %s", p.Checkpoint)
	case EventDone:
		if !math.IsNaN(p.Loss) && p.Loss != 0 {
			fmt.Fprintf(&b, " loss %.4f", p.Loss)
		}
		if p.HasEval {
			fmt.Fprintf(&b, " eval loss %.4f", p.EvalLoss)
		}
	default:
		if !math.IsNaN(p.Loss) {
			fmt.Fprintf(&b, " loss %.4f", p.Loss)
		}
		fmt.Fprintf(&b, " lr %.2e %.0f tok/s", p.LR, p.TokensPerSec)
		if p.PeakRSS > 0 {
			fmt.Fprintf(&b, " peak RSS %.2f GB", float64(p.PeakRSS)/1e9)
		}
	}
	fmt.Fprintf(&b, " %s", p.Elapsed.Round(time.Second))
	if p.ETA > 0 {
		fmt.Fprintf(&b, " ETA %s", p.ETA)
	}
	if p.Event == EventDone {
		b.WriteString(" done")
		if p.Checkpoint != "" {
			b.WriteString(" → " + p.Checkpoint)
		}
	}
	return b.String()
}

// ProgressPrinter returns a Progress callback that writes each report to w:
// on a terminal (tty true) step reports overwrite one line with a bar, and
// other events are printed on lines of their own; otherwise every report is a
// plain line.
func ProgressPrinter(w io.Writer, tty bool) func(Progress) {
	return func(p Progress) {
		if !tty {
			fmt.Fprintln(w, p.String())
			return
		}
		const width = 20
		filled := 0
		if p.MaxSteps > 0 {
			filled = min(width, width*p.Step/p.MaxSteps)
		}
		bar := "[" + strings.Repeat("=", filled) + strings.Repeat(" ", width-filled) + "] "
		if p.Event == EventStep {
			fmt.Fprintf(w, "\r\x1b[K%s%s", bar, p)
			return
		}
		fmt.Fprintf(w, "\r\x1b[K%s\n", p)
	}
}
