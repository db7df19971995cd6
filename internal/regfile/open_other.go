//go:build !unix

package regfile

import "os"

// openNonblock checks the mode before opening: without O_NONBLOCK this is
// the best a non-Unix system offers (Windows has no FIFOs in the file tree).
func openNonblock(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	return os.Open(path)
}

func clearNonblock(*os.File) error { return nil }
