package discoveryimage

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/u-root/u-root/pkg/cpio"
)

// entry is a cpio record in comparable form.
type entry struct {
	Name         string
	Mode         uint64
	Rmajor       uint64
	Rminor       uint64
	MTime        uint64
	Data         string
	UID, GID     uint64
	DataIsBinary bool
}

// readInitramfs decompresses and parses an initrd.gz.
func readInitramfs(t *testing.T, gz []byte) []entry {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.EOFReader{RecordReader: cpio.Newc.Reader(bytes.NewReader(raw))})
	if err != nil {
		t.Fatal(err)
	}
	var es []entry
	for _, r := range recs {
		e := entry{Name: r.Name, Mode: r.Mode, Rmajor: r.Rmajor, Rminor: r.Rminor, MTime: r.MTime, UID: r.UID, GID: r.GID}
		if r.ReaderAt != nil && r.FileSize > 0 {
			b, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
			if err != nil {
				t.Fatal(err)
			}
			e.Data = string(b)
			if bytes.IndexByte(b, 0) >= 0 {
				e.Data, e.DataIsBinary = "", true
			}
		}
		es = append(es, e)
	}
	return es
}

func TestInitramfsLayout(t *testing.T) {
	c := initramfsContent{
		Agent:          fakeAgent(elf.EM_X86_64),
		Order:          []string{"ring", "net_core"},
		Modules:        map[string][]byte{"ring": []byte("RING"), "net_core": []byte("CORE")},
		Version:        "v0.5.0-3-gabcdef",
		AuthorizedKeys: []byte("ssh-ed25519 AAAA test\n"),
		PasswordHash:   "$2a$10$hash",
		Busybox:        []byte("BUSYBOX"),
		MTime:          1700000000,
	}
	var buf bytes.Buffer
	if err := c.write(&buf); err != nil {
		t.Fatal(err)
	}
	const (
		dir  = cpio.S_IFDIR
		reg  = cpio.S_IFREG
		chr  = cpio.S_IFCHR
		link = cpio.S_IFLNK
	)
	ts := uint64(1700000000)
	want := []entry{
		{Name: "bin", Mode: dir | 0o755},
		{Name: "bin/busybox", Mode: reg | 0o755, Data: "BUSYBOX"},
		{Name: "bin/sh", Mode: link | 0o777, Data: "busybox"},
		{Name: "dev", Mode: dir | 0o755},
		{Name: "dev/console", Mode: chr | 0o600, Rmajor: 5, Rminor: 1},
		{Name: "dev/null", Mode: chr | 0o666, Rmajor: 1, Rminor: 3},
		{Name: "etc", Mode: dir | 0o755},
		{Name: "etc/drover", Mode: dir | 0o755},
		{Name: "etc/drover/authorized_keys", Mode: reg | 0o600, Data: "ssh-ed25519 AAAA test\n"},
		{Name: "etc/drover/ssh_password", Mode: reg | 0o600, Data: "$2a$10$hash\n"},
		{Name: "etc/drover/version", Mode: reg | 0o644, Data: "v0.5.0-3-gabcdef\n"},
		{Name: "init", Mode: reg | 0o755, DataIsBinary: true},
		{Name: "lib", Mode: dir | 0o755},
		{Name: "lib/modules", Mode: dir | 0o755},
		{Name: "lib/modules/load.order", Mode: reg | 0o644, Data: "ring\nnet_core\n"},
		{Name: "lib/modules/net_core.ko", Mode: reg | 0o644, Data: "CORE"},
		{Name: "lib/modules/ring.ko", Mode: reg | 0o644, Data: "RING"},
		{Name: "proc", Mode: dir | 0o555},
		{Name: "root", Mode: dir | 0o700},
		{Name: "run", Mode: dir | 0o755},
		{Name: "sys", Mode: dir | 0o555},
		{Name: "tmp", Mode: dir | 0o1777},
	}
	for i := range want {
		want[i].MTime = ts
	}
	if diff := cmp.Diff(want, readInitramfs(t, buf.Bytes())); diff != "" {
		t.Errorf("initramfs (-want +got):\n%s", diff)
	}

	// Reproducible: the same content gives the same bytes.
	var again bytes.Buffer
	if err := c.write(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two writes of the same content differ")
	}
}

func TestInitramfsMinimal(t *testing.T) {
	c := initramfsContent{Agent: []byte("A"), Version: "dev"}
	var buf bytes.Buffer
	if err := c.write(&buf); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range readInitramfs(t, buf.Bytes()) {
		names = append(names, e.Name)
		if e.MTime != 0 {
			t.Errorf("%s: mtime %d, want 0", e.Name, e.MTime)
		}
	}
	want := []string{"dev", "dev/console", "dev/null", "etc", "etc/drover", "etc/drover/version", "init",
		"lib", "lib/modules", "lib/modules/load.order", "proc", "root", "run", "sys", "tmp"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func TestInitramfsMissingModule(t *testing.T) {
	c := initramfsContent{Agent: []byte("A"), Version: "dev", Order: []string{"x"}}
	if err := c.write(io.Discard); err == nil {
		t.Error("write with a module without content succeeded")
	}
}

// moduleBytes returns the content of one file of an initrd.gz.
func moduleBytes(t *testing.T, gz []byte, name string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := cpio.ReadAllRecords(cpio.EOFReader{RecordReader: cpio.Newc.Reader(bytes.NewReader(raw))})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Name == name {
			b, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("%s not in the initramfs", name)
	return nil
}
