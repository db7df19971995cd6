package tokenize

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// HF is a Hugging Face tokenizer.json tokenizer of the byte-level BPE family
// (see the package doc for what is supported). It is safe for concurrent use.
type HF struct {
	vocab     map[string]int32
	tokens    []string // id → token text ("" for unused ids)
	special   []bool   // id → is a special added token
	merges    map[uint64]merge
	added     []addedToken
	addedByID map[int32]bool
	// addedIndex[normalized][b] lists the added tokens of that kind whose
	// content starts with byte b, longest first.
	addedIndex [2][256][]addedToken

	normalize    normalizer
	pre          preTokenizer
	byteLevel    bool    // ByteLevel pre-tokenizer: map bytes to characters before BPE
	decode       decoder // nil: tokens joined with spaces, as in Rust
	ignoreMerges bool
	byteFallback bool
	fuseUnk      bool
	unk          int32

	specials  Specials
	raw       []byte // tokenizer.json as read, for Save
	rawConfig []byte // tokenizer_config.json as read, or nil
	path      string

	mu    sync.Mutex
	cache map[string][]int32
}

var _ Tokenizer = (*HF)(nil)

type merge struct {
	rank int
	id   int32
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

type addedToken struct {
	ID         int32  `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// LoadError reports a tokenizer file that cannot be used; Field is the JSON
// path of the offending part ("model.merges[12]", "pre_tokenizer").
type LoadError struct {
	File  string
	Field string
	Err   error
}

func (e *LoadError) Error() string {
	s := "tokenize: " + e.File
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Err.Error()
}

func (e *LoadError) Unwrap() error { return e.Err }

// LoadHF loads a tokenizer.json file. BOS, EOS and padding tokens come from a
// tokenizer_config.json in the same directory when there is one (its
// bos_token, eos_token and pad_token), and are -1 otherwise.
func LoadHF(path string) (*HF, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &LoadError{File: path, Err: err}
	}
	cfgPath := filepath.Join(filepath.Dir(path), HFConfigFile)
	cfg, err := os.ReadFile(cfgPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, &LoadError{File: cfgPath, Err: err}
	}
	return ParseHF(data, cfg, path)
}

// ParseHF builds a tokenizer from the contents of tokenizer.json and (optional,
// may be nil) tokenizer_config.json; name is used in errors.
func ParseHF(tokenizerJSON, tokenizerConfigJSON []byte, name string) (*HF, error) {
	lerr := func(field string, format string, args ...any) error {
		return &LoadError{File: name, Field: field, Err: fmt.Errorf(format, args...)}
	}
	var doc struct {
		AddedTokens  []addedToken `json:"added_tokens"`
		Normalizer   any          `json:"normalizer"`
		PreTokenizer any          `json:"pre_tokenizer"`
		Decoder      any          `json:"decoder"`
		Model        struct {
			Type                    string            `json:"type"`
			Dropout                 *float64          `json:"dropout"`
			UnkToken                *string           `json:"unk_token"`
			ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
			EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
			FuseUnk                 bool              `json:"fuse_unk"`
			ByteFallback            bool              `json:"byte_fallback"`
			IgnoreMerges            bool              `json:"ignore_merges"`
			Vocab                   map[string]int32  `json:"vocab"`
			Merges                  []json.RawMessage `json:"merges"`
		} `json:"model"`
	}
	dec := json.NewDecoder(bytes.NewReader(tokenizerJSON))
	if err := dec.Decode(&doc); err != nil {
		return nil, &LoadError{File: name, Err: fmt.Errorf("not a tokenizer.json: %v", err)}
	}
	m := doc.Model
	switch {
	case m.Type != "" && m.Type != "BPE":
		return nil, lerr("model.type", "%q models are not supported (only BPE)", m.Type)
	case m.Vocab == nil:
		return nil, lerr("model.vocab", "missing")
	case m.Dropout != nil && *m.Dropout > 0:
		return nil, lerr("model.dropout", "BPE dropout %g is not supported", *m.Dropout)
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return nil, lerr("model.continuing_subword_prefix", "not supported")
	case m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return nil, lerr("model.end_of_word_suffix", "not supported")
	}
	t := &HF{
		vocab:        m.Vocab,
		merges:       make(map[uint64]merge, len(m.Merges)),
		addedByID:    map[int32]bool{},
		ignoreMerges: m.IgnoreMerges,
		byteFallback: m.ByteFallback,
		fuseUnk:      m.FuseUnk,
		unk:          -1,
		raw:          tokenizerJSON,
		rawConfig:    tokenizerConfigJSON,
		path:         name,
		cache:        map[string][]int32{},
	}
	maxID := int32(-1)
	for tok, id := range m.Vocab {
		if id < 0 {
			return nil, lerr("model.vocab", "token %q has negative id %d", tok, id)
		}
		maxID = max(maxID, id)
	}
	for i, a := range doc.AddedTokens {
		if a.Content == "" || a.ID < 0 {
			return nil, lerr(fmt.Sprintf("added_tokens[%d]", i), "empty content or negative id")
		}
		maxID = max(maxID, a.ID)
	}
	t.tokens = make([]string, maxID+1)
	t.special = make([]bool, maxID+1)
	for tok, id := range m.Vocab {
		t.tokens[id] = tok
	}
	for _, a := range doc.AddedTokens {
		t.tokens[a.ID] = a.Content
		t.special[a.ID] = a.Special
		t.addedByID[a.ID] = true
		t.added = append(t.added, a)
	}
	if m.UnkToken != nil {
		id, ok := t.lookup(*m.UnkToken)
		if !ok {
			return nil, lerr("model.unk_token", "%q is not in the vocabulary", *m.UnkToken)
		}
		t.unk = id
	}
	for i, raw := range m.Merges {
		var a, b string
		var pair []string
		if err := json.Unmarshal(raw, &pair); err == nil {
			if len(pair) != 2 {
				return nil, lerr(fmt.Sprintf("model.merges[%d]", i), "want 2 tokens, got %d", len(pair))
			}
			a, b = pair[0], pair[1]
		} else {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, lerr(fmt.Sprintf("model.merges[%d]", i), "want \"a b\" or [\"a\",\"b\"]: %s", raw)
			}
			parts := strings.Split(s, " ")
			if len(parts) != 2 {
				return nil, lerr(fmt.Sprintf("model.merges[%d]", i), "%q is not two space-separated tokens", s)
			}
			a, b = parts[0], parts[1]
		}
		ia, oka := m.Vocab[a]
		ib, okb := m.Vocab[b]
		im, okm := m.Vocab[a+b]
		if !oka || !okb || !okm {
			return nil, lerr(fmt.Sprintf("model.merges[%d]", i), "merge %q + %q uses tokens missing from the vocabulary", a, b)
		}
		k := pairKey(ia, ib)
		if _, dup := t.merges[k]; !dup {
			t.merges[k] = merge{rank: i, id: im}
		}
	}
	var err error
	if t.normalize, err = parseNormalizer(doc.Normalizer); err != nil {
		return nil, &LoadError{File: name, Field: "normalizer", Err: err}
	}
	if t.pre, err = parsePreTokenizer(doc.PreTokenizer); err != nil {
		return nil, &LoadError{File: name, Field: "pre_tokenizer", Err: err}
	}
	t.byteLevel = hasByteLevel(doc.PreTokenizer)
	if t.decode, err = parseDecoder(doc.Decoder); err != nil {
		return nil, &LoadError{File: name, Field: "decoder", Err: err}
	}
	// Longest added tokens first, so a scan finds the leftmost-longest match.
	sort.SliceStable(t.added, func(i, j int) bool { return len(t.added[i].Content) > len(t.added[j].Content) })
	for _, a := range t.added {
		k := 0
		if a.Normalized {
			k = 1
		}
		t.addedIndex[k][a.Content[0]] = append(t.addedIndex[k][a.Content[0]], a)
	}

	t.specials = Specials{BOS: -1, EOS: -1, Pad: -1}
	if tokenizerConfigJSON != nil {
		if err := t.readConfig(tokenizerConfigJSON); err != nil {
			return nil, &LoadError{File: HFConfigFile, Err: err}
		}
	}
	return t, nil
}

func hasByteLevel(v any) bool {
	o, ok := v.(jsonObj)
	if !ok {
		return false
	}
	if str(o, "type") == "ByteLevel" {
		return true
	}
	list, _ := o["pretokenizers"].([]any)
	for _, item := range list {
		if hasByteLevel(item) {
			return true
		}
	}
	return false
}

// readConfig takes bos/eos/pad from tokenizer_config.json. Each is a string or
// an AddedToken object {"content": …}; a token not in the vocabulary is an
// error.
func (t *HF) readConfig(data []byte) error {
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(data, &cfg); err != nil {
		return err
	}
	get := func(key string) (int32, error) {
		raw, ok := cfg[key]
		if !ok || string(raw) == "null" {
			return -1, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			var obj struct {
				Content string `json:"content"`
			}
			if err := json.Unmarshal(raw, &obj); err != nil || obj.Content == "" {
				return -1, fmt.Errorf("%s: want a string or {\"content\": …}, got %s", key, raw)
			}
			s = obj.Content
		}
		id, ok := t.lookup(s)
		if !ok {
			return -1, fmt.Errorf("%s: %q is not in the vocabulary", key, s)
		}
		return id, nil
	}
	var err error
	if t.specials.BOS, err = get("bos_token"); err != nil {
		return err
	}
	if t.specials.EOS, err = get("eos_token"); err != nil {
		return err
	}
	t.specials.Pad, err = get("pad_token")
	return err
}

// Files returns the tokenizer.json and tokenizer_config.json (nil when
// there was none) the tokenizer was built from, as given.
func (t *HF) Files() (tokenizerJSON, tokenizerConfigJSON []byte) { return t.raw, t.rawConfig }

// ChatTemplate returns tokenizer_config.json's chat_template (the default one
// when it lists several), or "" when there is none.
func (t *HF) ChatTemplate() string {
	if t.rawConfig == nil {
		return ""
	}
	var cfg struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
	}
	if json.Unmarshal(t.rawConfig, &cfg) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(cfg.ChatTemplate, &s) == nil {
		return s
	}
	var list []struct{ Name, Template string }
	if json.Unmarshal(cfg.ChatTemplate, &list) == nil {
		for _, e := range list {
			if e.Name == "default" {
				return e.Template
			}
		}
		if len(list) > 0 {
			return list[0].Template
		}
	}
	return ""
}

func (t *HF) lookup(tok string) (int32, bool) {
	for _, a := range t.added {
		if a.Content == tok {
			return a.ID, true
		}
	}
	id, ok := t.vocab[tok]
	return id, ok
}

// VocabSize is one more than the largest id in the vocabulary or added tokens.
func (t *HF) VocabSize() int { return len(t.tokens) }

// TokenID looks up a vocabulary or added token by its exact text (for
// byte-level vocabularies that is the mapped text, e.g. "Ġthe").
func (t *HF) TokenID(token string) (int32, bool) { return t.lookup(token) }

// Specials returns the BOS/EOS/pad ids from tokenizer_config.json.
func (t *HF) Specials() Specials { return t.specials }

// Token returns the vocabulary text of id, or "" when id is unused.
func (t *HF) Token(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// Encode tokenizes text as Python's tokenizers does with
// add_special_tokens=False: added tokens (special or not) written in the text
// are matched first (leftmost-longest, honouring lstrip/rstrip/single_word),
// the rest is normalized, pre-tokenized and BPE-encoded.
func (t *HF) Encode(text string) []int32 { return t.encode(text, true) }

// EncodeContinuation tokenizes text as it is tokenized when it follows other
// input, such as a special token in a chat template: it differs from Encode
// only for SentencePiece-style tokenizers whose Metaspace pre-tokenizer
// prepends '▁' at the start of the input alone (prepend_scheme "first").
func (t *HF) EncodeContinuation(text string) []int32 { return t.encode(text, false) }

func (t *HF) encode(text string, atStart bool) []int32 {
	var ids []int32
	// Added tokens with normalized=false match the raw text; the others match
	// after normalization.
	for _, seg := range t.splitAdded(text, false) {
		if seg.id >= 0 {
			ids = append(ids, seg.id)
			continue
		}
		s := seg.text
		if t.normalize != nil {
			s = t.normalize(s)
		}
		for _, seg2 := range t.splitAdded(s, true) {
			if seg2.id >= 0 {
				ids = append(ids, seg2.id)
				continue
			}
			ids = t.encodeSegment(ids, seg2.text, atStart && seg.start == 0 && seg2.start == 0)
		}
	}
	return ids
}

type segment struct {
	text  string
	id    int32 // -1: plain text
	start int   // byte offset in the split string
}

// splitAdded splits s around the added tokens whose Normalized flag equals
// normalized, following the Rust AddedVocabulary::find_matches.
func (t *HF) splitAdded(s string, normalized bool) []segment {
	if s == "" {
		return nil
	}
	var out []segment
	startOffset := 0
	pos := 0
	for pos < len(s) {
		a, ok := t.matchAddedAt(s, pos, normalized)
		if !ok {
			_, size := utf8.DecodeRuneInString(s[pos:])
			pos += size
			continue
		}
		start, stop := pos, pos+len(a.Content)
		pos = stop // the Rust scan resumes after the raw match
		if a.SingleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if a.LStrip {
			start = max(len(strings.TrimRightFunc(s[:start], unicode.IsSpace)), startOffset)
		}
		if a.RStrip {
			stop += len(s[stop:]) - len(strings.TrimLeftFunc(s[stop:], unicode.IsSpace))
		}
		if startOffset < start {
			out = append(out, segment{s[startOffset:start], -1, startOffset})
		}
		out = append(out, segment{s[start:stop], a.ID, start})
		startOffset = stop
	}
	if startOffset < len(s) {
		out = append(out, segment{s[startOffset:], -1, startOffset})
	}
	return out
}

// matchAddedAt returns the longest added token (of the given normalized kind)
// starting at s[pos:].
func (t *HF) matchAddedAt(s string, pos int, normalized bool) (addedToken, bool) {
	rest := s[pos:]
	k := 0
	if normalized {
		k = 1
	}
	for _, a := range t.addedIndex[k][rest[0]] { // longest first
		if strings.HasPrefix(rest, a.Content) {
			return a, true
		}
	}
	return addedToken{}, false
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isWordRune(r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && isWordRune(r)
}

// encodeSegment pre-tokenizes and BPE-encodes one run of plain text; first
// reports that it starts the input.
func (t *HF) encodeSegment(ids []int32, s string, first bool) []int32 {
	pieces := []string{s}
	if t.pre != nil {
		pieces = t.pre.split(s, first)
	}
	for _, p := range pieces {
		if p == "" {
			continue
		}
		if t.byteLevel {
			p = byteLevelEncode(p)
		}
		ids = append(ids, t.encodeWord(p)...)
	}
	return ids
}

const maxCacheEntries = 1 << 16

// encodeWord BPE-encodes one pre-token, through a bounded cache.
func (t *HF) encodeWord(w string) []int32 {
	t.mu.Lock()
	cached, ok := t.cache[w]
	t.mu.Unlock()
	if ok {
		return cached
	}
	ids := t.bpe(w)
	t.mu.Lock()
	if len(t.cache) >= maxCacheEntries {
		clear(t.cache)
	}
	t.cache[w] = ids
	t.mu.Unlock()
	return ids
}

type symbol struct {
	id         int32
	prev, next int
	size       int // 0: merged away
}

type mergeItem struct {
	pos, rank int
	id        int32
}

type mergeQueue []mergeItem

func (q mergeQueue) Len() int { return len(q) }
func (q mergeQueue) Less(i, j int) bool {
	if q[i].rank != q[j].rank {
		return q[i].rank < q[j].rank
	}
	return q[i].pos < q[j].pos
}
func (q mergeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *mergeQueue) Push(x any)   { *q = append(*q, x.(mergeItem)) }
func (q *mergeQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// bpe applies the merges to one word, lowest rank first and leftmost among
// equal ranks, as the Rust Word::merge_all does.
func (t *HF) bpe(w string) []int32 {
	if t.ignoreMerges {
		if id, ok := t.vocab[w]; ok {
			return []int32{id}
		}
	}
	syms := make([]symbol, 0, len(w))
	for _, r := range w {
		s := string(r)
		if id, ok := t.vocab[s]; ok {
			syms = append(syms, symbol{id: id, size: 1})
			continue
		}
		if t.byteFallback {
			all := true
			var fb []int32
			for i := 0; i < len(s); i++ {
				id, ok := t.vocab[fmt.Sprintf("<0x%02X>", s[i])]
				if !ok {
					all = false
					break
				}
				fb = append(fb, id)
			}
			if all {
				for _, id := range fb {
					syms = append(syms, symbol{id: id, size: 1})
				}
				continue
			}
		}
		if t.unk >= 0 {
			if t.fuseUnk && len(syms) > 0 && syms[len(syms)-1].id == t.unk {
				continue
			}
			syms = append(syms, symbol{id: t.unk, size: 1})
		}
		// Without an unk token the character is dropped, as in Rust.
	}
	for i := range syms {
		syms[i].prev, syms[i].next = i-1, i+1
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	q := mergeQueue{}
	for i := 0; i+1 < len(syms); i++ {
		if m, ok := t.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			q = append(q, mergeItem{pos: i, rank: m.rank, id: m.id})
		}
	}
	heap.Init(&q)
	for q.Len() > 0 {
		top := heap.Pop(&q).(mergeItem)
		cur := &syms[top.pos]
		if cur.size == 0 || cur.next == -1 {
			continue
		}
		nextPos := cur.next
		right := syms[nextPos]
		if m, ok := t.merges[pairKey(cur.id, right.id)]; !ok || m.id != top.id {
			continue // stale entry
		}
		cur.id = top.id
		cur.size += right.size
		cur.next = right.next
		syms[nextPos].size = 0
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if m, ok := t.merges[pairKey(syms[cur.prev].id, cur.id)]; ok {
				heap.Push(&q, mergeItem{pos: cur.prev, rank: m.rank, id: m.id})
			}
		}
		if cur.next >= 0 {
			if m, ok := t.merges[pairKey(cur.id, syms[cur.next].id)]; ok {
				heap.Push(&q, mergeItem{pos: top.pos, rank: m.rank, id: m.id})
			}
		}
	}
	out := make([]int32, 0, len(syms))
	for _, s := range syms {
		if s.size != 0 {
			out = append(out, s.id)
		}
	}
	return out
}

// Decode renders ids as text (special tokens included), as Python's
// tokenizers decode(ids, skip_special_tokens=False). Unknown ids are skipped.
func (t *HF) Decode(ids []int32) string {
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		if tok := t.Token(id); tok != "" {
			tokens = append(tokens, tok)
		}
	}
	if t.decode == nil {
		return strings.Join(tokens, " ")
	}
	return strings.Join(t.decode(tokens), "")
}
