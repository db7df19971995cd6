package suggest

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"regexp", "regex", 1},
		{"kitten", "sitting", 3},
		{"descripton", "description", 1},
		{"héllo", "hello", 1},
		{"same", "same", 0},
	}
	for _, tt := range tests {
		t.Run(tt.a+"/"+tt.b, func(t *testing.T) {
			if got := Distance(tt.a, tt.b); got != tt.want {
				t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	known := []string{"regex", "exact", "contains", "icontains", "json-schema", "temperature", "max_tokens"}
	tests := []struct{ word, want string }{
		{"regexp", "regex"},
		{"Exact", "exact"},
		{"contians", "contains"},
		{"jsonschema", "json-schema"},
		{"temprature", "temperature"},
		{"max_token", "max_tokens"},
		{"zzzzzz", ""},
		{"temp", "temperature"},
		{"te", ""},
		{"lowercase", ""},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			if got := Closest(tt.word, known); got != tt.want {
				t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
			}
		})
	}
	if h := Hint("regexp", known); h != `; did you mean "regex"?` {
		t.Errorf("Hint = %q", h)
	}
	if h := Hint("qqqqqqq", known); h != "" {
		t.Errorf("Hint = %q, want empty", h)
	}
}
