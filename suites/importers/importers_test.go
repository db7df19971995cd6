package importers

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestNunjucks(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"Hi {{ name }}!", "Hi {{.name}}!", ""},
		{"{{user.name}} {{ q | lower }} {{x|dump}}", "{{.user.name}} {{lower .q}} {{json .x}}", ""},
		{"{{ q | title }}", "", `filter "title"`},
		{"{% if q %}yes{% endif %}", "", "Nunjucks tags"},
		{"plain", "plain", ""},
	}
	for _, tt := range tests {
		got, err := nunjucks(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("nunjucks(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("nunjucks(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestMapProvider(t *testing.T) {
	tests := map[string]string{
		"openai:gpt-4o-mini": "openai:gpt-4o-mini", "openai:chat:gpt-4o": "openai:gpt-4o", "openai:embedding:x": "",
		"azureopenai:chat:my-deploy": "azure:my-deploy", "vertex:gemini-1.5-pro": "gemini:gemini-1.5-pro",
		"google:gemini-2.0-flash": "gemini:gemini-2.0-flash", "ollama:chat:llama3.2": "ollama:llama3.2",
		"ollama:llama3.2": "ollama:llama3.2", "anthropic:messages:claude": "", "echo": "",
	}
	for in, want := range tests {
		if got, _ := mapProvider(in); got != want {
			t.Errorf("mapProvider(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPromptfooCSVTestsAndChatPrompt reads tests from a CSV file with
// __expected columns (promptfoo's documented CSV format) and a JSON chat prompt.
func TestPromptfooCSVTestsAndChatPrompt(t *testing.T) {
	fsys := fstest.MapFS{
		"cfg/promptfooconfig.yaml": {Data: []byte("prompts: [file://chat.json]\nproviders: [ollama:chat:llama3.2]\ntests: file://tests.csv\n")},
		"cfg/chat.json":            {Data: []byte(`[{"role": "system", "content": "Translate to {{language}}."}, {"role": "user", "content": "{{ input }}"}]`)},
		"cfg/tests.csv":            {Data: []byte("language,input,__expected,__expected2,__description\nFrench,Hello,icontains: bonjour,javascript: output.length < 9,greet\nGerman,Thanks,Danke,,\n")},
	}
	res, err := Promptfoo(fsys, "cfg/promptfooconfig.yaml", PromptfooOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Suites[0].Suite
	if s.Name != "promptfoo" || len(s.Prompt.Messages) != 2 || s.Prompt.Messages[0].Content != "Translate to {{.language}}." {
		t.Errorf("suite = %+v", s)
	}
	if len(s.Cases) != 2 || s.Cases[0].ID != "greet" || s.Cases[1].ID != "t2" {
		t.Fatalf("cases = %+v", s.Cases)
	}
	if sc := s.Cases[0].Scorers; len(sc) != 1 || sc[0].Type != "icontains" || *sc[0].Value != "bonjour" {
		t.Errorf("case 1 scorers = %+v", sc)
	}
	if sc := s.Cases[1].Scorers; len(sc) != 1 || sc[0].Type != "exact" || *sc[0].Value != "Danke" {
		t.Errorf("case 2 scorers = %+v", sc)
	}
	if len(res.Unmapped) != 1 || res.Unmapped[0].What != "javascript" || res.Targets[0] != "ollama:llama3.2" {
		t.Errorf("unmapped %v, targets %v", res.Unmapped, res.Targets)
	}
	b, err := res.Suites[0].YAML("promptfooconfig.yaml")
	if err != nil || !strings.HasPrefix(string(b), "# Imported from promptfooconfig.yaml") {
		t.Errorf("YAML: %v\n%s", err, b)
	}
}

func TestOpenAIEvalsMatchModes(t *testing.T) {
	const samples = `{"input": "2+2?", "ideal": "4"}
{"input": "Capital of Switzerland?", "ideal": ["Bern", "Berne"]}
`
	for _, tt := range []struct{ match, typ string }{{"match", "regex"}, {"includes", "contains-any"}, {"fuzzy", "contains-any"}, {"exact", "regex"}} {
		res, err := OpenAIEvals(strings.NewReader(samples), "s.jsonl", OpenAIEvalsOptions{Name: "x", Match: tt.match})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Suites[0].Suite
		if len(s.Scorers) != 0 || s.Cases[1].Scorers[0].Type != tt.typ || s.Prompt.Messages[0].Content != "{{.m0}}" {
			t.Errorf("%s: %+v", tt.match, s)
		}
	}
	if _, err := OpenAIEvals(strings.NewReader(`{"input": 3, "ideal": "x"}`), "s.jsonl", OpenAIEvalsOptions{Name: "x"}); err == nil || !strings.Contains(err.Error(), "s.jsonl:1: input") {
		t.Errorf("err = %v", err)
	}
}
