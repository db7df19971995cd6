package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/yardstick-eval/yardstick/finetune/torch"
)

// worstAliasSuite is the most expansion a suite file can get from aliases
// under the yamlx limits (10,000 added nodes, 1 MiB added bytes): a
// 1,000,000-byte scalar used by one case (one alias: +1,000,000 bytes) and
// a nested-alias tree in the JSON schema that adds 9,999 nodes, which the
// decoder turns into maps, lists and JSON.
func worstAliasSuite(extra int) string {
	var b strings.Builder
	b.WriteString("name: worst\nprompt:\n  user: \"{{.text}}\"\n")
	b.WriteString("description: &big \"" + strings.Repeat("x", 1_000_000) + "\"\n")
	b.WriteString("defaults:\n  json_schema:\n    type: object\n    x-defs:\n      l0: &l0 lol\n")
	// Each level is 9 aliases to the one before: 9, 90, 819, 7380 nodes.
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(&b, "      l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 9), ", "))
	}
	// 9+90+819+7380 = 8,298 nodes so far; 820 more per *l3 and 1 more per *l0.
	b.WriteString("    x-fill: [*l3, *l3")
	for range 9_999 - 8_298 - 2*820 + extra {
		b.WriteString(", *l0")
	}
	b.WriteString("]\n")
	b.WriteString("cases:\n  - {id: a, vars: {text: *big}}\n  - {id: b, vars: {text: hi}}\n")
	return b.String()
}

// literalSuite is the most nodes a suite file can hold under the yamlx
// item limit (100,000): one flow list of single letters in the JSON
// schema, which the decoder turns into a []any and JSON.
func literalSuite(items int) string {
	head := "name: big\nprompt: {user: hi}\ncases: [{id: a}]\ndefaults:\n  json_schema:\n    type: object\n    x-list: ["
	used := strings.Count(head, "\n") + strings.Count(head, "{") + strings.Count(head, "[") + strings.Count(head, ",") + 1
	return head + strings.TrimSuffix(strings.Repeat("a,", items-used), ",") + "]\n"
}

// TestHelperValidate is not a test: TestValidatePeakMemory runs the test
// binary with it to measure `suites validate` in a fresh process.
func TestHelperValidate(t *testing.T) {
	file := os.Getenv("YARDSTICK_VALIDATE_FILE")
	if file == "" {
		t.Skip("helper process only")
	}
	var out, errw bytes.Buffer
	code := run(context.Background(), []string{"suites", "validate", file}, strings.NewReader(""), &out, &errw, func(string) string { return "" })
	status, _ := os.ReadFile("/proc/self/status")
	hwm := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if hwm == nil {
		t.Fatal("no VmHWM")
	}
	fmt.Printf("exit=%d hwm_kb=%s\n%s%s", code, hwm[1], out.String(), errw.String())
}

// validatePeak runs `suites validate` on a file of the given text in a
// fresh process and returns its exit code, peak RSS in bytes and output.
func validatePeak(t *testing.T, text string) (int, int64, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "suite.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperValidate$")
	cmd.Env = append(os.Environ(), "YARDSTICK_VALIDATE_FILE="+file, "GOMAXPROCS=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`exit=(\d+) hwm_kb=(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("helper output: %s", out)
	}
	code, _ := strconv.Atoi(string(m[1]))
	kb, _ := strconv.ParseInt(string(m[2]), 10, 64)
	return code, kb << 10, string(out)
}

// The worst alias file accepted stays under 100 MB of peak RSS (the bomb
// that used to reach 17 GB is refused at its first alias level past the
// limit, also well under it).
func TestValidatePeakMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads VmHWM from /proc")
	}
	if raceEnabled {
		t.Skip("the race detector inflates memory; make mem-check runs this without it")
	}
	if torch.Built() {
		t.Skip("a -tags torch binary maps libtorch at start-up; the default build (make test-go, make mem-check) measures suites validate")
	}
	const budget = 100 << 20
	// One alias more and it is refused: this is the limit's worst case.
	if code, _, out := validatePeak(t, worstAliasSuite(2)); code != exitUsage || !strings.Contains(out, "past 10000 expanded nodes") {
		t.Fatalf("two aliases past the worst case: exit %d\n%s", code, out)
	}
	code, peak, out := validatePeak(t, worstAliasSuite(0))
	t.Logf("worst alias file under the limit: exit %d, peak RSS %.1f MB", code, float64(peak)/(1<<20))
	if code != exitOK {
		t.Fatalf("the worst file under the limit was refused (exit %d):\n%s", code, out)
	}
	if peak > budget {
		t.Errorf("peak RSS %d MB, want under 100 MB", peak>>20)
	}

	if code, _, out := validatePeak(t, literalSuite(100_001)); code != exitUsage || !strings.Contains(out, "over the limit of 100000") {
		t.Fatalf("one item past the limit: exit %d\n%s", code, out)
	}
	code, peak, out = validatePeak(t, literalSuite(100_000))
	t.Logf("worst literal file under the item limit: exit %d, peak RSS %.1f MB", code, float64(peak)/(1<<20))
	if code != exitOK {
		t.Fatalf("the worst literal file under the limit was refused (exit %d):\n%s", code, out)
	}
	if peak > budget {
		t.Errorf("literal file: peak RSS %d MB, want under 100 MB", peak>>20)
	}

	bomb := "name: bomb\nprompt: {user: hi}\ndefaults:\n  json_schema:\n    l0: &l0 lol\n"
	for i := 1; i <= 9; i++ {
		bomb += fmt.Sprintf("    l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 9), ", "))
	}
	bomb += "cases: [{id: a}]\n"
	code, peak, out = validatePeak(t, bomb)
	t.Logf("billion laughs: exit %d, peak RSS %.1f MB", code, float64(peak)/(1<<20))
	if code != exitUsage || !strings.Contains(out, "suite.yaml:10: too large: alias *l4") {
		t.Errorf("billion laughs: exit %d, want %d naming line 10:\n%s", code, exitUsage, out)
	}
	if peak > budget {
		t.Errorf("billion laughs: peak RSS %d MB, want under 100 MB", peak>>20)
	}
}
