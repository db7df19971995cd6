package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/bench"
)

// commands lists the subcommands in help order.
func (a *app) commands() []*cobra.Command {
	return []*cobra.Command{
		a.runCommand(),
		a.reportCommand(),
		a.gateCommand(),
		a.compareCommand(),
		a.baselineCommand(),
		a.estimateCommand(),
		a.suitesCommand(),
		a.importCommand(),
		a.providersCommand(),
		a.cacheCommand(),
		a.finetuneCommand(),
		a.versionCommand(),
	}
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(a.stdout, "yardstick %s (%s, %s/%s)\n", bench.Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
