package discoveryimage

import (
	"debug/elf"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadModinfo(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    modInfo
		wantErr error
	}{
		{
			name: "deps with dashes",
			in:   fakeModule("virtio-net", "virtio_ring", "net-failover", "virtio"),
			want: modInfo{Name: "virtio_net", Depends: []string{"virtio_ring", "net_failover", "virtio"}, Machine: elf.EM_X86_64},
		},
		{
			name: "no deps",
			in:   fakeModule("ring"),
			want: modInfo{Name: "ring", Machine: elf.EM_X86_64},
		},
		{
			name: "no name, odd entries",
			in: elfSpec{typ: elf.ET_REL, machine: elf.EM_AARCH64, sections: []elfSection{
				{".modinfo", []byte("junk\x00\x00depends=a,,b \x00")},
			}}.build(),
			want: modInfo{Depends: []string{"a", "b"}, Machine: elf.EM_AARCH64},
		},
		{
			name:    "no modinfo",
			in:      fakeAgent(elf.EM_X86_64),
			want:    modInfo{Machine: elf.EM_X86_64},
			wantErr: ErrNoModinfo,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readModinfo(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("modinfo (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := readModinfo([]byte("not elf")); err == nil {
		t.Error("readModinfo(not elf) succeeded")
	}
}

func TestModuleFileName(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"kernel/drivers/net/virtio_net.ko", "virtio_net", true},
		{"kernel/drivers/net/net-failover.ko.xz", "net_failover", true},
		{"a/b-c.ko.zst", "b_c", true},
		{"a/b.ko.gz", "b", true},
		{"modules.builtin", "", false},
		{"a/.ko", "", false},
		{"a/b.ko.bz2", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := moduleFileName(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("moduleFileName(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func FuzzReadModinfo(f *testing.F) {
	f.Add(fakeModule("virtio_net", "virtio_ring", "virtio"))
	f.Add(fakeModule("x"))
	f.Add(fakeAgent(elf.EM_X86_64))
	f.Fuzz(func(t *testing.T, b []byte) {
		mi, err := readModinfo(b)
		if err == nil {
			for _, d := range mi.Depends {
				if d == "" {
					t.Fatal("empty dependency name")
				}
			}
		}
	})
}
