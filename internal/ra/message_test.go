package ra

import (
	"encoding/binary"
	"errors"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

// decodedRA is a Router Advertisement split into its fields, for checks.
type decodedRA struct {
	CurHopLimit    uint8
	Flags          uint8
	RouterLifetime uint16
	ReachableTime  uint32
	RetransTimer   uint32
	Options        []decodedOption
}

type decodedOption struct {
	Type uint8
	Data []byte // after type and length, padding included
}

// decodeRA decodes an ICMPv6 Router Advertisement (type through options).
func decodeRA(t *testing.T, b []byte) decodedRA {
	t.Helper()
	m, err := icmp.ParseMessage(58, b) // 58: ICMPv6
	if err != nil {
		t.Fatalf("icmp.ParseMessage: %v", err)
	}
	if m.Type != ipv6.ICMPTypeRouterAdvertisement || m.Code != 0 {
		t.Fatalf("got ICMPv6 type %v code %d, want router advertisement code 0", m.Type, m.Code)
	}
	if len(b) < 16 {
		t.Fatalf("advertisement of %d bytes, want >= 16", len(b))
	}
	ra := decodedRA{
		CurHopLimit:    b[4],
		Flags:          b[5],
		RouterLifetime: binary.BigEndian.Uint16(b[6:]),
		ReachableTime:  binary.BigEndian.Uint32(b[8:]),
		RetransTimer:   binary.BigEndian.Uint32(b[12:]),
	}
	for opts := b[16:]; len(opts) > 0; {
		if len(opts) < 2 || opts[1] == 0 || int(opts[1])*8 > len(opts) {
			t.Fatalf("bad option at % x", opts)
		}
		n := int(opts[1]) * 8
		ra.Options = append(ra.Options, decodedOption{Type: opts[0], Data: opts[2:n]})
		opts = opts[n:]
	}
	return ra
}

func TestAdvertisementMarshal(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0x00, 0x18, 0x00, 0x01}
	header := []byte{
		134, 0, 0, 0, // type, code, checksum (kernel)
		64, 0, 0, 0, // cur hop limit, M=0 O=0, router lifetime 0
		0, 0, 0, 0, // reachable time
		0, 0, 0, 0, // retrans timer
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	slla := []byte{1, 1, 0x52, 0x54, 0x00, 0x18, 0x00, 0x01}
	tests := []struct {
		name string
		ad   advertisement
		want []byte
		opts []decodedOption
	}{
		{"bare", advertisement{}, header, nil},
		{"mac", advertisement{MAC: mac}, cat(header, slla),
			[]decodedOption{{Type: 1, Data: mac}}},
		{"mac and mtu", advertisement{MAC: mac, MTU: 1500}, cat(header, slla, []byte{5, 1, 0, 0, 0, 0, 0x05, 0xdc}),
			[]decodedOption{{Type: 1, Data: mac}, {Type: 5, Data: []byte{0, 0, 0, 0, 0x05, 0xdc}}}},
		{"8-byte link-layer address", advertisement{MAC: net.HardwareAddr{1, 2, 3, 4, 5, 6, 7, 8}},
			cat(header, []byte{1, 2, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0}),
			[]decodedOption{{Type: 1, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.ad.marshal()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("bytes (-want +got):\n%s", diff)
			}
			want := decodedRA{CurHopLimit: 64, Options: tt.opts}
			ra := decodeRA(t, got)
			if diff := cmp.Diff(want, ra); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
			for _, o := range ra.Options {
				if o.Type == optPrefixInformation {
					t.Errorf("advertisement carries a prefix information option")
				}
			}
		})
	}
}

// solicitationTests are shared by TestParseSolicitation and the fuzz seeds.
var solicitationTests = []struct {
	name    string
	in      []byte
	want    solicitation
	wantErr error
}{
	{"no options", []byte{133, 0, 0x12, 0x34, 0, 0, 0, 0}, solicitation{}, nil},
	{"ethernet source", []byte{133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x52, 0x54, 0, 0x18, 0, 1},
		solicitation{SourceLinkLayerAddr: net.HardwareAddr{0x52, 0x54, 0, 0x18, 0, 1}}, nil},
	{"unknown option then source", []byte{133, 0, 0, 0, 0, 0, 0, 0,
		14, 1, 1, 2, 3, 4, 5, 6, // nonce (RFC 3971)
		1, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff},
		solicitation{SourceLinkLayerAddr: net.HardwareAddr{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}}, nil},
	{"first source option wins", []byte{133, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 2, 2, 2, 2, 2, 2},
		solicitation{SourceLinkLayerAddr: net.HardwareAddr{1, 1, 1, 1, 1, 1}}, nil},
	{"reserved field ignored", []byte{133, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, solicitation{}, nil},
	{"empty", nil, solicitation{}, errShort},
	{"short", []byte{133, 0, 0, 0, 0, 0, 0}, solicitation{}, errShort},
	{"advertisement", []byte{134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, solicitation{}, errNotRS},
	{"echo request", []byte{128, 0, 0, 0, 0, 1, 0, 1}, solicitation{}, errNotRS},
	{"non-zero code", []byte{133, 1, 0, 0, 0, 0, 0, 0}, solicitation{}, errCode},
	{"zero-length option", []byte{133, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, solicitation{}, errOptLen},
	{"option past end", []byte{133, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0}, solicitation{}, errOptTrunc},
	{"lone option byte", []byte{133, 0, 0, 0, 0, 0, 0, 0, 1}, solicitation{}, errOptTrunc},
	{"valid option then garbage", []byte{133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 3, 4, 5, 6, 9}, solicitation{}, errOptTrunc},
}

func TestParseSolicitation(t *testing.T) {
	for _, tt := range solicitationTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSolicitation(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSolicitationDoesNotAlias(t *testing.T) {
	in := []byte{133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 3, 4, 5, 6}
	got, err := parseSolicitation(in)
	if err != nil {
		t.Fatal(err)
	}
	in[10] = 0xff
	if got.SourceLinkLayerAddr[0] != 1 {
		t.Errorf("parsed address changed with the input buffer: %v", got.SourceLinkLayerAddr)
	}
}

func FuzzParseSolicitation(f *testing.F) {
	for _, tt := range solicitationTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseSolicitation(b)
		if err != nil {
			if s.SourceLinkLayerAddr != nil && errors.Is(err, errNotRS) {
				t.Errorf("address %v parsed from a non-solicitation", s.SourceLinkLayerAddr)
			}
			return
		}
		if len(b) < 8 || b[0] != typeRouterSolicitation || b[1] != 0 {
			t.Errorf("accepted % x", b)
		}
		if n := len(s.SourceLinkLayerAddr); s.SourceLinkLayerAddr != nil && (n < 6 || n > len(b)-10) {
			t.Errorf("source link-layer address of %d bytes from %d-byte message", n, len(b))
		}
	})
}
