package netboot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"drover.dev/drover/internal/dhcpd"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/store"
)

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func mac(i int) net.HardwareAddr {
	return net.HardwareAddr{0x52, 0x54, 0x00, 0x18, byte(i >> 8), byte(i)}
}

// TestLeasesGroupCommit stages leases from many goroutines at once; every
// Commit returns only when its lease is in the database, and a reopened
// store has them all.
func TestLeasesGroupCommit(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	ls, err := loadLeases(t.Context(), st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ls.run(ctx) }()

	now := time.Now()
	const n = 500
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := dhcpd.Lease{MAC: mac(i), IP: netip.AddrFrom4([4]byte{198, 18, byte(1 + i/250), byte(i % 250)}),
				Network: "lab", Expires: now.Add(time.Hour), Updated: now}
			if err := ls.Put(l); err != nil {
				errs <- err
				return
			}
			if err := ls.Commit(); err != nil {
				errs <- err
				return
			}
			if _, ok, err := st.LeaseByMAC(context.Background(), l.MAC.String()); err != nil || !ok {
				errs <- fmt.Errorf("lease of %s not durable after Commit (%v)", l.MAC, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// A second MAC may not take a leased address, in memory already.
	if err := ls.Put(dhcpd.Lease{MAC: mac(9999), IP: netip.MustParseAddr("198.18.1.0"), Expires: now.Add(time.Hour), Updated: now}); !errors.Is(err, dhcpd.ErrAddressInUse) {
		t.Errorf("Put on a leased address: %v, want ErrAddressInUse", err)
	}
	if err := ls.Release(mac(0)); err != nil {
		t.Fatal(err)
	}
	if err := ls.Commit(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := ls.Commit(); err != nil {
		t.Errorf("Commit with nothing staged after stop: %v", err)
	}
	st.Close()

	st = openStore(t, dir)
	defer st.Close()
	all, err := st.Leases(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n-1 {
		t.Errorf("reopened store has %d leases, want %d", len(all), n-1)
	}
}

// TestLeasesCommitFailure: a write the database refuses (another server
// holds the address) fails its Commit and is dropped from memory.
func TestLeasesCommitFailure(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	ls, err := loadLeases(t.Context(), st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ls.run(ctx)
	now := time.Now()
	ip := netip.MustParseAddr("198.18.0.50")
	// "Another server" leases the address behind this one's back.
	if err := st.PutLease(t.Context(), store.Lease{MAC: mac(1).String(), IP: ip, Expires: now.Add(time.Hour), Updated: now}); err != nil {
		t.Fatal(err)
	}
	if err := ls.Put(dhcpd.Lease{MAC: mac(2), IP: ip, Expires: now.Add(time.Hour), Updated: now}); err != nil {
		t.Fatal(err)
	}
	if err := ls.Commit(); !errors.Is(err, store.ErrAddressInUse) {
		t.Errorf("Commit = %v, want ErrAddressInUse", err)
	}
	if _, ok := ls.Get(mac(2)); ok {
		t.Error("the refused lease stayed in memory")
	}
}

// TestHotReload: a bare server is idle; setting site attributes through
// the store starts HTTP boot, changing the port moves it, without a restart.
func TestHotReload(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	ready := make(chan Config, 16)
	svc := &Service{
		Store:    st,
		Services: Services{HTTP: true},
		DataDir:  t.TempDir(),
		TFTPRoot: t.TempDir(),
		Interfaces: func() ([]Iface, error) {
			return []Iface{{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}}}, nil
		},
		Ready: func(c Config) { ready <- c },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	next := func() Config {
		t.Helper()
		select {
		case c := <-ready:
			return c
		case <-time.After(10 * time.Second):
			t.Fatal("no reconfiguration")
		}
		return Config{}
	}
	if c := next(); c.Idle == "" {
		t.Fatalf("bare server not idle: %+v", c)
	}
	setSite := func(port int) {
		err := st.Apply(t.Context(), []inventory.Change{{Op: inventory.Put, Object: inventory.Object{
			Type: inventory.Site, Name: "clustersite",
			Attrs: map[string]string{"dhcpinterfaces": "lo", "httpport": fmt.Sprint(port)}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	get := func(port int) error {
		c := http.Client{Timeout: 2 * time.Second}
		var err error
		for range 50 {
			var resp *http.Response
			resp, err = c.Get(fmt.Sprintf("http://127.0.0.1:%d/boot/entry.ipxe", port))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return err
	}
	p1, p2 := freePort(t), freePort(t)
	setSite(p1)
	if c := next(); c.Idle != "" || c.Boot.HTTPPort != uint16(p1) {
		t.Fatalf("after chdef: %+v", c)
	}
	if err := get(p1); err != nil {
		t.Fatalf("HTTP boot on %d: %v", p1, err)
	}
	setSite(p2)
	next()
	if err := get(p2); err != nil {
		t.Fatalf("HTTP boot on %d after the change: %v", p2, err)
	}
	c := http.Client{Timeout: time.Second}
	if resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/boot/entry.ipxe", p1)); err == nil {
		resp.Body.Close()
		t.Errorf("old port %d still answers", p1)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
