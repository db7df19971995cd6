package redact

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	t.Cleanup(reset)
	reset()
	key := "sk-live-1234567890abcdef"
	if got := String("key " + key); got != "key "+key {
		t.Fatalf("nothing registered: got %q", got)
	}
	Register("  " + key + "\n")
	Register("short") // ignored: below MinLen
	Register("sk-live-1234567890abcdef-longer")
	tests := []struct{ in, want string }{
		{"Incorrect API key provided: " + key + ".", "Incorrect API key provided: " + Mask + "."},
		{`{"auth":"Bearer ` + key + `"}`, `{"auth":"Bearer ` + Mask + `"}`},
		{"k=" + key + "&x=" + key, "k=" + Mask + "&x=" + Mask},
		{"sk-live-1234567890abcdef-longer", Mask}, // the longer secret wins
		{"short words stay", "short words stay"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := string(Bytes([]byte(tt.in))); got != tt.want {
			t.Errorf("Bytes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapedForms(t *testing.T) {
	t.Cleanup(reset)
	reset()
	key := `k/y+z&"q"=1234`
	Register(key)
	for _, in := range []string{key, "k%2Fy%2Bz%26%22q%22%3D1234", `k/y+z\u0026\"q\"=1234`} {
		if got := String("x " + in + " y"); got != "x "+Mask+" y" {
			t.Errorf("String(%q) = %q", in, got)
		}
	}
}

func TestError(t *testing.T) {
	t.Cleanup(reset)
	reset()
	key := "AIzaSyD-0123456789abcdefgh"
	Register(key)
	inner := fmt.Errorf("echo %s: %w", key, fs.ErrNotExist)
	err := Error(inner)
	if strings.Contains(err.Error(), key) {
		t.Fatalf("Error() = %q: key kept", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("redacted error lost its chain")
	}
	plain := errors.New("nothing secret")
	if Error(plain) != plain {
		t.Fatal("an error without secrets should be returned as is")
	}
	if Error(nil) != nil {
		t.Fatal("Error(nil) != nil")
	}
}

func TestRegisterHeader(t *testing.T) {
	t.Cleanup(reset)
	reset()
	RegisterHeader("X-Title", "my-public-app-name")
	RegisterHeader("Authorization", "Bearer tok-abcdefgh123")
	RegisterHeader("x-goog-api-key", "AIza-0123456789")
	got := String("my-public-app-name tok-abcdefgh123 AIza-0123456789")
	if want := "my-public-app-name " + Mask + " " + Mask; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
