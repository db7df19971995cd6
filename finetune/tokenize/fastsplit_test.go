package tokenize

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
)

// TestFastSplitMatchesRegex compares the hand-written scanners with regexp2
// running the original patterns on many random strings.
func TestFastSplitMatchesRegex(t *testing.T) {
	pools := []string{"a", "Zé", "日本", "7", "42", "٣", "Ⅻ", " ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u2028",
		"\u3000", "'", "'s", "'S", "'re", "'RE", "'ll", "'Ll", "'x", ".", "!?", "#", "😀", "\u0301", "\u200d", "_", "-"}
	for _, pattern := range []string{gpt2Pattern, llama3Pattern} {
		fast := fastMatcherFor(pattern)
		slow := regexMatcher{regexp2.MustCompile(pattern, regexp2.None)}
		rng := rand.New(rand.NewPCG(1, 2))
		for n := range 2000 {
			var sb strings.Builder
			for range rng.IntN(12) + 1 {
				sb.WriteString(pools[rng.IntN(len(pools))])
			}
			s := sb.String()
			got, want := fast.spans(s), slow.spans(s)
			if !equalSpans(got, want) {
				t.Fatalf("pattern %d, string %d %q:\nfast  %v\nregex %v", len(pattern), n, s, pieces(s, got), pieces(s, want))
			}
		}
	}
}

func equalSpans(a, b []span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func pieces(s string, sp []span) []string {
	var out []string
	for _, x := range sp {
		out = append(out, s[x.start:x.end])
	}
	return out
}
