package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/yardstick-eval/yardstick/internal/github"
)

func (a *app) ciCommand() *cobra.Command {
	var key, repo, pr string
	comment := &cobra.Command{
		Use:   "comment REPORT.md [--key KEY]",
		Short: "Post a run's report.md on the pull request, updating Yardstick's earlier comment",
		Long: `Post REPORT.md (a run directory's report.md) as a comment on the pull request
the GitHub Actions event is about, or edit the comment an earlier run posted
(found by a hidden marker; --key keeps several reports apart). On an event with
no pull request (a push) it does nothing: the run already wrote the report to
the step summary.

Reads GITHUB_TOKEN (needs pull-requests: write), GITHUB_REPOSITORY,
GITHUB_EVENT_PATH and GITHUB_API_URL, as Actions sets them; --repo and --pr
override the last three.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			report, err := os.ReadFile(args[0])
			if err != nil {
				return usageErrf("%v", err)
			}
			token := a.getenv("GITHUB_TOKEN")
			if token == "" {
				return usageErrf("GITHUB_TOKEN is not set: pass the workflow's token (env: GITHUB_TOKEN: ${{ github.token }})")
			}
			repo := firstNonEmpty(repo, a.getenv("GITHUB_REPOSITORY"))
			if repo == "" {
				return usageErrf("no repository: set GITHUB_REPOSITORY or pass --repo owner/name")
			}
			var n int
			if pr != "" {
				if n, err = strconv.Atoi(pr); err != nil || n <= 0 {
					return usageErrf("--pr %q: want a pull-request number", pr)
				}
			} else {
				path := a.getenv("GITHUB_EVENT_PATH")
				if path == "" {
					return usageErrf("no pull request: set GITHUB_EVENT_PATH (Actions does) or pass --pr N")
				}
				var ok bool
				if n, ok, err = github.PullRequestNumber(path); err != nil {
					return usageErr(err)
				} else if !ok {
					fmt.Fprintln(a.stderr, "yardstick: the event is not about a pull request; no comment posted")
					return nil
				}
			}
			c := &github.Client{APIURL: a.getenv("GITHUB_API_URL"), Token: token}
			up, err := c.Upsert(cmd.Context(), repo, n, key, string(report))
			if err != nil {
				return err
			}
			verb := "posted"
			if up.Updated {
				verb = "updated"
			}
			fmt.Fprintf(a.stdout, "%s comment %d on %s#%d\n", verb, up.ID, repo, n)
			return nil
		},
	}
	fl := comment.Flags()
	fl.StringVar(&key, "key", "", "which Yardstick comment to update when one pull request gets several reports")
	fl.StringVar(&repo, "repo", "", "repository owner/name (default $GITHUB_REPOSITORY)")
	fl.StringVar(&pr, "pr", "", "pull-request number (default: from $GITHUB_EVENT_PATH)")
	return commandGroup("ci", "CI helpers: post the report on a pull request", "", comment)
}
