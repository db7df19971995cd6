package safetensors

import "math"

// DType is a safetensors element type, spelled as in the file header.
type DType string

// The element types this package knows. Float32s converts F32, F16, BF16 and
// F64; Int64s and Int32s convert the integer types I64 and I32. The others are
// read and written as raw bytes.
const (
	BOOL   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

// dtypeInfo holds each known dtype's element size and its rank in the Rust
// safetensors Dtype enum, which orders tensors in a written file (descending
// rank, then name).
var dtypeInfo = map[DType]struct{ size, rank int }{
	BOOL:   {1, 0},
	U8:     {1, 1},
	I8:     {1, 2},
	F8E5M2: {1, 3},
	F8E4M3: {1, 4},
	I16:    {2, 5},
	U16:    {2, 6},
	F16:    {2, 7},
	BF16:   {2, 8},
	I32:    {4, 9},
	U32:    {4, 10},
	F32:    {4, 11},
	F64:    {8, 12},
	I64:    {8, 13},
	U64:    {8, 14},
}

// Size is the number of bytes per element, or 0 for an unknown dtype.
func (d DType) Size() int { return dtypeInfo[d].size }

// Valid reports whether d is a dtype this package knows.
func (d DType) Valid() bool { _, ok := dtypeInfo[d]; return ok }

// F16ToF32 converts an IEEE 754 binary16 value (given as its bits) to float32.
// The conversion is exact; NaN payloads are kept.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0:
		// Zero or subnormal: mant × 2^-24, exact in float32.
		f := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(math.Float32bits(f) | sign)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// F32ToF16 converts float32 to binary16 bits with round-to-nearest-even,
// overflowing to ±Inf and underflowing through subnormals to ±0. It is a port of
// numpy's npy_floatbits_to_halfbits, so results match numpy's astype(float16)
// bit for bit, NaN payloads included.
func F32ToF16(f float32) uint16 {
	u := math.Float32bits(f)
	hSign := uint16((u & 0x80000000) >> 16)
	fExp := u & 0x7f800000
	if fExp >= 0x47800000 { // overflow, Inf or NaN
		if fExp == 0x7f800000 {
			if sig := u & 0x007fffff; sig != 0 {
				ret := uint16(0x7c00 + (sig >> 13))
				if ret == 0x7c00 { // keep it a NaN
					ret++
				}
				return hSign + ret
			}
		}
		return hSign + 0x7c00
	}
	if fExp <= 0x38000000 { // subnormal half or zero
		if fExp < 0x33000000 {
			return hSign
		}
		e := fExp >> 23
		sig := 0x00800000 + (u & 0x007fffff)
		sig >>= 113 - e
		if (sig&0x3fff) != 0x1000 || (u&0x7ff) != 0 {
			sig += 0x1000
		}
		return hSign + uint16(sig>>13)
	}
	hExp := uint16((fExp - 0x38000000) >> 13)
	sig := u & 0x007fffff
	if (sig & 0x3fff) != 0x1000 {
		sig += 0x1000
	}
	// A carry out of the significand increments the exponent, possibly to Inf:
	// both are the correctly rounded result.
	return hSign + uint16(sig>>13) + hExp
}

// BF16ToF32 converts bfloat16 bits to float32 (exact).
func BF16ToF32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// F32ToBF16 converts float32 to bfloat16 bits with round-to-nearest-even, as
// ml_dtypes and PyTorch do. NaN becomes the quiet NaN 0x7fc0 with f's sign.
func F32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if f != f {
		return uint16(u>>16)&0x8000 | 0x7fc0
	}
	bias := uint32(0x7fff) + (u>>16)&1
	return uint16((u + bias) >> 16)
}
