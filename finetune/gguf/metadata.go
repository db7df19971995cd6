package gguf

import "slices"

// Value is one metadata value. Integers of every width are read with Int
// (or Uint), floats of both widths with Float; arrays with Strings, Ints,
// Floats or Bools by element type.
type Value struct {
	typ  ValueType
	elem ValueType // element type of an array
	i    int64
	u    uint64
	f    float64
	b    bool
	s    string
	arr  any // []string, []int64, []float64, []bool or []Value
}

// Type is the value's type; Elem the element type of an array.
func (v Value) Type() ValueType { return v.typ }

// Elem is an array's element type.
func (v Value) Elem() ValueType { return v.elem }

// Int returns an integer value (of any width and signedness) as int64.
func (v Value) Int() (int64, bool) {
	switch v.typ {
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		return v.i, true
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		return int64(v.u), v.u <= 1<<63-1
	}
	return 0, false
}

// Float returns a float value, or an integer one converted.
func (v Value) Float() (float64, bool) {
	if v.typ.isFloat() {
		return v.f, true
	}
	if i, ok := v.Int(); ok {
		return float64(i), true
	}
	return 0, false
}

// Bool returns a bool value.
func (v Value) Bool() (bool, bool) { return v.b, v.typ == TypeBool }

// Str returns a string value.
func (v Value) Str() (string, bool) { return v.s, v.typ == TypeString }

// Len is the number of elements of an array (0 otherwise).
func (v Value) Len() int {
	switch a := v.arr.(type) {
	case []string:
		return len(a)
	case []int64:
		return len(a)
	case []float64:
		return len(a)
	case []bool:
		return len(a)
	case []Value:
		return len(a)
	}
	return 0
}

// Any returns the value as a Go value: int64, uint64, float64, bool, string,
// or []string, []int64, []float64, []bool, []Value for arrays.
func (v Value) Any() any {
	switch {
	case v.typ == TypeArray:
		return v.arr
	case v.typ.isFloat():
		return v.f
	case v.typ == TypeBool:
		return v.b
	case v.typ == TypeString:
		return v.s
	case v.typ == TypeInt8 || v.typ == TypeInt16 || v.typ == TypeInt32 || v.typ == TypeInt64:
		return v.i
	}
	return v.u
}

// Metadata is a GGUF file's key/value metadata, in file order.
type Metadata struct {
	keys   []string
	values map[string]Value
}

// Keys lists the keys in file order.
func (m *Metadata) Keys() []string { return slices.Clone(m.keys) }

// Value returns the value of key.
func (m *Metadata) Value(key string) (Value, bool) {
	v, ok := m.values[key]
	return v, ok
}

// Str returns a string value.
func (m *Metadata) String(key string) (string, bool) {
	v, ok := m.values[key]
	if !ok {
		return "", false
	}
	return v.Str()
}

// Int returns an integer value of any width.
func (m *Metadata) Int(key string) (int64, bool) {
	v, ok := m.values[key]
	if !ok {
		return 0, false
	}
	return v.Int()
}

// Float returns a float (or integer) value.
func (m *Metadata) Float(key string) (float64, bool) {
	v, ok := m.values[key]
	if !ok {
		return 0, false
	}
	return v.Float()
}

// Bool returns a bool value.
func (m *Metadata) Bool(key string) (bool, bool) {
	v, ok := m.values[key]
	if !ok {
		return false, false
	}
	return v.Bool()
}

// Strings returns an array of strings.
func (m *Metadata) Strings(key string) ([]string, bool) {
	a, ok := m.values[key].arr.([]string)
	return a, ok
}

// Ints returns an array of integers.
func (m *Metadata) Ints(key string) ([]int64, bool) {
	a, ok := m.values[key].arr.([]int64)
	return a, ok
}

// Floats returns an array of floats.
func (m *Metadata) Floats(key string) ([]float64, bool) {
	a, ok := m.values[key].arr.([]float64)
	return a, ok
}
