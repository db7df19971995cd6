package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Tensor is one named tensor: its element type, its shape (row-major; an empty
// shape is a scalar) and its raw little-endian bytes. A Tensor returned by a
// File aliases the file's memory: it is valid until the File is closed and must
// not be modified.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64
	Data  []byte
}

// NumElements is the product of the shape (1 for a scalar).
func NumElements(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// NumElements is the product of t's shape.
func (t Tensor) NumElements() int64 { return NumElements(t.Shape) }

// check verifies that Data's length matches the shape and dtype.
func (t Tensor) check() error {
	sz := t.DType.Size()
	if sz == 0 {
		return fmt.Errorf("tensor %q: unknown dtype %q", t.Name, t.DType)
	}
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("tensor %q: negative dimension in shape %v", t.Name, t.Shape)
		}
	}
	if want := NumElements(t.Shape) * int64(sz); int64(len(t.Data)) != want {
		return fmt.Errorf("tensor %q: %d bytes of data, shape %v of %s needs %d", t.Name, len(t.Data), t.Shape, t.DType, want)
	}
	return nil
}

// Float32s returns the elements converted to a new []float32. It accepts F32,
// F16, BF16 and F64 (F64 is rounded to nearest float32).
func (t Tensor) Float32s() ([]float32, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	n := int(t.NumElements())
	out := make([]float32, n)
	d := t.Data
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = F16ToF32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = BF16ToF32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:])))
		}
	default:
		return nil, fmt.Errorf("tensor %q: dtype %s is not a float type", t.Name, t.DType)
	}
	return out, nil
}

// Int64s returns the elements of an I64 or I32 tensor as a new []int64.
func (t Tensor) Int64s() ([]int64, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	out := make([]int64, t.NumElements())
	switch t.DType {
	case I64:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
	default:
		return nil, fmt.Errorf("tensor %q: dtype %s is not I64 or I32", t.Name, t.DType)
	}
	return out, nil
}

// Int32s returns the elements of an I32 or I64 tensor as a new []int32; an
// I64 element outside the int32 range is an error.
func (t Tensor) Int32s() ([]int32, error) {
	v, err := t.Int64s()
	if err != nil {
		return nil, err
	}
	out := make([]int32, len(v))
	for i, x := range v {
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, fmt.Errorf("tensor %q: element %d = %d overflows int32", t.Name, i, x)
		}
		out[i] = int32(x)
	}
	return out, nil
}

// FromFloat32s builds a tensor of dtype F32, F16, BF16 or F64 from float32
// values, rounding to nearest even for the 16-bit types.
func FromFloat32s(name string, dt DType, shape []int64, v []float32) (Tensor, error) {
	if n := NumElements(shape); n != int64(len(v)) {
		return Tensor{}, fmt.Errorf("tensor %q: %d values for shape %v (%d elements)", name, len(v), shape, n)
	}
	t := Tensor{Name: name, DType: dt, Shape: append([]int64(nil), shape...)}
	switch dt {
	case F32:
		t.Data = make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(x))
		}
	case F16:
		t.Data = make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(t.Data[2*i:], F32ToF16(x))
		}
	case BF16:
		t.Data = make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(t.Data[2*i:], F32ToBF16(x))
		}
	case F64:
		t.Data = make([]byte, 8*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint64(t.Data[8*i:], math.Float64bits(float64(x)))
		}
	default:
		return Tensor{}, fmt.Errorf("tensor %q: dtype %s is not a float type", name, dt)
	}
	return t, nil
}

// FromInt64s builds an I64 tensor.
func FromInt64s(name string, shape []int64, v []int64) (Tensor, error) {
	if n := NumElements(shape); n != int64(len(v)) {
		return Tensor{}, fmt.Errorf("tensor %q: %d values for shape %v (%d elements)", name, len(v), shape, n)
	}
	t := Tensor{Name: name, DType: I64, Shape: append([]int64(nil), shape...), Data: make([]byte, 8*len(v))}
	for i, x := range v {
		binary.LittleEndian.PutUint64(t.Data[8*i:], uint64(x))
	}
	return t, nil
}

// FromInt32s builds an I32 tensor.
func FromInt32s(name string, shape []int64, v []int32) (Tensor, error) {
	if n := NumElements(shape); n != int64(len(v)) {
		return Tensor{}, fmt.Errorf("tensor %q: %d values for shape %v (%d elements)", name, len(v), shape, n)
	}
	t := Tensor{Name: name, DType: I32, Shape: append([]int64(nil), shape...), Data: make([]byte, 4*len(v))}
	for i, x := range v {
		binary.LittleEndian.PutUint32(t.Data[4*i:], uint32(x))
	}
	return t, nil
}
