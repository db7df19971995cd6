// Package suggest finds the closest known word to a misspelt one, for
// "did you mean …?" hints in configuration errors. It does nothing else.
package suggest

import (
	"fmt"
	"strings"
)

// Distance is the Levenshtein edit distance between a and b, counted in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 {
		return len(rb)
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Closest returns the candidate nearest to word (case-insensitively), or ""
// when none is near enough to be a plausible typo: the distance must be at most
// max(2, len(word)/3), or one must be a prefix (of 3 or more letters) of the
// other. Ties go to the earliest candidate.
func Closest(word string, candidates []string) string {
	w := strings.ToLower(word)
	limit := max(2, len([]rune(w))/3)
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := Distance(w, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" {
		return best
	}
	// A longer or shorter spelling of a known word ("lowercase" for "lower").
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if len(lc) >= 3 && len(w) >= 3 && (strings.HasPrefix(w, lc) || strings.HasPrefix(lc, w)) {
			return c
		}
	}
	return ""
}

// Hint returns `; did you mean "x"?` for the closest candidate, or "".
func Hint(word string, candidates []string) string {
	if c := Closest(word, candidates); c != "" {
		return fmt.Sprintf("; did you mean %q?", c)
	}
	return ""
}
