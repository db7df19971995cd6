package tokenize

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Tokenizer converts between text and token ids. Implementations are safe for
// concurrent use.
type Tokenizer interface {
	// Encode tokenizes text without adding BOS/EOS. Whether special-token text
	// inside the string becomes a special id is up to the implementation: HF
	// recognises added tokens as Python's tokenizers does; Bytes never does.
	Encode(text string) []int32
	// Decode turns ids into text, rendering special tokens as their text.
	// Invalid UTF-8 (for example a sequence cut inside a character) becomes
	// U+FFFD. Unknown ids are skipped.
	Decode(ids []int32) string
	// VocabSize is one more than the largest id the tokenizer can produce.
	VocabSize() int
	// TokenID looks up a token by its exact vocabulary text, such as
	// "<|im_end|>".
	TokenID(token string) (int32, bool)
	// Specials returns the BOS, EOS and padding ids (-1 when absent).
	Specials() Specials
}

// Continuer is implemented by tokenizers whose output for a string depends
// on whether it starts the input (HF's SentencePiece-style Metaspace with
// prepend_scheme "first"). EncodeContinuation tokenizes text as a later part
// of a longer input, for example after a special token. Chat templates use it
// for every run of text that does not start the sequence.
type Continuer interface {
	EncodeContinuation(text string) []int32
}

var _ Continuer = (*HF)(nil)

// Specials are a tokenizer's distinguished ids; -1 means "none".
type Specials struct {
	BOS int32 `json:"bos"`
	EOS int32 `json:"eos"`
	Pad int32 `json:"pad"`
}

// File names inside a model or run directory.
const (
	BytesMarkerFile     = "tokenizer.bytes"       // marks the Bytes tokenizer
	HFFile              = "tokenizer.json"        // Hugging Face tokenizer
	HFConfigFile        = "tokenizer_config.json" // its bos/eos/pad and chat_template
	bytesMarkerType     = "yardstick-bytes"
	bytesMarkerVersion  = 1
	errNoTokenizerFiles = "no " + BytesMarkerFile + " or " + HFFile
)

// ErrNoTokenizer is returned by Load when a directory holds no tokenizer.
var ErrNoTokenizer = errors.New("tokenize: " + errNoTokenizerFiles)

// Load opens the tokenizer stored in dir: the Bytes tokenizer when
// dir/tokenizer.bytes exists, otherwise dir/tokenizer.json (with
// dir/tokenizer_config.json when present).
func Load(dir string) (Tokenizer, error) {
	marker := filepath.Join(dir, BytesMarkerFile)
	if b, err := os.ReadFile(marker); err == nil {
		return parseBytesMarker(b, marker)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	path := filepath.Join(dir, HFFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoTokenizer, dir)
	}
	return LoadHF(path)
}

// Save stores tok in dir so that Load(dir) returns an equivalent tokenizer:
// the tokenizer.bytes marker for Bytes; the original tokenizer.json (and
// tokenizer_config.json, if it was loaded with one) for HF.
func Save(tok Tokenizer, dir string) error {
	switch t := tok.(type) {
	case *Bytes:
		b, _ := json.MarshalIndent(bytesMarker{Type: bytesMarkerType, Version: bytesMarkerVersion, Specials: ByteSpecialTokens()}, "", "  ")
		return writeFileAtomic(filepath.Join(dir, BytesMarkerFile), append(b, '\n'))
	case *HF:
		if err := writeFileAtomic(filepath.Join(dir, HFFile), t.raw); err != nil {
			return err
		}
		if t.rawConfig != nil {
			return writeFileAtomic(filepath.Join(dir, HFConfigFile), t.rawConfig)
		}
		return nil
	default:
		return fmt.Errorf("tokenize: cannot save a %T", tok)
	}
}

func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("tokenize: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("tokenize: %w", err)
	}
	return nil
}
