package shard

import (
	"bytes"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers"
)

// TestSchemeIsPinned: the assignment is part of the on-disk format (resume
// and merge rely on it); these values must never change under Scheme v1.
func TestSchemeIsPinned(t *testing.T) {
	tests := []struct {
		key      bench.Key
		hash     uint64
		of4, of6 int
	}{
		{bench.Key{Suite: "s", CaseID: "c1", Target: "openai:gpt-4o-mini"}, 0xb6c8503bf3995634, 3, 12},
		{bench.Key{Suite: "s", CaseID: "c1", Target: "openai:gpt-4o-mini", Repeat: 1}, 0x7fc34141233cf151, 2, 8},
		{bench.Key{Suite: "s", CaseID: "c2", Target: "ollama:llama3.2"}, 0x4c591757ee639c3a, 2, 5},
		{bench.Key{Suite: "customer-support", CaseID: "cs-0002", Target: "gemini:gemini-2.5-flash"}, 0x1b96f9aae46931ef, 1, 2},
	}
	for _, tt := range tests {
		if got := Hash(tt.key); got != tt.hash {
			t.Errorf("Hash(%v) = %#x, want %#x", tt.key, got, tt.hash)
		}
		if got := Of(tt.key, 4); got != tt.of4 {
			t.Errorf("Of(%v, 4) = %d, want %d", tt.key, got, tt.of4)
		}
		if got := Of(tt.key, 16); got != tt.of6 {
			t.Errorf("Of(%v, 16) = %d, want %d", tt.key, got, tt.of6)
		}
	}
	// Field boundaries are part of the hash: moving a character from one
	// field to the next is another key.
	a := bench.Key{Suite: "ab", CaseID: "c", Target: "t"}
	b := bench.Key{Suite: "a", CaseID: "bc", Target: "t"}
	if Hash(a) == Hash(b) {
		t.Errorf("keys %v and %v hash alike", a, b)
	}
}

// TestBalanced: every shard gets close to 1/N of the keys, for key sets
// shaped like real runs (sequential case IDs, few targets, repeats).
func TestBalanced(t *testing.T) {
	for _, n := range []int{2, 3, 4, 16} {
		counts := make([]int, n+1)
		total := 0
		for c := range 5000 {
			for _, tg := range []string{"openai:gpt-4o-mini", "gemini:gemini-2.5-flash"} {
				for r := range 2 {
					counts[Of(bench.Key{Suite: "sums", CaseID: fmt.Sprintf("q%05d", c), Target: tg, Repeat: r}, n)]++
					total++
				}
			}
		}
		// A hash is as balanced as a fair die: allow 4 binomial standard
		// deviations (about 2% of the mean for N=2, 11% for N=16).
		want := float64(total) / float64(n)
		tol := 4 * math.Sqrt(want*(1-1/float64(n)))
		for i := 1; i <= n; i++ {
			if d := float64(counts[i]) - want; math.Abs(d) > tol {
				t.Errorf("N=%d: shard %d has %d keys, %.0f off the mean %.0f (tolerance %.0f)", n, i, counts[i], d, want, tol)
			}
		}
		if counts[0] != 0 {
			t.Errorf("N=%d: %d keys mapped to shard 0", n, counts[0])
		}
	}
	if Of(bench.Key{Suite: "s", CaseID: "c"}, 1) != 1 || Of(bench.Key{Suite: "s", CaseID: "c"}, 0) != 1 {
		t.Error("one shard (or none) must hold every key")
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
		ok   bool
	}{
		{"1/4", Spec{Index: 1, Count: 4, Source: "flag"}, true},
		{" 4/4 ", Spec{Index: 4, Count: 4, Source: "flag"}, true},
		{"1/1", Spec{Index: 1, Count: 1, Source: "flag"}, true},
		{"0/4", Spec{}, false},
		{"5/4", Spec{}, false},
		{"1/0", Spec{}, false},
		{"-1/4", Spec{}, false},
		{"1/100001", Spec{}, false},
		{"a/4", Spec{}, false},
		{"4", Spec{}, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if sp, _ := Resolve("", func(string) string { return "3/4" }); sp.Sharded() {
		t.Error(`Resolve("") must not shard, whatever the environment`)
	}
}

func cases(ids []string, prompt func(string) string) iter.Seq2[*bench.Case, error] {
	return func(yield func(*bench.Case, error) bool) {
		for _, id := range ids {
			c := &bench.Case{Suite: "s", ID: id, PromptHash: prompt(id),
				Request: providers.Request{Messages: []providers.Message{{Role: providers.RoleUser, Content: id}}}}
			if !yield(c, nil) {
				return
			}
		}
	}
}

// TestPlan: the shards' units add up to the whole run; the plan hash moves
// with the case list, prompts, targets and repeats and nothing else; the
// plan does not depend on which shard wrote it.
func TestPlan(t *testing.T) {
	ids := make([]string, 300)
	for i := range ids {
		ids[i] = fmt.Sprintf("c%03d", i)
	}
	hashOf := func(id string) string { return "h-" + id }
	set := Settings{
		Suites:  []bench.SuiteInfo{{Name: "s", Version: "1", Hash: "abc", Path: "/ci/a/s.yaml", Cases: 300}},
		Targets: []bench.TargetInfo{{Name: "a", Model: "a"}, {Name: "b", Model: "b", BaseURLHost: "h1"}},
		Repeats: 2,
	}
	var first []byte
	var hash string
	sum := 0
	for k := 1; k <= 3; k++ {
		var buf bytes.Buffer
		p, err := WritePlan(&buf, cases(ids, hashOf), set, Spec{Index: k, Count: 3})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 1200 {
			t.Fatalf("total %d, want 1200", p.Total)
		}
		sum += p.Units
		if k == 1 {
			first, hash = buf.Bytes(), p.Hash
		} else if !bytes.Equal(buf.Bytes(), first) || p.Hash != hash {
			t.Errorf("shard %d wrote another plan than shard 1", k)
		}
	}
	if sum != 1200 {
		t.Errorf("shard units add up to %d, want 1200", sum)
	}
	n := 0
	for pc, err := range ReadPlan(bytes.NewReader(first), "plan") {
		if err != nil {
			t.Fatal(err)
		}
		if pc.CaseID != ids[n] || pc.PromptHash != hashOf(ids[n]) {
			t.Fatalf("plan line %d = %+v", n+1, pc)
		}
		n++
	}

	planHash := func(ids []string, prompt func(string) string, set Settings) string {
		p, err := WritePlan(&bytes.Buffer{}, cases(ids, prompt), set, Spec{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Hash
	}
	same := set
	same.Suites = []bench.SuiteInfo{{Name: "s", Version: "1", Hash: "abc", Path: "/ci/b/s.yaml", Cases: 300}}
	same.Targets = []bench.TargetInfo{{Name: "a", Model: "a"}, {Name: "b", Model: "b", BaseURLHost: "h2"}}
	if planHash(ids, hashOf, same) != hash {
		t.Error("the plan hash depends on the suite path or the base URL host")
	}
	moreRepeats := set
	moreRepeats.Repeats = 3
	otherTargets := set
	otherTargets.Targets = []bench.TargetInfo{{Name: "a", Model: "a"}, {Name: "b", Model: "b", Stream: true}}
	priced := set
	priced.Targets = []bench.TargetInfo{{Name: "a", Model: "a", Price: &providers.Price{InputPerM: 1}}, {Name: "b", Model: "b"}}
	otherSuite := set
	otherSuite.Suites = []bench.SuiteInfo{{Name: "s", Version: "2", Hash: "abc", Cases: 300}}
	shuffled := append([]string(nil), ids...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for name, h := range map[string]string{
		"repeats":   planHash(ids, hashOf, moreRepeats),
		"stream":    planHash(ids, hashOf, otherTargets),
		"price":     planHash(ids, hashOf, priced),
		"suite":     planHash(ids, hashOf, otherSuite),
		"prompt":    planHash(ids, func(id string) string { return hashOf(id) + map[bool]string{true: "x"}[id == "c150"] }, set),
		"fewer":     planHash(ids[:299], hashOf, set),
		"reordered": planHash(shuffled, hashOf, set),
	} {
		if h == hash {
			t.Errorf("changing the %s leaves the plan hash alike", name)
		}
	}
}
