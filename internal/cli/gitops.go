package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"drover.dev/drover/internal/api"
)

func newGitOpsCmd(c *clientFactory, env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gitops",
		Short: "The Git repository the server follows: status, drift and sync",
		Long: `With drover serve --gitops-repo URL the server follows a Git repository of manifests
and stanza files: each new commit is applied whole, in one transaction, with
apply --prune semantics for the kinds GitOps owns. A commit that does not load or
validate is not applied at all; the error (file and line) shows here and as an
event (drover events @gitops). Objects changed with the CLI or API since the
applied commit are drift; sync --force re-applies the commit and reverts them.`,
		Example: `  drover gitops status
  drover gitops sync            # fetch now (what a webhook does: POST /v1/gitops/sync)
  drover gitops sync --force    # re-apply the applied commit: revert drift`,
	}
	var output string
	status := &cobra.Command{
		Use:   "status",
		Short: "Applied commit, last error and drift",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.get()
			if err != nil {
				return err
			}
			st, err := cl.GitOpsStatus(cmd.Context())
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printGitOpsStatus(env, st)
			if st.Error != "" || len(st.Drift) > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	status.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	var force bool
	sync := &cobra.Command{
		Use:   "sync [--force]",
		Short: "Fetch and apply a new commit now; --force re-applies the applied one (reverts drift)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.get()
			if err != nil {
				return err
			}
			res, err := cl.GitOpsSync(cmd.Context(), force)
			if err != nil {
				return err
			}
			if !res.Applied {
				fmt.Fprintf(env.Stdout, "commit %s of %s is already applied; nothing to do (--force re-applies it)\n", short(res.Commit), res.Branch)
				return nil
			}
			fmt.Fprintf(env.Stdout, "commit %s of %s applied: %d changes\n", short(res.Commit), res.Branch, len(res.Changes))
			for _, ch := range res.Changes {
				line := fmt.Sprintf("  %s %s/%s", ch.Op, ch.Kind, ch.Name)
				if len(ch.Attrs) > 0 {
					line += " (" + strings.Join(ch.Attrs, ", ") + ")"
				}
				fmt.Fprintln(env.Stdout, line)
			}
			return nil
		},
	}
	sync.Flags().BoolVar(&force, "force", false, "re-apply the applied commit even if it has not changed, reverting drift")
	cmd.AddCommand(status, sync)
	return cmd
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func printGitOpsStatus(env Env, st api.GitOpsStatus) {
	if !st.Enabled {
		fmt.Fprintln(env.Stdout, "GitOps is not configured (drover serve --gitops-repo URL)")
		return
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	}
	fmt.Fprintf(env.Stdout, "Repository: %s\nBranch:     %s\nPath:       %s\n", st.Repo, orDash(st.Branch), orDash(st.Path))
	fmt.Fprintf(env.Stdout, "Applied:    %s (%s)\n", orDash(short(st.Applied)), when(st.AppliedAt))
	fmt.Fprintf(env.Stdout, "Attempted:  %s (%s)\n", orDash(short(st.Attempted)), when(st.AttemptedAt))
	if st.Error != "" {
		fmt.Fprintf(env.Stdout, "Error:      %s\n", st.Error)
	}
	switch {
	case st.DriftError != "":
		fmt.Fprintf(env.Stdout, "Drift:      unknown (%s)\n", st.DriftError)
	case len(st.Drift) == 0:
		fmt.Fprintln(env.Stdout, "Drift:      none")
	default:
		fmt.Fprintf(env.Stdout, "Drift:      %d objects changed outside Git (drover gitops sync --force reverts them)\n", len(st.Drift))
		for _, d := range st.Drift {
			line := fmt.Sprintf("  %s/%s: %s", d.Kind, d.Name, d.Change)
			if len(d.Attrs) > 0 {
				line += " (" + strings.Join(d.Attrs, ", ") + ")"
			}
			fmt.Fprintln(env.Stdout, line)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
