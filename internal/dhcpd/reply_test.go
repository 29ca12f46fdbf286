package dhcpd

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/dhcpv4"
)

// TestNewReplyMatchesLibrary: newReply builds the same packet as
// dhcpv4.NewReplyFromRequest.
func TestNewReplyMatchesLibrary(t *testing.T) {
	reqs := map[string]*dhcpv4.DHCPv4{
		"plain": discover(t, macCN1),
		"relayed-with-client-id": discover(t, macUnknown, cat(relayed, []dhcpv4.Modifier{
			dhcpv4.WithBroadcast(true),
			dhcpv4.WithGeneric(dhcpv4.OptionClientIdentifier, []byte{1, 0x52, 0x54, 0, 0x99, 0, 1}),
		})...),
	}
	for name, req := range reqs {
		t.Run(name, func(t *testing.T) {
			want, err := dhcpv4.NewReplyFromRequest(req, dhcpv4.WithMessageType(dhcpv4.MessageTypeOffer))
			if err != nil {
				t.Fatal(err)
			}
			got := newReply(req, dhcpv4.MessageTypeOffer)
			if diff := cmp.Diff(want.ToBytes(), got.ToBytes()); diff != "" {
				t.Errorf("reply bytes (-library +newReply):\n%s", diff)
			}
		})
	}
}
