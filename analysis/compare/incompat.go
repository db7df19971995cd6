package compare

import (
	"fmt"
	"slices"
	"strings"
)

// IssueKind names why two arms are not comparable.
type IssueKind string

// Issue kinds.
const (
	OnlyInA        IssueKind = "only_in_a"       // cases A ran and B did not
	OnlyInB        IssueKind = "only_in_b"       // cases B ran and A did not
	PromptsDiffer  IssueKind = "prompts_differ"  // same case, different prompt hash (or differing across repeats)
	SuiteVersion   IssueKind = "suite_version"   // the suite's declared version differs
	SuiteOnlyInA   IssueKind = "suite_only_in_a" // a whole suite B did not run
	SuiteOnlyInB   IssueKind = "suite_only_in_b" // a whole suite A did not run
	TargetUnpaired IssueKind = "target_unpaired" // CompareRuns found no partner for a target
	NoCommonCases  IssueKind = "no_common_cases" // a suite both ran shares no case
)

const maxExamples = 3 // case IDs named per issue

// Issue is one reason two arms are not comparable.
type Issue struct {
	Kind     IssueKind `json:"kind"`
	A        string    `json:"a"` // arm labels, as in Row
	B        string    `json:"b"`
	Suite    string    `json:"suite,omitempty"`
	Count    int       `json:"count,omitempty"`    // cases concerned
	Examples []string  `json:"examples,omitempty"` // the first few case IDs concerned, sorted
	VersionA string    `json:"version_a,omitempty"`
	VersionB string    `json:"version_b,omitempty"`
	Target   string    `json:"target,omitempty"` // TargetUnpaired: the target
	Run      string    `json:"run,omitempty"`    // TargetUnpaired: its run
}

// String is one concise sentence, e.g.
// "qa: 12 cases only in runA (first: c013, c044, c050, …)".
func (i Issue) String() string {
	var b strings.Builder
	if i.Suite != "" {
		b.WriteString(i.Suite + ": ")
	}
	first := func() {
		if len(i.Examples) == 0 {
			return
		}
		b.WriteString(" (first: " + strings.Join(i.Examples, ", "))
		if i.Count > len(i.Examples) {
			b.WriteString(", …")
		}
		b.WriteString(")")
	}
	switch i.Kind {
	case OnlyInA:
		fmt.Fprintf(&b, "%s only in %s", plural(i.Count, "case"), i.A)
		first()
	case OnlyInB:
		fmt.Fprintf(&b, "%s only in %s", plural(i.Count, "case"), i.B)
		first()
	case PromptsDiffer:
		verb := "differ"
		if i.Count == 1 {
			verb = "differs"
		}
		fmt.Fprintf(&b, "%s %s", plural(i.Count, "prompt"), verb)
		first()
	case SuiteVersion:
		fmt.Fprintf(&b, "suite version %s vs %s", orNone(i.VersionA), orNone(i.VersionB))
	case SuiteOnlyInA:
		fmt.Fprintf(&b, "suite only in %s (%s)", i.A, plural(i.Count, "case"))
	case SuiteOnlyInB:
		fmt.Fprintf(&b, "suite only in %s (%s)", i.B, plural(i.Count, "case"))
	case TargetUnpaired:
		fmt.Fprintf(&b, "target %s of %s has no partner", i.Target, i.Run)
	case NoCommonCases:
		fmt.Fprintf(&b, "no case in common between %s and %s", i.A, i.B)
	default:
		b.WriteString(string(i.Kind))
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// IncompatibleError is Compare's refusal: the arms ran different cases,
// prompts or suite versions, and Options.Force was not set.
type IncompatibleError struct {
	Issues []Issue
}

// Error lists the reasons concisely, grouped by arm pair, e.g.
// "runA vs runB not comparable: qa: 12 cases only in runA (first: c013, c044,
// c050, …); qa: 3 prompts differ (first: c101); qa: suite version 1.2 vs 1.3".
func (e *IncompatibleError) Error() string {
	var b strings.Builder
	type pairKey struct{ a, b string }
	var order []pairKey
	by := make(map[pairKey][]string)
	for _, is := range e.Issues {
		k := pairKey{is.A, is.B}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], is.String())
	}
	for i, k := range order {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s vs %s not comparable: %s", k.a, k.b, strings.Join(by[k], "; "))
	}
	return b.String()
}

// examples keeps the smallest maxExamples strings seen, sorted, in O(1) memory
// per call.
type examples struct {
	n   int
	ids []string
}

func (x *examples) add(id string) {
	x.n++
	i, _ := slices.BinarySearch(x.ids, id)
	if i >= maxExamples {
		return
	}
	x.ids = slices.Insert(x.ids, i, id)
	if len(x.ids) > maxExamples {
		x.ids = x.ids[:maxExamples]
	}
}
