package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
)

// MaxHeaderSize is the largest JSON header accepted, as in the Rust reader.
const MaxHeaderSize = 100_000_000

// Info describes one tensor in a file. Offsets are the [begin, end) byte range
// relative to the start of the data section.
type Info struct {
	DType   DType    `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// FormatError reports a malformed or unreadable safetensors file. Tensor is
// empty when the problem is not tied to one tensor.
type FormatError struct {
	File   string
	Tensor string
	Msg    string
}

func (e *FormatError) Error() string {
	s := "safetensors: " + e.File
	if e.Tensor != "" {
		s += ": tensor " + quote(e.Tensor)
	}
	return s + ": " + e.Msg
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// File is a parsed safetensors file. Its methods are safe for concurrent use
// until Close.
type File struct {
	name     string
	data     []byte // the tensor data section
	names    []string
	infos    map[string]Info
	metadata map[string]string
	closer   func() error
}

// Open memory-maps the file at path read-only (on platforms without mmap it
// reads the file into memory) and validates its header. Tensors returned by
// the File alias the mapping and are valid until Close.
func Open(path string) (*File, error) {
	buf, closer, err := mapFile(path)
	if err != nil {
		return nil, &FormatError{File: path, Msg: err.Error()}
	}
	f, err := Parse(buf, path)
	if err != nil {
		closer()
		return nil, err
	}
	f.closer = closer
	return f, nil
}

// ReadFile reads the whole file into memory and parses it.
func ReadFile(path string) (*File, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, &FormatError{File: path, Msg: err.Error()}
	}
	return Parse(buf, path)
}

// Parse parses a complete safetensors file held in data; name is used in
// errors. The File's tensors alias data.
func Parse(data []byte, name string) (*File, error) {
	ferr := func(tensor, format string, args ...any) error {
		return &FormatError{File: name, Tensor: tensor, Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) < 8 {
		return nil, ferr("", "file is %d bytes, shorter than the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return nil, ferr("", "header length %d exceeds the limit %d", n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, ferr("", "header length %d runs past the end of the %d-byte file", n, len(data))
	}
	header := data[8 : 8+n]
	f := &File{name: name, data: data[8+n:], infos: map[string]Info{}}

	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, ferr("", "header is not a JSON object: %v", err)
	}
	if rest := bytes.TrimRight(header[dec.InputOffset():], " "); len(rest) != 0 {
		return nil, ferr("", "header has trailing bytes after the JSON object")
	}
	for key, msg := range raw {
		if key == "__metadata__" {
			if err := json.Unmarshal(msg, &f.metadata); err != nil {
				return nil, ferr("", "__metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		var info Info
		if err := json.Unmarshal(msg, &info); err != nil {
			return nil, ferr(key, "bad header entry: %v", err)
		}
		if !info.DType.Valid() {
			return nil, ferr(key, "unknown dtype %q", info.DType)
		}
		f.infos[key] = info
		f.names = append(f.names, key)
	}
	// Validate as the Rust reader does: ranges sorted by start must tile the data
	// section exactly, each the size its shape and dtype imply.
	sort.Slice(f.names, func(i, j int) bool {
		a, b := f.infos[f.names[i]], f.infos[f.names[j]]
		if a.Offsets[0] != b.Offsets[0] {
			return a.Offsets[0] < b.Offsets[0]
		}
		return a.Offsets[1] < b.Offsets[1]
	})
	var end int64
	for _, name := range f.names {
		info := f.infos[name]
		b, e := info.Offsets[0], info.Offsets[1]
		if b != end {
			return nil, ferr(name, "data_offsets %v: expected to start at %d (gap or overlap)", info.Offsets, end)
		}
		if e < b {
			return nil, ferr(name, "data_offsets %v: end before begin", info.Offsets)
		}
		numel := int64(1)
		for _, d := range info.Shape {
			if d < 0 {
				return nil, ferr(name, "negative dimension in shape %v", info.Shape)
			}
			if d != 0 && numel > (1<<62)/d {
				return nil, ferr(name, "shape %v overflows", info.Shape)
			}
			numel *= d
		}
		if want := numel * int64(info.DType.Size()); e-b != want {
			return nil, ferr(name, "data_offsets %v hold %d bytes, shape %v of %s needs %d", info.Offsets, e-b, info.Shape, info.DType, want)
		}
		end = e
	}
	if end != int64(len(f.data)) {
		return nil, ferr("", "tensors cover %d bytes of a %d-byte data section", end, len(f.data))
	}
	return f, nil
}

// Names returns the tensor names in file order (by data offset).
func (f *File) Names() []string { return slices.Clone(f.names) }

// Len is the number of tensors.
func (f *File) Len() int { return len(f.names) }

// Info returns the header entry of the named tensor.
func (f *File) Info(name string) (Info, bool) {
	i, ok := f.infos[name]
	if ok {
		i.Shape = slices.Clone(i.Shape)
	}
	return i, ok
}

// Tensor returns the named tensor. Its Data aliases the file's memory: valid
// until Close, read-only.
func (f *File) Tensor(name string) (Tensor, error) {
	info, ok := f.infos[name]
	if !ok {
		return Tensor{}, &FormatError{File: f.name, Tensor: name, Msg: "no such tensor"}
	}
	d := f.data[info.Offsets[0]:info.Offsets[1]:info.Offsets[1]]
	return Tensor{Name: name, DType: info.DType, Shape: slices.Clone(info.Shape), Data: d}, nil
}

// Tensors returns every tensor in file order (aliasing the file, like Tensor).
func (f *File) Tensors() []Tensor {
	out := make([]Tensor, 0, len(f.names))
	for _, n := range f.names {
		t, _ := f.Tensor(n)
		out = append(out, t)
	}
	return out
}

// Metadata returns a copy of the file's __metadata__ map, nil when absent.
func (f *File) Metadata() map[string]string {
	if f.metadata == nil {
		return nil
	}
	m := make(map[string]string, len(f.metadata))
	for k, v := range f.metadata {
		m[k] = v
	}
	return m
}

// Close releases the memory mapping. Tensors obtained from f must not be used
// afterwards. Close is idempotent.
func (f *File) Close() error {
	c := f.closer
	f.closer = nil
	f.data = nil
	if c != nil {
		return c()
	}
	return nil
}
