package gemini

import "time"

// Batch Mode's retries wait milliseconds in tests (RetryAfter still rules
// when the server sends one).
func init() { retryWait = 5 * time.Millisecond }
