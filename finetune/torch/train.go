//go:build torch

package torch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/finetune/tokenize"
	"github.com/yardstick-eval/yardstick/providers"
)

// keepCheckpoints is how many intermediate checkpoints a run keeps (older ones are pruned).
const keepCheckpoints = 2

// BaseDir is the subdirectory of a run trained from scratch that holds the untrained initial model, so it
// can be benchmarked against the result (`local:RUN/base` vs `local:RUN`).
const BaseDir = "base"

// Train fine-tunes (or trains from scratch) a LLaMA model and writes the run directory opts.Out:
//
//	Out/                         final model: model.safetensors + config.json (full fine-tuning, or LoRA
//	                             with Merge), adapter_model.safetensors + adapter_config.json (LoRA),
//	                             tokenizer, generation_config.json, yardstick_checkpoint.json (Done)
//	Out/checkpoints/step-N/      the same plus optimizer.safetensors; the newest two are kept
//	Out/base/                    scratch runs only: the untrained initial model
//
// Loss is the mean cross-entropy over assistant tokens only (finetune.Encode's mask). Each optimizer step
// takes Config.GradAccumulation micro-batches of Config.BatchSize sequences; their token losses are
// summed and divided by the step's total target tokens. Then the global gradient norm is clipped to
// Config.GradClip and AdamW updates with the learning rate Config.LRAt(step).
//
// Determinism: initial weights, LoRA initialisation, data order (finetune.Batcher) and dropout (libtorch's
// generator reseeded from Config.Seed and the step number before every step) depend only on Config.Seed, so
// the same inputs and thread count give the same loss curve, and a run resumed from a checkpoint continues
// it exactly: the checkpoint restores weights, AdamW moments and step count, and the data position.
//
// Cancelling ctx stops between optimizer steps: Train writes a checkpoint for the steps done (servable with
// NewProvider and resumable with Resume) and returns it with ctx's error.
//
// Train runs on the package's torch thread (see thread.go): other calls into this package wait until it
// returns, and opts.Progress, which is called on that thread, must not call into this package.
func Train(ctx context.Context, opts TrainOptions) (ck *finetune.Checkpoint, err error) {
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	if opts.Out == "" {
		return nil, &finetune.InputError{Field: "out", Err: errors.New("no run directory")}
	}
	if opts.Data == "" {
		return nil, &finetune.InputError{Field: "data", Err: errors.New("no training data file")}
	}
	err = onTorchThread(ctx, func() error {
		setThreads(opts.Config.Threads)
		prev := setGradEnabled(true)
		defer setGradEnabled(prev)
		tr, err := newTrainer(opts)
		if err != nil {
			return err
		}
		defer tr.free()
		ck, err = tr.run(ctx)
		return err
	})
	return ck, err
}

type trainer struct {
	opts     TrainOptions
	cfg      finetune.TrainConfig // MaxSteps resolved
	base     string               // absolute base model dir; "" when trained from scratch
	l        *loaded
	train    []finetune.Sequence
	eval     []finetune.Sequence
	batcher  *finetune.Batcher
	pad      int32
	opt      *adamW
	ck       finetune.Checkpoint
	resumed  string // checkpoint dir resumed from
	started  time.Time
	elapsed0 time.Duration // Elapsed carried over from the resumed checkpoint
	stepsRun int           // steps run by this process
}

func (tr *trainer) free() {
	if tr.opt != nil {
		tr.opt.free()
	}
	if tr.l != nil {
		tr.l.free()
	}
}

func newTrainer(opts TrainOptions) (_ *trainer, err error) {
	tr := &trainer{opts: opts, cfg: opts.Config, started: time.Now()}
	defer func() {
		if err != nil {
			tr.free()
		}
	}()
	cfg := &tr.cfg
	var resume *finetune.Checkpoint
	if opts.Resume {
		dir, c, err := finetune.LatestCheckpoint(opts.Out)
		switch {
		case errors.Is(err, finetune.ErrNoCheckpoint):
		case err != nil:
			return nil, err
		default:
			resume, tr.resumed = c, dir
		}
	}

	// Model, tokenizer, template.
	preset, scratch := parseScratch(opts.Base)
	if scratch && cfg.LoRA != nil {
		return nil, &finetune.InputError{Field: "lora", Err: errors.New("LoRA needs a pretrained base model directory, not scratch")}
	}
	l := &loaded{}
	tr.l = l
	var mc *finetune.ModelConfig
	var ggufBase *ggufModel
	defer func() {
		if ggufBase != nil {
			for _, t := range ggufBase.params {
				t.free()
			}
		}
	}()
	if scratch {
		l.tok = tokenize.NewBytes()
		if mc, err = finetune.PresetConfig(preset, l.tok.VocabSize()); err != nil {
			return nil, err
		}
		mc.SetTokenIDs(l.tok.Specials())
	} else {
		if opts.Base == "" {
			return nil, &finetune.InputError{Field: "base", Err: errors.New("no base model (a model directory or scratch)")}
		}
		ggufPath, isGGUF, err := GGUFPath(opts.Base)
		if err != nil {
			return nil, &finetune.InputError{Field: "base", Err: err}
		}
		if isGGUF {
			// The run records the file itself (an ollama: name resolves to a blob path), so adapters point
			// at exactly the weights they were trained on.
			if tr.base, err = filepath.Abs(ggufPath); err != nil {
				return nil, err
			}
			if ggufBase, err = loadGGUF(tr.base, cfg.Template == ""); err != nil {
				return nil, err
			}
			mc, l.tok, l.tmpl = ggufBase.cfg, ggufBase.tok, ggufBase.tmpl
		} else if mc, err = tr.loadBaseDir(); err != nil {
			return nil, err
		}
	}
	if err := mc.Validate(); err != nil {
		return nil, err
	}
	if l.tok.VocabSize() > mc.VocabSize {
		return nil, fmt.Errorf("%s: tokenizer has %d ids but vocab_size is %d", opts.Base, l.tok.VocabSize(), mc.VocabSize)
	}
	switch {
	case cfg.Template != "":
		l.tmpl, err = finetune.TemplateByName(cfg.Template)
	case ggufBase != nil:
		// the file's chat template, read above
	default:
		l.tmpl, err = finetune.DetectTemplate(tr.base, l.tok)
	}
	if err != nil {
		return nil, err
	}

	// Weights: a resumed full fine-tune reads its checkpoint's; everything else starts from the base.
	var params map[string]tensor
	switch {
	case resume != nil && cfg.LoRA == nil:
		params, err = loadParams(tr.resumed, mc)
	case scratch:
		params = initParams(mc, cfg.Seed)
	case ggufBase != nil:
		params, ggufBase.params = ggufBase.params, nil
	default:
		params, err = loadParams(tr.base, mc)
	}
	if err != nil {
		return nil, err
	}
	if l.m, err = newModel(mc, params); err != nil {
		for _, t := range params {
			t.free()
		}
		return nil, err
	}
	m := l.m
	switch {
	case cfg.LoRA != nil && resume != nil:
		if err := m.loadAdapter(tr.resumed); err != nil {
			return nil, err
		}
		for _, t := range m.params {
			setRequiresGrad(t, false)
		}
		for _, p := range m.trainable() {
			setRequiresGrad(p.t, true)
		}
	case cfg.LoRA != nil:
		if err := m.attachLoRA(*cfg.LoRA, cfg.Seed); err != nil {
			return nil, err
		}
	default:
		for _, t := range m.params {
			setRequiresGrad(t, true)
		}
	}

	// Data.
	dataHash, err := hashFiles(opts.Data, opts.EvalData)
	if err != nil {
		return nil, err
	}
	if err := tr.readData(); err != nil {
		return nil, err
	}
	if len(tr.train) == 0 {
		return nil, &finetune.InputError{File: opts.Data, Err: errors.New("no training examples (all held out?)")}
	}
	tr.pad = 0
	if sp := l.tok.Specials(); sp.Pad >= 0 {
		tr.pad = sp.Pad
	} else if sp.EOS >= 0 {
		tr.pad = sp.EOS
	}
	tr.batcher = finetune.Batches(tr.train, cfg.BatchSize, cfg.SeqLen, cfg.Seed, tr.pad)
	cfg.MaxSteps = opts.Config.StepsFor(len(tr.train))

	tr.opt = newAdamW(m.trainable(), cfg.Beta1, cfg.Beta2, cfg.Eps, cfg.WeightDecay)
	tr.ck = finetune.Checkpoint{
		MaxSteps: cfg.MaxSteps, Seed: cfg.Seed,
		ModelConfigHash: mc.Hash(), TrainConfigHash: opts.Config.Hash(), DataHash: dataHash,
		TrainConfig: opts.Config, BaseModel: tr.base, Template: l.tmpl.Name, DefaultSystem: l.tmpl.DefaultSystem,
		Tokenizer: tokenizerKind(l.tok), TrainExamples: len(tr.train), EvalExamples: len(tr.eval),
		Adapter: m.lora != nil,
	}
	if resume != nil {
		if err := tr.checkResume(resume); err != nil {
			return nil, err
		}
		if resume.Done {
			// The run finished (resume found its final export, which has no optimizer state): nothing to do.
			tr.ck = *resume
			return tr, nil
		}
		if err := tr.opt.load(filepath.Join(tr.resumed, optimizerFile)); err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		if tr.opt.step != resume.Step {
			return nil, fmt.Errorf("resume: %s holds %d optimizer steps, checkpoint says %d", tr.resumed, tr.opt.step, resume.Step)
		}
		tr.ck.Step, tr.ck.Next, tr.ck.Epoch, tr.ck.TokensSeen = resume.Step, resume.Next, resume.Epoch, resume.TokensSeen
		tr.ck.TrainLoss, tr.ck.EvalLoss, tr.ck.Done = resume.TrainLoss, resume.EvalLoss, resume.Done
		tr.elapsed0 = resume.Elapsed
	} else if scratch {
		if err := tr.writeBase(); err != nil {
			return nil, err
		}
	}
	return tr, nil
}

// loadBaseDir reads the config and tokenizer of a base model directory.
func (tr *trainer) loadBaseDir() (*finetune.ModelConfig, error) {
	var err error
	if tr.base, err = filepath.Abs(tr.opts.Base); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(tr.base, adapterCfgFile)); err == nil {
		if _, err := os.Stat(filepath.Join(tr.base, modelFile)); err != nil {
			return nil, fmt.Errorf("%s is a LoRA adapter; merge it first (ExportMerged) and train on the merged model", tr.opts.Base)
		}
	}
	mc, err := finetune.LoadModelConfig(filepath.Join(tr.base, configFile))
	if err != nil {
		return nil, err
	}
	if tr.l.tok, err = tokenize.Load(tr.base); err != nil {
		return nil, err
	}
	return mc, nil
}

func (tr *trainer) checkResume(c *finetune.Checkpoint) error {
	diff := func(what, a, b string) error {
		return fmt.Errorf("resume from %s: the %s differs from the checkpoint's; resume with the same settings or start a new run", tr.resumed, what)
	}
	switch {
	case c.ModelConfigHash != tr.ck.ModelConfigHash:
		return diff("model config", c.ModelConfigHash, tr.ck.ModelConfigHash)
	case c.TrainConfigHash != tr.ck.TrainConfigHash:
		return diff("training config", c.TrainConfigHash, tr.ck.TrainConfigHash)
	case c.DataHash != tr.ck.DataHash:
		return diff("training data", c.DataHash, tr.ck.DataHash)
	case c.BaseModel != tr.ck.BaseModel:
		return diff("base model", c.BaseModel, tr.ck.BaseModel)
	}
	return nil
}

func tokenizerKind(t tokenize.Tokenizer) string {
	if _, ok := t.(*tokenize.Bytes); ok {
		return "bytes"
	}
	return "hf"
}

// promptBudget is the most prompt tokens a training sequence of seqLen+1 tokens keeps when it must be cut:
// three quarters of it, the rest left for the answer. The provider cuts prompts of models trained from
// scratch to the same length (see loadDir), so they see at inference exactly what they saw in training.
func promptBudget(seqLen int) int { return (seqLen + 1) * 3 / 4 }

// encode turns an example into a training sequence of at most SeqLen+1 tokens. One that fits is
// finetune.Encode's. A longer one keeps the final assistant answer and the last promptBudget tokens of the
// conversation before it, rendered by finetune.RenderPrompt exactly as the provider renders prompts; the
// answer is cut at the end if it still does not fit. The cut point depends only on the prompt: cutting the
// prompt by however long the answer is (so that the sequence fills the window) tells the model the
// answer's length through what the window starts with, and a model trained from scratch learns that
// shortcut instead of reading the question (measured: 0/120 on the customer-support test split).
func (tr *trainer) encode(ex finetune.Example) (finetune.Sequence, error) {
	tok, tmpl := tr.l.tok, tr.l.tmpl
	maxLen := tr.cfg.SeqLen + 1
	ids, mask, err := finetune.Encode(tok, tmpl, ex, 0)
	if err != nil {
		return finetune.Sequence{}, err
	}
	if len(ids) <= maxLen {
		return finetune.Sequence{IDs: ids, Mask: mask}, nil
	}
	last := len(ex.Messages) - 1
	end := len(mask) - 1
	for end >= 0 && !mask[end] {
		end--
	}
	start := end
	for start > 0 && mask[start-1] {
		start--
	}
	if last < 1 || ex.Messages[last].Role != providers.RoleAssistant {
		return finetune.Sequence{}, fmt.Errorf("%s: the last message must be the assistant's answer", ex.Source)
	}
	full, err := finetune.RenderPrompt(tok, tmpl, "", ex.Messages[:last], 0)
	if err != nil {
		return finetune.Sequence{}, err
	}
	if !slices.Equal(full, ids[:start]) {
		// The final answer is not trained (weight 0) or the template renders prompts differently from
		// training sequences: fall back to Encode's own truncation.
		ids, mask, err := finetune.Encode(tok, tmpl, ex, maxLen)
		return finetune.Sequence{IDs: ids, Mask: mask}, err
	}
	prompt, err := finetune.RenderPrompt(tok, tmpl, "", ex.Messages[:last], promptBudget(tr.cfg.SeqLen))
	if err != nil {
		return finetune.Sequence{}, err
	}
	seq := finetune.Sequence{IDs: append(prompt, ids[start:end+1]...), Mask: make([]bool, len(prompt), maxLen)}
	seq.Mask = append(seq.Mask, mask[start:end+1]...)
	if len(seq.IDs) > maxLen {
		seq.IDs, seq.Mask = seq.IDs[:maxLen], seq.Mask[:maxLen]
	}
	return seq, nil
}

// readData encodes the examples and splits off the eval set. The first malformed line is an error.
func (tr *trainer) readData() error {
	add := func(path string, split func(ex finetune.Example) bool) error {
		for ex, err := range finetune.ReadExamples(path) {
			if err != nil {
				return err
			}
			s, err := tr.encode(ex)
			if err != nil {
				return err
			}
			if split(ex) {
				tr.eval = append(tr.eval, s)
			} else {
				tr.train = append(tr.train, s)
			}
		}
		return nil
	}
	if tr.opts.EvalData != "" {
		if err := add(tr.opts.Data, func(finetune.Example) bool { return false }); err != nil {
			return err
		}
		return add(tr.opts.EvalData, func(finetune.Example) bool { return true })
	}
	return add(tr.opts.Data, func(ex finetune.Example) bool {
		return finetune.IsEval(ex.Index, tr.cfg.EvalFraction, tr.cfg.Seed)
	})
}

func hashFiles(paths ...string) (string, error) {
	h := sha256.New()
	for _, p := range paths {
		if p == "" {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return "", &finetune.InputError{File: p, Err: err}
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// stepSeed is the libtorch generator seed for an optimizer step (dropout masks).
func stepSeed(seed int64, step int) int64 {
	z := uint64(seed)*0x9e3779b97f4a7c15 + uint64(step)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return int64((z ^ (z >> 31)) >> 1)
}

func (tr *trainer) run(ctx context.Context) (*finetune.Checkpoint, error) {
	cfg := &tr.cfg
	if tr.ck.Done || tr.ck.Step >= cfg.MaxSteps {
		tr.ck.Done = true
		return tr.snapshot(), nil
	}
	next, stop := iter.Pull2(tr.batcher.From(tr.ck.Next))
	defer stop()
	logEvery := max(cfg.LogEvery, 1)
	var winLoss float64
	var winTokens, winInput int64
	winStart := time.Now()
	lastEval := -1
	for tr.ck.Step < cfg.MaxSteps {
		if err := ctx.Err(); err != nil {
			return tr.stopEarly(err)
		}
		step := tr.ck.Step
		manualSeed(stepSeed(cfg.Seed, step))
		lr := cfg.LRAt(step)
		micro := make([]finetune.Batch, 0, cfg.GradAccumulation)
		var pos finetune.Position
		for range cfg.GradAccumulation {
			p, b, ok := next()
			if !ok {
				return nil, errors.New("finetune: batcher ended") // cannot happen: it is endless
			}
			micro, pos = append(micro, b), p
		}
		n := 0
		for _, b := range micro {
			n += b.Tokens
		}
		lossSum := 0.0
		for i, b := range micro {
			if b.Tokens == 0 {
				continue
			}
			lossSum += tr.backward(b, float64(n), step, i)
			winInput += int64(b.Rows * b.Cols)
		}
		if n > 0 {
			tr.opt.clipGradNorm(cfg.GradClip)
			tr.opt.stepAt(lr)
		} else {
			tr.opt.zeroGrad()
			tr.opt.step++ // keep the optimizer's step count equal to the trainer's
		}
		tr.ck.Step++
		tr.stepsRun++
		tr.ck.Next = tr.batcher.Next(pos)
		tr.ck.TokensSeen += int64(n)
		tr.ck.Epoch = float64(tr.ck.Next.Epoch) + float64(tr.ck.Next.Batch)/float64(tr.batcher.Len())
		winLoss += lossSum
		winTokens += int64(n)

		if tr.ck.Step%logEvery == 0 || tr.ck.Step == cfg.MaxSteps {
			loss := math.NaN()
			if winTokens > 0 {
				loss = winLoss / float64(winTokens)
			}
			tr.ck.TrainLoss = append(tr.ck.TrainLoss, finetune.LossPoint{Step: tr.ck.Step, Loss: loss, LR: lr, Tokens: tr.ck.TokensSeen})
			p := tr.progress(finetune.EventStep, lr)
			p.Loss = loss
			p.PeakRSS = peakRSS()
			if d := time.Since(winStart).Seconds(); d > 0 {
				p.TokensPerSec = float64(winInput) / d
			}
			tr.emit(p)
			winLoss, winTokens, winInput, winStart = 0, 0, 0, time.Now()
		}
		if cfg.EvalEvery > 0 && tr.ck.Step%cfg.EvalEvery == 0 && len(tr.eval) > 0 {
			tr.runEval(lr)
			lastEval = tr.ck.Step
		}
		if cfg.CheckpointEvery > 0 && tr.ck.Step%cfg.CheckpointEvery == 0 && tr.ck.Step < cfg.MaxSteps {
			if _, err := tr.checkpoint(lr); err != nil {
				return nil, err
			}
		}
	}
	lr := cfg.LRAt(cfg.MaxSteps - 1)
	if len(tr.eval) > 0 && lastEval != tr.ck.Step {
		tr.runEval(lr)
	}
	tr.ck.Done = true
	final, err := tr.export()
	if err != nil {
		return nil, err
	}
	p := tr.progress(finetune.EventDone, lr)
	p.Checkpoint = tr.opts.Out
	tr.emit(p)
	return final, nil
}

// backward runs micro-batch i of optimizer step `step` forward and backward, with its summed loss divided
// by the step's total target tokens n, and returns the summed (undivided) loss (see model.trainStep).
func (tr *trainer) backward(b finetune.Batch, n float64, step, i int) float64 {
	var s scope
	defer s.free()
	rows, cols := int64(b.Rows), int64(b.Cols)
	ids := s.t(fromInt32sAsInt64(b.Inputs, rows, cols))
	tg := s.t(fromInt32sAsInt64(b.Targets, rows, cols))
	seed := stepSeed(stepSeed(tr.cfg.Seed, step), i)
	return tr.l.m.trainStep(ids, tg, rows, cols, 1/n, tr.cfg.GradCheckpoint, seed)
}

// evalLoss is the mean token loss over the eval split (no dropout, no gradients).
func (tr *trainer) evalLoss() float64 {
	m := tr.l.m
	prevTrain := m.training
	m.training = false
	prev := setGradEnabled(false)
	defer func() {
		setGradEnabled(prev)
		m.training = prevTrain
	}()
	bt := finetune.Batches(tr.eval, tr.cfg.BatchSize, tr.cfg.SeqLen, tr.cfg.Seed, tr.pad)
	total, tokens := 0.0, 0
	for i := range bt.Len() {
		b := bt.At(0, i)
		if b.Tokens == 0 {
			continue
		}
		var s scope
		rows, cols := int64(b.Rows), int64(b.Cols)
		ids := s.t(fromInt32sAsInt64(b.Inputs, rows, cols))
		tg := s.t(fromInt32sAsInt64(b.Targets, rows, cols))
		total += m.lossSum(&s, ids, tg, rows, cols).item()
		tokens += b.Tokens
		s.free()
	}
	if tokens == 0 {
		return math.NaN()
	}
	return total / float64(tokens)
}

func (tr *trainer) runEval(lr float64) {
	el := tr.evalLoss()
	tr.ck.EvalLoss = append(tr.ck.EvalLoss, finetune.LossPoint{Step: tr.ck.Step, Loss: el, Tokens: tr.ck.TokensSeen})
	p := tr.progress(finetune.EventEval, lr)
	p.EvalLoss, p.HasEval = el, true
	tr.emit(p)
}

func (tr *trainer) progress(event string, lr float64) finetune.Progress {
	el := time.Since(tr.started)
	return finetune.Progress{
		Event: event, Step: tr.ck.Step, MaxSteps: tr.cfg.MaxSteps, Epoch: tr.ck.Epoch, LR: lr,
		Tokens: tr.ck.TokensSeen, Elapsed: tr.elapsed0 + el,
		ETA: finetune.ETA(el, tr.stepsRun, tr.cfg.MaxSteps-tr.ck.Step),
	}
}

func (tr *trainer) emit(p finetune.Progress) {
	if tr.opts.Progress != nil {
		tr.opts.Progress(p)
	}
}

func (tr *trainer) snapshot() *finetune.Checkpoint {
	c := tr.ck
	c.Version = finetune.CheckpointVersion
	c.Elapsed = tr.elapsed0 + time.Since(tr.started)
	c.TrainLoss = append([]finetune.LossPoint(nil), tr.ck.TrainLoss...)
	c.EvalLoss = append([]finetune.LossPoint(nil), tr.ck.EvalLoss...)
	return &c
}

// stopEarly writes a checkpoint for the steps done and returns it with err.
func (tr *trainer) stopEarly(err error) (*finetune.Checkpoint, error) {
	lr := tr.cfg.LRAt(max(tr.ck.Step-1, 0))
	c := tr.snapshot()
	p := tr.progress(finetune.EventDone, lr)
	if tr.ck.Step > 0 && tr.stepsRun > 0 {
		var werr error
		if c, werr = tr.checkpoint(lr); werr != nil {
			return nil, errors.Join(err, werr)
		}
		p.Checkpoint = finetune.CheckpointDir(tr.opts.Out, tr.ck.Step)
	}
	tr.emit(p)
	return c, err
}

// checkpoint writes Out/checkpoints/step-N, prunes older ones and returns what it wrote.
func (tr *trainer) checkpoint(lr float64) (*finetune.Checkpoint, error) {
	dir := finetune.CheckpointDir(tr.opts.Out, tr.ck.Step)
	c, err := tr.writeModelDir(dir, true, false)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if err := finetune.PruneCheckpoints(tr.opts.Out, keepCheckpoints); err != nil {
		return nil, err
	}
	p := tr.progress(finetune.EventCheckpoint, lr)
	p.Checkpoint = dir
	tr.emit(p)
	return c, nil
}

// export writes the final model into Out.
func (tr *trainer) export() (*finetune.Checkpoint, error) {
	merge := tr.cfg.LoRA != nil && tr.cfg.LoRA.Merge
	return tr.writeModelDir(tr.opts.Out, false, merge)
}

// writeModelDir writes a servable model directory: weights (full, or adapter [+ merged]), tokenizer,
// generation config, optionally the optimizer state, and yardstick_checkpoint.json last.
func (tr *trainer) writeModelDir(dir string, withOptimizer, merge bool) (*finetune.Checkpoint, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	os.Remove(filepath.Join(dir, finetune.CheckpointFile)) // the directory is incomplete until rewritten
	m := tr.l.m
	var files []string
	if m.lora != nil {
		if err := m.saveAdapter(dir, tr.base); err != nil {
			return nil, err
		}
		files = append(files, adapterFile, adapterCfgFile)
		if merge {
			if err := m.saveModel(dir, true); err != nil {
				return nil, err
			}
			files = append(files, modelFile, configFile)
		}
	} else {
		if err := m.saveModel(dir, false); err != nil {
			return nil, err
		}
		files = append(files, modelFile, configFile)
	}
	if withOptimizer {
		ts, meta := tr.opt.state()
		if err := saveTensors(filepath.Join(dir, optimizerFile), ts, meta); err != nil {
			return nil, err
		}
		files = append(files, optimizerFile)
	}
	if err := tokenize.Save(tr.l.tok, dir); err != nil {
		return nil, err
	}
	files = append(files, tokenizerFiles(dir)...)
	gc := finetune.NewGenerationConfig(m.cfg, finetune.StopIDs(tr.l.tok, tr.l.tmpl))
	if err := gc.Save(filepath.Join(dir, finetune.GenerationConfigFile)); err != nil {
		return nil, err
	}
	files = append(files, finetune.GenerationConfigFile, finetune.CheckpointFile)
	c := tr.snapshot()
	c.Adapter = m.lora != nil
	c.Files = files
	c.SavedAt = time.Now().UTC()
	if err := finetune.WriteCheckpoint(dir, c); err != nil {
		return nil, err
	}
	return c, nil
}

// tokenizerFiles lists the tokenizer files tokenize.Save wrote into dir.
func tokenizerFiles(dir string) []string {
	var out []string
	for _, f := range []string{tokenize.BytesMarkerFile, tokenize.HFFile, "tokenizer_config.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			out = append(out, f)
		}
	}
	return out
}

// writeBase saves the untrained initial model of a scratch run to Out/base.
func (tr *trainer) writeBase() error {
	dir := filepath.Join(tr.opts.Out, BaseDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m := tr.l.m
	if err := m.saveModel(dir, false); err != nil {
		return err
	}
	if err := tokenize.Save(tr.l.tok, dir); err != nil {
		return err
	}
	c := tr.snapshot()
	c.TrainLoss, c.EvalLoss = nil, nil
	c.SavedAt = time.Now().UTC()
	return finetune.WriteCheckpoint(dir, c)
}

// peakRSS is the process's peak resident set size in bytes (getrusage ru_maxrss, which Linux reports in
// KiB): weights, optimizer state and the largest activation footprint so far.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
