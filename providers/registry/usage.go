package registry

import (
	"sync"

	"github.com/yardstick-eval/yardstick/bench/estimate"
	"github.com/yardstick-eval/yardstick/providers"
)

// lazyTokenizer is bench/estimate's tokenizer for one model, loaded on the
// first count (loading an encoding takes a few hundred milliseconds, and
// most targets report their usage and never need it).
type lazyTokenizer struct {
	provider, model string

	once sync.Once
	tok  *estimate.Tokenizer // nil when the embedded encoding failed to load
}

func (l *lazyTokenizer) get() *estimate.Tokenizer {
	l.once.Do(func() { l.tok, _ = estimate.ForModel(l.provider, l.model) })
	return l.tok
}

func (l *lazyTokenizer) CountRequest(r *providers.Request) int {
	if t := l.get(); t != nil {
		return t.CountRequest(r)
	}
	n := l.Count(r.System)
	for _, m := range r.Messages {
		n += l.Count(m.Content)
	}
	return n
}

func (l *lazyTokenizer) Count(text string) int {
	if t := l.get(); t != nil {
		return t.Count(text)
	}
	return (len(text) + 3) / 4
}

// Method names how counts are made, for the warning.
func (l *lazyTokenizer) Method() string {
	if t := l.get(); t != nil {
		return t.Method()
	}
	return estimate.MethodApproxBytes
}
