package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/providers/registry"
)

//go:embed initdata/*.tmpl
var initTemplates embed.FS

// initFile is one file yardstick init writes.
type initFile struct {
	path     string // relative to the target directory
	template string // under initdata/
}

// initFiles are what init writes for a CI choice.
func initFiles(ci string) []initFile {
	files := []initFile{
		{"yardstick.yaml", "yardstick.yaml.tmpl"},
		{filepath.Join("suites", "starter.yaml"), "starter.yaml.tmpl"},
	}
	switch ci {
	case "github":
		files = append(files, initFile{filepath.Join(".github", "workflows", "yardstick.yml"), "github.yml.tmpl"})
	case "gitlab":
		files = append(files, initFile{".gitlab-ci.yml", "gitlab.yml.tmpl"})
	}
	return files
}

var initCIs = []string{"github", "gitlab", "none"}

func (a *app) initCommand() *cobra.Command {
	var dir, ci, model string
	var force bool
	cmd := &cobra.Command{
		Use:   "init [--dir DIR] [--ci github|gitlab|none] [-m scheme:model]",
		Short: "Write a starter yardstick.yaml, a suite and a CI workflow",
		Long: `Write a starter project into DIR (default: the current directory):
yardstick.yaml with one provider, suites/starter.yaml with six cases and
thresholds, and a CI job that runs the suite on every pull request and gates
on the thresholds — a GitHub Actions workflow using this repository's action
(.github/workflows/yardstick.yml) or a GitLab CI file (.gitlab-ci.yml).

Existing files are never overwritten unless --force is given; then nothing is
written at all.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.initProject(dir, ci, model, force)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "directory to write the project into")
	_ = cmd.MarkFlagDirname("dir")
	cmd.Flags().StringVar(&ci, "ci", "github", "CI recipe to write: github, gitlab or none")
	cmd.Flags().StringVarP(&model, "model", "m", "openai:gpt-4o-mini", "the provider the config defines and CI runs, as scheme:model")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	_ = cmd.RegisterFlagCompletionFunc("ci", cobra.FixedCompletions(initCIs, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (a *app) initProject(dir, ci, model string, force bool) error {
	if !strings.Contains(" "+strings.Join(initCIs, " ")+" ", " "+ci+" ") {
		return usageErrf("--ci %q: want github, gitlab or none", ci)
	}
	cfg, err := registry.Parse(model)
	if err != nil {
		return usageErr(err)
	}
	known := false
	for _, s := range registry.Schemes() {
		known = known || s == cfg.Type
	}
	if !known {
		return usageErrf("-m %q: unknown scheme %q; see 'yardstick providers list'", model, cfg.Type)
	}
	data := map[string]string{
		"Provider":  providerName(cfg.Model),
		"Type":      cfg.Type,
		"Model":     cfg.Model,
		"SuitePath": "suites/starter.yaml",
		"Ref":       actionRef(bench.Version()),
	}
	files := initFiles(ci)
	rendered := make([][]byte, len(files))
	var exist []string
	for i, f := range files {
		t, err := template.ParseFS(initTemplates, "initdata/"+f.template)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return err
		}
		rendered[i] = b.Bytes()
		if _, err := os.Stat(filepath.Join(dir, f.path)); err == nil {
			exist = append(exist, filepath.Join(dir, f.path))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if len(exist) > 0 && !force {
		return usageErrf("not overwriting %s: pass --force to replace (nothing was written)", strings.Join(exist, ", "))
	}
	for i, f := range files {
		path := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(path, func(w io.Writer) error { _, err := w.Write(rendered[i]); return err }); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "wrote %s\n", path)
	}
	fmt.Fprintf(a.stdout, "next: yardstick suites validate %s && yardstick run %s\n",
		filepath.Join(dir, data["SuitePath"]), filepath.Join(dir, data["SuitePath"]))
	return nil
}

// providerName turns a model name into a provider name usable with -m:
// "gpt-4o-mini" stays, "meta-llama/Llama-3.1-8B" becomes "llama-3.1-8b".
func providerName(model string) string {
	if i := strings.LastIndexAny(model, "/"); i >= 0 {
		model = model[i+1:]
	}
	name := strings.Trim(regexp.MustCompile(`[^a-z0-9._-]+`).ReplaceAllString(strings.ToLower(model), "-"), "-")
	if name == "" {
		return "model"
	}
	return name
}

// actionRef is the ref of the GitHub Action (and GitLab snippet) a starter
// workflow pins: the release tag this binary was installed from, else main.
func actionRef(version string) string {
	if regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(version) {
		return version
	}
	return "main"
}
