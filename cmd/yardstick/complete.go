package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/providers/pricing"
	"github.com/yardstick-eval/yardstick/providers/registry"
	"github.com/yardstick-eval/yardstick/reports"
	"github.com/yardstick-eval/yardstick/suites/builtin"
)

// Shell completion ('yardstick completion bash|zsh|fish|powershell') offers
// targets for -m (the schemes, then the models priced for a scheme, and the
// providers named in yardstick.yaml), suite names (built-ins, then suite
// files and directories) and the values of enum flags.

// enumFlags are the values of each command's enum flags, by command path.
var enumFlags = map[string]map[string][]string{
	"yardstick run":     {"format": runFormats},
	"yardstick report":  {"format": reports.Formats},
	"yardstick compare": {"format": {"text", "markdown", "json", "pr"}},
	"yardstick merge":   {"format": runFormats},
}

// runFormats are the summaries run prints; checkFormat accepts exactly these.
var runFormats = []string{"text", "markdown", "json", "none"}

// suiteArgs are the commands whose positional arguments are suites.
var suiteArgs = map[string]bool{
	"yardstick run":             true,
	"yardstick estimate":        true,
	"yardstick suites validate": true,
	"yardstick suites export":   true,
}

// registerCompletions walks the command tree and attaches completion
// functions by flag name and command path, so the commands themselves stay
// free of completion wiring.
func (a *app) registerCompletions(cmd *cobra.Command) {
	path := cmd.CommandPath()
	if suiteArgs[path] && cmd.ValidArgsFunction == nil {
		cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return completeSuites(toComplete)
		}
	}
	if f := cmd.Flags().Lookup("model"); f != nil {
		_ = cmd.RegisterFlagCompletionFunc("model", func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return a.completeTargets(toComplete)
		})
	}
	if f := cmd.Flags().Lookup("suite"); f != nil {
		_ = cmd.RegisterFlagCompletionFunc("suite", func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return completeSuites(toComplete)
		})
	}
	for name, values := range enumFlags[path] {
		_ = cmd.RegisterFlagCompletionFunc(name, func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			var out []string
			for _, v := range values {
				if strings.HasPrefix(v, toComplete) {
					out = append(out, v)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		})
	}
	for _, c := range cmd.Commands() {
		a.registerCompletions(c)
	}
}

// completeTargets offers "scheme:" for every scheme and the providers named
// in yardstick.yaml; after "scheme:" it offers the models with a known price
// on that scheme (the default table and the config's prices:).
func (a *app) completeTargets(toComplete string) ([]string, cobra.ShellCompDirective) {
	// Completion runs no command hooks that matter here; read the config
	// (--config, YARDSTICK_CONFIG or ./yardstick.yaml) once more, best-effort.
	_ = a.loadConfig()
	if scheme, _, ok := strings.Cut(toComplete, ":"); ok {
		var out []string
		for _, t := range []pricing.Table{pricing.Default, a.prices()} {
			for model := range t[strings.ToLower(scheme)] {
				if c := scheme + ":" + model; strings.HasPrefix(c, toComplete) {
					out = append(out, c)
				}
			}
		}
		for _, p := range a.conf.Providers {
			if c := p.Type + ":" + p.Model; p.Name == "" && strings.HasPrefix(c, toComplete) {
				out = append(out, c)
			}
		}
		slices.Sort(out)
		return slices.Compact(out), cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	dir := cobra.ShellCompDirectiveNoFileComp
	for _, p := range a.conf.Providers {
		if name := orDefault(p.Name, p.Type+":"+p.Model); strings.HasPrefix(name, toComplete) {
			out = append(out, name)
		}
	}
	for _, s := range registry.Schemes() {
		if strings.HasPrefix(s, toComplete) {
			out = append(out, s+":")
			dir |= cobra.ShellCompDirectiveNoSpace // the model follows the colon
		}
	}
	return out, dir
}

// completeSuites offers the built-in suite names, then suite files (.yaml,
// .yml) and directories under the path typed so far.
func completeSuites(toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	dir := cobra.ShellCompDirectiveNoFileComp
	for _, n := range builtin.Names() {
		if strings.HasPrefix(n, toComplete) {
			out = append(out, n)
		}
	}
	base := "."
	if i := strings.LastIndex(toComplete, "/"); i >= 0 {
		base = toComplete[:i+1]
	}
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		name := e.Name()
		if base != "." {
			name = base + name
		}
		if !strings.HasPrefix(name, toComplete) || (strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(filepath.Base(toComplete+"x"), ".")) {
			continue
		}
		switch {
		case e.IsDir():
			out = append(out, name+"/")
			dir |= cobra.ShellCompDirectiveNoSpace
		case strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml"):
			out = append(out, name)
		}
	}
	return out, dir
}
