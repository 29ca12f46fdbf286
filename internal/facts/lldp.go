package facts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/mdlayher/packet"
)

// EtherTypeLLDP is the LLDP ethertype.
const EtherTypeLLDP = 0x88cc

// lldpMulticast is the nearest-bridge LLDP destination address.
var lldpMulticast = net.HardwareAddr{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}

// ErrNotLLDP: the frame is not an LLDP frame.
var ErrNotLLDP = errors.New("not an lldp frame")

// DecodeLLDP decodes an Ethernet frame carrying LLDP into the neighbour it
// describes (NIC left empty). Chassis and port IDs that are MAC addresses
// are written aa:bb:cc:dd:ee:ff, network addresses as IP addresses, others
// as their (printable) text.
func DecodeLLDP(frame []byte) (LLDP, error) {
	pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	l, ok := pkt.Layer(layers.LayerTypeLinkLayerDiscovery).(*layers.LinkLayerDiscovery)
	if !ok {
		if el := pkt.ErrorLayer(); el != nil {
			return LLDP{}, fmt.Errorf("%w: %w", ErrNotLLDP, el.Error())
		}
		return LLDP{}, ErrNotLLDP
	}
	n := LLDP{
		ChassisID: lldpID(l.ChassisID.ID, l.ChassisID.Subtype == layers.LLDPChassisIDSubTypeMACAddr,
			l.ChassisID.Subtype == layers.LLDPChassisIDSubTypeNetworkAddr),
		PortID: lldpID(l.PortID.ID, l.PortID.Subtype == layers.LLDPPortIDSubtypeMACAddr,
			l.PortID.Subtype == layers.LLDPPortIDSubtypeNetworkAddr),
	}
	if info, ok := pkt.Layer(layers.LayerTypeLinkLayerDiscoveryInfo).(*layers.LinkLayerDiscoveryInfo); ok {
		n.PortDescr = printable(info.PortDescription)
		n.SysName = printable(info.SysName)
	}
	if n.ChassisID == "" || n.PortID == "" {
		return LLDP{}, fmt.Errorf("%w: empty chassis or port id", ErrNotLLDP)
	}
	return n, nil
}

func lldpID(id []byte, isMAC, isAddr bool) string {
	switch {
	case isMAC && len(id) == 6:
		return net.HardwareAddr(id).String()
	case isAddr && len(id) > 1:
		// IANA address family number, then the address.
		if a, ok := netip.AddrFromSlice(id[1:]); ok {
			return a.String()
		}
	}
	return printable(string(id))
}

// printable drops control and invalid characters and bounds the length so
// the result passes Validate.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	s = strings.TrimSpace(s)
	for len(s) > MaxString {
		_, size := lastRune(s)
		s = s[:len(s)-size]
	}
	return s
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xc0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

// ListenLLDP listens for LLDP frames on interface nic until ctx is done
// and returns each distinct neighbour heard. It needs CAP_NET_RAW.
func ListenLLDP(ctx context.Context, nic string) ([]LLDP, error) {
	ifi, err := net.InterfaceByName(nic)
	if err != nil {
		return nil, err
	}
	c, err := packet.Listen(ifi, packet.Raw, EtherTypeLLDP, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// LLDP goes to a multicast address most NICs filter; join it.
	_ = c.JoinGroup(lldpMulticast)
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	if ctx.Err() != nil {
		return nil, nil
	}
	var out []LLDP
	seen := map[[2]string]bool{}
	buf := make([]byte, 9216)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
				return out, nil
			}
			return out, err
		}
		nb, err := DecodeLLDP(buf[:n])
		if err != nil {
			continue
		}
		nb.NIC = nic
		k := [2]string{nb.ChassisID, nb.PortID}
		if !seen[k] && len(out) < 16 {
			seen[k] = true
			out = append(out, nb)
		}
	}
}
