package finetune

import (
	"errors"
	"reflect"
	"strconv"
)

// ErrNotBuilt is returned by every function of finetune/torch in a binary
// built without libtorch.
var ErrNotBuilt = errors.New("finetune: this binary was built without libtorch; " +
	"rebuild with `make build-torch`, or run `eval \"$(make -s libtorch-env)\"` and then `go build -tags torch ./cmd/yardstick`")

// InputError reports bad user input: a configuration file, a dataset line or
// a checkpoint. File and Line locate it when known (Line 0: not line-based);
// Field names the offending JSON field.
type InputError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *InputError) Error() string {
	s := ""
	if e.File != "" {
		s = e.File
		if e.Line > 0 {
			s += ":" + strconv.Itoa(e.Line)
		}
		s += ": "
	}
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Err.Error()
}

func (e *InputError) Unwrap() error { return e.Err }

// lineOf returns the 1-based line of byte offset off in data.
func lineOf(data []byte, off int64) int {
	line := 1
	for i := int64(0); i < off && i < int64(len(data)); i++ {
		if data[i] == '\n' {
			line++
		}
	}
	return line
}

// jsonKind names a Go type the way a JSON author thinks of it.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}
