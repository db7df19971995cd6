//go:build torch

package torch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/yardstick-eval/yardstick/finetune"
	"github.com/yardstick-eval/yardstick/providers"
)

// providerName is Error.Provider for the local model.
const providerName = "local"

// minPrompt is the fewest prompt tokens a request's max_tokens must leave room for.
const minPrompt = 8

// localProvider serves a local model directory. It is safe for concurrent use: requests queue for the
// torch thread (see thread.go), which runs one at a time (libtorch already spreads each request's matrix
// work over Threads cores, so running two at once would only contend); a request whose ctx ends while
// queued returns without running.
type localProvider struct {
	name      string
	maxTokens int
	threads   int
	l         *loaded // nil after Close; only touched on the torch thread
}

var _ providers.Provider = (*localProvider)(nil)

// NewProvider loads dir (a Yardstick run or checkpoint directory, a Hugging Face LLaMA model directory, or
// a PEFT LoRA adapter directory whose base_model_name_or_path is a local directory) and returns a
// providers.Provider serving it with the model's chat template. The value also has Close() error, which
// frees the model's memory.
func NewProvider(dir string, opts ProviderOptions) (providers.Provider, error) {
	p := &localProvider{name: opts.Name, maxTokens: opts.MaxTokens, threads: opts.Threads}
	if p.name == "" {
		abs, _ := filepath.Abs(dir)
		p.name = filepath.Base(abs)
	}
	if p.maxTokens <= 0 {
		p.maxTokens = defaultMaxTokens
	}
	err := onTorchThread(context.Background(), func() error {
		setThreads(p.threads)
		l, err := loadDir(dir)
		p.l = l
		return err
	})
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindInvalidRequest, Provider: providerName, Message: "load " + dir, Err: err}
	}
	return p, nil
}

// Close frees the model's memory. Generate fails after Close.
func (p *localProvider) Close() error {
	return onTorchThread(context.Background(), func() error {
		if p.l != nil {
			p.l.free()
			p.l = nil
		}
		return nil
	})
}

// Generate renders the request with the model's chat template and generates a reply. Temperature nil or 0
// is greedy; TopP, Seed (default 0), Stop and MaxTokens are honoured; JSONSchema is not enforced. The
// reply gets MaxTokens of the model's window and the prompt the rest: a longer prompt is cut from the left,
// keeping the begin token, the way training truncates examples; for a model trained from scratch the
// prompt is also capped at the length its training prompts were cut to (a MaxTokens leaving fewer than 8
// prompt tokens is a context_length error). Usage counts the prompt tokens used and the generated ones (a stop
// token is not counted).
func (p *localProvider) Generate(ctx context.Context, req *providers.Request) (*providers.Response, error) {
	if req.HasImages() { // a text model: refuse rather than drop the images
		return nil, &providers.Error{Kind: providers.KindInvalidRequest, Provider: providerName, Message: "this model reads text only; the request carries images"}
	}
	var g *generation
	err := onTorchThread(ctx, func() (err error) {
		g, err = p.generate(ctx, req)
		return err
	})
	if err != nil {
		return nil, p.wrap(err)
	}
	return &providers.Response{
		Text:         g.Text,
		FinishReason: g.FinishReason,
		Model:        p.name,
		Usage:        providers.Usage{InputTokens: g.PromptTokens, OutputTokens: len(g.IDs)},
	}, nil
}

// generate runs on the torch thread.
func (p *localProvider) generate(ctx context.Context, req *providers.Request) (*generation, error) {
	if p.l == nil {
		return nil, &providers.Error{Kind: providers.KindUnavailable, Provider: providerName, Message: "provider closed"}
	}
	setThreads(p.threads)
	prev := setGradEnabled(false)
	defer setGradEnabled(prev)
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
			return nil, &providers.Error{Kind: providers.KindContextLength, Provider: providerName,
				Message: fmt.Sprintf("max_tokens %d leaves no room for a prompt in the model's %d-token window", o.MaxTokens, l.window)}
		}
		promptMax = l.window - o.MaxTokens
	}
	if l.promptMax > 0 && (promptMax <= 0 || l.promptMax < promptMax) {
		promptMax = l.promptMax
	}
	prompt, err := finetune.RenderPrompt(l.tok, l.tmpl, req.System, req.Messages, promptMax)
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindInvalidRequest, Provider: providerName, Err: err}
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
	return l.m.generate(ctx, l.tok, prompt, o)
}

// wrap returns err as a *providers.Error: context errors become canceled/timeout, libtorch failures unknown.
func (p *localProvider) wrap(err error) error {
	var pe *providers.Error
	if errors.As(err, &pe) {
		return err
	}
	return &providers.Error{Kind: providers.KindOf(err), Provider: providerName, Err: err}
}
