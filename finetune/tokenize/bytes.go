package tokenize

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The Bytes tokenizer's special tokens, in id order starting at 256.
const (
	ByteBOS       = "<|bos|>"
	ByteEOS       = "<|eos|>"
	BytePad       = "<|pad|>"
	ByteSystem    = "<|system|>"
	ByteUser      = "<|user|>"
	ByteAssistant = "<|assistant|>"
	ByteEnd       = "<|end|>"
)

var byteSpecials = []string{ByteBOS, ByteEOS, BytePad, ByteSystem, ByteUser, ByteAssistant, ByteEnd}

// ByteSpecialTokens returns the Bytes tokenizer's special tokens; the i-th has
// id 256+i.
func ByteSpecialTokens() []string { return slices.Clone(byteSpecials) }

// Bytes is the byte-level tokenizer for models trained from scratch. Ids 0–255
// are byte values; ids 256–262 are the special tokens <|bos|>, <|eos|>,
// <|pad|>, <|system|>, <|user|>, <|assistant|> and <|end|>. Encode emits only
// byte ids (special-token text in the input stays plain bytes), so
// Decode(Encode(s)) == s for every string s, valid UTF-8 or not. The zero value
// is ready to use.
type Bytes struct{}

var _ Tokenizer = (*Bytes)(nil)

// NewBytes returns the byte-level tokenizer.
func NewBytes() *Bytes { return &Bytes{} }

// Encode returns the bytes of text as ids.
func (*Bytes) Encode(text string) []int32 {
	ids := make([]int32, len(text))
	for i := 0; i < len(text); i++ {
		ids[i] = int32(text[i])
	}
	return ids
}

// Decode concatenates the bytes and special-token texts of ids; ids outside
// the vocabulary are skipped. Unlike HF it keeps invalid UTF-8 bytes as they
// are, so that byte-level round trips are exact.
func (*Bytes) Decode(ids []int32) string {
	var sb strings.Builder
	sb.Grow(len(ids))
	for _, id := range ids {
		switch {
		case id >= 0 && id < 256:
			sb.WriteByte(byte(id))
		case id >= 256 && int(id) < 256+len(byteSpecials):
			sb.WriteString(byteSpecials[id-256])
		}
	}
	return sb.String()
}

// VocabSize is 256 bytes plus the special tokens (263).
func (*Bytes) VocabSize() int { return 256 + len(byteSpecials) }

// TokenID finds a special token by its text, or a single-byte string's byte.
func (*Bytes) TokenID(token string) (int32, bool) {
	if i := slices.Index(byteSpecials, token); i >= 0 {
		return int32(256 + i), true
	}
	if len(token) == 1 {
		return int32(token[0]), true
	}
	return -1, false
}

// Specials returns <|bos|>, <|eos|> and <|pad|>.
func (b *Bytes) Specials() Specials {
	bos, _ := b.TokenID(ByteBOS)
	eos, _ := b.TokenID(ByteEOS)
	pad, _ := b.TokenID(BytePad)
	return Specials{BOS: bos, EOS: eos, Pad: pad}
}

// bytesMarker is the content of tokenizer.bytes.
type bytesMarker struct {
	Type     string   `json:"type"`
	Version  int      `json:"version"`
	Specials []string `json:"special_tokens"`
}

func parseBytesMarker(b []byte, path string) (*Bytes, error) {
	var m bytesMarker
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("tokenize: %s: %v", path, err)
	}
	if m.Type != bytesMarkerType || m.Version != bytesMarkerVersion {
		return nil, fmt.Errorf("tokenize: %s: type %q version %d, want %q version %d", path, m.Type, m.Version, bytesMarkerType, bytesMarkerVersion)
	}
	if !slices.Equal(m.Specials, byteSpecials) {
		return nil, fmt.Errorf("tokenize: %s: special_tokens %q differ from this build's %q", path, m.Specials, byteSpecials)
	}
	return NewBytes(), nil
}
