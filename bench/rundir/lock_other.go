//go:build !unix

package rundir

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("lock held")

func tryFlock(*os.File) error { return errNoFlock }

func unflock(*os.File) {}

// alive cannot tell on this platform: assume the holder still runs, so a
// lock is never stolen from a live run (the message says how to remove it).
func alive(pid int) bool {
	_, err := os.FindProcess(pid)
	return err == nil
}
