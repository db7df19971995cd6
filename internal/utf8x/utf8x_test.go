package utf8x

import "testing"

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Invalid
		ok   bool
	}{
		{"plain ascii\nline two\n", Invalid{}, false},
		{"한국어 café ✓\n", Invalid{}, false},
		{"a\nb\ncaf\xe9\n", Invalid{Line: 3, Column: 4, Offset: 7, Byte: 0xe9}, true},
		{"\xff", Invalid{Line: 1, Column: 1, Offset: 0, Byte: 0xff}, true},
		{"ok \xe2\x82", Invalid{Line: 1, Column: 4, Offset: 3, Byte: 0xe2}, true},  // truncated sequence
		{"\xed\xa0\x80", Invalid{Line: 1, Column: 1, Offset: 0, Byte: 0xed}, true}, // surrogate
	} {
		got, ok := Find([]byte(tc.in))
		if ok != tc.ok || got != tc.want {
			t.Errorf("Find(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	inv, _ := Find([]byte("caf\xe9"))
	if got := inv.Error(); got != "invalid UTF-8: byte 0xE9 at column 4 (is the file Latin-1? save it as UTF-8)" {
		t.Errorf("Error() = %q", got)
	}
}
