// Package regfile opens input files that must be regular files — suite
// files, datasets, schemas, app config — so that a path naming a FIFO, a
// socket or a device (/dev/zero, /dev/tty, a named pipe nobody writes to) is
// refused at once instead of hanging or reading forever.
//
// The file is opened without blocking (O_NONBLOCK on Unix, where opening a
// FIFO for reading would otherwise wait for a writer) and its mode is
// checked on the open descriptor, so a path swapped between a check and the
// open cannot slip through. regfile knows nothing of what the files hold.
package regfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by the error for a path that is not a regular
// file.
var ErrNotRegular = errors.New("not a regular file")

// Open opens path for reading if it is a regular file (symbolic links are
// followed). A directory, FIFO, socket or device is an error wrapping
// ErrNotRegular that says what it is.
func Open(path string) (*os.File, error) {
	f, err := openNonblock(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, Kind(fi.Mode()))}
	}
	if err := clearNonblock(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads the regular file at path, refusing one larger than max
// bytes (max <= 0: no limit) with an error that names both sizes.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := io.Reader(f)
	if max > 0 {
		r = io.LimitReader(f, max+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if max > 0 && int64(len(data)) > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("larger than the %d-byte limit", max)}
	}
	return data, nil
}

// Kind names a file mode's type for messages: "a directory", "a FIFO
// (named pipe)", "a device", "a socket", "a regular file", ….
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file"
}
