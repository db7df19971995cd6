package score

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReferenceComplete(t *testing.T) {
	ref := Reference()
	if len(ref) != len(Types()) {
		t.Fatalf("Reference has %d types, want %d", len(ref), len(Types()))
	}
	for _, td := range ref {
		if td.Summary == "" {
			t.Errorf("%s: no summary in typeDocs", td.Type)
		}
		if td.Type != "judge" && len(td.Examples) == 0 {
			t.Errorf("%s: no examples", td.Type)
		}
		for _, f := range td.Fields {
			if f.Doc == "" {
				t.Errorf("%s: field %s is undocumented", td.Type, f.Name)
			}
		}
		for f := range typeDocs[td.Type].fields {
			if !hasString(Fields(td.Type), f) {
				t.Errorf("%s: documents field %s it does not accept", td.Type, f)
			}
		}
	}
	for typ := range typeDocs {
		if Fields(typ) == nil {
			t.Errorf("typeDocs has unknown type %s", typ)
		}
	}
}

// TestReferenceDoc keeps docs/scorers.md equal to the registry's rendering.
func TestReferenceDoc(t *testing.T) {
	var b strings.Builder
	if err := WriteReferenceMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "scorers.md")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./suites/score -run TestReferenceDoc -update)", err)
	}
	if string(want) != b.String() {
		t.Errorf("docs/scorers.md is stale: run go test ./suites/score -run TestReferenceDoc -update")
	}
}

func TestReferenceText(t *testing.T) {
	var b strings.Builder
	if err := WriteReferenceText(&b, "numeric"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"numeric\n", "default normalize: nfkc", "extract", `answer "5만 원입니다", expected "50000": pass`} {
		if !strings.Contains(out, want) {
			t.Errorf("text reference lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "choice") {
		t.Errorf("only numeric was asked for:\n%s", out)
	}
}
