package ra

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/ipv6"
)

func TestServeNoLinkLocal(t *testing.T) {
	// The loopback interface has ::1 at most, never a link-local address,
	// so Serve must give up before it opens a socket (no privilege needed).
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no loopback interface named lo: %v", err)
	}
	s := &Sender{Interface: lo.Name}
	err = s.Serve(context.Background())
	if !errors.Is(err, ErrNoLinkLocal) {
		t.Fatalf("Serve on lo: %v, want ErrNoLinkLocal", err)
	}
	want := "ra on lo: no IPv6 link-local address (IPv6 disabled on the interface?)"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestServeUnknownInterface(t *testing.T) {
	s := &Sender{Interface: "nosuch-ra0"}
	err := s.Serve(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "ra on nosuch-ra0: ") {
		t.Fatalf("Serve on a missing interface: %v", err)
	}
}

func TestCheck(t *testing.T) {
	l := &link{ifi: &net.Interface{Index: 7, Name: "br0"}}
	rs := []byte{133, 0, 0, 0, 0, 0, 0, 0}
	rsMAC := []byte{133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x52, 0x54, 0, 0x18, 0, 1}
	ll := netip.MustParseAddr("fe80::5054:ff:fe18:1")
	tests := []struct {
		name   string
		b      []byte
		cm     *ipv6.ControlMessage
		from   netip.Addr
		reason string // "" = accepted; else a substring of the reason
	}{
		{"link-local", rsMAC, &ipv6.ControlMessage{HopLimit: 255, IfIndex: 7}, ll, ""},
		{"unspecified without option", rs, &ipv6.ControlMessage{HopLimit: 255, IfIndex: 7}, netip.IPv6Unspecified(), ""},
		{"no interface index", rs, &ipv6.ControlMessage{HopLimit: 255}, ll, ""},
		{"unspecified with option", rsMAC, &ipv6.ControlMessage{HopLimit: 255, IfIndex: 7}, netip.IPv6Unspecified(), "unspecified"},
		{"hop limit 64", rsMAC, &ipv6.ControlMessage{HopLimit: 64, IfIndex: 7}, ll, "hop limit 64"},
		{"other interface", rs, &ipv6.ControlMessage{HopLimit: 255, IfIndex: 8}, ll, "interface index 8"},
		{"no control message", rs, nil, ll, "control message"},
		{"no source", rs, &ipv6.ControlMessage{HopLimit: 255, IfIndex: 7}, netip.Addr{}, "no source"},
		{"malformed", rs[:7], &ipv6.ControlMessage{HopLimit: 255, IfIndex: 7}, ll, "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, reason := l.check(tt.b, tt.cm, tt.from)
			if tt.reason == "" && reason != "" || !strings.Contains(reason, tt.reason) {
				t.Errorf("reason %q, want %q", reason, tt.reason)
			}
		})
	}
}

func TestNextInterval(t *testing.T) {
	for _, maxInterval := range []time.Duration{time.Second, 10 * time.Second, DefaultInterval} {
		for sent := range 5 {
			for range 200 {
				d := nextInterval(sent, maxInterval)
				hi := maxInterval
				if sent < initialAdverts {
					hi = min(hi, initialInterval)
				}
				lo := min(maxInterval*33/100, hi)
				if d < lo || d > hi {
					t.Fatalf("nextInterval(%d, %v) = %v, want in [%v, %v]", sent, maxInterval, d, lo, hi)
				}
			}
		}
	}
}
