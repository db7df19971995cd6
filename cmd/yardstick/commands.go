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
		a.mergeCommand(),
		a.compareCommand(),
		a.baselineCommand(),
		a.estimateCommand(),
		a.suitesCommand(),
		a.importCommand(),
		a.providersCommand(),
		a.cacheCommand(),
		a.finetuneCommand(),
		a.initCommand(),
		a.ciCommand(),
		a.versionCommand(),
	}
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  usageArgs(cobra.NoArgs),
		Long: `Print the version: the module version when installed with
'go install module@version', otherwise "(devel)" and the git revision the
binary was built from ("+dirty" when the checkout had uncommitted changes),
then the Go toolchain and platform. 'yardstick --version' prints the same.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(a.stdout, "yardstick "+versionLine())
			return nil
		},
	}
}

// versionLine is the version as --version and 'version' print it, after the
// program name.
func versionLine() string {
	return fmt.Sprintf("%s (%s, %s/%s)", bench.Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
