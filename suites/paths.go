package suites

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// confined checks that p, the path name (as written in the suite file base)
// resolves to, lies inside base's folder or inside workDir ("": the working
// directory), symbolic links followed. A path that does not exist yet is
// judged by its text; Load reports it as not found afterwards.
func confined(base, name, p, workDir string) error {
	target, err := realPath(p)
	if err != nil {
		return err
	}
	suiteDir, err := realPath(filepath.Dir(base))
	if err != nil {
		return err
	}
	if within(suiteDir, target) {
		return nil
	}
	if workDir == "" {
		if workDir, err = os.Getwd(); err != nil {
			return err
		}
	}
	wd, err := realPath(workDir)
	if err != nil {
		return err
	}
	if within(wd, target) {
		return nil
	}
	how := "resolves to"
	if filepath.IsAbs(name) {
		how = "is"
	}
	return fmt.Errorf("path %q %s %s, outside the suite's folder (%s) and the working directory; pass --allow-outside-paths to read it", name, how, target, suiteDir)
}

// realPath is p made absolute with every symbolic link resolved; for a path
// that does not exist, the longest existing prefix is resolved and the rest
// kept as written.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for cur := abs; ; {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// within reports whether path is dir or inside it (both clean and absolute).
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
