package gguf

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/yardstick-eval/yardstick/finetune/safetensors"
)

// Quantize encodes src as type t: F32, F16, BF16 or Q8_0 (the types the
// writer produces). len(src) must be a whole number of t's blocks. The
// results are bit-identical to the Python gguf package's quantize (and so to
// ggml's reference quantisation).
func Quantize(t Type, src []float32) ([]byte, error) {
	n, ok := t.ByteSize(int64(len(src)))
	if !ok {
		return nil, fmt.Errorf("gguf: %d elements are not a whole number of %s blocks", len(src), t)
	}
	out := make([]byte, n)
	switch t {
	case F32:
		for i, x := range src {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
		}
	case F16:
		for i, x := range src {
			binary.LittleEndian.PutUint16(out[2*i:], safetensors.F32ToF16(x))
		}
	case BF16:
		for i, x := range src {
			binary.LittleEndian.PutUint16(out[2*i:], f32ToBF16(x))
		}
	case Q8_0:
		for b := 0; b < len(src)/32; b++ {
			x, blk := src[b*32:b*32+32], out[b*34:]
			var amax float32
			for _, v := range x {
				amax = max(amax, float32(math.Abs(float64(v))))
			}
			d := amax / 127
			var id float32
			if d != 0 {
				id = 1 / d
			}
			binary.LittleEndian.PutUint16(blk, safetensors.F32ToF16(d))
			for j, v := range x {
				blk[2+j] = uint8(int8(roundf(v * id)))
			}
		}
	default:
		return nil, fmt.Errorf("gguf: cannot quantise to %s (supported: F32, F16, BF16, Q8_0)", t)
	}
	return out, nil
}

// roundf rounds half away from zero, as C's roundf (np_roundf in gguf).
func roundf(x float32) float32 { return float32(math.Round(float64(x))) }

// f32ToBF16 is ggml_compute_fp32_to_bf16: NaN made quiet, round to nearest
// even.
func f32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 64
	}
	return uint16((uint64(u) + uint64(0x7fff+((u>>16)&1))) >> 16)
}
