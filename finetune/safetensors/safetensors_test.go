package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type fixtureTensor struct {
	DType   DType    `json:"dtype"`
	Shape   []int64  `json:"shape"`
	F32Bits []uint32 `json:"f32_bits"`
	Ints    []int64  `json:"ints"`
}

type fixture struct {
	Metadata map[string]string        `json:"metadata"`
	Tensors  map[string]fixtureTensor `json:"tensors"`
}

func loadFixture(t *testing.T) fixture {
	t.Helper()
	b, err := os.ReadFile("testdata/fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx fixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	return fx
}

// TestPythonFixture reads a file written by Python's safetensors and compares
// every tensor with the values Python recorded.
func TestPythonFixture(t *testing.T) {
	fx := loadFixture(t)
	for _, open := range []struct {
		name string
		fn   func(string) (*File, error)
	}{{"Open", Open}, {"ReadFile", ReadFile}} {
		t.Run(open.name, func(t *testing.T) {
			f, err := open.fn("testdata/fixture.safetensors")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := f.Metadata(); !mapsEqual(got, fx.Metadata) {
				t.Errorf("metadata = %v, want %v", got, fx.Metadata)
			}
			if f.Len() != len(fx.Tensors) {
				t.Errorf("file has %d tensors, fixture %d", f.Len(), len(fx.Tensors))
			}
			for name, want := range fx.Tensors {
				t.Run(name, func(t *testing.T) {
					tn, err := f.Tensor(name)
					if err != nil {
						t.Fatal(err)
					}
					if tn.DType != want.DType || !slices.Equal(tn.Shape, want.Shape) {
						t.Fatalf("dtype/shape = %s %v, want %s %v", tn.DType, tn.Shape, want.DType, want.Shape)
					}
					switch {
					case want.F32Bits != nil:
						v, err := tn.Float32s()
						if err != nil {
							t.Fatal(err)
						}
						if len(v) != len(want.F32Bits) {
							t.Fatalf("%d values, want %d", len(v), len(want.F32Bits))
						}
						for i := range v {
							if got := math.Float32bits(v[i]); got != want.F32Bits[i] {
								t.Errorf("[%d] = %#08x (%g), want %#08x (%g)", i, got, v[i], want.F32Bits[i], math.Float32frombits(want.F32Bits[i]))
							}
						}
					case tn.DType == I64 || tn.DType == I32:
						v, err := tn.Int64s()
						if err != nil {
							t.Fatal(err)
						}
						if !slices.Equal(v, want.Ints) {
							t.Errorf("ints = %v, want %v", v, want.Ints)
						}
					default:
						got := make([]int64, len(tn.Data))
						for i, b := range tn.Data {
							got[i] = int64(b)
						}
						if !slices.Equal(got, want.Ints) {
							t.Errorf("bytes = %v, want %v", got, want.Ints)
						}
					}
				})
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestResaveBitIdentical re-saves the Python file through every write path and
// expects the very same bytes.
func TestResaveBitIdentical(t *testing.T) {
	orig, err := os.ReadFile("testdata/fixture.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(orig, "fixture")
	if err != nil {
		t.Fatal(err)
	}
	tensors := f.Tensors()
	slices.Reverse(tensors) // input order must not matter

	t.Run("Write", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Write(&buf, tensors, f.Metadata()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), orig) {
			t.Errorf("re-saved bytes differ from Python's:\n got %q\nwant %q", headerOf(buf.Bytes()), headerOf(orig))
		}
	})
	t.Run("WriteFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := WriteFile(path, tensors, f.Metadata()); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, orig) {
			t.Errorf("re-saved bytes differ from Python's")
		}
		st, _ := os.Stat(path)
		if st.Mode().Perm() != 0o644 {
			t.Errorf("mode = %v, want 0644", st.Mode().Perm())
		}
	})
	t.Run("CreateStreaming", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "m.safetensors")
		var hs []Header
		for _, tn := range tensors {
			hs = append(hs, Header{tn.Name, tn.DType, tn.Shape})
		}
		w, err := Create(path, hs, f.Metadata())
		if err != nil {
			t.Fatal(err)
		}
		for _, tn := range tensors {
			if tn.DType == F32 && tn.Name != "empty" {
				v, _ := tn.Float32s()
				err = w.WriteFloat32s(tn.Name, v)
			} else {
				err = w.WriteTensor(tn.Name, tn.Data)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, orig) {
			t.Errorf("streamed bytes differ from Python's")
		}
		if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp")); len(m) != 0 {
			t.Errorf("temporary files left: %v", m)
		}
	})
}

func headerOf(b []byte) []byte {
	if len(b) < 8 {
		return b
	}
	n := binary.LittleEndian.Uint64(b)
	return b[8:min(uint64(len(b)), 8+n)]
}

func TestRoundTrip(t *testing.T) {
	mk := func(name string, dt DType, shape []int64, v []float32) Tensor {
		tn, err := FromFloat32s(name, dt, shape, v)
		if err != nil {
			t.Fatal(err)
		}
		return tn
	}
	i64, _ := FromInt64s("ids", []int64{3}, []int64{-5, 0, 1 << 40})
	i32, _ := FromInt32s("pos", []int64{2, 1}, []int32{math.MaxInt32, math.MinInt32})
	tests := []struct {
		name     string
		tensors  []Tensor
		metadata map[string]string
	}{
		{"empty file", nil, nil},
		{"metadata only", nil, map[string]string{"format": "pt", "b": "x\ny"}},
		{"mixed dtypes", []Tensor{
			mk("w", F32, []int64{2, 2}, []float32{1, -2, 3.5, float32(math.Inf(-1))}),
			mk("h", F16, []int64{3}, []float32{0.5, 65504, -1e-7}),
			mk("b", BF16, []int64{1, 2}, []float32{1e30, -3}),
			mk("d", F64, []int64{}, []float32{0.1}),
			i64, i32,
		}, map[string]string{"format": "pt"}},
		{"zero-size tensor", []Tensor{mk("z", F32, []int64{0, 7}, nil)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.tensors, tc.metadata); err != nil {
				t.Fatal(err)
			}
			if n := len(headerOf(buf.Bytes())); n%8 != 0 {
				t.Errorf("header length %d is not padded to a multiple of 8", n)
			}
			f, err := Parse(buf.Bytes(), "buf")
			if err != nil {
				t.Fatal(err)
			}
			if !mapsEqual(f.Metadata(), tc.metadata) || (f.Metadata() == nil) != (tc.metadata == nil) {
				t.Errorf("metadata = %v, want %v", f.Metadata(), tc.metadata)
			}
			if f.Len() != len(tc.tensors) {
				t.Fatalf("%d tensors, want %d", f.Len(), len(tc.tensors))
			}
			for _, want := range tc.tensors {
				got, err := f.Tensor(want.Name)
				if err != nil {
					t.Fatal(err)
				}
				if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
					t.Errorf("%s: got %s %v %x, want %s %v %x", want.Name, got.DType, got.Shape, got.Data, want.DType, want.Shape, want.Data)
				}
			}
			var again bytes.Buffer
			if err := Write(&again, f.Tensors(), f.Metadata()); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again.Bytes(), buf.Bytes()) {
				t.Error("second save differs from the first")
			}
		})
	}
}

func TestConversionsMatchNumpy(t *testing.T) {
	b, err := os.ReadFile("testdata/conversions.json")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		F32  []uint32 `json:"f32_bits"`
		F16  []uint16 `json:"f16_bits"`
		BF16 []uint16 `json:"bf16_bits"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.F32) < 1000 || len(c.F16) != len(c.F32) || len(c.BF16) != len(c.F32) {
		t.Fatalf("bad conversion table: %d/%d/%d", len(c.F32), len(c.F16), len(c.BF16))
	}
	var bad16, badBF int
	for i, bits := range c.F32 {
		f := math.Float32frombits(bits)
		if got := F32ToF16(f); got != c.F16[i] && bad16 < 10 {
			bad16++
			t.Errorf("F32ToF16(%#08x = %g) = %#04x, numpy %#04x", bits, f, got, c.F16[i])
		}
		if got := F32ToBF16(f); got != c.BF16[i] && badBF < 10 {
			badBF++
			t.Errorf("F32ToBF16(%#08x = %g) = %#04x, ml_dtypes %#04x", bits, f, got, c.BF16[i])
		}
	}
}

// TestF16Exhaustive: every binary16 value widens exactly and narrows back to
// itself (NaN payloads included).
func TestF16Exhaustive(t *testing.T) {
	for h := 0; h <= 0xffff; h++ {
		f := F16ToF32(uint16(h))
		if got := F32ToF16(f); got != uint16(h) {
			t.Fatalf("F32ToF16(F16ToF32(%#04x)) = %#04x (via %g)", h, got, f)
		}
		if bf := uint16(h); F32ToBF16(BF16ToF32(bf)) != bf && BF16ToF32(bf) == BF16ToF32(bf) {
			t.Fatalf("bf16 %#04x does not round-trip", h)
		}
	}
}

func TestParseErrors(t *testing.T) {
	valid := func(header string, data int) []byte {
		b := make([]byte, 8, 8+len(header)+data)
		binary.LittleEndian.PutUint64(b, uint64(len(header)))
		b = append(b, header...)
		return append(b, make([]byte, data)...)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"too short", []byte{1, 2}, "shorter than the 8-byte header length"},
		{"header past end", valid(`{}`, 0)[:9], "runs past the end"},
		{"huge header", binary.LittleEndian.AppendUint64(nil, 1<<40), "exceeds the limit"},
		{"not json", valid(`[1,2]   `, 0), "header is not a JSON object"},
		{"trailing garbage", valid(`{}x`, 0), "trailing bytes"},
		{"unknown dtype", valid(`{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}`, 1), `tensor "a": unknown dtype "Q7"`},
		{"size mismatch", valid(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4), "shape [2] of F32 needs 8"},
		{"gap", valid(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, 2), "expected to start at 0"},
		{"overlap", valid(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, 3), "expected to start at 2"},
		{"data not covered", valid(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 5), "tensors cover 1 bytes of a 5-byte data section"},
		{"bad metadata", valid(`{"__metadata__":{"a":1}}`, 0), "__metadata__ must map strings to strings"},
		{"negative dim", valid(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`, 0), "negative dimension"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data, "x.safetensors")
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FormatError", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "safetensors: x.safetensors") {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestWriterErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if _, err := Create(path, []Header{{"a", F32, []int64{1}}, {"a", F32, []int64{1}}}, nil); err == nil || !strings.Contains(err.Error(), "declared twice") {
		t.Errorf("duplicate name: err = %v", err)
	}
	if _, err := Create(path, []Header{{"a", "Q", []int64{1}}}, nil); err == nil {
		t.Error("unknown dtype accepted")
	}
	w, err := Create(path, []Header{{"a", F32, []int64{2}}, {"b", BF16, []int64{1}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor("a", make([]byte, 4)); err == nil || !strings.Contains(err.Error(), "4 bytes given, 8 declared") {
		t.Errorf("short data: err = %v", err)
	}
	if err := w.WriteTensor("zz", nil); err == nil {
		t.Error("undeclared tensor accepted")
	}
	if err := w.WriteFloat32s("a", []float32{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTensor("a", make([]byte, 8)); err == nil || !strings.Contains(err.Error(), "written twice") {
		t.Errorf("second write: err = %v", err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), `"b": declared but never written`) {
		t.Errorf("Close with missing tensor: err = %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("failed Close left %s behind", path)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestTensorConversionErrors(t *testing.T) {
	if _, err := FromFloat32s("x", F32, []int64{3}, []float32{1}); err == nil {
		t.Error("FromFloat32s accepted wrong length")
	}
	if _, err := FromFloat32s("x", I32, []int64{1}, []float32{1}); err == nil {
		t.Error("FromFloat32s accepted I32")
	}
	big, _ := FromInt64s("x", []int64{1}, []int64{1 << 40})
	if _, err := big.Int32s(); err == nil || !strings.Contains(err.Error(), "overflows int32") {
		t.Errorf("Int32s overflow: err = %v", err)
	}
	if _, err := big.Float32s(); err == nil {
		t.Error("Float32s of I64 accepted")
	}
	bad := Tensor{Name: "x", DType: F32, Shape: []int64{2}, Data: make([]byte, 3)}
	if _, err := bad.Float32s(); err == nil {
		t.Error("Float32s accepted short data")
	}
}

// BenchmarkOpen measures opening a 135M-parameter-sized BF16 file (270 MB) and
// converting one 576×49152 embedding to float32. Memory stays at the converted
// tensor: the file itself is mapped, not copied.
func BenchmarkOpenLarge(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.safetensors")
	const rows, cols = 49152, 576
	hs := []Header{{"model.embed_tokens.weight", BF16, []int64{rows, cols}}}
	for i := range 30 {
		hs = append(hs, Header{Name: "model.layers." + string(rune('a'+i)) + ".w", DType: BF16, Shape: []int64{1536, 576 * 3}})
	}
	w, err := Create(path, hs, map[string]string{"format": "pt"})
	if err != nil {
		b.Fatal(err)
	}
	for _, h := range hs {
		if err := w.WriteTensor(h.Name, make([]byte, NumElements(h.Shape)*2)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		tn, _ := f.Tensor("model.embed_tokens.weight")
		if _, err := tn.Float32s(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
