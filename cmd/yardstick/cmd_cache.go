package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/providers"
)

func (a *app) cacheCommand() *cobra.Command {
	var dir string
	cmd := commandGroup("cache", "Show or clear the response cache", `The response cache keeps model answers on disk, keyed by provider and host,
model, every sampling parameter, the full prompt and the repeat index; errors
are never cached. 'run --no-cache' bypasses it for one run.`)
	open := func() (*providers.DirStore, error) {
		return providers.NewDirStore(a.expandHome(firstNonEmpty(dir, a.conf.Cache.Dir)))
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "info",
		Short: "Print the cache directory, its entries and their size",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open()
			if err != nil {
				return err
			}
			n, size, err := s.Usage()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: %d entries, %s\n", s.Dir(), n, byteSize(size))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "clear",
		Short: "Delete every cached response",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := open()
			if err != nil {
				return err
			}
			n, err := s.Clear()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: deleted %d entries\n", s.Dir(), n)
			return nil
		},
	})
	cmd.PersistentFlags().StringVar(&dir, "cache-dir", "", "response cache directory (default: cache.dir, or the user cache dir)")
	return cmd
}

// byteSize formats a byte count for people: "812 B", "3.4 MB".
func byteSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
