package discoveryimage

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"path"
	"strings"
)

// modInfo is what the image builder needs from a module's .modinfo section.
type modInfo struct {
	Name    string   // name= (may be empty in old modules)
	Depends []string // depends=, module names with '_'
	Machine elf.Machine
}

// ErrNoModinfo is returned for an ELF file without a .modinfo section.
var ErrNoModinfo = errors.New("no .modinfo section")

// readModinfo parses a kernel module (an ELF relocatable object) and returns
// its name and dependencies from the NUL-separated key=value strings of the
// .modinfo section.
func readModinfo(b []byte) (mi modInfo, err error) {
	defer func() {
		// Belt and braces: a module file is untrusted input to debug/elf.
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed ELF: %v", r)
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return modInfo{}, err
	}
	defer f.Close()
	mi.Machine = f.Machine
	s := f.Section(".modinfo")
	if s == nil || s.Type == elf.SHT_NOBITS {
		return mi, ErrNoModinfo
	}
	data, err := s.Data()
	if err != nil {
		return mi, fmt.Errorf(".modinfo: %w", err)
	}
	for _, kv := range bytes.Split(data, []byte{0}) {
		k, v, ok := strings.Cut(string(kv), "=")
		if !ok {
			continue
		}
		switch k {
		case "name":
			mi.Name = canonicalName(v)
		case "depends":
			for d := range strings.SplitSeq(v, ",") {
				if d = strings.TrimSpace(d); d != "" {
					mi.Depends = append(mi.Depends, canonicalName(d))
				}
			}
		}
	}
	return mi, nil
}

// canonicalName is the kernel's module name: '-' in file names becomes '_'.
func canonicalName(s string) string { return strings.ReplaceAll(s, "-", "_") }

// moduleFileName returns the canonical module name of a module file path
// (…/virtio-net.ko.xz → virtio_net) and whether the path is a module.
func moduleFileName(p string) (string, bool) {
	base := path.Base(p)
	for _, ext := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if n, ok := strings.CutSuffix(base, ext); ok && n != "" {
			return canonicalName(n), true
		}
	}
	return "", false
}
