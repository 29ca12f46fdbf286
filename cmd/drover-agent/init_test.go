package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/dhcpv4"

	"drover.dev/drover/internal/facts"
)

// A fixed ed25519 key (seed 0..31) and the bcrypt hash of "secret" (cost 4).
const (
	testKeyLine = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4 admin@lab"
	testKeyB64  = "c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUFPaEI3L3p6aEMrSFhEZEdPZEx3SmxuNU5Zd202VU5YeDNjaG1RU1ZURzQgYWRtaW5AbGFi"
	testHash    = "$2a$04$/rpX8DfxcvWhGPa6lgR5m.GAyXH7TmlQ8sKHBYjR3hW7j8kyWoQ5q"
)

var loadOrderTests = []struct {
	name    string
	in      string
	want    []string
	wantErr bool
}{
	{"empty", "", nil, false},
	{"deps first", "virtio\nvirtio_ring\nvirtio_pci\nfailover\nnet_failover\nvirtio_net\n",
		[]string{"virtio", "virtio_ring", "virtio_pci", "failover", "net_failover", "virtio_net"}, false},
	{"comments, blanks, .ko, crlf, duplicates", "# nics\n\n  e1000e.ko \r\nigb\ne1000e\n",
		[]string{"e1000e", "igb"}, false},
	{"no trailing newline", "ixgbe", []string{"ixgbe"}, false},
	{"path", "kernel/drivers/net/e1000e.ko\n", nil, true},
	{"dotdot", "..\n", nil, true},
	{"space inside", "e1000e igb\n", nil, true},
	{"only .ko", ".ko\n", nil, true},
}

func TestParseLoadOrder(t *testing.T) {
	for _, tc := range loadOrderTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLoadOrder(strings.NewReader(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrLoadOrder) {
				t.Errorf("error %v is not ErrLoadOrder", err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func FuzzParseLoadOrder(f *testing.F) {
	for _, tc := range loadOrderTests {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		names, err := parseLoadOrder(strings.NewReader(in))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, n := range names {
			if n == "" || strings.ContainsAny(n, "/ \t") || seen[n] {
				t.Fatalf("bad name %q in %q", n, names)
			}
			seen[n] = true
		}
	})
}

// TestLoadModulesMissing: no load.order means nothing to load; a listed
// module that is not in the image is logged and skipped (finit_module is
// never reached for it, so this runs unprivileged and loads nothing).
func TestLoadModulesMissing(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if n, err := loadModules(dir, log); n != 0 || err != nil {
		t.Fatalf("no load.order: %d, %v", n, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "load.order"), []byte("not_here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := loadModules(dir, log); n != 0 || err != nil {
		t.Fatalf("missing module: %d, %v", n, err)
	}
	if !strings.Contains(logs.String(), "module=not_here") {
		t.Errorf("missing module not logged: %s", logs.String())
	}
	if err := os.WriteFile(filepath.Join(dir, "load.order"), []byte("a/b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadModules(dir, log); !errors.Is(err, ErrLoadOrder) {
		t.Fatalf("bad load.order: %v", err)
	}
}

func ack(t *testing.T, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	m, err := dhcpv4.New(append([]dhcpv4.Modifier{dhcpv4.WithMessageType(dhcpv4.MessageTypeAck)}, mods...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLeaseConfig(t *testing.T) {
	ip := net.IPv4(198, 18, 0, 100)
	a := netip.MustParseAddr
	tests := []struct {
		name    string
		ack     *dhcpv4.DHCPv4
		want    netConfig
		wantErr bool
	}{
		{"full", ack(t, dhcpv4.WithYourIP(ip), dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
			dhcpv4.WithRouter(net.IPv4(198, 18, 0, 1)), dhcpv4.WithDNS(net.IPv4(198, 18, 0, 1), net.IPv4(198, 18, 0, 2)),
			dhcpv4.WithDomainSearchList("lab.example", "example"), dhcpv4.WithLeaseTime(600),
			dhcpv4.WithServerIP(net.IPv4(198, 18, 0, 1)),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(198, 18, 0, 1))),
			dhcpv4.WithOption(dhcpv4.OptDomainName("lab.example"))),
			netConfig{Iface: "eth0", Addr: netip.MustParsePrefix("198.18.0.100/24"), Routers: []netip.Addr{a("198.18.0.1")},
				DNS: []netip.Addr{a("198.18.0.1"), a("198.18.0.2")}, Domain: "lab.example", Search: []string{"lab.example", "example"},
				Server: a("198.18.0.1"), Lease: 10 * time.Minute}, false},
		{"minimal: classful mask, default lease", ack(t, dhcpv4.WithYourIP(ip)),
			netConfig{Iface: "eth0", Addr: netip.MustParsePrefix("198.18.0.100/24"), Lease: time.Hour}, false},
		{"odd mask and router outside", ack(t, dhcpv4.WithYourIP(net.IPv4(198, 19, 1, 7)), dhcpv4.WithNetmask(net.CIDRMask(15, 32)),
			dhcpv4.WithRouter(net.IPv4(0, 0, 0, 0), net.IPv4(198, 19, 1, 7), net.IPv4(198, 18, 0, 1))),
			netConfig{Iface: "eth0", Addr: netip.MustParsePrefix("198.19.1.7/15"), Routers: []netip.Addr{a("198.18.0.1")}, Lease: time.Hour}, false},
		{"bad domain dropped", ack(t, dhcpv4.WithYourIP(ip), dhcpv4.WithOption(dhcpv4.OptDomainName("a b;c"))),
			netConfig{Iface: "eth0", Addr: netip.MustParsePrefix("198.18.0.100/24"), Lease: time.Hour}, false},
		{"no address", ack(t), netConfig{}, true},
		{"broadcast address", ack(t, dhcpv4.WithYourIP(net.IPv4bcast)), netConfig{}, true},
		{"zero mask", ack(t, dhcpv4.WithYourIP(ip), dhcpv4.WithNetmask(net.CIDRMask(0, 32))), netConfig{}, true},
		{"nil", nil, netConfig{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := leaseConfig("eth0", tc.ack)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrLease) {
					t.Errorf("error %v is not ErrLease", err)
				}
				return
			}
			if d := cmp.Diff(tc.want, got, cmp.Comparer(func(x, y netip.Addr) bool { return x == y }),
				cmp.Comparer(func(x, y netip.Prefix) bool { return x == y })); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestResolvConf(t *testing.T) {
	c := netConfig{Iface: "eth0", DNS: []netip.Addr{netip.MustParseAddr("198.18.0.1")}, Domain: "lab.example"}
	want := "# written by drover-agent from the dhcp lease on eth0\nsearch lab.example\nnameserver 198.18.0.1\n"
	if got := resolvConf(c); got != want {
		t.Errorf("resolvConf =\n%s\nwant\n%s", got, want)
	}
	c.Search = []string{"a.example", "b.example"}
	if got := resolvConf(c); !strings.Contains(got, "search a.example b.example\n") {
		t.Errorf("search list missing:\n%s", got)
	}
	if got := (netConfig{Iface: "eth0", Addr: netip.MustParsePrefix("198.18.0.100/24"), Routers: []netip.Addr{netip.MustParseAddr("198.18.0.1")}}).String(); got != "eth0 198.18.0.100/24 via 198.18.0.1" {
		t.Errorf("String() = %q", got)
	}
}

func TestConsoleHandler(t *testing.T) {
	var b bytes.Buffer
	h := newConsoleHandler(&b, func() time.Duration { return 3*time.Second + 120*time.Millisecond })
	log := slog.New(h).With("svc", "x")
	log.Info("modules loaded (3)")
	log.Warn("dhcp", "iface", "eth0", "err", errors.New("no offer received"))
	log.WithGroup("g").Info("grouped", "k", "")
	log.Debug("hidden")
	want := "drover-agent: [    3.120] modules loaded (3) svc=x\n" +
		"drover-agent: [    3.120] WARN dhcp svc=x iface=eth0 err=\"no offer received\"\n" +
		"drover-agent: [    3.120] grouped svc=x g.k=\"\"\n"
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestMountTable(t *testing.T) {
	var got []string
	for _, m := range mounts() {
		got = append(got, m.fstype+" "+m.target)
	}
	want := []string{"proc /proc", "sysfs /sys", "devtmpfs /dev", "devpts /dev/pts", "tmpfs /tmp", "tmpfs /run"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestReaperHold: while a child is held the reaper leaves every child
// alone, so the holder's Wait gets the exit status.
func TestReaperHold(t *testing.T) {
	r := &reaper{}
	release := r.hold()
	if n := r.reap(); n != 0 {
		t.Errorf("reaped %d while held", n)
	}
	release()
	var nilReaper *reaper
	nilReaper.hold()() // no-op
}

// TestReportImageVersion: the report carries the image version from
// etc/drover/version under the collect root and the agent version, and
// ParseReport accepts it.
func TestReportImageVersion(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc", "drover"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "drover", "version"), []byte("v0.5.0-12-g1234abc\nextra\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// no sys/ or proc/ under root: only warnings besides the versions
	r, err := facts.Collect(context.Background(), facts.Options{Root: root, Version: "v0.5.0-13-gfeedbee", Now: func() time.Time { return testTime }})
	if err != nil {
		t.Fatal(err)
	}
	if r.Image != "v0.5.0-12-g1234abc" || r.Version != "v0.5.0-13-gfeedbee" {
		t.Errorf("image %q version %q", r.Image, r.Version)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := facts.ParseReport(b)
	if err != nil {
		t.Fatalf("ParseReport: %v", err)
	}
	if got.Image != r.Image {
		t.Errorf("parsed image %q", got.Image)
	}
	r.Image = strings.Repeat("v", facts.MaxImage+1)
	b, _ = json.Marshal(r)
	if _, err := facts.ParseReport(b); !errors.Is(err, facts.ErrInvalid) {
		t.Errorf("long image accepted: %v", err)
	}
	r.Image = "v1\x07"
	b, _ = json.Marshal(r)
	if _, err := facts.ParseReport(b); !errors.Is(err, facts.ErrInvalid) {
		t.Errorf("control character accepted: %v", err)
	}
}

// TestRunPrintHost is acceptance 4's host half: --print on the CI host's
// real root prints facts that ParseReport accepts, with CPUs and memory.
func TestRunPrintHost(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--print", "--root", "/", "--lldp-wait", "0"}, &stdout, &stderr, &fakeMachine{}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	r, err := facts.ParseReport(stdout.Bytes())
	if err != nil {
		t.Fatalf("ParseReport: %v\n%s", err, stdout.String())
	}
	if r.CPUs.Threads < 1 && r.CPUs.Cores < 1 {
		t.Errorf("no CPUs: %+v", r.CPUs)
	}
	if r.MemoryBytes == 0 {
		t.Errorf("no memory")
	}
	t.Logf("host: %d sockets %d cores %d threads %q, %d MiB, %d NICs, %d disks, warnings %q",
		r.CPUs.Sockets, r.CPUs.Cores, r.CPUs.Threads, r.CPUs.Model, r.MemoryBytes>>20, len(r.NICs), len(r.Disks), r.Warnings)
}
