package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
)

// Magic is the four bytes a GGUF file starts with.
const Magic = "GGUF"

// DefaultAlignment is the tensor data alignment when general.alignment is
// absent.
const DefaultAlignment = 32

// Limits on what a header may declare, so that a corrupt or hostile file
// fails with an error instead of exhausting memory.
const (
	maxStringLen   = 64 << 20 // one string (a chat template, a token)
	maxArrayLen    = 1 << 26  // elements of one metadata array
	maxKVCount     = 1 << 20
	maxTensorCount = 1 << 20
	maxDims        = 4 // GGML_MAX_DIMS
)

// FormatError reports a GGUF file that cannot be read: File is its path,
// Offset the byte position where the problem was found (-1 if none), Field
// the metadata key or tensor name concerned ("" if none).
type FormatError struct {
	File   string
	Offset int64
	Field  string
	Err    error
}

func (e *FormatError) Error() string {
	s := "gguf: " + e.File
	if e.Offset >= 0 {
		s += ": offset " + strconv.FormatInt(e.Offset, 10)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Err.Error()
}

func (e *FormatError) Unwrap() error { return e.Err }

// TensorInfo describes one tensor of a GGUF file. Shape is in GGUF (GGML)
// order, fastest-varying dimension first: a PyTorch [out, in] weight has
// Shape [in, out]. HFShape gives the PyTorch order.
type TensorInfo struct {
	Name  string
	Type  Type
	Shape []int64
	// Offset is the tensor's absolute byte offset in the file, Size its
	// length in bytes.
	Offset int64
	Size   int64
}

// Elements is the number of elements of the tensor.
func (t TensorInfo) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// HFShape is Shape reversed: the tensor's shape as PyTorch and Hugging Face
// state it.
func (t TensorInfo) HFShape() []int64 {
	s := slices.Clone(t.Shape)
	slices.Reverse(s)
	return s
}

// File is an open GGUF file: its parsed header (metadata and tensor
// directory) and a handle for reading tensor data on demand. Tensor data is
// read with ReadAt, one tensor at a time, so a large file is never held in
// memory whole. A File is safe for concurrent use; Close it when done.
type File struct {
	path      string
	f         *os.File
	size      int64
	version   uint32
	meta      Metadata
	tensors   []TensorInfo
	byName    map[string]int
	dataStart int64
	alignment int64
}

// Open reads the header of the GGUF (version 2 or 3) file at path. Errors
// about the content are *FormatError.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, &FormatError{File: path, Offset: -1, Err: errors.New("is a directory, not a GGUF file")}
	}
	g := &File{path: path, f: f, size: st.Size(), byName: map[string]int{}}
	if err := g.readHeader(); err != nil {
		f.Close()
		return nil, err
	}
	return g, nil
}

// Close releases the file.
func (f *File) Close() error { return f.f.Close() }

// Path is the file's path as given to Open.
func (f *File) Path() string { return f.path }

// Version is the GGUF format version (2 or 3).
func (f *File) Version() uint32 { return f.version }

// Metadata returns the key/value metadata.
func (f *File) Metadata() *Metadata { return &f.meta }

// Tensors returns the tensor directory, in file order.
func (f *File) Tensors() []TensorInfo { return slices.Clone(f.tensors) }

// Tensor looks a tensor up by its GGUF name ("blk.0.attn_q.weight").
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.tensors[i], true
}

// Architecture is general.architecture ("llama"), or "".
func (f *File) Architecture() string {
	s, _ := f.meta.String("general.architecture")
	return s
}

// RawTensor reads a tensor's bytes as stored.
func (f *File) RawTensor(name string) ([]byte, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, &FormatError{File: f.path, Offset: -1, Field: name, Err: errors.New("no such tensor")}
	}
	return f.readRaw(t)
}

func (f *File) readRaw(t TensorInfo) ([]byte, error) {
	b := make([]byte, t.Size)
	if _, err := f.f.ReadAt(b, t.Offset); err != nil {
		return nil, &FormatError{File: f.path, Offset: t.Offset, Field: t.Name, Err: fmt.Errorf("reading tensor data: %w", err)}
	}
	return b, nil
}

// ReadTensor reads a tensor and dequantises it to float32, in GGUF element
// order (the flat order of HFShape in PyTorch: row-major).
func (f *File) ReadTensor(name string) ([]float32, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, &FormatError{File: f.path, Offset: -1, Field: name, Err: errors.New("no such tensor")}
	}
	return f.readF32(t)
}

func (f *File) readF32(t TensorInfo) ([]float32, error) {
	return f.readF32Buf(t, nil)
}

// readF32Buf is readF32 reading the raw bytes into *buf (grown as needed), so
// a walk over every tensor allocates one raw buffer, not one per tensor.
func (f *File) readF32Buf(t TensorInfo, buf *[]byte) ([]float32, error) {
	var raw []byte
	if buf != nil {
		if int64(cap(*buf)) < t.Size {
			*buf = make([]byte, t.Size)
		}
		raw = (*buf)[:t.Size]
		if _, err := f.f.ReadAt(raw, t.Offset); err != nil {
			return nil, &FormatError{File: f.path, Offset: t.Offset, Field: t.Name, Err: fmt.Errorf("reading tensor data: %w", err)}
		}
	} else {
		var err error
		if raw, err = f.readRaw(t); err != nil {
			return nil, err
		}
	}
	out := make([]float32, t.Elements())
	if err := Dequantize(t.Type, raw, out); err != nil {
		return nil, &FormatError{File: f.path, Offset: t.Offset, Field: t.Name, Err: err}
	}
	return out, nil
}

// reader decodes the header, tracking its position for errors.
type reader struct {
	r    *bufio.Reader
	pos  int64
	path string
	size int64 // file size: no length may claim more bytes than remain
	key  string
}

// fits reports whether n items of at least width bytes each can still be in
// the file.
func (r *reader) fits(n uint64, width int64) bool {
	rem := r.size - r.pos
	return rem >= 0 && n <= uint64(rem)/uint64(width)
}

func (r *reader) fail(format string, args ...any) error {
	return &FormatError{File: r.path, Offset: r.pos, Field: r.key, Err: fmt.Errorf(format, args...)}
}

func (r *reader) read(b []byte) error {
	n, err := io.ReadFull(r.r, b)
	r.pos += int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return r.fail("file ends inside the header")
		}
		return r.fail("%v", err)
	}
	return nil
}

func (r *reader) u8() (uint8, error) {
	var b [1]byte
	err := r.read(b[:])
	return b[0], err
}

func (r *reader) u16() (uint16, error) {
	var b [2]byte
	err := r.read(b[:])
	return binary.LittleEndian.Uint16(b[:]), err
}

func (r *reader) u32() (uint32, error) {
	var b [4]byte
	err := r.read(b[:])
	return binary.LittleEndian.Uint32(b[:]), err
}

func (r *reader) u64() (uint64, error) {
	var b [8]byte
	err := r.read(b[:])
	return binary.LittleEndian.Uint64(b[:]), err
}

func (r *reader) str() (string, error) {
	n, err := r.u64()
	if err != nil {
		return "", err
	}
	if n > maxStringLen {
		return "", r.fail("string of %d bytes is longer than the limit of %d", n, maxStringLen)
	}
	if !r.fits(n, 1) {
		return "", r.fail("string of %d bytes runs past the end of the file", n)
	}
	b := make([]byte, n)
	if err := r.read(b); err != nil {
		return "", err
	}
	return string(b), nil
}

func (f *File) readHeader() error {
	r := &reader{r: bufio.NewReaderSize(f.f, 1<<20), path: f.path, size: f.size}
	var magic [4]byte
	if err := r.read(magic[:]); err != nil {
		return &FormatError{File: f.path, Offset: 0, Err: errors.New("not a GGUF file (too short)")}
	}
	if string(magic[:]) != Magic {
		return &FormatError{File: f.path, Offset: 0, Err: fmt.Errorf("not a GGUF file (starts with %q, want %q)", magic[:], Magic)}
	}
	v, err := r.u32()
	if err != nil {
		return err
	}
	if v != 2 && v != 3 {
		if v == 1 {
			return r.fail("GGUF version 1 is not supported (re-convert the model with a current llama.cpp)")
		}
		if v&0xffff == 0 {
			return r.fail("version %#x: a big-endian GGUF file is not supported", v)
		}
		return r.fail("unknown GGUF version %d (supported: 2, 3)", v)
	}
	f.version = v
	nt, err := r.u64()
	if err != nil {
		return err
	}
	nkv, err := r.u64()
	if err != nil {
		return err
	}
	if nt > maxTensorCount || nkv > maxKVCount || !r.fits(nt, 8+4+8+4+8) || !r.fits(nkv, 8+4+1) {
		return r.fail("implausible header: %d tensors, %d metadata keys", nt, nkv)
	}
	f.meta = Metadata{values: map[string]Value{}}
	for range nkv {
		r.key = ""
		key, err := r.str()
		if err != nil {
			return err
		}
		r.key = key
		if _, dup := f.meta.values[key]; dup {
			return r.fail("duplicate metadata key")
		}
		t, err := r.u32()
		if err != nil {
			return err
		}
		val, err := r.value(ValueType(t), 0)
		if err != nil {
			return err
		}
		f.meta.keys = append(f.meta.keys, key)
		f.meta.values[key] = val
	}
	r.key = ""
	f.alignment = DefaultAlignment
	if v, ok := f.meta.values["general.alignment"]; ok {
		a, isInt := v.Int()
		if !isInt || a <= 0 || a&(a-1) != 0 || a > 1<<20 {
			return &FormatError{File: f.path, Offset: -1, Field: "general.alignment", Err: fmt.Errorf("want a power of two, got %v", v.Any())}
		}
		f.alignment = a
	}
	f.tensors = make([]TensorInfo, 0, nt)
	for range nt {
		r.key = ""
		name, err := r.str()
		if err != nil {
			return err
		}
		r.key = name
		if _, dup := f.byName[name]; dup {
			return r.fail("duplicate tensor name")
		}
		nd, err := r.u32()
		if err != nil {
			return err
		}
		if nd == 0 || nd > maxDims {
			return r.fail("%d dimensions (want 1 to %d)", nd, maxDims)
		}
		shape := make([]int64, nd)
		n := int64(1)
		for i := range shape {
			d, err := r.u64()
			if err != nil {
				return err
			}
			if d == 0 || d > 1<<40 || n > math.MaxInt64/int64(d) {
				return r.fail("dimension %d is %d", i, d)
			}
			shape[i] = int64(d)
			n *= int64(d)
		}
		typ, err := r.u32()
		if err != nil {
			return err
		}
		off, err := r.u64()
		if err != nil {
			return err
		}
		t := Type(typ)
		if !t.Known() {
			return r.fail("unknown tensor type %d", typ)
		}
		if shape[0]%int64(t.BlockSize()) != 0 {
			return r.fail("type %s needs rows of a multiple of %d elements, got %d", t, t.BlockSize(), shape[0])
		}
		size, _ := t.ByteSize(n)
		if off%uint64(f.alignment) != 0 {
			return r.fail("data offset %d is not aligned to %d", off, f.alignment)
		}
		f.byName[name] = len(f.tensors)
		f.tensors = append(f.tensors, TensorInfo{Name: name, Type: t, Shape: shape, Offset: int64(off), Size: size})
	}
	r.key = ""
	f.dataStart = (r.pos + f.alignment - 1) / f.alignment * f.alignment
	for i := range f.tensors {
		t := &f.tensors[i]
		t.Offset += f.dataStart
		if t.Offset < f.dataStart || t.Offset+t.Size > f.size || t.Offset+t.Size < t.Offset {
			return &FormatError{File: f.path, Offset: -1, Field: t.Name, Err: fmt.Errorf("tensor data [%d, %d) lies outside the file (%d bytes): truncated download?", t.Offset, t.Offset+t.Size, f.size)}
		}
	}
	return nil
}

// value reads a value of type t; depth guards nested arrays.
func (r *reader) value(t ValueType, depth int) (Value, error) {
	switch t {
	case TypeUint8:
		x, err := r.u8()
		return Value{typ: t, u: uint64(x)}, err
	case TypeInt8:
		x, err := r.u8()
		return Value{typ: t, i: int64(int8(x))}, err
	case TypeUint16:
		x, err := r.u16()
		return Value{typ: t, u: uint64(x)}, err
	case TypeInt16:
		x, err := r.u16()
		return Value{typ: t, i: int64(int16(x))}, err
	case TypeUint32:
		x, err := r.u32()
		return Value{typ: t, u: uint64(x)}, err
	case TypeInt32:
		x, err := r.u32()
		return Value{typ: t, i: int64(int32(x))}, err
	case TypeUint64:
		x, err := r.u64()
		return Value{typ: t, u: x}, err
	case TypeInt64:
		x, err := r.u64()
		return Value{typ: t, i: int64(x)}, err
	case TypeFloat32:
		x, err := r.u32()
		return Value{typ: t, f: float64(math.Float32frombits(x))}, err
	case TypeFloat64:
		x, err := r.u64()
		return Value{typ: t, f: math.Float64frombits(x)}, err
	case TypeBool:
		x, err := r.u8()
		if err == nil && x > 1 {
			err = r.fail("bool value %d", x)
		}
		return Value{typ: t, b: x == 1}, err
	case TypeString:
		s, err := r.str()
		return Value{typ: t, s: s}, err
	case TypeArray:
		if depth > 2 {
			return Value{}, r.fail("arrays nested too deeply")
		}
		et, err := r.u32()
		if err != nil {
			return Value{}, err
		}
		n, err := r.u64()
		if err != nil {
			return Value{}, err
		}
		if n > maxArrayLen {
			return Value{}, r.fail("array of %d elements is longer than the limit of %d", n, maxArrayLen)
		}
		elem := ValueType(et)
		width := int64(1)
		switch elem {
		case TypeUint16, TypeInt16:
			width = 2
		case TypeUint32, TypeInt32, TypeFloat32:
			width = 4
		case TypeUint64, TypeInt64, TypeFloat64, TypeString:
			width = 8
		case TypeArray:
			width = 12
		}
		if !r.fits(n, width) {
			return Value{}, r.fail("array of %d %s elements runs past the end of the file", n, elem)
		}
		v := Value{typ: TypeArray, elem: elem}
		switch {
		case elem == TypeString:
			a := make([]string, n)
			for i := range a {
				if a[i], err = r.str(); err != nil {
					return Value{}, err
				}
			}
			v.arr = a
		case elem.isInt() || elem.isFloat() || elem == TypeBool:
			ints := elem.isInt()
			var ai []int64
			var af []float64
			var ab []bool
			switch {
			case ints:
				ai = make([]int64, n)
			case elem == TypeBool:
				ab = make([]bool, n)
			default:
				af = make([]float64, n)
			}
			for i := range n {
				x, err := r.value(elem, depth+1)
				if err != nil {
					return Value{}, err
				}
				switch {
				case ints:
					if x.typ == TypeUint64 || x.typ == TypeUint32 || x.typ == TypeUint16 || x.typ == TypeUint8 {
						ai[i] = int64(x.u)
					} else {
						ai[i] = x.i
					}
				case elem == TypeBool:
					ab[i] = x.b
				default:
					af[i] = x.f
				}
			}
			switch {
			case ints:
				v.arr = ai
			case elem == TypeBool:
				v.arr = ab
			default:
				v.arr = af
			}
		case elem == TypeArray:
			a := make([]Value, n)
			for i := range a {
				if a[i], err = r.value(TypeArray, depth+1); err != nil {
					return Value{}, err
				}
			}
			v.arr = a
		default:
			return Value{}, r.fail("array of unknown value type %d", et)
		}
		return v, nil
	}
	return Value{}, r.fail("unknown value type %d", uint32(t))
}

// IsGGUF reports whether path is a regular file that starts with the GGUF
// magic. It reads four bytes; errors count as false.
func IsGGUF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	_, err = io.ReadFull(f, b[:])
	return err == nil && string(b[:]) == Magic
}
