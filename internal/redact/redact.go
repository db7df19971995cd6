// Package redact keeps the secrets Yardstick has read (API keys from the
// environment, credential-bearing headers from the app config) in one
// process-wide set, and removes them from text before it is shown or saved.
//
// Whoever reads a secret registers it (providers/registry does for every key
// and sensitive header it reads); whoever turns a server's words into text
// that may be printed or written (provider errors, body excerpts, header
// dumps, the results file) passes it through String. A server that echoes a
// key back in an error body — some gateways and proxies repeat the
// Authorization header — then cannot put it on disk or on screen.
//
// Each registered secret is removed in the forms a server may echo it in:
// as is, URL-query-escaped and JSON-string-escaped. Values shorter than
// MinLen are not registered: they would match ordinary words, and no real
// API key is that short.
//
// This package does not find secrets by pattern (it only knows what was
// registered) and does not read the environment itself.
package redact

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask replaces every registered secret.
const Mask = "[REDACTED]"

// MinLen is the shortest secret Register accepts, in bytes.
const MinLen = 8

var (
	mu      sync.Mutex
	secrets []string                         // registered forms, longest first
	current atomic.Pointer[strings.Replacer] // nil until a secret is registered
)

// Register adds secret (surrounding white space trimmed) to the set. Empty
// and too-short values, and values already known, are ignored. It is safe
// for concurrent use.
func Register(secret string) {
	secret = strings.TrimSpace(secret)
	if len(secret) < MinLen {
		return
	}
	forms := []string{secret, url.QueryEscape(secret)}
	if b, err := json.Marshal(secret); err == nil {
		forms = append(forms, string(b[1:len(b)-1]))
	}
	mu.Lock()
	defer mu.Unlock()
	changed := false
	for _, f := range forms {
		if !slices.Contains(secrets, f) {
			secrets = append(secrets, f)
			changed = true
		}
	}
	if !changed {
		return
	}
	// Longest first, so a secret containing another is masked whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, s, Mask)
	}
	current.Store(strings.NewReplacer(pairs...))
}

// String returns s with every registered secret replaced by Mask.
func String(s string) string {
	r := current.Load()
	if r == nil || s == "" {
		return s
	}
	return r.Replace(s)
}

// Bytes returns b with every registered secret replaced by Mask. It returns
// b itself when there is nothing to replace.
func Bytes(b []byte) []byte {
	r := current.Load()
	if r == nil || len(b) == 0 {
		return b
	}
	mu.Lock()
	forms := secrets
	mu.Unlock()
	found := false
	for _, f := range forms {
		if bytes.Contains(b, []byte(f)) {
			found = true
			break
		}
	}
	if !found {
		return b
	}
	return []byte(r.Replace(string(b)))
}

// Error returns err with its text redacted: nil for nil, err itself when its
// text holds no secret, otherwise an error whose Error is the redacted text
// and which unwraps to err (so errors.Is and errors.As still see the chain).
func Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := String(msg)
	if red == msg {
		return err
	}
	return &redacted{msg: red, err: err}
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// SensitiveHeader reports whether an HTTP header of that name carries
// credentials (Authorization, Cookie, X-Api-Key, anything naming a key,
// token, secret, password or auth), so that its value must be registered.
func SensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"authorization", "cookie", "key", "token", "secret", "password", "auth", "signature"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// RegisterHeader registers value when the header name is sensitive; for an
// Authorization-style value ("Bearer xyz") the credential after the scheme
// is registered too.
func RegisterHeader(name, value string) {
	if !SensitiveHeader(name) {
		return
	}
	Register(value)
	if _, cred, ok := strings.Cut(strings.TrimSpace(value), " "); ok {
		Register(cred)
	}
}

// reset empties the set, for tests.
func reset() {
	mu.Lock()
	defer mu.Unlock()
	secrets = nil
	current.Store(nil)
}
