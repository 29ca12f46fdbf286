package store

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// leaseCmp compares netip.Addr by value.
var leaseCmp = cmpopts.EquateComparable(netip.Addr{})

var leaseT0 = time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)

func lease(mac, ip string, updated time.Time, ttl time.Duration) Lease {
	return Lease{
		MAC:     mac,
		IP:      netip.MustParseAddr(ip),
		Node:    "n-" + ip,
		Network: "mgmt",
		Expires: updated.Add(ttl),
		Updated: updated,
	}
}

func mustPutLease(t *testing.T, s *Store, l Lease) {
	t.Helper()
	if err := s.PutLease(t.Context(), l); err != nil {
		t.Fatalf("PutLease(%s, %s): %v", l.MAC, l.IP, err)
	}
}

func wantLeases(t *testing.T, s *Store, want []Lease) {
	t.Helper()
	got, err := s.Leases(t.Context())
	if err != nil {
		t.Fatalf("Leases: %v", err)
	}
	if diff := cmp.Diff(want, got, leaseCmp); diff != "" {
		t.Errorf("Leases (-want +got):\n%s", diff)
	}
}

func TestLeases(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		ctx := t.Context()
		s := open()
		const macA, macB = "aa:bb:cc:dd:ee:01", "aa:bb:cc:dd:ee:02"

		// Put, with a MAC in another spelling; read back normalised.
		a := lease("AA-BB-CC-DD-EE-01", "10.0.0.10", leaseT0, time.Hour)
		a.RelayInfo = []byte{1, 2, 3}
		mustPutLease(t, s, a)
		a.MAC = macA
		if got, ok, err := s.LeaseByMAC(ctx, "aabb.ccdd.ee01"); err != nil || !ok {
			t.Fatalf("LeaseByMAC = %v, %v", ok, err)
		} else if diff := cmp.Diff(a, got, leaseCmp); diff != "" {
			t.Errorf("LeaseByMAC (-want +got):\n%s", diff)
		}
		if got, ok, err := s.LeaseByIP(ctx, netip.MustParseAddr("::ffff:10.0.0.10")); err != nil || !ok {
			t.Fatalf("LeaseByIP = %v, %v", ok, err)
		} else if diff := cmp.Diff(a, got, leaseCmp); diff != "" {
			t.Errorf("LeaseByIP (-want +got):\n%s", diff)
		}

		// Another MAC may not take an active lease's address.
		b := lease(macB, "10.0.0.10", leaseT0.Add(30*time.Minute), time.Hour)
		if err := s.PutLease(ctx, b); !errors.Is(err, ErrAddressInUse) {
			t.Fatalf("PutLease of a leased address = %v, want ErrAddressInUse", err)
		}
		// ...but gets another address.
		b = lease(macB, "10.0.0.11", leaseT0.Add(30*time.Minute), time.Hour)
		mustPutLease(t, s, b)

		// Replacing A's lease moves it to a new address and frees the old.
		a2 := lease(macA, "10.0.0.12", leaseT0.Add(10*time.Minute), 2*time.Hour)
		mustPutLease(t, s, a2)
		if _, ok, err := s.LeaseByIP(ctx, netip.MustParseAddr("10.0.0.10")); err != nil || ok {
			t.Errorf("LeaseByIP(old address) = %v, %v; want none", ok, err)
		}
		wantLeases(t, s, []Lease{a2, b})

		// Renewing the same address is not a conflict.
		a2.Expires = a2.Expires.Add(time.Hour)
		a2.Updated = a2.Updated.Add(time.Minute)
		mustPutLease(t, s, a2)

		// An expired lease's address may be reused by another MAC; the
		// expired lease is removed. Expires == Updated counts as expired.
		c := lease("aa:bb:cc:dd:ee:03", "10.0.0.11", b.Expires, time.Hour)
		mustPutLease(t, s, c)
		if _, ok, err := s.LeaseByMAC(ctx, macB); err != nil || ok {
			t.Errorf("LeaseByMAC(expired, reused) = %v, %v; want none", ok, err)
		}
		wantLeases(t, s, []Lease{a2, c})

		// Release frees the address at once; releasing twice is fine.
		if err := s.ReleaseLease(ctx, macA); err != nil {
			t.Fatalf("ReleaseLease: %v", err)
		}
		if err := s.ReleaseLease(ctx, macA); err != nil {
			t.Fatalf("ReleaseLease again: %v", err)
		}
		d := lease(macB, "10.0.0.12", leaseT0.Add(11*time.Minute), time.Hour)
		mustPutLease(t, s, d)
		wantLeases(t, s, []Lease{d, c})

		// Leases survive a restart.
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s = open()
		wantLeases(t, s, []Lease{d, c})
		if err := s.PutLease(ctx, lease(macA, "10.0.0.12", leaseT0.Add(12*time.Minute), time.Hour)); !errors.Is(err, ErrAddressInUse) {
			t.Errorf("PutLease after reopen = %v, want ErrAddressInUse", err)
		}
	})
}

func TestLeaseErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		ctx := t.Context()
		s := open()
		for _, l := range []Lease{
			{MAC: "not a mac", IP: netip.MustParseAddr("10.0.0.1")},
			{MAC: "aa:bb:cc:dd:ee:ff"},
		} {
			if err := s.PutLease(ctx, l); err == nil {
				t.Errorf("PutLease(%q, %v) succeeded", l.MAC, l.IP)
			}
		}
		if err := s.ReleaseLease(ctx, "zz"); err == nil {
			t.Error("ReleaseLease(bad MAC) succeeded")
		}
		if _, ok, err := s.LeaseByMAC(ctx, "aa:bb:cc:dd:ee:ff"); err != nil || ok {
			t.Errorf("LeaseByMAC(unknown) = %v, %v", ok, err)
		}
		if _, ok, err := s.LeaseByIP(ctx, netip.Addr{}); err != nil || ok {
			t.Errorf("LeaseByIP(zero) = %v, %v", ok, err)
		}
		wantLeases(t, s, nil)
	})
}

// TestLeaseRace has two servers on one database lease each address to a
// different MAC at once: exactly one of each pair wins.
func TestLeaseRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		ctx := t.Context()
		s1, s2 := open(), open()
		for i := range 20 {
			ip := netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}).String()
			errs := make(chan error, 2)
			for k, s := range []*Store{s1, s2} {
				go func() {
					errs <- s.PutLease(ctx, lease(fmt.Sprintf("aa:bb:cc:dd:%02x:%02x", k, i), ip, leaseT0, time.Hour))
				}()
			}
			var won int
			for range 2 {
				switch err := <-errs; {
				case err == nil:
					won++
				case !errors.Is(err, ErrAddressInUse):
					t.Errorf("%s: PutLease: %v", ip, err)
				}
			}
			if won != 1 {
				t.Errorf("%s: %d servers leased the address, want 1", ip, won)
			}
		}
		ls, err := s1.Leases(ctx)
		if err != nil || len(ls) != 20 {
			t.Errorf("Leases = %d leases, %v; want 20", len(ls), err)
		}
	})
}

func TestWriteLeasesBatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		ctx := t.Context()
		a := lease("52:54:00:00:00:0a", "198.18.0.10", leaseT0, time.Hour)
		b := lease("52:54:00:00:00:0b", "198.18.0.11", leaseT0, time.Hour)
		c := lease("52:54:00:00:00:0c", "198.18.0.12", leaseT0, time.Hour)
		if err := s.WriteLeases(ctx, []LeaseWrite{{Lease: a}, {Lease: b}, {Lease: c}, {Lease: Lease{MAC: b.MAC}, Release: true}}); err != nil {
			t.Fatalf("WriteLeases: %v", err)
		}
		wantLeases(t, s, []Lease{a, c})

		// A batch whose last put collides with a's active lease changes nothing.
		d := lease("52:54:00:00:00:0d", "198.18.0.13", leaseT0, time.Hour)
		clash := lease("52:54:00:00:00:0e", "198.18.0.10", leaseT0, time.Hour)
		err := s.WriteLeases(ctx, []LeaseWrite{{Lease: d}, {Lease: Lease{MAC: c.MAC}, Release: true}, {Lease: clash}})
		if !errors.Is(err, ErrAddressInUse) {
			t.Fatalf("WriteLeases with a clash: err = %v, want ErrAddressInUse", err)
		}
		wantLeases(t, s, []Lease{a, c})
		if err := s.WriteLeases(ctx, []LeaseWrite{{Lease: Lease{MAC: "bogus"}, Release: true}}); err == nil {
			t.Error("WriteLeases released a bad MAC without error")
		}
	})
}
