package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
)

// kv is one metadata entry to write.
type kv struct {
	key string
	val Value
}

// header collects metadata in order.
type header struct{ kvs []kv }

func (h *header) set(key string, v Value) {
	for i := range h.kvs {
		if h.kvs[i].key == key {
			h.kvs[i].val = v
			return
		}
	}
	h.kvs = append(h.kvs, kv{key, v})
}
func (h *header) str(key, s string)     { h.set(key, Value{typ: TypeString, s: s}) }
func (h *header) u32(key string, x int) { h.set(key, Value{typ: TypeUint32, u: uint64(x)}) }
func (h *header) f32(key string, x float64) {
	h.set(key, Value{typ: TypeFloat32, f: float64(float32(x))})
}
func (h *header) boolean(key string, b bool) { h.set(key, Value{typ: TypeBool, b: b}) }
func (h *header) strs(key string, a []string) {
	h.set(key, Value{typ: TypeArray, elem: TypeString, arr: a})
}
func (h *header) i32s(key string, a []int64) {
	h.set(key, Value{typ: TypeArray, elem: TypeInt32, arr: a})
}
func (h *header) f32s(key string, a []float64) {
	h.set(key, Value{typ: TypeArray, elem: TypeFloat32, arr: a})
}

// outTensor is a tensor to write: its GGUF name, type and GGUF-order shape,
// and a function producing its bytes when the data section is written.
type outTensor struct {
	name  string
	typ   Type
	shape []int64
	data  func() ([]byte, error)
}

// writeGGUF writes a GGUF v3 file atomically (temporary file, then rename):
// the metadata, the tensor directory, then each tensor's bytes aligned to
// DefaultAlignment, produced one at a time.
func writeGGUF(path string, h *header, ts []outTensor) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := &binWriter{w: bufio.NewWriterSize(tmp, 1<<20)}
	w.bytes([]byte(Magic))
	w.u32(3)
	w.u64(uint64(len(ts)))
	w.u64(uint64(len(h.kvs)))
	for _, e := range h.kvs {
		w.str(e.key)
		w.u32(uint32(e.val.typ))
		w.value(e.val)
	}
	var off int64
	sizes := make([]int64, len(ts))
	for i, t := range ts {
		n := int64(1)
		for _, d := range t.shape {
			n *= d
		}
		size, ok := t.typ.ByteSize(n)
		if !ok || t.shape[0]%int64(t.typ.BlockSize()) != 0 {
			return fmt.Errorf("gguf: tensor %s: %d elements (rows of %d) cannot be stored as %s", t.name, n, t.shape[0], t.typ)
		}
		sizes[i] = size
		w.str(t.name)
		w.u32(uint32(len(t.shape)))
		for _, d := range t.shape {
			w.u64(uint64(d))
		}
		w.u32(uint32(t.typ))
		w.u64(uint64(off))
		off += align(size)
	}
	w.pad()
	for i, t := range ts {
		b, err := t.data()
		if err != nil {
			return err
		}
		if int64(len(b)) != sizes[i] {
			return fmt.Errorf("gguf: tensor %s: %d bytes of data, want %d", t.name, len(b), sizes[i])
		}
		w.bytes(b)
		w.pad()
	}
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if w.err != nil {
		return w.err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func align(n int64) int64 { return (n + DefaultAlignment - 1) / DefaultAlignment * DefaultAlignment }

type binWriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (w *binWriter) bytes(b []byte) {
	if w.err != nil {
		return
	}
	var n int
	n, w.err = w.w.Write(b)
	w.n += int64(n)
}

func (w *binWriter) pad() {
	if r := w.n % DefaultAlignment; r != 0 {
		w.bytes(make([]byte, DefaultAlignment-r))
	}
}

func (w *binWriter) u8(x uint8) { w.bytes([]byte{x}) }
func (w *binWriter) u16(x uint16) {
	w.bytes(binary.LittleEndian.AppendUint16(nil, x))
}
func (w *binWriter) u32(x uint32) {
	w.bytes(binary.LittleEndian.AppendUint32(nil, x))
}
func (w *binWriter) u64(x uint64) {
	w.bytes(binary.LittleEndian.AppendUint64(nil, x))
}
func (w *binWriter) str(s string) {
	w.u64(uint64(len(s)))
	w.bytes([]byte(s))
}

func (w *binWriter) scalar(t ValueType, v Value) {
	switch t {
	case TypeUint8, TypeInt8:
		w.u8(uint8(v.u | uint64(v.i)))
	case TypeUint16, TypeInt16:
		w.u16(uint16(v.u | uint64(v.i)))
	case TypeUint32, TypeInt32:
		w.u32(uint32(v.u | uint64(v.i)))
	case TypeUint64, TypeInt64:
		w.u64(v.u | uint64(v.i))
	case TypeFloat32:
		w.u32(math.Float32bits(float32(v.f)))
	case TypeFloat64:
		w.u64(math.Float64bits(v.f))
	case TypeBool:
		if v.b {
			w.u8(1)
		} else {
			w.u8(0)
		}
	case TypeString:
		w.str(v.s)
	}
}

func (w *binWriter) value(v Value) {
	if v.typ != TypeArray {
		w.scalar(v.typ, v)
		return
	}
	w.u32(uint32(v.elem))
	w.u64(uint64(v.Len()))
	switch a := v.arr.(type) {
	case []string:
		for _, s := range a {
			w.str(s)
		}
	case []int64:
		for _, x := range a {
			w.scalar(v.elem, Value{i: x})
		}
	case []float64:
		for _, x := range a {
			w.scalar(v.elem, Value{f: x})
		}
	case []bool:
		for _, x := range a {
			w.scalar(v.elem, Value{b: x})
		}
	case []Value:
		for _, x := range a {
			w.value(x)
		}
	}
}

var _ io.Writer = (*bufio.Writer)(nil)
