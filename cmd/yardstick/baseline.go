package main

import (
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/bench"
	"github.com/yardstick-eval/yardstick/bench/baseline"
)

// baselineInput is a loaded baseline file.
type baselineInput struct {
	path string
	b    *baseline.Baseline
}

func loadBaseline(path string) (*baselineInput, error) {
	b, err := baseline.Load(path)
	if err != nil {
		return nil, usageErrf("--baseline: %v", err)
	}
	return &baselineInput{path: path, b: b}, nil
}

func (bi *baselineInput) results() iter.Seq2[*bench.Result, error] { return bi.b.Results() }

// label names the baseline arm in comparisons.
func (bi *baselineInput) label() string {
	return "baseline " + strings.TrimSuffix(filepath.Base(bi.path), baseline.Ext)
}

func (a *app) baselineCommand() *cobra.Command {
	cmd := commandGroup("baseline", "Save a run as baseline files to commit and gate later runs against", "")
	var dir string
	save := &cobra.Command{
		Use:   "save RESULTS|RUN_DIR [-o DIR]",
		Short: "Write one small, diff-friendly baseline file per target of a run",
		Long: `Write one baseline file per target of a run (DIR/<target>.baseline): per-case
outcomes, scores and prompt hashes, with the suite hashes and request settings.
Commit them; 'yardstick run --baseline FILE' and 'yardstick gate --baseline FILE'
then compare with them and judge delta() thresholds such as
"delta(pass_rate) >= -0.02".`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := resultsArg(args[0])
			if err != nil {
				return err
			}
			meta := baseline.Meta{Created: time.Now().UTC(), Yardstick: bench.Version()}
			if m, err := bench.ReadManifest(filepath.Join(filepath.Dir(path), bench.ManifestName)); err == nil {
				meta = baseline.MetaFromManifest(m, meta.Created, meta.Yardstick)
			}
			bs, err := baseline.Build(resultsOf(path), meta)
			if err != nil {
				return usageErr(err)
			}
			if len(bs) == 0 {
				return usageErrf("%s: no results", path)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			targets := make([]string, len(bs))
			for i, b := range bs {
				targets[i] = b.Target
			}
			names := baseline.FileNames(targets)
			written := map[string]bool{}
			for i, b := range bs {
				out := filepath.Join(dir, names[i])
				if written[strings.ToLower(out)] {
					// FileNames is unique; this guards the promise itself.
					return fmt.Errorf("baseline save: %s would overwrite the file just written for another target", out)
				}
				written[strings.ToLower(out)] = true
				if err := writeFileAtomic(out, b.Write); err != nil {
					return err
				}
				cases, _, passed := b.Counts()
				fmt.Fprintf(a.stdout, "wrote %s (%s: %d cases, %d passed)\n", out, b.Target, cases, passed)
			}
			return nil
		},
	}
	save.Flags().StringVarP(&dir, "out", "o", "baselines", "directory for the baseline files")
	cmd.AddCommand(save)
	return cmd
}

// isBaselineFile tells a baseline file from a results file by its extension.
func isBaselineFile(path string) bool { return strings.HasSuffix(path, baseline.Ext) }
