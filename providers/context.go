package providers

import (
	"context"
	"errors"
	"fmt"
)

type repeatKey struct{}

// WithRepeat returns a copy of ctx that carries the repeat index i of the
// request about to be made. The runner calls it once per case × target ×
// repeat; the Cached decorator folds the index into its key, so repeats of the
// same prompt are independent samples rather than copies of the first answer.
func WithRepeat(ctx context.Context, i int) context.Context {
	return context.WithValue(ctx, repeatKey{}, i)
}

// RepeatFrom returns the repeat index carried by ctx, or 0 when there is none.
func RepeatFrom(ctx context.Context) int {
	i, _ := ctx.Value(repeatKey{}).(int)
	return i
}

// ctxError converts a done context into a *Error of KindCanceled or
// KindTimeout for provider; it returns nil while ctx is live.
func ctxError(ctx context.Context, provider string) *Error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	kind := KindCanceled
	if errors.Is(err, context.DeadlineExceeded) {
		kind = KindTimeout
	}
	if cause := context.Cause(ctx); cause != nil && cause != err {
		err = fmt.Errorf("%w: %w", err, cause)
	}
	return &Error{Kind: kind, Provider: provider, Err: err}
}
