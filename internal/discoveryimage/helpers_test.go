package discoveryimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// elfSpec describes a minimal ELF64 little-endian file for tests.
type elfSpec struct {
	typ      elf.Type
	machine  elf.Machine
	sections []elfSection // besides the null section and .shstrtab
	interp   string       // adds a PT_INTERP program header when set
}

type elfSection struct {
	name string
	data []byte
}

// build lays out: header, program headers, section data, .shstrtab,
// section headers.
func (s elfSpec) build() []byte {
	le := binary.LittleEndian
	var phnum int
	if s.interp != "" {
		phnum = 1
	}
	const ehsize, phsize, shsize = 64, 56, 64
	var body bytes.Buffer
	off := func() uint64 { return uint64(ehsize + phnum*phsize + body.Len()) }
	var interpOff uint64
	if s.interp != "" {
		interpOff = off()
		body.WriteString(s.interp + "\x00")
	}
	shstr := []byte{0}
	type shdr struct {
		name, typ    uint32
		off, size    uint64
		addralign    uint64
		flags, entsz uint64
	}
	hdrs := []shdr{{}}
	for _, sec := range s.sections {
		for body.Len()%8 != 0 {
			body.WriteByte(0)
		}
		hdrs = append(hdrs, shdr{name: uint32(len(shstr)), typ: uint32(elf.SHT_PROGBITS), off: off(), size: uint64(len(sec.data)), addralign: 1})
		shstr = append(shstr, sec.name+"\x00"...)
		body.Write(sec.data)
	}
	strName := uint32(len(shstr))
	shstr = append(shstr, ".shstrtab\x00"...)
	hdrs = append(hdrs, shdr{name: strName, typ: uint32(elf.SHT_STRTAB), off: off(), size: uint64(len(shstr)), addralign: 1})
	body.Write(shstr)
	for body.Len()%8 != 0 {
		body.WriteByte(0)
	}
	shoff := off()

	var out bytes.Buffer
	ident := [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)}
	out.Write(ident[:])
	w := func(v any) { _ = binary.Write(&out, le, v) }
	w(uint16(s.typ))
	w(uint16(s.machine))
	w(uint32(elf.EV_CURRENT))
	w(uint64(0)) // entry
	if phnum > 0 {
		w(uint64(ehsize))
	} else {
		w(uint64(0))
	}
	w(shoff)
	w(uint32(0))
	w(uint16(ehsize))
	w(uint16(phsize))
	w(uint16(phnum))
	w(uint16(shsize))
	w(uint16(len(hdrs)))
	w(uint16(len(hdrs) - 1))
	if s.interp != "" {
		w(uint32(elf.PT_INTERP))
		w(uint32(elf.PF_R))
		w(interpOff)
		w(uint64(0))
		w(uint64(0))
		w(uint64(len(s.interp) + 1))
		w(uint64(len(s.interp) + 1))
		w(uint64(1))
	}
	out.Write(body.Bytes())
	for _, h := range hdrs {
		w(h.name)
		w(h.typ)
		w(h.flags)
		w(uint64(0)) // addr
		w(h.off)
		w(h.size)
		w(uint32(0))
		w(uint32(0))
		w(h.addralign)
		w(h.entsz)
	}
	return out.Bytes()
}

// fakeModule is a minimal kernel module with a .modinfo section.
func fakeModule(name string, deps ...string) []byte {
	info := "license=GPL\x00depends=" + strings.Join(deps, ",") + "\x00retpoline=Y\x00name=" + name + "\x00vermagic=6.1.0 SMP\x00"
	return elfSpec{typ: elf.ET_REL, machine: elf.EM_X86_64, sections: []elfSection{
		{".text", []byte{0xc3}},
		{".modinfo", []byte(info)},
	}}.build()
}

// fakeAgent is a minimal static executable.
func fakeAgent(machine elf.Machine) []byte {
	return elfSpec{typ: elf.ET_EXEC, machine: machine, sections: []elfSection{{".text", []byte{0xc3}}}}.build()
}

// fakeKernel is a tiny kernel package tree: path → content.
type fakeKernel map[string][]byte

const fakeKver = "6.1.0-99-test-amd64"

// newFakeKernel has modules in every supported compression: netdrv needs
// core (file name with '-') and a built-in module; core needs ring.
func newFakeKernel(t *testing.T) fakeKernel {
	t.Helper()
	md := "lib/modules/" + fakeKver + "/"
	return fakeKernel{
		"boot/vmlinuz-" + fakeKver:                         []byte("not really a kernel"),
		"boot/config-" + fakeKver:                          []byte("CONFIG_X=y\n"),
		md + "modules.builtin":                             []byte("kernel/net/packet/af_packet.ko\nkernel/lib/builtin-lib.ko\n"),
		md + "modules.order":                               []byte("ignored\n"),
		md + "kernel/drivers/net/netdrv.ko":                fakeModule("netdrv", "net_core", "builtin_lib"),
		md + "kernel/drivers/net/net-core.ko.xz":           compress(t, ".xz", fakeModule("net_core", "ring")),
		md + "kernel/drivers/virtio/ring.ko.zst":           compress(t, ".zst", fakeModule("ring")),
		md + "kernel/drivers/virtio/virtio_pci.ko.gz":      compress(t, ".gz", fakeModule("virtio_pci", "ring")),
		md + "kernel/drivers/net/virtio_net.ko":            fakeModule("virtio_net", "ring"),
		md + "kernel/drivers/char/ipmi/ipmi_si.ko":         fakeModule("ipmi_si", "ipmi_msghandler"),
		md + "kernel/drivers/char/ipmi/ipmi_msghandler.ko": fakeModule("ipmi_msghandler"),
		md + "kernel/drivers/other/unused.ko":              fakeModule("unused"),
	}
}

func compress(t *testing.T, ext string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch ext {
	case ".xz":
		w, err := xz.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case ".zst":
		w, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case ".gz":
		w := gzip.NewWriter(&buf)
		w.Write(b)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		return b
	}
	return buf.Bytes()
}

func (k fakeKernel) names() []string {
	var n []string
	for p := range k {
		n = append(n, p)
	}
	sort.Strings(n)
	return n
}

// writeDir writes the tree under a new directory.
func (k fakeKernel) writeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range k.names() {
		f := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, k[p], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeDeb writes the tree as a .deb whose data member is data.tar+ext.
func (k fakeKernel) writeDeb(t *testing.T, ext string) string {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	dirs := map[string]bool{}
	for _, p := range k.names() {
		for d := filepath.Dir(p); d != "." && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	var dl []string
	for d := range dirs {
		dl = append(dl, d)
	}
	sort.Strings(dl)
	tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755})
	for _, d := range dl {
		tw.WriteHeader(&tar.Header{Name: "./" + d + "/", Typeflag: tar.TypeDir, Mode: 0o755})
	}
	for _, p := range k.names() {
		tw.WriteHeader(&tar.Header{Name: "./" + p, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(k[p]))})
		tw.Write(k[p])
	}
	tw.WriteHeader(&tar.Header{Name: "./boot/vmlinuz.link", Typeflag: tar.TypeSymlink, Linkname: "vmlinuz-" + fakeKver})
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	deb := arFile([]arTestMember{
		{"debian-binary", []byte("2.0\n")},
		{"control.tar.gz", compress(t, ".gz", []byte("x"))},
		{"data.tar" + ext, compress(t, ext, tb.Bytes())},
	})
	p := filepath.Join(t.TempDir(), "linux-image-test_1_amd64.deb")
	if err := os.WriteFile(p, deb, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type arTestMember struct {
	name string
	data []byte
}

// arFile writes a GNU-style ar archive (names end in '/').
func arFile(ms []arTestMember) []byte {
	var b bytes.Buffer
	b.WriteString(arMagic)
	for _, m := range ms {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.name+"/", 0, 0, 0, "100644", len(m.data))
		b.Write(m.data)
		if len(m.data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}
