package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"drover.dev/drover/internal/discoveryimage"
)

// defaultDiscoverDir is where the discover boottarget of the docs points.
const defaultDiscoverDir = "/var/lib/drover/images/discover"

func newImageCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Build boot images (runs locally, no server needed)",
	}
	cmd.AddCommand(newBuildDiscoveryCmd(env))
	return cmd
}

func newBuildDiscoveryCmd(env Env) *cobra.Command {
	var o discoveryimage.Options
	var sshKeyFile, sshPasswordFile string
	cmd := &cobra.Command{
		Use:   "build-discovery (--kernel-deb FILE | --kernel-dir DIR) [--out DIR]",
		Short: "Build the discovery image (kernel + initramfs with drover-agent as /init)",
		Long: `build-discovery builds the kernel and initramfs that the discover boottarget
serves to unknown machines. It runs locally and needs no server and no root.

The kernel comes from a Debian kernel package file (--kernel-deb, read
directly, not installed) or from a directory with boot/vmlinuz-KVER and
lib/modules/KVER/ (--kernel-dir, e.g. the output of dpkg -x). The initramfs
holds drover-agent as /init (a static binary: by default drover-agent next to
this drover binary, then on $PATH), the NIC and IPMI driver modules with their
dependencies (read from each module's .modinfo) in load order, and the image
version. Default modules (the kernel's built-in ones need no file):
  ` + strings.Join(discoveryimage.DefaultModules[:8], " ") + `
  ` + strings.Join(discoveryimage.DefaultModules[8:], " ") + `
Defaults the kernel lacks are skipped with a note; modules named with
--modules (replaces the defaults) or --add-modules must exist.

Debug access: --ssh-key and --ssh-password-file bake credentials into the
image; the agent then serves SSH on port 22 (credentials can also be given at
boot time with drover.sshkey= / drover.sshpw= on the kernel command line).
With SSH debug, /bin/busybox is included as the shell when it is a static
binary; --busybox names another one. Without busybox the agent offers a
limited session only.

The output directory (vmlinuz, initrd.gz, version, manifest.json) is
replaced atomically; a failed build leaves the previous image untouched. The
initramfs is reproducible (entry times from $SOURCE_DATE_EPOCH, else 0) unless
a plain password is hashed into it.`,
		Example: `  # fetch one kernel package (not installed; apt-cache depends linux-image-cloud-amd64
  # names the current one)
  apt-get download linux-image-6.1.0-48-cloud-amd64
  drover image build-discovery --kernel-deb linux-image-6.1.0-48-cloud-amd64_*.deb \
      --out ` + defaultDiscoverDir + `
  # serve it to unknown machines
  drover mkdef -t boottarget discover kernel=` + defaultDiscoverDir + `/vmlinuz \
      initrd=` + defaultDiscoverDir + `/initrd.gz kcmdline="console=ttyS0 drover.lldp=10s"

  # with debug SSH access and a shell
  drover image build-discovery --kernel-dir ./kernel --ssh-key ~/.ssh/id_ed25519.pub \
      --busybox /bin/busybox --add-modules ena,gve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Agent == "" {
				a, err := findAgent(env)
				if err != nil {
					return err
				}
				o.Agent = a
			}
			if sshKeyFile != "" {
				b, err := os.ReadFile(sshKeyFile)
				if err != nil {
					return fmt.Errorf("--ssh-key: %w", err)
				}
				o.AuthorizedKeys = b
			}
			if sshPasswordFile != "" {
				b, err := os.ReadFile(sshPasswordFile)
				if err != nil {
					return fmt.Errorf("--ssh-password-file: %w", err)
				}
				o.Password = strings.TrimRight(string(b), "\r\n")
				if o.Password == "" {
					return fmt.Errorf("--ssh-password-file %s is empty", sshPasswordFile)
				}
			}
			if o.Busybox == "" && (sshKeyFile != "" || sshPasswordFile != "") {
				if _, err := os.Stat("/bin/busybox"); err == nil {
					o.Busybox, o.BusyboxIfUsable = "/bin/busybox", true
				}
			}
			if s := env.Getenv("SOURCE_DATE_EPOCH"); s != "" {
				sec, err := strconv.ParseInt(s, 10, 64)
				if err != nil || sec < 0 {
					return fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", s)
				}
				o.MTime = time.Unix(sec, 0)
			}
			start := time.Now()
			res, err := discoveryimage.Build(cmd.Context(), o)
			if err != nil {
				return err
			}
			m := res.Manifest
			fmt.Fprintf(env.Stdout, "built discovery image %s in %s (%.1fs)\n", m.ImageVersion, res.Dir, time.Since(start).Seconds())
			fmt.Fprintf(env.Stdout, "  kernel  %s (%s) from %s, %s\n", m.Kernel.Version, m.Kernel.Arch, m.Kernel.Package, humanSize(m.Vmlinuz.Size))
			fmt.Fprintf(env.Stdout, "  initrd  %s\n", humanSize(m.Initrd.Size))
			fmt.Fprintf(env.Stdout, "  modules %s\n", strings.Join(m.Modules, " "))
			if len(m.Builtin) > 0 {
				fmt.Fprintf(env.Stdout, "  built in %s\n", strings.Join(m.Builtin, " "))
			}
			for _, n := range res.Notes {
				fmt.Fprintln(env.Stderr, "note:", n)
			}
			fmt.Fprintf(env.Stdout, "serve it with:\n  drover mkdef -t boottarget discover kernel=%s initrd=%s kcmdline=\"console=ttyS0 drover.lldp=10s\"\n", res.Kernel, res.Initrd)
			fmt.Fprintf(env.Stdout, "or, if the boottarget exists:\n  drover chdef -t boottarget discover kernel=%s initrd=%s\n", res.Kernel, res.Initrd)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.KernelDeb, "kernel-deb", "", "Debian kernel package `FILE` (linux-image-*.deb)")
	f.StringVar(&o.KernelDir, "kernel-dir", "", "unpacked kernel `DIR` with boot/vmlinuz-* and lib/modules/KVER/")
	f.StringVar(&o.Agent, "agent", "", "static drover-agent `PATH` (default: next to drover, then $PATH)")
	f.StringVar(&o.Out, "out", defaultDiscoverDir, "output `DIR`, replaced atomically")
	f.StringSliceVar(&o.Modules, "modules", nil, "modules to include instead of the defaults (comma separated)")
	f.StringSliceVar(&o.AddModules, "add-modules", nil, "modules to include in addition to the defaults")
	f.StringVar(&o.Busybox, "busybox", "", "static busybox `PATH` to include as /bin/busybox and /bin/sh")
	f.StringVar(&sshKeyFile, "ssh-key", "", "authorized_keys `FILE` for debug SSH into the discovery environment")
	f.StringVar(&sshPasswordFile, "ssh-password-file", "", "`FILE` holding a debug SSH password or its bcrypt hash")
	f.StringVar(&o.Version, "image-version", version, "image `VERSION` (git describe style)")
	cmd.MarkFlagsMutuallyExclusive("kernel-deb", "kernel-dir")
	cmd.MarkFlagsOneRequired("kernel-deb", "kernel-dir")
	return cmd
}

// findAgent looks for drover-agent next to the running drover, then on PATH.
func findAgent(env Env) (string, error) {
	const name = "drover-agent"
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if agentFileOK(p) {
			return p, nil
		}
	}
	for _, dir := range filepath.SplitList(env.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		if p := filepath.Join(dir, name); agentFileOK(p) {
			return p, nil
		}
	}
	return "", errors.New("drover-agent not found next to drover or on $PATH: build it with `CGO_ENABLED=0 go build ./cmd/drover-agent` and pass --agent PATH")
}

func agentFileOK(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&fs.ModePerm&0o111 != 0
}

// humanSize formats a byte count for people.
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
