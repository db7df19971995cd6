package providers

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Store is a byte-value store keyed by short ASCII keys (the Cached
// decorator uses hex SHA-256 digests). Implementations are safe for
// concurrent use. Get reports a missing key as (nil, false, nil), not as an
// error.
type Store interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Put(ctx context.Context, key string, value []byte) error
}

// DefaultCacheDir returns the default response cache directory,
// os.UserCacheDir()/yardstick/responses.
func DefaultCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("response cache: %w", err)
	}
	return filepath.Join(base, "yardstick", "responses"), nil
}

// DirStore is a Store of one file per key under a directory, sharded by the
// key's first two characters (dir/ab/abcdef…). Writes go to a temporary file
// in the shard and are renamed into place, so a reader sees either no value
// or a whole one; this holds across goroutines and across processes sharing
// the directory. Values are not fsynced: after a machine crash an entry may
// be lost or unreadable, which the Cached decorator treats as a miss.
// Directories are created 0700 and files 0600: entries hold prompts and
// answers, which may be private.
type DirStore struct {
	dir string
}

var _ Store = (*DirStore)(nil)

// NewDirStore returns a DirStore rooted at dir, creating it if needed. An
// empty dir means DefaultCacheDir.
func NewDirStore(dir string) (*DirStore, error) {
	if dir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("response cache: %w", err)
	}
	return &DirStore{dir: dir}, nil
}

// Dir returns the store's root directory.
func (s *DirStore) Dir() string { return s.dir }

func (s *DirStore) path(key string) (string, error) {
	if len(key) < 3 {
		return "", fmt.Errorf("response cache: key %q: too short", key)
	}
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", fmt.Errorf("response cache: key %q: only letters, digits, '-' and '_' are allowed", key)
		}
	}
	return filepath.Join(s.dir, key[:2], key), nil
}

// Get returns the value stored under key.
func (s *DirStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("response cache: %w", err)
	}
	return b, true, nil
}

// Put stores value under key, replacing any previous value atomically.
func (s *DirStore) Put(ctx context.Context, key string, value []byte) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("response cache: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("response cache: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(value)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("response cache: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("response cache: %w", err)
	}
	return nil
}

// MemStore is an in-memory Store, for tests and single-process runs that
// want de-duplication without touching disk. The zero value is ready to use.
type MemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ Store = (*MemStore)(nil)

// Get returns a copy of the value stored under key.
func (s *MemStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, false, nil
	}
	return append([]byte(nil), v...), true, nil
}

// Put stores a copy of value under key.
func (s *MemStore) Put(ctx context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string][]byte)
	}
	s.m[key] = append([]byte(nil), value...)
	return nil
}

// Len returns the number of stored keys.
func (s *MemStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
