package gguf

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/yardstick-eval/yardstick/finetune/safetensors"
)

// dequantizer decodes whole blocks: src holds len(dst)/block blocks.
type dequantizer func(src []byte, dst []float32)

var dequantizers = map[Type]dequantizer{
	F32: deqF32, F16: deqF16, BF16: deqBF16, F64: deqF64,
	I8: deqI8, I16: deqI16, I32: deqI32,
	Q4_0: deqQ4_0, Q4_1: deqQ4_1, Q5_0: deqQ5_0, Q5_1: deqQ5_1, Q8_0: deqQ8_0,
	Q2_K: deqQ2K, Q3_K: deqQ3K, Q4_K: deqQ4K, Q5_K: deqQ5K, Q6_K: deqQ6K,
	IQ4_NL: deqIQ4NL, IQ4_XS: deqIQ4XS,
}

// Dequantize decodes src, stored as type t, into dst; len(dst) is the number
// of elements and must be a whole number of t's blocks, and src exactly
// their size. The arithmetic follows ggml's reference dequantisation (and
// the Python gguf package's, which the tests compare against bit for bit).
func Dequantize(t Type, src []byte, dst []float32) error {
	deq, ok := dequantizers[t]
	if !ok {
		return fmt.Errorf("tensor type %s cannot be dequantised (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS)", t)
	}
	want, ok := t.ByteSize(int64(len(dst)))
	if !ok {
		return fmt.Errorf("%d elements are not a whole number of %s blocks of %d", len(dst), t, t.BlockSize())
	}
	if int64(len(src)) != want {
		return fmt.Errorf("%d elements of %s take %d bytes, got %d", len(dst), t, want, len(src))
	}
	deq(src, dst)
	return nil
}

func f16(b []byte) float32 { return safetensors.F16ToF32(binary.LittleEndian.Uint16(b)) }

func deqF32(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
	}
}

func deqF64(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
	}
}

func deqF16(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = f16(src[2*i:])
	}
}

func deqBF16(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
	}
}

func deqI8(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = float32(int8(src[i]))
	}
}

func deqI16(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = float32(int16(binary.LittleEndian.Uint16(src[2*i:])))
	}
}

func deqI32(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = float32(int32(binary.LittleEndian.Uint32(src[4*i:])))
	}
}

// Q4_0: d (f16), 16 bytes of nibbles; x = (q - 8)·d. Low nibbles are
// elements 0–15, high nibbles 16–31.
func deqQ4_0(src []byte, dst []float32) {
	for b := 0; b < len(dst)/32; b++ {
		blk, y := src[b*18:], dst[b*32:]
		d := f16(blk)
		qs := blk[2:18]
		for j := range 16 {
			y[j] = d * float32(int8(qs[j]&0xF)-8)
			y[j+16] = d * float32(int8(qs[j]>>4)-8)
		}
	}
}

// Q4_1: d, m (f16), 16 bytes of nibbles; x = q·d + m.
func deqQ4_1(src []byte, dst []float32) {
	for b := 0; b < len(dst)/32; b++ {
		blk, y := src[b*20:], dst[b*32:]
		d, m := f16(blk), f16(blk[2:])
		qs := blk[4:20]
		for j := range 16 {
			y[j] = float32(d*float32(qs[j]&0xF)) + m
			y[j+16] = float32(d*float32(qs[j]>>4)) + m
		}
	}
}

// Q5_0: d (f16), qh (32 high bits), 16 bytes of low nibbles; x = (q - 16)·d.
func deqQ5_0(src []byte, dst []float32) {
	for b := 0; b < len(dst)/32; b++ {
		blk, y := src[b*22:], dst[b*32:]
		d := f16(blk)
		qh := binary.LittleEndian.Uint32(blk[2:])
		qs := blk[6:22]
		for j := range 16 {
			h0 := uint8((qh>>j)&1) << 4
			h1 := uint8((qh>>(j+16))&1) << 4
			y[j] = d * float32(int8(qs[j]&0xF|h0)-16)
			y[j+16] = d * float32(int8(qs[j]>>4|h1)-16)
		}
	}
}

// Q5_1: d, m (f16), qh, 16 bytes of low nibbles; x = q·d + m.
func deqQ5_1(src []byte, dst []float32) {
	for b := 0; b < len(dst)/32; b++ {
		blk, y := src[b*24:], dst[b*32:]
		d, m := f16(blk), f16(blk[2:])
		qh := binary.LittleEndian.Uint32(blk[4:])
		qs := blk[8:24]
		for j := range 16 {
			h0 := uint8((qh>>j)&1) << 4
			h1 := uint8((qh>>(j+16))&1) << 4
			y[j] = float32(d*float32(qs[j]&0xF|h0)) + m
			y[j+16] = float32(d*float32(qs[j]>>4|h1)) + m
		}
	}
}

// Q8_0: d (f16), 32 int8; x = q·d.
func deqQ8_0(src []byte, dst []float32) {
	for b := 0; b < len(dst)/32; b++ {
		blk, y := src[b*34:], dst[b*32:]
		d := f16(blk)
		for j := range 32 {
			y[j] = float32(int8(blk[2+j])) * d
		}
	}
}

// kScaleMin unpacks the 12-byte scales of Q4_K/Q5_K into eight 6-bit
// scales and eight 6-bit mins.
func kScaleMin(s []byte) (sc, mn [8]uint8) {
	for j := range 4 {
		sc[j] = s[j] & 0x3F
		mn[j] = s[j+4] & 0x3F
		sc[j+4] = s[j+8]&0x0F | (s[j]>>2)&0x30
		mn[j+4] = s[j+8]>>4 | (s[j+4]>>2)&0x30
	}
	return
}

// Q4_K: super-blocks of 256 = 8 sub-blocks of 32. d, dmin (f16), 12 bytes
// of packed 6-bit scales/mins, 128 bytes of nibbles (each 32-byte run holds
// two sub-blocks: low nibbles then high). x = d·sc·q − dmin·m.
func deqQ4K(src []byte, dst []float32) {
	for b := 0; b < len(dst)/256; b++ {
		blk, y := src[b*144:], dst[b*256:]
		d, dmin := f16(blk), f16(blk[2:])
		sc, mn := kScaleMin(blk[4:16])
		qs := blk[16:144]
		for s := range 8 {
			ds := d * float32(sc[s])
			dm := dmin * float32(mn[s])
			c, shift := s/2, uint(4*(s%2))
			for l := range 32 {
				q := (qs[c*32+l] >> shift) & 0xF
				y[s*32+l] = float32(ds*float32(q)) - dm
			}
		}
	}
}

// Q5_K: as Q4_K plus 32 bytes of high bits (bit s of byte l is the fifth bit
// of element l of sub-block s).
func deqQ5K(src []byte, dst []float32) {
	for b := 0; b < len(dst)/256; b++ {
		blk, y := src[b*176:], dst[b*256:]
		d, dmin := f16(blk), f16(blk[2:])
		sc, mn := kScaleMin(blk[4:16])
		qh := blk[16:48]
		qs := blk[48:176]
		for s := range 8 {
			ds := d * float32(sc[s])
			dm := dmin * float32(mn[s])
			c, shift := s/2, uint(4*(s%2))
			for l := range 32 {
				q := (qs[c*32+l]>>shift)&0xF | ((qh[l]>>uint(s))&1)<<4
				y[s*32+l] = float32(ds*float32(q)) - dm
			}
		}
	}
}

// Q6_K: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 int8
// scales (one per 16 elements), d (f16); x = d·scale·(q − 32).
func deqQ6K(src []byte, dst []float32) {
	for b := 0; b < len(dst)/256; b++ {
		blk, y := src[b*210:], dst[b*256:]
		ql, qh, scales := blk[0:128], blk[128:192], blk[192:208]
		d := f16(blk[208:])
		for c := range 2 {
			for l := range 32 {
				qlA, qlB, h := ql[c*64+l], ql[c*64+l+32], qh[c*32+l]
				q := [4]int8{
					int8(qlA&0xF|(h&3)<<4) - 32,
					int8(qlB&0xF|((h>>2)&3)<<4) - 32,
					int8(qlA>>4|((h>>4)&3)<<4) - 32,
					int8(qlB>>4|((h>>6)&3)<<4) - 32,
				}
				for k := range 4 {
					p := c*128 + k*32 + l
					y[p] = float32(d*float32(int8(scales[p/16]))) * float32(q[k])
				}
			}
		}
	}
}

// Q2_K: 16 bytes of 4-bit scale/min pairs (one per 16 elements), 64 bytes of
// 2-bit quants (each 32-byte run holds four 32-element groups, by shift),
// d, dmin (f16). x = d·(sc&15)·q − dmin·(sc>>4).
func deqQ2K(src []byte, dst []float32) {
	for b := 0; b < len(dst)/256; b++ {
		blk, y := src[b*84:], dst[b*256:]
		scales, qs := blk[0:16], blk[16:80]
		d, dmin := f16(blk[80:]), f16(blk[82:])
		for c := range 2 {
			for k := range 4 {
				for l := range 32 {
					p := c*128 + k*32 + l
					sc := scales[p/16]
					q := (qs[c*32+l] >> uint(2*k)) & 3
					y[p] = float32(d*float32(sc&0xF))*float32(q) - dmin*float32(sc>>4)
				}
			}
		}
	}
}

// Q3_K: 32 bytes of high bits (set: no offset), 64 bytes of 2-bit quants,
// 12 bytes of packed 6-bit scales (one per 16 elements, offset 32), d (f16).
// x = d·(sc − 32)·(q − 4·(1 − h)).
func deqQ3K(src []byte, dst []float32) {
	for b := 0; b < len(dst)/256; b++ {
		blk, y := src[b*110:], dst[b*256:]
		hmask, qs, s := blk[0:32], blk[32:96], blk[96:108]
		d := f16(blk[108:])
		var sc [16]float32
		for j := range 16 {
			var lo uint8
			if j < 8 {
				lo = s[j] & 0xF
			} else {
				lo = s[j-8] >> 4
			}
			hi := (s[8+j%4] >> uint(2*(j/4))) & 3
			sc[j] = float32(int8(lo|hi<<4) - 32)
		}
		for c := range 2 {
			for k := range 4 {
				for l := range 32 {
					p := c*128 + k*32 + l
					q := int8((qs[c*32+l] >> uint(2*k)) & 3)
					if (hmask[l]>>uint(p/32))&1 == 0 {
						q -= 4
					}
					y[p] = float32(d*sc[p/16]) * float32(q)
				}
			}
		}
	}
}

// iq4Values is the non-linear 4-bit code book of IQ4_NL and IQ4_XS.
var iq4Values = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// IQ4_NL: d (f16), 16 bytes of nibbles indexing iq4Values (low nibbles are
// elements 0–15); x = d·value.
func deqIQ4NL(src []byte, dst []float32) {
	for b := 0; b < len(dst)/32; b++ {
		blk, y := src[b*18:], dst[b*32:]
		d := f16(blk)
		for j := range 16 {
			q := blk[2+j]
			y[j] = d * float32(iq4Values[q&0xF])
			y[j+16] = d * float32(iq4Values[q>>4])
		}
	}
}

// IQ4_XS: super-blocks of 256 = 8 sub-blocks of 32: d (f16), the high 2 bits
// of the eight 6-bit scales (u16), their low 4 bits (4 bytes), 128 bytes of
// nibbles indexing iq4Values; x = d·(scale − 32)·value.
func deqIQ4XS(src []byte, dst []float32) {
	for b := 0; b < len(dst)/256; b++ {
		blk, y := src[b*136:], dst[b*256:]
		d := f16(blk)
		sh := binary.LittleEndian.Uint16(blk[2:])
		sl, qs := blk[4:8], blk[8:136]
		for ib := range 8 {
			ls := (sl[ib/2]>>uint(4*(ib%2)))&0xF | uint8((sh>>uint(2*ib))&3)<<4
			dl := d * float32(int8(ls)-32)
			for l := range 16 {
				q := qs[ib*16+l]
				y[ib*32+l] = dl * float32(iq4Values[q&0xF])
				y[ib*32+16+l] = dl * float32(iq4Values[q>>4])
			}
		}
	}
}
