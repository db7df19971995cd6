package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixtures mirrors testdata/fixtures.json, written by testdata/gen_fixtures.py
// with scipy, statsmodels, numpy and exact rational arithmetic.
type fixtures struct {
	NormalQuantile []struct{ P, X float64 } `json:"normal_quantile"`
	Wilson         []struct {
		X, N            int
		Conf, Low, High float64
	} `json:"wilson"`
	Newcombe []struct {
		Both    int `json:"both"`
		AOnly   int `json:"a_only"`
		BOnly   int `json:"b_only"`
		Neither int `json:"neither"`
		Conf    float64
		Value   float64
		Low     float64
		High    float64
	} `json:"newcombe"`
	McNemar []struct {
		AOnly int     `json:"a_only"`
		BOnly int     `json:"b_only"`
		P     float64 `json:"p"`
	} `json:"mcnemar"`
	BootstrapMean []struct {
		Name, Method    string
		Xs              []float64
		Mean, Low, High float64
		MCSDLow         float64 `json:"mc_sd_low"`
		MCSDHigh        float64 `json:"mc_sd_high"`
		Quantum         float64
	} `json:"bootstrap_mean"`
	PairedBootstrap struct {
		A, B            []float64
		Mean, Low, High float64
		MCSDLow         float64 `json:"mc_sd_low"`
		MCSDHigh        float64 `json:"mc_sd_high"`
		WilcoxonP       float64 `json:"wilcoxon_p"`
	} `json:"paired_bootstrap"`
	Wilcoxon []struct {
		Name  string
		D     []float64
		N     int
		WPlus float64 `json:"w_plus"`
		P     float64
		Exact bool
	} `json:"wilcoxon"`
	Multiple []struct{ P, Holm, BH []float64 } `json:"multiple"`
	PassK    []struct {
		N, C, K  int
		PassAtK  float64 `json:"pass_at_k"`
		PassHatK float64 `json:"pass_hat_k"`
	} `json:"pass_k"`
	Percentile []struct {
		Sorted   []float64
		P, Value float64
	} `json:"percentile"`
}

// testResamples is the bootstrap size of the fixture comparisons.
var testResamples = map[bool]int{false: 20000, true: 5000}[raceEnabled]

// mcScale converts the fixture's 20k-resample Monte Carlo spread into the
// spread of the difference between our testResamples-draw endpoint and a
// 20k-draw one.
func mcScale() float64 { return math.Sqrt(1 + 20000/float64(testResamples)) }

func loadFixtures(t *testing.T) *fixtures {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("testdata/fixtures.json: %v", err)
	}
	return &f
}

func near(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestNormalQuantile(t *testing.T) {
	f := loadFixtures(t)
	for _, c := range f.NormalQuantile {
		t.Run(fmt.Sprint(c.P), func(t *testing.T) {
			got := NormalQuantile(c.P)
			if math.Abs(got-c.X) > 1e-14*math.Max(1, math.Abs(c.X)) {
				t.Errorf("NormalQuantile(%g) = %.17g, scipy %.17g", c.P, got, c.X)
			}
			if c.P > 1e-300 && c.P < 1-1e-10 {
				if back := NormalCDF(got); math.Abs(back-c.P) > 1e-13*math.Max(c.P, 1e-300)+1e-300 && math.Abs(back-c.P)/c.P > 1e-12 {
					t.Errorf("NormalCDF(NormalQuantile(%g)) = %g", c.P, back)
				}
			}
		})
	}
	for _, p := range []float64{-0.1, 1.1, math.NaN()} {
		if got := NormalQuantile(p); !math.IsNaN(got) {
			t.Errorf("NormalQuantile(%g) = %g, want NaN", p, got)
		}
	}
	if !math.IsInf(NormalQuantile(0), -1) || !math.IsInf(NormalQuantile(1), 1) {
		t.Error("NormalQuantile(0 or 1) not infinite")
	}
}

func TestWilson(t *testing.T) {
	f := loadFixtures(t)
	for _, c := range f.Wilson {
		t.Run(fmt.Sprintf("%d/%d@%g", c.X, c.N, c.Conf), func(t *testing.T) {
			got := Wilson(c.X, c.N, c.Conf)
			if !near(got.Low, c.Low, 1e-12) || !near(got.High, c.High, 1e-12) {
				t.Errorf("Wilson = [%.15g, %.15g], statsmodels [%.15g, %.15g]", got.Low, got.High, c.Low, c.High)
			}
			if got.Value != float64(c.X)/float64(c.N) {
				t.Errorf("Value = %g", got.Value)
			}
		})
	}
}

// TestWilsonPublished checks the score interval against the values printed in
// Newcombe (1998), "Two-sided confidence intervals for the single proportion:
// comparison of seven methods", Statistics in Medicine 17:857–872, Table II
// (method 3, score without continuity correction), to the 4 decimals printed.
func TestWilsonPublished(t *testing.T) {
	for _, c := range []struct {
		x, n      int
		low, high float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0.0000, 0.1611},
		{1, 29, 0.0061, 0.1718},
	} {
		got := Wilson(c.x, c.n, 0.95)
		if math.Round(got.Low*1e4)/1e4 != c.low || math.Round(got.High*1e4)/1e4 != c.high {
			t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], published [%.4f, %.4f]", c.x, c.n, got.Low, got.High, c.low, c.high)
		}
	}
}

func TestWilsonInvalid(t *testing.T) {
	for _, c := range []struct {
		x, n int
		conf float64
	}{{0, 0, 0.95}, {3, 2, 0.95}, {-1, 5, 0.95}, {1, 5, 1}, {1, 5, 0}} {
		if got := Wilson(c.x, c.n, c.conf); !math.IsNaN(got.Low) || !math.IsNaN(got.Value) {
			t.Errorf("Wilson(%d, %d, %g) = %+v, want NaN", c.x, c.n, c.conf, got)
		}
	}
}

func TestNewcombePaired(t *testing.T) {
	f := loadFixtures(t)
	for _, c := range f.Newcombe {
		tab := PairedCounts{Both: c.Both, AOnly: c.AOnly, BOnly: c.BOnly, Neither: c.Neither}
		t.Run(fmt.Sprintf("%+v@%g", tab, c.Conf), func(t *testing.T) {
			got := NewcombePaired(tab, c.Conf)
			if !near(got.Value, c.Value, 1e-12) || !near(got.Low, c.Low, 1e-12) || !near(got.High, c.High, 1e-12) {
				t.Errorf("NewcombePaired = %+v, reference {%.15g %.15g %.15g}", got, c.Value, c.Low, c.High)
			}
			if !(got.Low <= got.Value && got.Value <= got.High) {
				t.Errorf("interval %+v does not contain its estimate", got)
			}
		})
	}
	if got := NewcombePaired(PairedCounts{}, 0.95); !math.IsNaN(got.Value) {
		t.Errorf("empty table: %+v, want NaN", got)
	}
}

// TestNewcombePublished: Agresti, "Categorical Data Analysis" (3rd ed. 2013,
// §11.1.1): presidential approval of 1600 people surveyed twice, 794 approve
// both times, 150 approve then disapprove, 86 disapprove then approve, 570
// disapprove both. The published difference of the approval rates (first −
// second) is 0.04 with 95% interval (0.021, 0.059) by the Wald method; at this
// n the score-based interval agrees to the 3 decimals printed. Here A is the
// second survey and B the first, so B − A is the published difference.
func TestNewcombePublished(t *testing.T) {
	got := NewcombePaired(PairedCounts{Both: 794, BOnly: 150, AOnly: 86, Neither: 570}, 0.95)
	if math.Abs(got.Value-0.04) > 1e-12 || math.Round(got.Low*1e3) != 21 || math.Round(got.High*1e3) != 59 {
		t.Errorf("approval example = %+v, published 0.04 (0.021, 0.059)", got)
	}
	// Agresti reports McNemar's z = (86 − 150)/√236 = −4.17, P < 0.001; the
	// exact test agrees.
	if p := McNemarExact(150, 86); !(p < 0.001) {
		t.Errorf("McNemarExact(150, 86) = %g, want < 0.001", p)
	}
}

func TestMcNemarExact(t *testing.T) {
	f := loadFixtures(t)
	for _, c := range f.McNemar {
		t.Run(fmt.Sprintf("%d-%d", c.AOnly, c.BOnly), func(t *testing.T) {
			got := McNemarExact(c.AOnly, c.BOnly)
			if !near(got, c.P, 1e-10) || (c.P < 1e-3 && math.Abs(got-c.P)/c.P > 1e-10) {
				t.Errorf("McNemarExact(%d, %d) = %.15g, scipy binomtest %.15g", c.AOnly, c.BOnly, got, c.P)
			}
			if sym := McNemarExact(c.BOnly, c.AOnly); sym != got {
				t.Errorf("not symmetric: %g vs %g", got, sym)
			}
		})
	}
	if !math.IsNaN(McNemarExact(-1, 3)) {
		t.Error("negative count not NaN")
	}
}

func TestBootstrapMeanMatchesScipy(t *testing.T) {
	f := loadFixtures(t)
	for _, c := range f.BootstrapMean {
		t.Run(c.Name+"/"+c.Method, func(t *testing.T) {
			cfg := BootstrapConfig{Resamples: testResamples, Seed: 7, BCa: c.Method == "BCa"}
			got := BootstrapMean(c.Xs, cfg)
			if math.Abs(got.Value-c.Mean) > 1e-12 {
				t.Errorf("Value = %g, want %g", got.Value, c.Mean)
			}
			// Both implementations are Monte Carlo. The fixture's mc_sd is the
			// spread of a 20k-resample endpoint; allow 5 standard deviations of
			// the difference between ours (scaled to testResamples) and a second
			// 20k draw (scipy's reference used 200k, so this is generous), and
			// the spacing of attainable means for 0/1 data.
			tolLo := math.Max(5*mcScale()*c.MCSDLow, c.Quantum) + 1e-12
			tolHi := math.Max(5*mcScale()*c.MCSDHigh, c.Quantum) + 1e-12
			if math.Abs(got.Low-c.Low) > tolLo || math.Abs(got.High-c.High) > tolHi {
				t.Errorf("interval [%.6f, %.6f], scipy [%.6f, %.6f] (tolerance %.2g, %.2g)",
					got.Low, got.High, c.Low, c.High, tolLo, tolHi)
			}
		})
	}
}

func TestBootstrapDeterministic(t *testing.T) {
	xs := []float64{0.1, 0.9, 0.4, 0.4, 1, 0, 0.7, 0.3, 0.8, 0.55}
	rev := make([]float64, len(xs))
	for i, x := range xs {
		rev[len(xs)-1-i] = x
	}
	for _, bca := range []bool{false, true} {
		cfg := BootstrapConfig{Seed: 42, BCa: bca}
		a, b := BootstrapMean(xs, cfg), BootstrapMean(rev, cfg)
		if a != b {
			t.Errorf("BCa=%v: order changed the interval: %+v vs %+v", bca, a, b)
		}
		if again := BootstrapMean(xs, cfg); again != a {
			t.Errorf("BCa=%v: same seed, different interval", bca)
		}
		cfg.Seed = 43
		if other := BootstrapMean(xs, cfg); other == a {
			t.Errorf("BCa=%v: a different seed gave the identical interval %+v", bca, a)
		}
	}
	if xs[0] != 0.1 || xs[9] != 0.55 {
		t.Error("BootstrapMean modified its input")
	}
}

func TestBootstrapDegenerate(t *testing.T) {
	for _, c := range []struct {
		name string
		xs   []float64
		want Interval
	}{
		{"one", []float64{0.25}, Interval{0.25, 0.25, 0.25}},
		{"constant", []float64{1, 1, 1}, Interval{1, 1, 1}},
	} {
		if got := BootstrapMean(c.xs, BootstrapConfig{BCa: true}); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	if got := BootstrapMean(nil, BootstrapConfig{}); !math.IsNaN(got.Value) {
		t.Errorf("empty: %+v, want NaN", got)
	}
	// Extreme skew: every resample but a handful equals the estimate; BCa must
	// still return a finite interval containing the estimate.
	xs := make([]float64, 400)
	xs[0] = 1
	got := BootstrapMean(xs, BootstrapConfig{BCa: true, Seed: 1})
	if math.IsNaN(got.Low) || math.IsNaN(got.High) || got.Low > got.Value || got.High < got.Value {
		t.Errorf("skewed BCa: %+v", got)
	}
}

func TestBootstrapRatio(t *testing.T) {
	// With unit weights the cluster bootstrap is the ordinary bootstrap.
	xs := []float64{3, 1, 4, 1, 5, 9, 2, 6}
	ones := []float64{1, 1, 1, 1, 1, 1, 1, 1}
	for _, bca := range []bool{false, true} {
		cfg := BootstrapConfig{Seed: 3, BCa: bca}
		if a, b := BootstrapRatio(xs, ones, cfg), BootstrapMean(xs, cfg); a != b {
			t.Errorf("BCa=%v: ratio with unit weights %+v != mean %+v", bca, a, b)
		}
	}
	// Clusters: 3 clusters of sizes 2, 1, 3 with within-cluster sums.
	got := BootstrapRatio([]float64{1, 1, 0}, []float64{2, 1, 3}, BootstrapConfig{Seed: 1})
	if math.Abs(got.Value-2.0/6) > 1e-15 || got.Low < 0 || got.High > 1 || got.Low > got.Value || got.High < got.Value {
		t.Errorf("cluster ratio = %+v", got)
	}
	for _, bad := range [][2][]float64{{{1, 2}, {1}}, {{1, 2}, {1, 0}}} {
		if got := BootstrapRatio(bad[0], bad[1], BootstrapConfig{}); !math.IsNaN(got.Value) {
			t.Errorf("BootstrapRatio(%v, %v) = %+v, want NaN", bad[0], bad[1], got)
		}
	}
}

func TestPairedBootstrap(t *testing.T) {
	f := loadFixtures(t)
	c := f.PairedBootstrap
	got, p, err := PairedBootstrap(c.A, c.B, BootstrapConfig{Resamples: testResamples, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Value-c.Mean) > 1e-12 {
		t.Errorf("Value = %g, want %g", got.Value, c.Mean)
	}
	tolLo, tolHi := 5*mcScale()*c.MCSDLow, 5*mcScale()*c.MCSDHigh
	if math.Abs(got.Low-c.Low) > tolLo || math.Abs(got.High-c.High) > tolHi {
		t.Errorf("interval [%.6f, %.6f], scipy paired bootstrap [%.6f, %.6f]", got.Low, got.High, c.Low, c.High)
	}
	// The percentile-test p-value is below 0.05 exactly when the 95%
	// percentile interval excludes 0 (the data were drawn with a shift).
	if (p < 0.05) != (got.Low > 0 || got.High < 0) {
		t.Errorf("p = %g inconsistent with interval %+v", p, got)
	}
	// And it tells the same story as Wilcoxon on the same pairs.
	if (p < 0.05) != (c.WilcoxonP < 0.05) {
		t.Errorf("bootstrap p = %g, scipy Wilcoxon p = %g disagree on significance", p, c.WilcoxonP)
	}
	if _, _, err := PairedBootstrap([]float64{1}, []float64{1, 2}, BootstrapConfig{}); err == nil {
		t.Error("length mismatch accepted")
	}
	same := []float64{0.5, 0.25, 1}
	if iv, p, _ := PairedBootstrap(same, same, BootstrapConfig{}); iv.Value != 0 || p != 1 {
		t.Errorf("identical runs: %+v p=%g, want 0 and p=1", iv, p)
	}
}

func TestWilcoxon(t *testing.T) {
	f := loadFixtures(t)
	for _, c := range f.Wilcoxon {
		t.Run(c.Name, func(t *testing.T) {
			got := WilcoxonSignedRank(c.D)
			if got.N != c.N || got.WPlus != c.WPlus || got.Exact != c.Exact {
				t.Errorf("N=%d W+=%g exact=%v, scipy N=%d W+=%g exact=%v", got.N, got.WPlus, got.Exact, c.N, c.WPlus, c.Exact)
			}
			if !near(got.P, c.P, 1e-10) {
				t.Errorf("P = %.15g, scipy %.15g", got.P, c.P)
			}
		})
	}
	if got := WilcoxonSignedRank([]float64{0, 0}); got.P != 1 || got.N != 0 {
		t.Errorf("all zero: %+v", got)
	}
}

func TestMultipleComparisons(t *testing.T) {
	f := loadFixtures(t)
	for i, c := range f.Multiple {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			h, bh := Holm(c.P), BenjaminiHochberg(c.P)
			for j := range c.P {
				if !near(h[j], c.Holm[j], 1e-12) {
					t.Errorf("Holm[%d] = %g, statsmodels %g", j, h[j], c.Holm[j])
				}
				if !near(bh[j], c.BH[j], 1e-12) {
					t.Errorf("BH[%d] = %g, statsmodels %g", j, bh[j], c.BH[j])
				}
			}
		})
	}
	got := Holm([]float64{0.01, math.NaN(), 0.02})
	if got[0] != 0.02 || !math.IsNaN(got[1]) || got[2] != 0.02 {
		t.Errorf("Holm with NaN = %v, want [0.02 NaN 0.02]", got)
	}
}

func TestPassK(t *testing.T) {
	f := loadFixtures(t)
	for _, c := range f.PassK {
		t.Run(fmt.Sprintf("n%d_c%d_k%d", c.N, c.C, c.K), func(t *testing.T) {
			if got := PassAtK(c.N, c.C, c.K); !near(got, c.PassAtK, 1e-12) {
				t.Errorf("PassAtK = %.15g, exact %.15g", got, c.PassAtK)
			}
			if got := PassHatK(c.N, c.C, c.K); !near(got, c.PassHatK, 1e-12) {
				t.Errorf("PassHatK = %.15g, exact %.15g", got, c.PassHatK)
			}
		})
	}
	// pass@1 is the plain pass rate, and large n does not overflow.
	if got := PassAtK(1_000_000, 250_000, 1); math.Abs(got-0.25) > 1e-12 {
		t.Errorf("PassAtK(1e6, 2.5e5, 1) = %g", got)
	}
	if got := PassAtK(100_000, 3, 50_000); !(got > 0.87 && got < 0.88) { // 1 − 0.5³ ≈ 0.875
		t.Errorf("PassAtK(1e5, 3, 5e4) = %g", got)
	}
	for _, bad := range [][3]int{{5, 2, 0}, {5, 2, 6}, {5, 6, 1}, {5, -1, 1}} {
		if !math.IsNaN(PassAtK(bad[0], bad[1], bad[2])) || !math.IsNaN(PassHatK(bad[0], bad[1], bad[2])) {
			t.Errorf("PassAtK/PassHatK%v not NaN", bad)
		}
	}
}

func TestPercentile(t *testing.T) {
	f := loadFixtures(t)
	for _, c := range f.Percentile {
		if got := Percentile(c.Sorted, c.P); !near(got, c.Value, 1e-12) {
			t.Errorf("Percentile(n=%d, %g) = %.15g, numpy %.15g", len(c.Sorted), c.P, got, c.Value)
		}
	}
	if !math.IsNaN(Percentile(nil, 50)) || !math.IsNaN(Percentile([]float64{1}, 101)) {
		t.Error("empty or out-of-range percentile not NaN")
	}
}

func TestPercentileDuration(t *testing.T) {
	ms := time.Millisecond
	ds := []time.Duration{100 * ms, 200 * ms, 300 * ms, 400 * ms, 1000 * ms}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{
		{0, 100 * ms}, {50, 300 * ms}, {95, 880 * ms}, {99, 976 * ms}, {100, 1000 * ms}, {10, 140 * ms},
	} {
		got, ok := PercentileDuration(ds, c.p)
		if !ok || got != c.want {
			t.Errorf("PercentileDuration(p%g) = %v, %v; want %v", c.p, got, ok, c.want)
		}
	}
	if _, ok := PercentileDuration(nil, 50); ok {
		t.Error("empty input reported ok")
	}
	if got, _ := PercentileDuration([]time.Duration{1, 2}, 50); got != 2 { // 1.5ns rounds half away from zero
		t.Errorf("rounding: %v", got)
	}
}

// BenchmarkBootstrapMean100k: one 95% percentile interval over 100,000
// scores with the default 2000 resamples.
func BenchmarkBootstrapMean100k(b *testing.B) {
	xs := make([]float64, 100_000)
	for i := range xs {
		xs[i] = float64(i%7) / 6
	}
	for b.Loop() {
		BootstrapMean(xs, BootstrapConfig{Seed: 1})
	}
}
