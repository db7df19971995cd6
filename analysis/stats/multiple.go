package stats

import (
	"math"
	"slices"
)

// Holm returns Holm's (1979) step-down adjusted p-values, in the order of p:
// with p sorted ascending, adj(i) = max over j ≤ i of min(1, (m−j+1)·p(j)).
// Rejecting where adj < α controls the family-wise error rate at α under any
// dependence. NaN p-values are kept as NaN and do not count towards m.
func Holm(p []float64) []float64 {
	idx, out := orderValid(p)
	m := len(idx)
	running := 0.0
	for j, i := range idx {
		v := math.Min(1, float64(m-j)*p[i])
		running = math.Max(running, v)
		out[i] = running
	}
	return out
}

// BenjaminiHochberg returns Benjamini & Hochberg's (1995) step-up adjusted
// p-values ("q-values"), in the order of p: with p sorted ascending,
// adj(i) = min over j ≥ i of min(1, m·p(j)/j). Rejecting where adj < α controls
// the false discovery rate at α for independent or positively dependent tests.
// NaN p-values are kept as NaN and do not count towards m.
func BenjaminiHochberg(p []float64) []float64 {
	idx, out := orderValid(p)
	m := len(idx)
	running := 1.0
	for j := m - 1; j >= 0; j-- {
		i := idx[j]
		v := math.Min(1, float64(m)*p[i]/float64(j+1))
		running = math.Min(running, v)
		out[i] = running
	}
	return out
}

// orderValid returns the indexes of the non-NaN p-values sorted by p (ties in
// input order) and an output slice pre-filled with NaN.
func orderValid(p []float64) ([]int, []float64) {
	out := make([]float64, len(p))
	idx := make([]int, 0, len(p))
	for i, v := range p {
		out[i] = math.NaN()
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(p[a], p[b]) })
	return idx, out
}
