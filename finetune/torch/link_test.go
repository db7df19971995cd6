//go:build torch

package torch

import (
	"os"
	"strings"
	"testing"
)

// TestLinkedLibraries: the binary maps libtorch_cpu and libc10, and none of the CUDA libraries gotch's link
// line names (scripts/libtorch.sh links empty stand-ins for them with --as-needed, so they must not be
// needed at run time), nor libtorch.so, which would pull in libtorch_cuda.
func TestLinkedLibraries(t *testing.T) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip("no /proc/self/maps:", err)
	}
	loaded := map[string]bool{}
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) == 6 && strings.Contains(f[5], ".so") {
			name := f[5][strings.LastIndexByte(f[5], '/')+1:]
			loaded[name] = true
		}
	}
	for _, want := range []string{"libtorch_cpu.so", "libc10.so"} {
		if !loaded[want] {
			t.Errorf("%s is not mapped", want)
		}
	}
	for name := range loaded {
		for _, bad := range []string{"libtorch.so", "libtorch_cuda", "libc10_cuda", "libcudnn", "libcublas", "libnvrtc", "libcuda.so", "libcaffe2_nvrtc", "libnvToolsExt"} {
			if strings.HasPrefix(name, bad) {
				t.Errorf("%s is mapped", name)
			}
		}
	}
	t.Logf("shared objects: %v", keys(loaded))
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
