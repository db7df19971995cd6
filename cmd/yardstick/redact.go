package main

import "github.com/yardstick-eval/yardstick/internal/redact"

// redacted removes every registered secret (the API keys and credential
// headers the registry read) from text the CLI prints, as a last line of
// defence: provider errors are already redacted where they are made.
func redacted(s string) string { return redact.String(s) }
