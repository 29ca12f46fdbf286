package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/manifest"
	"drover.dev/drover/internal/objfile"
	"drover.dev/drover/internal/stanza"
)

func toAPI(objs []inventory.Object) []api.Object {
	out := make([]api.Object, len(objs))
	for i, o := range objs {
		out[i] = api.Object{Type: string(o.Type), Name: o.Name, Attrs: o.Attrs}
		if out[i].Attrs == nil {
			out[i].Attrs = map[string]string{}
		}
	}
	return out
}

func fromAPI(objs []api.Object) ([]inventory.Object, error) {
	out := make([]inventory.Object, len(objs))
	for i, o := range objs {
		t, err := inventory.ParseType(o.Type)
		if err != nil {
			return nil, err
		}
		out[i] = inventory.Object{Type: t, Name: o.Name, Attrs: o.Attrs}
	}
	return out, nil
}

// parseTypeArg accepts xCAT type names and manifest kinds, case-insensitively,
// and the plurals admins type out of kubectl habit.
func parseTypeArg(s string) (inventory.Type, error) {
	l := strings.ToLower(s)
	for _, t := range inventory.Types() {
		k := strings.ToLower(manifest.KindOf(t))
		if l == string(t) || l == string(t)+"s" || l == k || l == k+"s" {
			return t, nil
		}
	}
	if l == "nodes" || l == "no" {
		return inventory.Node, nil
	}
	return "", &inventory.UnknownTypeError{Type: s}
}

func newApplyCmd(c *clientFactory, env Env, diff bool) *cobra.Command {
	var files []string
	var prune, dryRun bool
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|- [--prune] [--dry-run]",
		Short: "Create or update objects from YAML manifests or stanza files (all or nothing)",
		Long: `apply makes the inventory match the definitions in the given files: objects that
do not exist are created, objects that differ are replaced by their definition,
equal objects are left alone. The whole apply is one transaction: if any file
or object is invalid, nothing is written.

Files are kubectl-style YAML manifests (apiVersion: drover.dev/v1, kind: Node,
Group, OSImage, Network, Site, Policy or BootTarget, metadata.name, spec with
xCAT attribute names) or xCAT stanza files (*.stanza). A directory is read
recursively; - reads standard input.

With --prune, objects of the kinds present in the files that are not defined
in them are deleted.`,
		Example: `  drover apply -f cluster/
  drover apply -f nodes.yaml --prune
  lsdef -z compute | drover apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return fmt.Errorf("no files given: use -f FILE|DIR|-")
			}
			objs, err := objfile.Load(files, env.Stdin, inventory.DefaultSchema())
			if err != nil {
				return err
			}
			cl, err := c.get()
			if err != nil {
				return err
			}
			res, err := cl.Apply(cmd.Context(), api.ApplyRequest{Objects: toAPI(objs), Prune: prune, DryRun: dryRun || diff})
			if err != nil {
				return err
			}
			if diff {
				printDiff(env.Stdout, res)
				if len(res.Changes) > 0 {
					return &exitError{code: 1}
				}
				return nil
			}
			printApplied(env.Stdout, res, dryRun)
			return nil
		},
	}
	if diff {
		cmd.Use = "diff -f FILE|DIR|- [--prune]"
		cmd.Short = "Show what apply would change (exit 1 if anything)"
		cmd.Long = "diff shows, attribute by attribute, what `drover apply` with the same files would\nchange, and exits 1 if it would change anything, 0 if not (like kubectl diff)."
		cmd.Example = "  drover diff -f cluster/ && echo in sync"
	} else {
		cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would change without writing")
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "file, directory or - (repeatable)")
	cmd.Flags().BoolVar(&prune, "prune", false, "delete objects of the applied kinds that the files do not define")
	return cmd
}

func printApplied(w io.Writer, res api.ApplyResult, dryRun bool) {
	suffix := ""
	if dryRun {
		suffix = " (dry run)"
	}
	verb := map[string]string{"create": "created", "put": "configured", "delete": "deleted"}
	for _, ch := range res.Changes {
		v := verb[ch.Op]
		if v == "" {
			v = ch.Op
		}
		fmt.Fprintf(w, "%s/%s %s%s\n", kindLower(ch.Type), ch.Name, v, suffix)
	}
	if len(res.Changes) == 0 {
		fmt.Fprintln(w, "no changes")
	}
}

func kindLower(t string) string {
	if it, err := inventory.ParseType(t); err == nil {
		return strings.ToLower(manifest.KindOf(it))
	}
	return t
}

func printDiff(w io.Writer, res api.ApplyResult) {
	for _, ch := range res.Changes {
		fmt.Fprintf(w, "%s %s/%s\n", map[string]string{"create": "+", "put": "~", "delete": "-"}[ch.Op], kindLower(ch.Type), ch.Name)
		for _, a := range ch.Attrs {
			switch {
			case a.Old == "":
				fmt.Fprintf(w, "    + %s=%s\n", a.Attr, a.New)
			case a.New == "":
				fmt.Fprintf(w, "    - %s=%s\n", a.Attr, a.Old)
			default:
				fmt.Fprintf(w, "    ~ %s=%s -> %s\n", a.Attr, a.Old, a.New)
			}
		}
	}
}

// tableColumns are the columns `get -o table` shows per type; wide adds more.
var tableColumns = map[inventory.Type][2][]string{
	inventory.Node:       {{"groups", "mac", "ip", "mgt", "status"}, {"bmc", "os", "arch", "provmethod", "serial", "uuid"}},
	inventory.Group:      {{"grouptype", "members"}, {"mgt", "wherevals"}},
	inventory.OSImage:    {{"imagetype", "provmethod", "osvers", "osarch"}, {"profile", "boottarget", "rootimgdir"}},
	inventory.Network:    {{"net", "mask", "gateway", "mgtifname"}, {"dynamicrange", "nameservers", "domain", "mtu"}},
	inventory.Site:       {{"master", "domain"}, {"nameservers", "dhcpinterfaces"}},
	inventory.Policy:     {{"name", "commands", "rule"}, {"host", "noderange"}},
	inventory.BootTarget: {{"kernel", "initrd"}, {"kcmdline"}},
}

func newGetCmd(c *clientFactory, env Env) *cobra.Command {
	var output string
	var secrets, raw, resolvedFlag bool
	cmd := &cobra.Command{
		Use:   "get TYPE [NAMES|NODERANGE] [-o table|wide|yaml|json|stanza]",
		Short: "List objects (kubectl style)",
		Long: `get lists objects of one type. For nodes the second argument is an xCAT
noderange (cn[01-10],-cn05, a group, /regex, ...); for other types a comma
separated list of names. Node attributes are shown resolved through their
groups in table, wide and stanza output (as lsdef does); yaml and json show
the stored values, so the output can be re-applied (--resolved to change
either default, --raw for own values everywhere). Secret attributes are
masked unless --show-secrets.

TYPE is node, group, osimage, network, site, policy or boottarget (kinds and
plurals work too).`,
		Example: `  drover get nodes
  drover get node compute -o wide
  drover get node cn[01-04] -o yaml > nodes.yaml
  drover get osimage -o stanza`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseTypeArg(args[0])
			if err != nil {
				return err
			}
			rng := ""
			if len(args) == 2 {
				rng = args[1]
			}
			cl, err := c.get()
			if err != nil {
				return err
			}
			resolved := !raw && output != "yaml" && output != "json"
			if cmd.Flags().Changed("resolved") {
				resolved = resolvedFlag
			}
			items, err := cl.List(cmd.Context(), string(t), rng, api.ListOptions{Resolved: &resolved, Secrets: secrets})
			if err != nil {
				return err
			}
			objs, err := fromAPI(items)
			if err != nil {
				return err
			}
			return printObjects(env.Stdout, t, objs, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, wide, yaml, json or stanza")
	cmd.Flags().BoolVar(&secrets, "show-secrets", false, "show secret attribute values (admin/operator tokens only)")
	cmd.Flags().BoolVar(&raw, "raw", false, "show nodes' own attributes, without group inheritance")
	cmd.Flags().BoolVar(&resolvedFlag, "resolved", false, "show node attributes resolved through groups (default for table, wide, stanza)")
	return cmd
}

func printObjects(w io.Writer, t inventory.Type, objs []inventory.Object, output string) error {
	switch output {
	case "yaml":
		return manifest.Encode(w, objs)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(api.ObjectList{Items: toAPI(objs)})
	case "stanza":
		return stanza.Write(w, objs, stanza.WriteOptions{})
	case "table", "wide":
	default:
		return fmt.Errorf("unknown output format %q (want table, wide, yaml, json or stanza)", output)
	}
	cols := tableColumns[t][0]
	if output == "wide" {
		cols = append(append([]string{}, cols...), tableColumns[t][1]...)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	head := []string{"NAME"}
	for _, c := range cols {
		head = append(head, strings.ToUpper(c))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, o := range objs {
		row := []string{o.Name}
		for _, c := range cols {
			v := o.Attrs[c]
			if v == "" {
				v = "-"
			}
			row = append(row, v)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

func newDeleteCmd(c *clientFactory, env Env) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "delete TYPE NAMES|NODERANGE | delete -f FILE|DIR",
		Short: "Delete objects by name or by the files that define them",
		Long: `delete removes objects. All the objects of one type are removed in one
transaction (it runs rmdef on the server); with -f, one transaction per type.
Deleting needs an admin token.`,
		Example: `  drover delete node cn[05-08]
  drover delete group oldgroup
  drover delete -f retired.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			byType := map[inventory.Type][]string{}
			switch {
			case len(files) > 0:
				if len(args) > 0 {
					return fmt.Errorf("give either -f or TYPE NAMES, not both")
				}
				objs, err := objfile.Load(files, env.Stdin, inventory.DefaultSchema())
				if err != nil {
					return err
				}
				for _, o := range objs {
					byType[o.Type] = append(byType[o.Type], o.Name)
				}
			case len(args) == 2:
				t, err := parseTypeArg(args[0])
				if err != nil {
					return err
				}
				byType[t] = []string{args[1]}
			default:
				return fmt.Errorf("usage: drover delete TYPE NAMES|NODERANGE, or drover delete -f FILE")
			}
			cl, err := c.get()
			if err != nil {
				return err
			}
			for _, t := range inventory.Types() {
				names := byType[t]
				if len(names) == 0 {
					continue
				}
				req := api.RunRequest{Command: "rmdef", Args: []string{"-t", string(t), "-o", strings.Join(names, ",")}}
				if err := runRemote(cmd.Context(), cl, env, req); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "delete the objects these files define")
	return cmd
}
