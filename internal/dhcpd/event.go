package dhcpd

import (
	"net"
	"net/netip"
	"time"
)

// EventKind names a step of a DHCP exchange.
type EventKind string

// Event kinds.
const (
	EventDiscover EventKind = "dhcp-discover"
	EventOffer    EventKind = "dhcp-offer"
	EventRequest  EventKind = "dhcp-request"
	EventAck      EventKind = "dhcp-ack"
	EventNak      EventKind = "dhcp-nak"
	EventRelease  EventKind = "dhcp-release"
	EventDecline  EventKind = "dhcp-decline"
	EventInform   EventKind = "dhcp-inform"
	EventIgnored  EventKind = "dhcp-ignored"
	EventError    EventKind = "dhcp-error"
)

// Event is one step, recorded for the node's boot timeline.
type Event struct {
	Time     time.Time
	Kind     EventKind
	MAC      net.HardwareAddr
	Node     string // empty for an unknown MAC
	Network  string
	IP       netip.Addr // address offered, acknowledged, requested or released
	Relay    netip.Addr // giaddr; zero when direct
	Arch     string     // client architecture (option 93) of a PXE request
	Bootfile string     // boot file sent, if any
	// RelayInfo is the raw option 82 of a relayed request.
	RelayInfo []byte
	// Reason says why a request was ignored or refused, or what failed.
	Reason string
}
