package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/internal/safetext"
)

// app is the state shared by every command of one invocation.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	cfgFile        string
	allowOutside   bool // --allow-outside-paths
	maxPrompt      int  // --max-prompt-bytes
	conf           appConfig
}

// run executes the CLI with args and returns the process exit code. It never
// calls os.Exit and touches no global state, so tests run it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if useColor(stdout, getenv) {
		p := &painter{w: stdout}
		defer p.Flush()
		stdout = p
	}
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	code := exitCode(ctx, err)
	if err != nil && !errors.Is(err, errThresholds) {
		msg := err.Error()
		var ee *exitError
		if code == exitInterrupted && !errors.As(err, &ee) {
			// A command that knows what it left behind (finetune: a checkpoint) says so itself.
			msg = "interrupted; partial results were flushed"
		}
		// Error texts can quote a server's body: nothing in them may drive the terminal.
		fmt.Fprintf(stderr, "yardstick: %s\n", safetext.Terminal(strings.TrimSpace(msg)))
	}
	return code
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "yardstick",
		Short: "Benchmark, compare and gate language models on your own tasks",
		Long: `Yardstick runs suites of cases against hosted and local language models,
scores the answers, compares models with confidence intervals and paired tests,
fine-tunes a local model on your data, and gates CI on thresholds.

Exit codes: 0 ok · 1 runtime failure · 2 usage or configuration error ·
99 thresholds crossed · 130 interrupted (partial results flushed).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrf("unknown command %q for %q; see 'yardstick --help'", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.loadConfig()
		},
	}
	root.Version = versionLine()
	root.SetVersionTemplate("yardstick {{.Version}}\n")
	root.PersistentFlags().StringVar(&a.cfgFile, "config", "", "app config file (default: ./yardstick.yaml if present)")
	root.PersistentFlags().IntVar(&a.maxPrompt, "max-prompt-bytes", 0, "largest rendered prompt a case may have, in bytes (default 1 MiB, or run.max_prompt_bytes; -1: no limit)")
	root.PersistentFlags().BoolVar(&a.allowOutside, "allow-outside-paths", false, "let suites read datasets and schema files outside their own folder and the working directory")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErrf("%v; see '%s --help'", err, cmd.CommandPath())
	})
	for _, c := range a.commands() {
		root.AddCommand(c)
	}
	a.registerCompletions(root)
	return root
}

// commandGroup is a command that only holds subcommands: run without one, it
// prints its help; an unknown subcommand is a usage error.
func commandGroup(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  usageArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(subs...)
	return cmd
}

// usageArgs wraps a cobra argument validator so its errors exit 2.
func usageArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageErrf("%v; see '%s --help'", err, cmd.CommandPath())
		}
		return nil
	}
}
