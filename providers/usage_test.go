package providers_test

import (
	"context"
	"testing"

	"github.com/yardstick-eval/yardstick/providers"
)

type wordCounter struct{ calls int }

func (w *wordCounter) CountRequest(r *providers.Request) int { w.calls++; return 7 }
func (w *wordCounter) Count(s string) int                    { w.calls++; return len(s) }

func TestCountUsage(t *testing.T) {
	tests := []struct {
		name     string
		usage    providers.Usage
		want     providers.Usage
		wantWarn int
	}{
		{"no usage reported: counted, estimated", providers.Usage{}, providers.Usage{InputTokens: 7, OutputTokens: 2, Estimated: true}, 1},
		{"reported usage kept", providers.Usage{InputTokens: 3, OutputTokens: 1}, providers.Usage{InputTokens: 3, OutputTokens: 1}, 0},
		{"input only kept", providers.Usage{InputTokens: 3}, providers.Usage{InputTokens: 3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := &wordCounter{}
			warned := 0
			p := providers.CountUsage(&streaming{scripted{usage: tt.usage}}, tc, func() { warned++ })
			for range 3 {
				resp, err := p.Generate(context.Background(), &providers.Request{})
				if err != nil {
					t.Fatal(err)
				}
				if resp.Usage != tt.want {
					t.Errorf("usage = %+v, want %+v", resp.Usage, tt.want)
				}
				resp, err = p.(providers.Streamer).Stream(context.Background(), &providers.Request{}, func(providers.Chunk) error { return nil })
				if err != nil || resp.Usage != tt.want {
					t.Errorf("stream usage = %+v (%v), want %+v", resp.Usage, err, tt.want)
				}
			}
			if warned != tt.wantWarn {
				t.Errorf("warned %d times, want %d", warned, tt.wantWarn)
			}
			if tt.wantWarn == 0 && tc.calls != 0 {
				t.Errorf("counter called %d times for responses with usage", tc.calls)
			}
		})
	}
	// Errors and cache hits pass through untouched.
	p := providers.CountUsage(&scripted{script: []result{{err: perr(providers.KindUnavailable)}}}, &wordCounter{}, nil)
	if resp, err := p.Generate(context.Background(), &providers.Request{}); resp != nil || providers.KindOf(err) != providers.KindUnavailable {
		t.Errorf("error path: %v %v", resp, err)
	}
	if got := (providers.Usage{InputTokens: 1}).Add(providers.Usage{OutputTokens: 1, Estimated: true}); !got.Estimated {
		t.Error("a sum with an estimated part must be estimated")
	}
}
