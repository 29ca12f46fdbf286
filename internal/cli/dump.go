package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/manifest"
	"drover.dev/drover/internal/objfile"
	"drover.dev/drover/internal/stanza"
)

// Dump file names: one YAML stream and one stanza file with every object.
const (
	DumpYAML   = "drover.yaml"
	DumpStanza = "drover.stanza"
)

func newDumpCmd(c *clientFactory, env Env) *cobra.Command {
	var withSecrets bool
	cmd := &cobra.Command{
		Use:   "dump DIR [--with-secrets]",
		Short: "Write every object to DIR as YAML and as an xCAT stanza file",
		Long: `dump writes the whole inventory (raw values, no group inheritance applied) to
DIR/` + DumpYAML + ` (manifests) and DIR/` + DumpStanza + ` (xCAT stanza file), like
xCAT's dumpxCATdb. Secret attributes are masked unless --with-secrets; a masked
value re-applied with restore keeps the value the server already has.

Put a dump in DATA/restore/ of a server with an empty database and it restores
from it on first start.`,
		Example: "  drover dump /backup/drover-$(date +%F) --with-secrets",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := c.get()
			if err != nil {
				return err
			}
			resolved := false
			var all []inventory.Object
			for _, t := range inventory.Types() {
				items, err := cl.List(cmd.Context(), string(t), "", api.ListOptions{Resolved: &resolved, Secrets: withSecrets})
				if err != nil {
					return fmt.Errorf("listing %s: %w", t, err)
				}
				objs, err := fromAPI(items)
				if err != nil {
					return err
				}
				if t == inventory.Group {
					for i := range objs { // members is computed, not stored
						objs[i] = objs[i].Clone()
						delete(objs[i].Attrs, "members")
					}
				}
				all = append(all, objs...)
			}
			dir := args[0]
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			var y, s bytes.Buffer
			if err := manifest.Encode(&y, all); err != nil {
				return err
			}
			if err := stanza.Write(&s, all, stanza.WriteOptions{}); err != nil {
				return err
			}
			s.WriteString("\n")
			for name, data := range map[string][]byte{DumpYAML: y.Bytes(), DumpStanza: s.Bytes()} {
				if err := writeFileAtomic(filepath.Join(dir, name), data, 0o600); err != nil {
					return err
				}
			}
			fmt.Fprintf(env.Stdout, "dumped %d objects to %s\n", len(all), dir)
			return nil
		},
	}
	cmd.Flags().BoolVar(&withSecrets, "with-secrets", false, "write secret attribute values in clear (admin/operator tokens only)")
	return cmd
}

func newRestoreCmd(c *clientFactory, env Env) *cobra.Command {
	var prune bool
	cmd := &cobra.Command{
		Use:   "restore DIR [--prune]",
		Short: "Apply a dump made by `drover dump` in one transaction",
		Long: `restore reads DIR/*.yaml (or, if there are none, DIR/*.stanza) and applies every
object in one transaction. With --prune, objects not in the dump are deleted,
so the inventory becomes exactly the dump.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := objfile.DumpFiles(args[0])
			if err != nil {
				return err
			}
			objs, err := objfile.Load(files, nil, inventory.DefaultSchema())
			if err != nil {
				return err
			}
			cl, err := c.get()
			if err != nil {
				return err
			}
			res, err := cl.Apply(cmd.Context(), api.ApplyRequest{Objects: toAPI(objs), Prune: prune})
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "restored %d objects from %s (%d changed)\n", len(objs), args[0], len(res.Changes))
			return nil
		},
	}
	cmd.Flags().BoolVar(&prune, "prune", false, "delete objects that are not in the dump")
	return cmd
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
