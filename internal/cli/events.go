package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newEventsCmd(c *clientFactory, env Env) *cobra.Command {
	var output string
	var since time.Duration
	var limit int
	cmd := &cobra.Command{
		Use:   "events NODE|MAC [--since DURATION] [-o table|json]",
		Short: "Show a node's (or a MAC's) boot timeline",
		Long: `events prints every step a node took while network booting, oldest first:
DHCP messages (dhcp-discover, dhcp-offer, dhcp-request, dhcp-ack, ...), TFTP
reads (tftp-read), HTTP boot requests (http-script, http-file, http-loader),
the reports its booted system sent (http-report) and every refusal, with the
reason (a wrong token, an unknown file, a path outside the served roots).
Given a MAC address instead of a node name, it shows that MAC's timeline,
also for a machine no node claims yet (an unknown MAC booting discovery).

The +SECONDS column counts from the first event shown.`,
		Example: `  drover events cn1
  drover events cn1 --since 10m
  drover events 52:54:00:18:00:99
  drover events cn1 -o json | jq '.[] | select(.reason != "")'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.get()
			if err != nil {
				return err
			}
			var from time.Time
			if since > 0 {
				from = time.Now().Add(-since)
			}
			evs, err := cl.Events(cmd.Context(), args[0], from, limit)
			if err != nil {
				return err
			}
			switch strings.ToLower(output) {
			case "json":
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(evs)
			case "table", "":
			default:
				return fmt.Errorf("-o %q: want table or json", output)
			}
			if len(evs) == 0 {
				fmt.Fprintf(env.Stderr, "no boot events for %s\n", args[0])
				return nil
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\t+SECONDS\tKIND\tMAC\tDETAIL")
			t0 := evs[0].Time
			for _, e := range evs {
				detail := e.Detail
				if e.Reason != "" {
					detail = strings.TrimSpace(detail + " REFUSED: " + e.Reason)
				}
				if e.Remote != "" {
					detail = strings.TrimSpace(detail + " from " + e.Remote)
				}
				fmt.Fprintf(tw, "%s\t%+.3f\t%s\t%s\t%s\n", e.Time.Local().Format("2006-01-02 15:04:05.000"),
					e.Time.Sub(t0).Seconds(), e.Kind, e.MAC, detail)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVarP(&output, "output", "o", "table", "output format: table or json")
	f.DurationVar(&since, "since", 0, "only events newer than this (e.g. 10m, 2h)")
	f.IntVar(&limit, "limit", 0, "at most this many events, oldest first (0: the server's default, 10000)")
	return cmd
}
