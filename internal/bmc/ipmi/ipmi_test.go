package ipmi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	ipmibmc "github.com/bougou/go-ipmi/pkg/bmc"
	"github.com/bougou/go-ipmi/pkg/clock"
	"github.com/bougou/go-ipmi/pkg/hal/mock"
	"github.com/bougou/go-ipmi/pkg/server"
	"github.com/bougou/go-ipmi/pkg/transport/udp"
	"github.com/bougou/go-ipmi/pkg/types"
	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/bmc"
)

// refBMC is go-ipmi's reference BMC server, in process on 127.0.0.1.
type refBMC struct {
	addr    string
	chassis *mock.Chassis
	console *mock.FakeConsoleConn
}

type refOpts struct {
	suites     []types.CipherSuiteID // nil: 3 and 17
	user, pass string
}

func newRefBMC(tb testing.TB, o refOpts) *refBMC {
	tb.Helper()
	if o.user == "" {
		o.user, o.pass = "admin", "secret"
	}
	h := mock.New()
	fru, err := types.PackFRU(types.FRUPackConfig{
		Chassis: &types.FRUPackChassis{Type: 0x17, PartNumber: "CH-1", Serial: "CHS001"},
		Board:   &types.FRUPackBoard{Mfg: "drover", Product: "board-1", Serial: "BRD001", PartNumber: "BP-1"},
		Product: &types.FRUPackProduct{Manufacturer: "drover", Name: "sim-node", PartModel: "SN-1", Version: "1.0", Serial: "SYS001"},
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := h.Storage().FRU().Write(context.Background(), 0, fru); err != nil {
		tb.Fatal(err)
	}
	conn := &mock.FakeConsoleConn{}
	h.SetConsole(&mock.Console{Conn: conn})
	var guid [16]byte
	copy(guid[:], "drover-ipmi-test")
	b := ipmibmc.New(ipmibmc.DeviceInfo{
		DeviceID: 32, DeviceRevision: 1, FirmwareMajor: 2, FirmwareMinor: 0x15,
		IPMIVersion: 0x02, ManufacturerID: 0x1291, ProductID: 0x0f02,
		AdditionalDeviceSupport: 0x39,
	}, guid, h, ipmibmc.WithClock(clock.Real))
	u, err := b.Users.Add(2, o.user)
	if err != nil {
		tb.Fatal(err)
	}
	u.SetPassword([]byte(o.pass))
	u.Enabled = true
	u.ChannelAccess[1] = ipmibmc.UserChannelAccess{MaxPrivilege: ipmibmc.PrivilegeLevelAdministrator, Enabled: true}

	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	var opts []server.ServerOption
	if o.suites != nil {
		opts = append(opts, server.WithCipherSuites(o.suites))
	}
	srv := server.NewServer(b, udp.Wrap(pc, udp.WithReadTimeout(time.Second)), opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		_ = srv.Close()
		_ = pc.Close()
		<-done
	})
	return &refBMC{addr: pc.LocalAddr().String(), chassis: h.Chassis().(*mock.Chassis), console: conn}
}

func (r *refBMC) target() bmc.Target {
	return bmc.Target{Node: "n1", Address: r.addr, Username: "admin", Password: "secret"}
}

func (r *refBMC) on() bool {
	on, _ := r.chassis.PowerState(context.Background())
	return on
}

// open opens a client on r and closes it when the test ends.
func open(t *testing.T, d Driver, tg bmc.Target) *Client {
	t.Helper()
	c, err := d.Open(context.Background(), tg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.(*Client)
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		in      string
		host    string
		port    int
		wantErr bool
	}{
		{in: "bmc1", host: "bmc1", port: 623},
		{in: "10.0.0.5", host: "10.0.0.5", port: 623},
		{in: "10.0.0.5:6230", host: "10.0.0.5", port: 6230},
		{in: "bmc1.example:1623", host: "bmc1.example", port: 1623},
		{in: "fd18::5", host: "fd18::5", port: 623},
		{in: "[fd18::5]", host: "fd18::5", port: 623},
		{in: "[fd18::5]:700", host: "fd18::5", port: 700},
		{in: "bmc1:0", wantErr: true},
		{in: "bmc1:70000", wantErr: true},
		{in: "bmc1:x", wantErr: true},
		{in: ":623", wantErr: true},
		{in: "a:b:c:", wantErr: true},
		{in: "", wantErr: true},
		{in: "[]", wantErr: true},
		{in: "[]:623", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			host, port, err := splitHostPort(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("splitHostPort(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err == nil && (host != tt.host || port != tt.port) {
				t.Errorf("splitHostPort(%q) = %q, %d, want %q, %d", tt.in, host, port, tt.host, tt.port)
			}
		})
	}
}

func FuzzSplitHostPort(f *testing.F) {
	for _, s := range []string{"bmc1", "10.0.0.5:6230", "[fd18::5]:700", "fd18::5", "bmc1:0", ":623", "a:b:c:", "", "[]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, port, err := splitHostPort(s)
		if err != nil {
			return
		}
		if host == "" || port < 1 || port > 65535 {
			t.Fatalf("splitHostPort(%q) = %q, %d without error", s, host, port)
		}
	})
}

func TestOpenBadTarget(t *testing.T) {
	tests := []struct {
		name string
		tg   bmc.Target
		want error
	}{
		{"no address", bmc.Target{Username: "admin", Password: "x"}, bmc.ErrNoAddress},
		{"blank address", bmc.Target{Address: "  ", Username: "admin", Password: "x"}, bmc.ErrNoAddress},
		{"no credentials", bmc.Target{Address: "127.0.0.1:1"}, bmc.ErrNoCredentials},
		{"no user", bmc.Target{Address: "127.0.0.1:1", Password: "x"}, bmc.ErrNoCredentials},
		{"no password", bmc.Target{Address: "127.0.0.1:1", Username: "admin"}, bmc.ErrNoCredentials},
		{"long user", bmc.Target{Address: "127.0.0.1:1", Username: strings.Repeat("u", 17), Password: "x"}, bmc.ErrNoCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Driver{}.Open(context.Background(), tt.tg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPower(t *testing.T) {
	r := newRefBMC(t, refOpts{})
	c := open(t, Driver{}, r.target())
	ctx := context.Background()

	state := func() bmc.PowerState {
		t.Helper()
		s, err := c.PowerState(ctx)
		if err != nil {
			t.Fatalf("PowerState: %v", err)
		}
		return s
	}
	if got := state(); got != bmc.StateOff {
		t.Fatalf("initial state %q, want off", got)
	}
	steps := []struct {
		action bmc.PowerAction
		wantOn bool
	}{
		{bmc.PowerOn, true},
		{bmc.PowerOff, false},
		{bmc.PowerCycle, true}, // off: cycle powers on
		{bmc.PowerCycle, true}, // on: a chassis power cycle
		{bmc.PowerReset, true},
		{bmc.PowerSoftOff, true}, // the mock counts a soft off as a warm reset
		{bmc.PowerOff, false},
	}
	for i, s := range steps {
		if err := c.SetPower(ctx, s.action); err != nil {
			t.Fatalf("step %d: SetPower(%s): %v", i, s.action, err)
		}
		if r.on() != s.wantOn {
			t.Fatalf("step %d: after %s the chassis is on=%v, want %v", i, s.action, r.on(), s.wantOn)
		}
		want := bmc.StateOff
		if s.wantOn {
			want = bmc.StateOn
		}
		if got := state(); got != want {
			t.Fatalf("step %d: PowerState after %s = %q, want %q", i, s.action, got, want)
		}
	}
	r.chassis.SetPower(ctx, false)
	got := struct{ Cycles, Cold, Warm int }{r.chassis.PowerCycles, r.chassis.ColdResets, r.chassis.WarmResets}
	if diff := cmp.Diff(struct{ Cycles, Cold, Warm int }{1, 1, 1}, got); diff != "" {
		t.Errorf("chassis counters (-want +got):\n%s", diff)
	}
	if err := c.SetPower(ctx, "hibernate"); !errors.Is(err, bmc.ErrUnsupported) {
		t.Errorf("SetPower(hibernate) = %v, want ErrUnsupported", err)
	}
}

func TestSetBootDevice(t *testing.T) {
	r := newRefBMC(t, refOpts{})
	c := open(t, Driver{}, r.target())
	tests := []struct {
		dev  bmc.BootDevice
		opt  bmc.BootOptions
		want types.BootOptionParam_BootFlags
	}{
		{bmc.BootNetwork, bmc.BootOptions{}, types.BootOptionParam_BootFlags{BootFlagsValid: true, BootDeviceSelector: types.BootDeviceSelectorForcePXE}},
		{bmc.BootNetwork, bmc.BootOptions{Persistent: true, UEFI: true}, types.BootOptionParam_BootFlags{BootFlagsValid: true, Persist: true, BIOSBootType: types.BIOSBootTypeEFI, BootDeviceSelector: types.BootDeviceSelectorForcePXE}},
		{bmc.BootDisk, bmc.BootOptions{Persistent: true}, types.BootOptionParam_BootFlags{BootFlagsValid: true, Persist: true, BootDeviceSelector: types.BootDeviceSelectorForceHardDrive}},
		{bmc.BootCD, bmc.BootOptions{UEFI: true}, types.BootOptionParam_BootFlags{BootFlagsValid: true, BIOSBootType: types.BIOSBootTypeEFI, BootDeviceSelector: types.BootDeviceSelectorForceCDROM}},
		{bmc.BootSetup, bmc.BootOptions{}, types.BootOptionParam_BootFlags{BootFlagsValid: true, BootDeviceSelector: types.BootDeviceSelectorForceBIOSSetup}},
		{bmc.BootDefault, bmc.BootOptions{}, types.BootOptionParam_BootFlags{BootFlagsValid: true, BootDeviceSelector: types.BootDeviceSelectorNoOverride}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s-p%v-uefi%v", tt.dev, tt.opt.Persistent, tt.opt.UEFI), func(t *testing.T) {
			if err := c.SetBootDevice(context.Background(), tt.dev, tt.opt); err != nil {
				t.Fatalf("SetBootDevice: %v", err)
			}
			got, err := r.chassis.GetBootFlags(context.Background())
			if err != nil {
				t.Fatalf("the BMC holds no boot flags: %v", err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("boot flags (-want +got):\n%s", diff)
			}
		})
	}
	if err := c.SetBootDevice(context.Background(), "floppy", bmc.BootOptions{}); !errors.Is(err, bmc.ErrUnsupported) {
		t.Errorf("SetBootDevice(floppy) = %v, want ErrUnsupported", err)
	}
}

func TestCipherSuites(t *testing.T) {
	tests := []struct {
		name    string
		server  []types.CipherSuiteID
		driver  []CipherSuite
		want    CipherSuite
		wantErr bool
	}{
		{name: "both offered, 17 wins", server: []types.CipherSuiteID{3, 17}, want: CipherSuite17},
		{name: "only 3 offered, 17 probed then 3", server: []types.CipherSuiteID{3}, want: CipherSuite3},
		{name: "only 17 offered", server: []types.CipherSuiteID{17}, want: CipherSuite17},
		{name: "forced 3", server: []types.CipherSuiteID{3, 17}, driver: []CipherSuite{CipherSuite3}, want: CipherSuite3},
		{name: "forced 3, only 17 offered", server: []types.CipherSuiteID{17}, driver: []CipherSuite{CipherSuite3}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRefBMC(t, refOpts{suites: tt.server})
			c, err := Driver{CipherSuites: tt.driver}.Open(context.Background(), r.target())
			if tt.wantErr {
				if err == nil {
					c.Close()
					t.Fatal("Open succeeded, want an error")
				}
				if errors.Is(err, bmc.ErrAuth) || errors.Is(err, bmc.ErrUnreachable) {
					t.Errorf("a cipher suite mismatch is neither an auth nor a reachability error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer c.Close()
			if got := c.(*Client).CipherSuite(); got != tt.want {
				t.Errorf("cipher suite %d, want %d", got, tt.want)
			}
			if _, err := c.PowerState(context.Background()); err != nil {
				t.Errorf("PowerState over suite %d: %v", tt.want, err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	r := newRefBMC(t, refOpts{})

	// a UDP port nobody listens on: the kernel answers port unreachable
	free, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	refused := free.LocalAddr().String()
	free.Close()

	// a peer that reads and never answers
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	d := Driver{Timeout: 300 * time.Millisecond, Retransmit: 100 * time.Millisecond, ProbeTimeout: 100 * time.Millisecond}
	tests := []struct {
		name string
		tg   bmc.Target
		want error
	}{
		{"wrong password", bmc.Target{Address: r.addr, Username: "admin", Password: "wrong"}, bmc.ErrAuth},
		{"unknown user", bmc.Target{Address: r.addr, Username: "nobody", Password: "secret"}, bmc.ErrAuth},
		{"refused", bmc.Target{Address: refused, Username: "admin", Password: "secret"}, bmc.ErrUnreachable},
		{"silent", bmc.Target{Address: silent.LocalAddr().String(), Username: "admin", Password: "secret"}, bmc.ErrUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := d.Open(context.Background(), tt.tg)
			if err == nil {
				c.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open error = %v, want %v", err, tt.want)
			}
			t.Logf("%v", err)
			if !strings.Contains(err.Error(), tt.tg.Address) {
				t.Errorf("error %q does not name the address %s", err, tt.tg.Address)
			}
		})
	}
}

func TestCallAfterClose(t *testing.T) {
	r := newRefBMC(t, refOpts{})
	c, err := Driver{}.Open(context.Background(), r.target())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.PowerState(context.Background()); err == nil {
		t.Fatal("PowerState on a closed client succeeded")
	}
}

func TestConcurrentCalls(t *testing.T) {
	r := newRefBMC(t, refOpts{})
	c := open(t, Driver{}, r.target())
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := c.PowerState(context.Background()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestInventory(t *testing.T) {
	r := newRefBMC(t, refOpts{})
	c := open(t, Driver{}, r.target())
	got, err := c.Inventory(context.Background())
	if err != nil {
		t.Fatalf("Inventory: %v", err)
	}
	var guid string
	if n := len(got); n > 0 && got[n-1].Name == "UUID/GUID" {
		guid = got[n-1].Value
		got = got[:n-1]
	}
	want := []bmc.Fact{
		{Name: "System Manufacturer", Value: "drover"},
		{Name: "System Description", Value: "sim-node"},
		{Name: "System Model/MTM", Value: "SN-1"},
		{Name: "System Revision", Value: "1.0"},
		{Name: "System Serial Number", Value: "SYS001"},
		{Name: "Chassis Serial Number", Value: "CHS001"},
		{Name: "Chassis Part Number", Value: "CH-1"},
		{Name: "Board manufacturer", Value: "drover"},
		{Name: "Board Description", Value: "board-1"},
		{Name: "Board Serial Number", Value: "BRD001"},
		{Name: "Board Model Number", Value: "BP-1"},
		{Name: "BMC Firmware", Value: "2.15"},
		{Name: "Manufacturer ID", Value: "4753"},
		{Name: "Product ID", Value: "3842"},
		{Name: "Device ID", Value: "32"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Inventory (-want +got):\n%s", diff)
	}
	if guid != "" && len(guid) != 36 { // the reference BMC has no Get System GUID
		t.Errorf("UUID/GUID %q is not a UUID", guid)
	}
}

func TestConsole(t *testing.T) {
	r := newRefBMC(t, refOpts{})
	c := open(t, Driver{}, r.target())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	con, err := c.Console(ctx)
	if err != nil {
		t.Fatalf("Console: %v", err)
	}

	r.console.FeedRX([]byte("login: "))
	buf := make([]byte, 0, 64)
	for !strings.Contains(string(buf), "login: ") {
		p := make([]byte, 64)
		n, err := con.Read(p)
		if err != nil {
			t.Fatalf("Read after %q: %v", buf, err)
		}
		buf = append(buf, p[:n]...)
	}
	if _, err := io.WriteString(con, "root\r"); err != nil {
		t.Fatalf("Write: %v", err)
	}
	for r.console.TXString() != "root\r" {
		select {
		case <-ctx.Done():
			t.Fatalf("the node received %q, want %q", r.console.TXString(), "root\r")
		case <-time.After(20 * time.Millisecond):
		}
	}
	// power calls go on while the console is open
	if _, err := c.PowerState(ctx); err != nil {
		t.Errorf("PowerState with a console open: %v", err)
	}
	if err := con.Close(); err != nil {
		t.Errorf("console Close: %v", err)
	}
	if _, err := con.Read(make([]byte, 1)); err == nil {
		t.Error("Read after Close succeeded")
	}
	if _, err := c.PowerState(context.Background()); err != nil {
		t.Errorf("PowerState after the console closed: %v", err)
	}
}

// BenchmarkPowerState opens a session with each of 200 in-process BMCs at
// once, reads the power state and closes it; one op is all 200.
func BenchmarkPowerState(b *testing.B) {
	const n = 200
	bmcs := make([]*refBMC, n)
	for i := range bmcs {
		bmcs[i] = newRefBMC(b, refOpts{suites: []types.CipherSuiteID{3, 17}})
	}
	d := Driver{}
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for _, r := range bmcs {
			wg.Go(func() {
				ctx := context.Background()
				c, err := d.Open(ctx, r.target())
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				if _, err := c.PowerState(ctx); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/bmc")
}
