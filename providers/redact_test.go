package providers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/internal/redact"
)

type failing struct{ err error }

func (f failing) Generate(context.Context, *Request) (*Response, error) { return nil, f.err }
func (f failing) Stream(context.Context, *Request, func(Chunk) error) (*Response, error) {
	return nil, f.err
}

func TestRedactedScrubsEveryText(t *testing.T) {
	key := "sk-redacted-test-7f3a9c"
	redact.Register(key)
	inner := fmt.Errorf("body %q: %w", "Bearer "+key, context.DeadlineExceeded)
	tests := []struct {
		name string
		err  error
	}{
		{"message", &Error{Kind: KindAuth, Provider: "openai", StatusCode: 401, Message: "invalid key " + key}},
		{"underlying", &Error{Kind: KindAuth, Provider: "openai", Err: inner}},
		{"wrapped", fmt.Errorf("call %s: %w", key, &Error{Kind: KindAuth, Provider: "openai", Message: key})},
		{"plain", errors.New("echo " + key)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Redacted(failing{tt.err})
			_, err := p.Generate(context.Background(), &Request{})
			_, serr := p.(Streamer).Stream(context.Background(), &Request{}, nil)
			for _, e := range []error{err, serr} {
				if strings.Contains(e.Error(), key) {
					t.Errorf("Error() = %q", e)
				}
				var pe *Error
				if errors.As(e, &pe) {
					if strings.Contains(pe.Message, key) || (pe.Err != nil && strings.Contains(pe.Err.Error(), key)) {
						t.Errorf("*Error keeps the key: %+v", pe)
					}
					if pe.Kind != KindAuth {
						t.Errorf("kind = %s", pe.Kind)
					}
				}
			}
			if tt.name == "underlying" && !errors.Is(err, context.DeadlineExceeded) {
				t.Error("the chain was lost")
			}
		})
	}
	if _, err := Redacted(failing{}).Generate(context.Background(), &Request{}); err != nil {
		t.Fatal(err)
	}
}
