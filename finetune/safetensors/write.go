package safetensors

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Header declares one tensor to be written by a FileWriter.
type Header struct {
	Name  string
	DType DType
	Shape []int64
}

// layout is a planned file: the header bytes (length prefix included) and each
// tensor's data offsets, in write order.
type layout struct {
	header  []byte
	order   []Header
	offsets map[string][2]int64
	size    int64 // total data bytes
}

// plan orders tensors as Python's safetensors does (descending dtype rank, then
// name), assigns contiguous offsets and renders the header exactly as serde_json
// would: compact, metadata first, keys of each entry in dtype/shape/data_offsets
// order, padded with spaces to a multiple of 8 bytes. Metadata keys are written
// sorted (Python writes them in hash-map order, which is not reproducible).
func plan(headers []Header, metadata map[string]string) (*layout, error) {
	l := &layout{order: slices.Clone(headers), offsets: make(map[string][2]int64, len(headers))}
	seen := make(map[string]bool, len(headers))
	for _, h := range headers {
		switch {
		case h.Name == "__metadata__":
			return nil, fmt.Errorf("tensor name %q is reserved", h.Name)
		case !utf8.ValidString(h.Name):
			return nil, fmt.Errorf("tensor name %q is not valid UTF-8", h.Name)
		case seen[h.Name]:
			return nil, fmt.Errorf("tensor %q declared twice", h.Name)
		case !h.DType.Valid():
			return nil, fmt.Errorf("tensor %q: unknown dtype %q", h.Name, h.DType)
		}
		for _, d := range h.Shape {
			if d < 0 {
				return nil, fmt.Errorf("tensor %q: negative dimension in shape %v", h.Name, h.Shape)
			}
		}
		seen[h.Name] = true
	}
	sort.SliceStable(l.order, func(i, j int) bool {
		ri, rj := dtypeInfo[l.order[i].DType].rank, dtypeInfo[l.order[j].DType].rank
		if ri != rj {
			return ri > rj
		}
		return l.order[i].Name < l.order[j].Name
	})

	b := make([]byte, 8, 8+64*len(headers)+64)
	b = append(b, '{')
	first := true
	if metadata != nil {
		b = append(b, `"__metadata__":{`...)
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, metadata[k])
		}
		b = append(b, '}')
		first = false
	}
	var off int64
	for _, h := range l.order {
		n := NumElements(h.Shape) * int64(h.DType.Size())
		l.offsets[h.Name] = [2]int64{off, off + n}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, h.Name)
		b = append(b, `:{"dtype":`...)
		b = appendJSONString(b, string(h.DType))
		b = append(b, `,"shape":[`...)
		for i, d := range h.Shape {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, d, 10)
		}
		b = append(b, `],"data_offsets":[`...)
		b = strconv.AppendInt(b, off, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, off+n, 10)
		b = append(b, "]}"...)
		off += n
	}
	b = append(b, '}')
	for (len(b)-8)%8 != 0 {
		b = append(b, ' ')
	}
	binary.LittleEndian.PutUint64(b, uint64(len(b)-8))
	l.header = b
	l.size = off
	return l, nil
}

// appendJSONString appends s as serde_json writes it: only '"', '\\' and
// control characters are escaped; other characters are written as UTF-8.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b = append(b, '\\', '"')
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// Write writes tensors and metadata (nil: no __metadata__ entry) in the
// safetensors format to w. The bytes equal those Python's safetensors writes
// for the same input (see plan for the one caveat on metadata key order).
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	headers := make([]Header, len(tensors))
	byName := make(map[string]Tensor, len(tensors))
	for i, t := range tensors {
		if err := t.check(); err != nil {
			return fmt.Errorf("safetensors: %w", err)
		}
		headers[i] = Header{Name: t.Name, DType: t.DType, Shape: t.Shape}
		byName[t.Name] = t
	}
	l, err := plan(headers, metadata)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.Write(l.header); err != nil {
		return err
	}
	for _, h := range l.order {
		if _, err := bw.Write(byName[h.Name].Data); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteFile writes tensors to path atomically: to a temporary file in the same
// directory, synced, then renamed over path.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	headers := make([]Header, len(tensors))
	for i, t := range tensors {
		if err := t.check(); err != nil {
			return fmt.Errorf("safetensors: %s: %w", path, err)
		}
		headers[i] = Header{Name: t.Name, DType: t.DType, Shape: t.Shape}
	}
	fw, err := Create(path, headers, metadata)
	if err != nil {
		return err
	}
	for _, t := range tensors {
		if err := fw.WriteTensor(t.Name, t.Data); err != nil {
			fw.Abort()
			return err
		}
	}
	return fw.Close()
}

// FileWriter writes a safetensors file one tensor at a time, in any order, so
// a caller never needs the whole model in memory at once. It is not safe for
// concurrent use.
type FileWriter struct {
	path    string
	f       *os.File
	l       *layout
	dtypes  map[string]DType
	written map[string]bool
	err     error
}

// Create plans a file holding the declared tensors and writes its header to a
// temporary file beside path. Write every tensor's bytes with WriteTensor, then
// Close to move the file into place (or Abort to discard it).
func Create(path string, headers []Header, metadata map[string]string) (*FileWriter, error) {
	l, err := plan(headers, metadata)
	if err != nil {
		return nil, &FormatError{File: path, Msg: err.Error()}
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, &FormatError{File: path, Msg: err.Error()}
	}
	fw := &FileWriter{path: path, f: f, l: l, dtypes: map[string]DType{}, written: map[string]bool{}}
	for _, h := range headers {
		fw.dtypes[h.Name] = h.DType
	}
	_, err = f.Write(l.header)
	if err == nil {
		err = f.Truncate(int64(len(l.header)) + l.size)
	}
	if err != nil {
		fw.Abort()
		return nil, &FormatError{File: path, Msg: err.Error()}
	}
	return fw, nil
}

// WriteTensor writes the raw little-endian bytes of a declared tensor.
func (w *FileWriter) WriteTensor(name string, data []byte) error {
	if w.err != nil {
		return w.err
	}
	off, ok := w.l.offsets[name]
	switch {
	case !ok:
		return &FormatError{File: w.path, Tensor: name, Msg: "tensor was not declared in Create"}
	case w.written[name]:
		return &FormatError{File: w.path, Tensor: name, Msg: "tensor written twice"}
	case int64(len(data)) != off[1]-off[0]:
		return &FormatError{File: w.path, Tensor: name, Msg: fmt.Sprintf("%d bytes given, %d declared", len(data), off[1]-off[0])}
	}
	if _, err := w.f.WriteAt(data, int64(len(w.l.header))+off[0]); err != nil {
		w.err = &FormatError{File: w.path, Tensor: name, Msg: err.Error()}
		return w.err
	}
	w.written[name] = true
	return nil
}

// WriteFloat32s converts v to the tensor's declared float dtype (F32, F16,
// BF16 or F64) and writes it, in chunks, without materialising the whole
// converted tensor.
func (w *FileWriter) WriteFloat32s(name string, v []float32) error {
	dt, ok := w.dtypes[name]
	if !ok {
		return &FormatError{File: w.path, Tensor: name, Msg: "tensor was not declared in Create"}
	}
	off := w.l.offsets[name]
	sz := int64(dt.Size())
	if int64(len(v))*sz != off[1]-off[0] {
		return &FormatError{File: w.path, Tensor: name, Msg: fmt.Sprintf("%d values given, %d declared", len(v), (off[1]-off[0])/sz)}
	}
	if w.written[name] {
		return &FormatError{File: w.path, Tensor: name, Msg: "tensor written twice"}
	}
	const chunk = 1 << 16
	buf := make([]byte, 0, chunk*sz)
	pos := int64(len(w.l.header)) + off[0]
	for start := 0; start < len(v); start += chunk {
		part := v[start:min(start+chunk, len(v))]
		buf = buf[:0]
		for _, x := range part {
			switch dt {
			case F32:
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
			case F16:
				buf = binary.LittleEndian.AppendUint16(buf, F32ToF16(x))
			case BF16:
				buf = binary.LittleEndian.AppendUint16(buf, F32ToBF16(x))
			case F64:
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(float64(x)))
			default:
				return &FormatError{File: w.path, Tensor: name, Msg: fmt.Sprintf("dtype %s is not a float type", dt)}
			}
		}
		if _, err := w.f.WriteAt(buf, pos); err != nil {
			w.err = &FormatError{File: w.path, Tensor: name, Msg: err.Error()}
			return w.err
		}
		pos += int64(len(buf))
	}
	w.written[name] = true
	return nil
}

// Close checks that every declared tensor was written, syncs the file and
// renames it to the target path. On failure the temporary file is removed.
func (w *FileWriter) Close() error {
	if w.f == nil {
		return errors.New("safetensors: FileWriter already closed")
	}
	if w.err == nil {
		for _, h := range w.l.order {
			if !w.written[h.Name] {
				w.err = &FormatError{File: w.path, Tensor: h.Name, Msg: "declared but never written"}
				break
			}
		}
	}
	if w.err != nil {
		err := w.err
		w.Abort()
		return err
	}
	tmp := w.f.Name()
	err := w.f.Chmod(0o644)
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if err == nil {
		err = os.Rename(tmp, w.path)
	}
	if err != nil {
		os.Remove(tmp)
		return &FormatError{File: w.path, Msg: err.Error()}
	}
	return nil
}

// Abort discards the temporary file. It is a no-op after Close.
func (w *FileWriter) Abort() error {
	if w.f == nil {
		return nil
	}
	tmp := w.f.Name()
	w.f.Close()
	w.f = nil
	return os.Remove(tmp)
}
