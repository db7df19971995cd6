package estimate

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pkoukk/tiktoken-go"
	tiktoken_loader "github.com/pkoukk/tiktoken-go-loader"
)

// refCase is one line of testdata/tiktoken_ref.json, written by
// testdata/tiktoken_ref.py from OpenAI's Python tiktoken (see that file for
// how to regenerate it). It is reference data from another implementation,
// not a golden file of this package's output, so it has no -update flag.
type refCase struct {
	Encoding string `json:"encoding"`
	Text     string `json:"text"`
	Tokens   int    `json:"tokens"`
}

func loadRef(t testing.TB) []refCase {
	t.Helper()
	data, err := os.ReadFile("testdata/tiktoken_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Version string    `json:"tiktoken_version"`
		Cases   []refCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatalf("testdata/tiktoken_ref.json: %v", err)
	}
	if len(ref.Cases) < 50 {
		t.Fatalf("testdata/tiktoken_ref.json: only %d cases", len(ref.Cases))
	}
	return ref.Cases
}

func mustBPE(t testing.TB, name string) *bpe {
	t.Helper()
	b, err := loadBPE(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func short(s string) string {
	if r := []rune(s); len(r) > 24 {
		s = string(r[:24]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// TestCountMatchesPythonTiktoken checks counts against OpenAI's tiktoken 0.14.
func TestCountMatchesPythonTiktoken(t *testing.T) {
	for i, c := range loadRef(t) {
		t.Run(fmt.Sprintf("%s/%d", c.Encoding, i), func(t *testing.T) {
			if got := mustBPE(t, c.Encoding).count(c.Text); got != c.Tokens {
				t.Errorf("count(%s) = %d, Python tiktoken says %d", short(c.Text), got, c.Tokens)
			}
		})
	}
}

// TestKnownCounts pins a few counts anyone can check with OpenAI's online
// tokenizer or Python tiktoken (values from tiktoken 0.14.0).
func TestKnownCounts(t *testing.T) {
	tests := []struct {
		text          string
		cl100k, o200k int
	}{
		{"", 0, 0},
		{"hello world", 2, 2},
		{"Hello, world!", 4, 4},
		{"The quick brown fox jumps over the lazy dog.", 10, 10},
		{"tiktoken is great!", 6, 6},
		{"日本語のテキスト", 8, 6},
		{"Привет, мир!", 7, 5},
		{"it's we're they'll I'M", 8, 5},
		{"<|endoftext|>", 7, 7}, // special-token text counts as ordinary text
	}
	for _, tt := range tests {
		t.Run(short(tt.text), func(t *testing.T) {
			if got := mustBPE(t, CL100KBase).count(tt.text); got != tt.cl100k {
				t.Errorf("cl100k_base: got %d, want %d", got, tt.cl100k)
			}
			if got := mustBPE(t, O200KBase).count(tt.text); got != tt.o200k {
				t.Errorf("o200k_base: got %d, want %d", got, tt.o200k)
			}
		})
	}
}

var (
	tkgoOnce sync.Once
	tkgo     map[string]*tiktoken.Tiktoken
	tkgoErr  error
)

// tiktokenGo returns github.com/pkoukk/tiktoken-go's encoders, the slow
// reference implementation, loaded offline. SetBpeLoader is process-global:
// only tests call it.
func tiktokenGo(t testing.TB) map[string]*tiktoken.Tiktoken {
	t.Helper()
	tkgoOnce.Do(func() {
		tiktoken.SetBpeLoader(tiktoken_loader.NewOfflineLoader())
		tkgo = map[string]*tiktoken.Tiktoken{}
		for _, name := range []string{CL100KBase, O200KBase} {
			enc, err := tiktoken.GetEncoding(name)
			if err != nil {
				tkgoErr = err
				return
			}
			tkgo[name] = enc
		}
	})
	if tkgoErr != nil {
		t.Fatal(tkgoErr)
	}
	return tkgo
}

// trickyRunes exercises every branch of the split regexes: both letter
// cases, titlecase (Lt), modifier (Lm) and other (Lo) letters, combining
// marks (M), contraction letters after apostrophes, digits and other
// numbers, every kind of whitespace including Unicode spaces, slashes,
// punctuation, CJK and emoji with joiners.
var trickyRunes = []rune("aaeeZQ  \t\n\r''sStTlLdDvVrRmM0127!./-\"é\u0301ǅʰª中日한Жж²½\u00a0\u3000\u2028🎉\u200dſ")

func randomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		if r.IntN(4) == 0 { // runs of the same rune: long words, numbers, spaces
			c := trickyRunes[r.IntN(len(trickyRunes))]
			b.WriteString(strings.Repeat(string(c), 1+r.IntN(6)))
			continue
		}
		b.WriteRune(trickyRunes[r.IntN(len(trickyRunes))])
	}
	return b.String()
}

// TestCountMatchesTiktokenGo compares with tiktoken-go's EncodeOrdinary on
// the reference corpus and on seeded random strings of tricky runes.
func TestCountMatchesTiktokenGo(t *testing.T) {
	ref := tiktokenGo(t)
	var texts []string
	for _, c := range loadRef(t) {
		texts = append(texts, c.Text)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1500 {
		texts = append(texts, randomText(r, 1+r.IntN(40)))
	}
	texts = append(texts, "\xff\xfebad utf-8 \xc3", strings.Repeat("ab1 ", 300))
	for _, name := range []string{CL100KBase, O200KBase} {
		t.Run(name, func(t *testing.T) {
			b := mustBPE(t, name)
			fails := 0
			for _, s := range texts {
				want := len(ref[name].EncodeOrdinary(s))
				if got := b.count(s); got != want {
					t.Errorf("count(%q) = %d, tiktoken-go says %d", s, got, want)
					if fails++; fails > 10 {
						t.Fatal("too many mismatches")
					}
				}
			}
		})
	}
}

// FuzzCount compares with tiktoken-go on arbitrary input:
// go test -fuzz FuzzCount ./bench/estimate
func FuzzCount(f *testing.F) {
	for _, c := range loadRef(f) {
		if c.Encoding == CL100KBase {
			f.Add(c.Text)
		}
	}
	ref := tiktokenGo(f)
	cl, o2 := mustBPE(f, CL100KBase), mustBPE(f, O200KBase)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := cl.count(s), len(ref[CL100KBase].EncodeOrdinary(s)); got != want {
			t.Errorf("cl100k_base count(%q) = %d, tiktoken-go says %d", s, got, want)
		}
		if got, want := o2.count(s), len(ref[O200KBase].EncodeOrdinary(s)); got != want {
			t.Errorf("o200k_base count(%q) = %d, tiktoken-go says %d", s, got, want)
		}
	})
}

func TestLoadBPEUnknown(t *testing.T) {
	if _, err := loadBPE("p50k_base"); err == nil {
		t.Error("loadBPE(p50k_base): want an error, this package only counts cl100k_base and o200k_base")
	}
}
