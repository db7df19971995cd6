package providers

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// Usage walks the store and returns how many entries it holds and their
// total size in bytes. Files that are not entries (temporary files, anything
// else in the directory) are not counted.
func (s *DirStore) Usage() (entries int, bytes int64, err error) {
	err = s.walkEntries(func(path string, size int64) error {
		if !strings.HasPrefix(filepath.Base(path), ".tmp-") {
			entries++
			bytes += size
		}
		return nil
	})
	return entries, bytes, err
}

// Clear deletes every entry, and the temporary files of interrupted writes,
// leaving anything else in the directory alone. It returns how many entries
// it deleted. Running processes simply miss afterwards.
func (s *DirStore) Clear() (int, error) {
	n := 0
	err := s.walkEntries(func(path string, _ int64) error {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if !strings.HasPrefix(filepath.Base(path), ".tmp-") {
			n++
		}
		return nil
	})
	return n, err
}

// walkEntries calls fn for each entry file (dir/ab/abcdef…) and, for Clear,
// each temporary file, never descending further or leaving the shards.
func (s *DirStore) walkEntries(fn func(path string, size int64) error) error {
	shards, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("response cache: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() || len(sh.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(s.dir, sh.Name()))
		if err != nil {
			return fmt.Errorf("response cache: %w", err)
		}
		for _, f := range files {
			name := f.Name()
			if f.IsDir() || !(strings.HasPrefix(name, sh.Name()) || strings.HasPrefix(name, ".tmp-")) {
				continue
			}
			info, err := f.Info()
			if err != nil {
				continue // removed meanwhile
			}
			if err := fn(filepath.Join(s.dir, sh.Name(), name), info.Size()); err != nil {
				return fmt.Errorf("response cache: %w", err)
			}
		}
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
