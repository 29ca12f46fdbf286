package facts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jaypipes/ghw"
)

// Options configure Collect. The zero value collects from the running host
// without LLDP.
type Options struct {
	// Root is the filesystem root holding sys/, proc/ and dev/ ("" = "/").
	// Tests point it at a fake tree.
	Root string
	// Version is the agent's version, copied into Report.Version ("" = "dev").
	Version string
	// LLDPWait is how long to listen for LLDP frames on every NIC with a
	// link; 0 skips LLDP. Switches send every 30 s by default.
	LLDPWait time.Duration
	// Now returns the report time (nil = time.Now).
	Now func() time.Time
	// ReadBMC reads the BMC's LAN address; nil means the /dev/ipmi0 reader
	// (used only when Root is "/" and /dev/ipmi0 exists).
	ReadBMC func(ctx context.Context) (*BMC, error)
	// ListenLLDP listens on one interface until ctx is done; nil means
	// AF_PACKET (needs CAP_NET_RAW).
	ListenLLDP func(ctx context.Context, nic string) ([]LLDP, error)
}

// Collect gathers the host's facts. A part that cannot be read is left
// empty and named in Report.Warnings; Collect fails only when ctx is done.
func Collect(ctx context.Context, opts Options) (*Report, error) {
	root := opts.Root
	if root == "" {
		root = "/"
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	r := &Report{Schema: SchemaVersion, Version: opts.Version, Time: now().UTC(),
		Disks: []Disk{}, NICs: []NIC{}, PCI: []PCI{}, LLDP: []LLDP{}}
	if r.Version == "" {
		r.Version = "dev"
	}
	r.Image = imageVersion(filepath.Join(root, "etc", "drover", "version"))
	g := []any{ghw.WithChroot(root), ghw.WithDisableTools(), ghw.WithDisableWarnings(), ghw.WithDisableTopology()}
	warn := func(part string, err error) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %v", part, err))
	}

	if p, err := ghw.Product(g...); err != nil {
		warn("system", err)
	} else {
		r.System = DMI{Vendor: clean(p.Vendor), Product: clean(p.Name), Version: clean(p.Version),
			Serial: clean(p.SerialNumber), UUID: strings.ToLower(clean(p.UUID)), SKU: clean(p.SKU)}
	}
	if b, err := ghw.Baseboard(g...); err != nil {
		warn("board", err)
	} else {
		r.Board = DMI{Vendor: clean(b.Vendor), Product: clean(b.Product), Version: clean(b.Version),
			Serial: clean(b.SerialNumber), AssetTag: clean(b.AssetTag)}
	}
	if c, err := ghw.Chassis(g...); err != nil {
		warn("chassis", err)
	} else {
		r.Chassis = DMI{Vendor: clean(c.Vendor), Version: clean(c.Version), Serial: clean(c.SerialNumber),
			AssetTag: clean(c.AssetTag), Type: clean(c.TypeDescription)}
		// sysfs has no system asset tag; SMBIOS type 3 is what tools show.
		r.System.AssetTag = r.Chassis.AssetTag
	}
	if c, err := ghw.CPU(g...); err != nil {
		warn("cpus", err)
	} else {
		r.CPUs = CPUs{Sockets: len(c.Processors), Cores: int(c.TotalCores), Threads: int(c.TotalHardwareThreads)}
		if len(c.Processors) > 0 {
			r.CPUs.Model = clean(c.Processors[0].Model)
			r.CPUs.Vendor = clean(c.Processors[0].Vendor)
		}
	}
	if m, err := ghw.Memory(g...); err != nil {
		warn("memory", err)
	} else if m.TotalPhysicalBytes > 0 {
		r.MemoryBytes = uint64(m.TotalPhysicalBytes)
	}
	if b, err := ghw.Block(g...); err != nil {
		warn("disks", err)
	} else {
		for _, d := range b.Disks {
			if d.SizeBytes == 0 || virtualDisk(d.Name) {
				continue
			}
			x := Disk{Name: d.Name, SizeBytes: d.SizeBytes, Model: clean(d.Model),
				Serial: clean(d.SerialNumber), Vendor: clean(d.Vendor),
				Rotational: d.DriveType == ghw.DriveTypeHDD, Removable: d.IsRemovable}
			// ghw reads model and serial from udev's database, which the
			// discovery image has none of; sysfs has them for most drivers.
			dir := filepath.Join(root, "sys", "block", d.Name)
			if x.Model == "" {
				x.Model = clean(readTrim(filepath.Join(dir, "device", "model")))
			}
			if x.Serial == "" {
				x.Serial = clean(firstOf(filepath.Join(dir, "serial"), filepath.Join(dir, "device", "serial")))
			}
			r.Disks = append(r.Disks, x)
		}
	}
	if n, err := ghw.Network(g...); err != nil {
		warn("nics", err)
	} else {
		for _, nic := range n.NICs {
			if nic.IsVirtual {
				continue
			}
			dir := filepath.Join(root, "sys", "class", "net", nic.Name)
			mac := nic.MACAddress
			if mac == "" {
				// ghw leaves out MACs not assigned by the hardware
				// (addr_assign_type != 0); the address in use is what
				// DHCP saw, so report it.
				mac = readTrim(filepath.Join(dir, "address"))
			}
			if hw, err := net.ParseMAC(mac); err != nil || len(hw) != 6 || bytes.Equal(hw, make([]byte, 6)) {
				continue
			} else {
				mac = hw.String()
			}
			x := NIC{Name: nic.Name, MAC: mac, SpeedMbps: speed(nic.Speed)}
			if nic.PCIAddress != nil {
				x.PCI = *nic.PCIAddress
			}
			x.Driver = linkBase(filepath.Join(dir, "device", "driver"))
			x.Link = readTrim(filepath.Join(dir, "carrier")) == "1"
			if x.PCI == "" {
				x.PCI = pciAncestor(filepath.Join(dir, "device"))
			}
			r.NICs = append(r.NICs, x)
		}
		slices.SortFunc(r.NICs, func(a, b NIC) int { return strings.Compare(a.Name, b.Name) })
	}
	pci, err := readPCI(root)
	if err != nil {
		warn("pci", err)
	}
	if pci != nil {
		r.PCI = pci
	}

	if err := collectBMC(ctx, root, opts.ReadBMC, r); err != nil {
		warn("bmc", err)
	}
	if opts.LLDPWait > 0 {
		listen := opts.ListenLLDP
		if listen == nil {
			listen = ListenLLDP
		}
		r.LLDP = collectLLDP(ctx, opts.LLDPWait, r.NICs, listen, warn)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

func collectBMC(ctx context.Context, root string, read func(context.Context) (*BMC, error), r *Report) error {
	if read == nil {
		if filepath.Clean(root) != "/" {
			return nil // the /dev/ipmi0 reader cannot be redirected
		}
		if _, err := os.Stat("/dev/ipmi0"); err != nil {
			return nil
		}
		read = readBMC
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	b, err := read(ctx)
	if err != nil {
		return err
	}
	r.BMC = b
	return nil
}

// collectLLDP listens on every NIC with a link at once for wait.
func collectLLDP(ctx context.Context, wait time.Duration, nics []NIC, listen func(context.Context, string) ([]LLDP, error), warn func(string, error)) []LLDP {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	type result struct {
		nic string
		nb  []LLDP
		err error
	}
	ch := make(chan result)
	n := 0
	for _, nic := range nics {
		if !nic.Link {
			continue
		}
		n++
		go func(name string) {
			nb, err := listen(ctx, name)
			ch <- result{name, nb, err}
		}(nic.Name)
	}
	out := []LLDP{}
	for range n {
		res := <-ch
		if res.err != nil {
			warn("lldp "+res.nic, res.err)
		}
		out = append(out, res.nb...)
	}
	slices.SortFunc(out, func(a, b LLDP) int {
		return strings.Compare(a.NIC+"\x00"+a.ChassisID+"\x00"+a.PortID, b.NIC+"\x00"+b.ChassisID+"\x00"+b.PortID)
	})
	return out
}

// readPCI lists PCI functions from sysfs by ID. ghw's pci package needs a
// pci.ids database (absent in the discovery image, and it may fetch one
// from the internet), so the IDs are read directly; names are left empty.
func readPCI(root string) ([]PCI, error) {
	dir := filepath.Join(root, "sys", "bus", "pci", "devices")
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []PCI
	for _, e := range ents {
		addr := e.Name()
		if !isPCIAddress(addr) {
			continue
		}
		d := filepath.Join(dir, addr)
		p := PCI{
			Address: addr,
			Vendor:  strings.TrimPrefix(readTrim(filepath.Join(d, "vendor")), "0x"),
			Product: strings.TrimPrefix(readTrim(filepath.Join(d, "device")), "0x"),
			Class:   strings.TrimPrefix(readTrim(filepath.Join(d, "class")), "0x"),
			Driver:  linkBase(filepath.Join(d, "driver")),
		}
		if len(p.Vendor) != 4 || len(p.Product) != 4 || len(p.Class) != 6 || !isHex(p.Vendor+p.Product+p.Class) {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// clean maps ghw's placeholders for missing values to "".
func clean(s string) string {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "unknown", "none", "not specified", "to be filled by o.e.m.", "default string", "0":
		return ""
	}
	return s
}

func speed(s string) int {
	s = strings.TrimSuffix(strings.TrimSpace(s), "Mb/s")
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// pciAncestor is the PCI address of the device at path or of its nearest
// PCI parent (a virtio NIC's device is virtioN under the PCI function).
func pciAncestor(path string) string {
	p, err := filepath.EvalSymlinks(path)
	if err != nil {
		return ""
	}
	for range 3 {
		if a := filepath.Base(p); isPCIAddress(a) {
			return a
		}
		p = filepath.Dir(p)
	}
	return ""
}

// virtualDisk reports block devices that are not drives: RAM disks,
// compressed swap, loop and device-mapper devices.
func virtualDisk(name string) bool {
	for _, p := range []string{"ram", "zram", "loop", "dm-", "md", "nbd"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func firstOf(paths ...string) string {
	for _, p := range paths {
		if s := readTrim(p); s != "" {
			return s
		}
	}
	return ""
}

func linkBase(path string) string {
	dest, err := os.Readlink(path)
	if err != nil {
		return ""
	}
	return filepath.Base(dest)
}

// imageVersion is the first line of the image's version file, cut to
// MaxImage bytes and to printable characters; "" when there is none (the
// agent is not running in a discovery image).
func imageVersion(path string) string {
	line, _, _ := strings.Cut(readTrim(path), "\n")
	line = strings.TrimSpace(line)
	if strings.IndexFunc(line, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 || !utf8.ValidString(line) {
		return ""
	}
	if len(line) > MaxImage {
		line = line[:MaxImage]
		for !utf8.ValidString(line) {
			line = line[:len(line)-1]
		}
	}
	return line
}
