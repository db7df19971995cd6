//go:build torch

package torch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/providers"
)

// providerName is Error.Provider for the local model.
const providerName = "local"

// minPrompt is the fewest prompt tokens a request's max_tokens must leave room for.
const minPrompt = 8

// gatherWindow is how long the provider waits, after a request arrives at an idle model, for concurrent
// requests to join its batch (callers that just received their previous answers send their next ones
// within microseconds; a batch takes far longer).
const gatherWindow = 5 * time.Millisecond

// defaultMaxBatch is ProviderOptions.MaxBatch's default.
const defaultMaxBatch = 8

// localProvider serves a local model directory. It is safe for concurrent use: concurrent requests are
// gathered into batches of up to maxBatch, each run as one batched generation on the torch thread (see
// generateBatch); a request whose ctx ends while queued returns without running, one whose ctx ends while
// its batch runs leaves the batch at the next token.
type localProvider struct {
	name      string
	maxTokens int
	maxBatch  int
	threads   int
	l         *loaded // nil after Close; only touched on the torch thread

	jobs      chan *genJob
	quit      chan struct{}
	closeOnce sync.Once
	done      chan struct{} // closed when the dispatcher has exited
	largest   atomic.Int32  // the largest batch run so far (tests)
}

// genJob is a request waiting for its batch.
type genJob struct {
	ctx  context.Context
	req  *providers.Request
	g    *generation
	err  error
	done chan struct{}
}

var _ providers.Provider = (*localProvider)(nil)

// NewProvider loads dir (a Yardstick run or checkpoint directory, a Hugging Face LLaMA model directory, or
// a PEFT LoRA adapter directory whose base_model_name_or_path is a local directory) and returns a
// providers.Provider serving it with the model's chat template. The value also has Close() error, which
// frees the model's memory.
func NewProvider(dir string, opts ProviderOptions) (providers.Provider, error) {
	p := &localProvider{name: opts.Name, maxTokens: opts.MaxTokens, maxBatch: opts.MaxBatch, threads: opts.Threads,
		jobs: make(chan *genJob), quit: make(chan struct{}), done: make(chan struct{})}
	if p.name == "" {
		abs, _ := filepath.Abs(dir)
		p.name = filepath.Base(abs)
	}
	if p.maxTokens <= 0 {
		p.maxTokens = defaultMaxTokens
	}
	if p.maxBatch <= 0 {
		p.maxBatch = defaultMaxBatch
	}
	err := onTorchThread(context.Background(), func() error {
		setThreads(p.threads)
		l, err := loadDir(dir)
		p.l = l
		return err
	})
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindInvalidRequest, Provider: providerName, Message: "load " + dir + ": " + err.Error(), Err: err}
	}
	go p.dispatch()
	return p, nil
}

// Close stops serving and frees the model's memory. Generate fails after Close; requests in a running
// batch finish first.
func (p *localProvider) Close() error {
	p.closeOnce.Do(func() { close(p.quit) })
	<-p.done
	return onTorchThread(context.Background(), func() error {
		if p.l != nil {
			p.l.free()
			p.l = nil
		}
		return nil
	})
}

// dispatch gathers queued requests into batches and runs them, one batch at a time.
func (p *localProvider) dispatch() {
	defer close(p.done)
	for {
		var batch []*genJob
		select {
		case j := <-p.jobs:
			batch = append(batch, j)
		case <-p.quit:
			return
		}
		timer := time.NewTimer(gatherWindow)
	gather:
		for len(batch) < p.maxBatch {
			select {
			case j := <-p.jobs:
				batch = append(batch, j)
			case <-timer.C:
				break gather
			case <-p.quit:
				break gather
			}
		}
		timer.Stop()
		if n := int32(len(batch)); n > p.largest.Load() {
			p.largest.Store(n)
		}
		err := onTorchThread(context.Background(), func() error { p.runBatch(batch); return nil })
		for _, j := range batch {
			if err != nil && j.err == nil && j.g == nil {
				j.err = err
			}
			close(j.done)
		}
	}
}

// Generate renders the request with the model's chat template and generates a reply, batched with the
// requests that arrive concurrently. Temperature nil or 0 is greedy; TopP, Seed (default 0), Stop and
// MaxTokens are honoured; JSONSchema is not enforced. The reply gets MaxTokens of the model's window and
// the prompt the rest: a longer prompt is cut from the left, keeping the begin token, the way training
// truncates examples; for a model trained from scratch the prompt is also capped at the length its training
// prompts were cut to (a MaxTokens leaving fewer than 8 prompt tokens is a context_length error). Usage
// counts the prompt tokens used and the generated ones (a stop token is not counted). A request's answer
// does not depend on which requests share its batch (up to float rounding, which greedy decoding hides).
func (p *localProvider) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	if req.HasImages() { // a text model: refuse rather than drop the images
		return nil, &providers.Error{Kind: providers.KindInvalidRequest, Provider: providerName, Message: "this model reads text only; the request carries images"}
	}
	if err := ctx.Err(); err != nil {
		return nil, p.wrap(err)
	}
	j := &genJob{ctx: ctx, req: req, done: make(chan struct{})}
	select {
	case p.jobs <- j:
	case <-ctx.Done():
		return nil, p.wrap(ctx.Err())
	case <-p.quit:
		return nil, &providers.Error{Kind: providers.KindUnavailable, Provider: providerName, Message: "provider closed"}
	}
	<-j.done
	if j.err != nil {
		return nil, p.wrap(j.err)
	}
	g := j.g
	return &providers.Response{
		Text:         g.Text,
		FinishReason: g.FinishReason,
		Model:        p.name,
		Usage:        providers.Usage{InputTokens: g.PromptTokens, OutputTokens: len(g.IDs)},
	}, nil
}

// runBatch prepares each job's prompt and runs the valid ones as one batched generation; it runs on the
// torch thread and sets every job's g or err.
func (p *localProvider) runBatch(batch []*genJob) {
	if p.l == nil {
		for _, j := range batch {
			j.err = &providers.Error{Kind: providers.KindUnavailable, Provider: providerName, Message: "provider closed"}
		}
		return
	}
	setThreads(p.threads)
	prev := setGradEnabled(false)
	defer setGradEnabled(prev)
	var reqs []genRequest
	var jobs []*genJob
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.err = err
			continue
		}
		r, err := p.prepare(j.ctx, j.req)
		if err != nil {
			j.err = err
			continue
		}
		reqs, jobs = append(reqs, r), append(jobs, j)
	}
	if len(reqs) == 0 {
		return
	}
	for i, r := range p.l.m.generateBatch(p.l.tok, reqs) {
		jobs[i].g, jobs[i].err = r.G, r.Err
	}
}

// prepare renders a request's prompt and generation options.
func (p *localProvider) prepare(ctx context.Context, req *providers.Request) (genRequest, error) {
	l := p.l
	o := genOptions{MaxTokens: req.MaxTokens, Stop: req.Stop, StopIDs: finetune.StopIDs(l.tok, l.tmpl)}
	if o.MaxTokens <= 0 {
		o.MaxTokens = p.maxTokens
	}
	// The prompt gets what the window leaves after the reply; a longer one is cut from the left (the begin
	// token kept), as training cuts long examples.
	promptMax := 0
	if l.window > 0 {
		if o.MaxTokens > l.window-minPrompt {
			return genRequest{}, &providers.Error{Kind: providers.KindContextLength, Provider: providerName,
				Message: fmt.Sprintf("max_tokens %d leaves no room for a prompt in the model's %d-token window", o.MaxTokens, l.window)}
		}
		promptMax = l.window - o.MaxTokens
	}
	if l.promptMax > 0 && (promptMax <= 0 || l.promptMax < promptMax) {
		promptMax = l.promptMax
	}
	prompt, err := finetune.RenderPrompt(l.tok, l.tmpl, req.System, req.Messages, promptMax)
	if err != nil {
		return genRequest{}, &providers.Error{Kind: providers.KindInvalidRequest, Provider: providerName, Err: err}
	}
	if req.Temperature != nil {
		o.Temperature = *req.Temperature
	}
	if req.TopP != nil {
		o.TopP = *req.TopP
	}
	if req.Seed != nil {
		o.Seed = *req.Seed
	}
	return genRequest{Ctx: ctx, Prompt: prompt, Opts: o}, nil
}

// wrap returns err as a *providers.Error: context errors become canceled/timeout, libtorch failures unknown.
func (p *localProvider) wrap(err error) error {
	var pe *providers.Error
	if errors.As(err, &pe) {
		return err
	}
	return &providers.Error{Kind: providers.KindOf(err), Provider: providerName, Err: err}
}
