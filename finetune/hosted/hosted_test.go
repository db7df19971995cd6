package hosted

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func examples(n int, extra string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"messages":[{"role":"user","content":"q%d"},{"role":"assistant","content":"a%d"}]}`+"\n", i, i)
	}
	return b.String() + extra
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string // "" valid; else a substring of a problem
	}{
		{name: "valid", data: examples(10, "")},
		{name: "not json", data: examples(10, "{oops\n"), want: "f.jsonl:11: line: not a JSON object"},
		{name: "no messages", data: examples(10, `{"prompt":"x"}`+"\n"), want: "f.jsonl:11: messages: missing or empty"},
		{name: "bad role", data: examples(10, `{"messages":[{"role":"user","content":"q"},{"role":"tool","content":"a"}]}`+"\n"), want: `messages[1].role: "tool"`},
		{name: "ends on user", data: examples(10, `{"messages":[{"role":"assistant","content":"a"},{"role":"user","content":"q"}]}`+"\n"), want: "last message must be the assistant's"},
		{name: "non-string content", data: examples(10, `{"messages":[{"role":"user","content":[1]},{"role":"assistant","content":"a"}]}`+"\n"), want: "messages[0].content: must be a non-empty string"},
		{name: "too few", data: examples(9, ""), want: "9 examples; fine-tuning gpt-4o-mini-2024-07-18 needs at least 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Validate(strings.NewReader(tt.data), "f.jsonl", "gpt-4o-mini-2024-07-18", 3)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if rep.Examples != 10 || rep.Tokens == 0 || rep.EstimatedUSD != float64(rep.Tokens)*3*3/1e6 {
					t.Errorf("report %+v", rep)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}
