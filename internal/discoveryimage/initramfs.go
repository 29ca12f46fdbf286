package discoveryimage

import (
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// Paths inside the initramfs (the contract with drover-agent as /init).
const (
	InitPath           = "init"
	ModulesDir         = "lib/modules"
	LoadOrderPath      = "lib/modules/load.order"
	VersionPath        = "etc/drover/version"
	AuthorizedKeysPath = "etc/drover/authorized_keys"
	PasswordHashPath   = "etc/drover/ssh_password"
	BusyboxPath        = "bin/busybox"
	ShellPath          = "bin/sh"
)

// initramfsContent is everything that goes into the initramfs.
type initramfsContent struct {
	Agent          []byte
	Order          []string          // module load order
	Modules        map[string][]byte // name → uncompressed .ko
	Version        string
	AuthorizedKeys []byte // empty: none
	PasswordHash   string // empty: none
	Busybox        []byte // nil: none
	MTime          uint64 // seconds since the epoch for every entry
}

// records returns the cpio records of the image, sorted by name (parents
// before children), with reproducible inode numbers and times.
func (c initramfsContent) records() ([]cpio.Record, error) {
	var rs []cpio.Record
	dirs := map[string]uint64{
		"dev": 0o755, "proc": 0o555, "sys": 0o555, "tmp": 0o1777, "run": 0o755,
		"root": 0o700, "etc": 0o755, "etc/drover": 0o755, "lib": 0o755, ModulesDir: 0o755,
	}
	file := func(name string, data []byte, perm uint64) {
		rs = append(rs, cpio.StaticRecord(data, cpio.Info{Name: name, Mode: cpio.S_IFREG | perm}))
	}
	file(InitPath, c.Agent, 0o755)
	rs = append(rs, cpio.CharDev("dev/console", 0o600, 5, 1), cpio.CharDev("dev/null", 0o666, 1, 3))
	file(VersionPath, []byte(c.Version+"\n"), 0o644)
	var order strings.Builder
	for _, m := range c.Order {
		b, ok := c.Modules[m]
		if !ok {
			return nil, fmt.Errorf("module %s: no content", m)
		}
		file(path.Join(ModulesDir, m+".ko"), b, 0o644)
		order.WriteString(m + "\n")
	}
	file(LoadOrderPath, []byte(order.String()), 0o644)
	if len(c.AuthorizedKeys) > 0 {
		file(AuthorizedKeysPath, c.AuthorizedKeys, 0o600)
	}
	if c.PasswordHash != "" {
		file(PasswordHashPath, []byte(c.PasswordHash+"\n"), 0o600)
	}
	if c.Busybox != nil {
		dirs["bin"] = 0o755
		file(BusyboxPath, c.Busybox, 0o755)
		rs = append(rs, cpio.Symlink(ShellPath, "busybox"))
	}
	for d, perm := range dirs {
		rs = append(rs, cpio.Directory(d, perm))
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
	for i := range rs {
		rs[i].Ino = uint64(i + 1)
		rs[i].MTime = c.MTime
		rs[i].NLink = 1
		if rs[i].Mode&cpio.S_IFMT == cpio.S_IFDIR {
			rs[i].NLink = 2
		}
	}
	return rs, nil
}

// writeInitramfs writes the image as a gzip-compressed newc cpio archive.
// The gzip header carries no name or time, so equal content gives equal bytes.
func (c initramfsContent) write(w io.Writer) error {
	rs, err := c.records()
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return err
	}
	cw := cpio.Newc.Writer(zw)
	for _, r := range rs {
		if err := cw.WriteRecord(r); err != nil {
			return fmt.Errorf("cpio %s: %w", r.Name, err)
		}
	}
	if err := cpio.WriteTrailer(cw); err != nil {
		return err
	}
	return zw.Close()
}
