package dhcpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
)

// ServerPort is the DHCP server port.
const ServerPort = 67

// ProxyPort is the port a PXE client sends its ProxyDHCP REQUEST to (the
// PXE boot server port, PXE 2.1 §2.2).
const ProxyPort = 4011

// serverWorkers is how many requests one Server handles at once. Each
// worker reads, handles and answers one packet at a time with its own
// buffer and a grown stack; many of them let the lease commits of
// concurrent requests share one transaction (Committer).
const serverWorkers = 128

// readBuffer is the socket receive buffer Serve asks for (the kernel caps
// it at net.core.rmem_max): room for bursts while workers wait for a
// lease commit.
const readBuffer = 4 << 20

// Server serves Handler on one interface (SO_BINDTODEVICE, port 67,
// broadcast replies to clients without an address, replies to the relay
// for relayed requests). It needs CAP_NET_BIND_SERVICE and CAP_NET_RAW.
//
// With Port set to ProxyPort it is instead the ProxyDHCP port: a UDP
// socket on Network.ServerIP:4011 (SO_REUSEPORT, not bound to the
// interface, so relayed clients reach it too and several Servers may share
// the address) whose requests go to Handler.HandleProxy and whose replies
// go back to the sender's address and port. Run it next to port 67 for
// ProxyDHCP networks; it answers PXE clients of any served network.
type Server struct {
	// Interface is the interface to bind to (site dhcpinterfaces / mgtifname).
	Interface string
	// Network is the network of Interface, passed to Handler.Handle for
	// direct (not relayed) requests.
	Network Network
	// Handler answers the requests; required.
	Handler *Handler
	// Log receives socket and handler errors; nil discards them.
	Log *slog.Logger
	// Events receives what the socket layer adds to the handler's events:
	// EventError when a reply cannot be sent. nil discards them.
	Events func(Event)
	// Conn, if set, is used instead of opening a socket on Interface
	// (tests, or a socket handed over by the caller). Serve closes it.
	Conn net.PacketConn
	// Port is ServerPort (also when 0) or ProxyPort.
	Port int
}

// Serve answers requests until ctx is done; it returns nil then, or the
// error that stopped it.
func (s *Server) Serve(ctx context.Context) error {
	if s.Handler == nil {
		return errors.New("dhcpd: server without handler")
	}
	proxy := false
	switch s.Port {
	case 0, ServerPort:
	case ProxyPort:
		proxy = true
	default:
		return fmt.Errorf("dhcpd: server port %d is neither %d nor %d", s.Port, ServerPort, ProxyPort)
	}
	what := "dhcp on " + s.Interface
	if proxy {
		what = "proxydhcp on " + s.Interface
	}
	conn := s.Conn
	if conn == nil {
		addr := &net.UDPAddr{IP: net.IPv4zero, Port: ServerPort}
		iface := s.Interface
		if proxy {
			ip := s.Network.ServerIP
			if !ip.IsValid() || !ip.Is4() {
				return fmt.Errorf("%s: network %q has no IPv4 server address", what, s.Network.Name)
			}
			addr, iface = &net.UDPAddr{IP: ip.AsSlice(), Port: ProxyPort}, ""
		}
		c, err := server4.NewIPv4UDPConn(iface, addr)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		conn = c
	}
	if rb, ok := conn.(interface{ SetReadBuffer(int) error }); ok {
		_ = rb.SetReadBuffer(readBuffer) // best effort
	}
	noLoopback(conn)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()

	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for range serverWorkers {
		wg.Go(func() {
			buf := make([]byte, 4096)
			for {
				n, peer, err := conn.ReadFrom(buf)
				if err != nil {
					once.Do(func() { firstErr = err; _ = conn.Close() })
					return
				}
				req, err := dhcpv4.FromBytes(buf[:n])
				if err != nil {
					continue
				}
				s.answer(conn, peer, req, proxy)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, firstErr)
}

// answer handles one request from peer and sends the reply, if any.
func (s *Server) answer(conn net.PacketConn, peer net.Addr, req *dhcpv4.DHCPv4, proxy bool) {
	handle := s.Handler.Handle
	if proxy {
		handle = s.Handler.HandleProxy
	}
	resp, err := handle(req, s.Network)
	if err != nil {
		s.logError("dhcp request", err, req)
	}
	if resp == nil {
		return
	}
	dst := peer
	if !proxy {
		if relay := addr4(req.GatewayIPAddr); relay.IsValid() && !relay.IsUnspecified() {
			dst = &net.UDPAddr{IP: relay.AsSlice(), Port: ServerPort}
		} else if u, ok := peer.(*net.UDPAddr); ok && (u.IP == nil || u.IP.IsUnspecified()) {
			// The client has no address yet: broadcast on the link.
			dst = &net.UDPAddr{IP: net.IPv4bcast, Port: u.Port}
		}
	}
	if _, err := conn.WriteTo(resp.ToBytes(), dst); err != nil {
		s.logError("dhcp reply to "+dst.String(), err, req)
		if s.Events != nil {
			s.Events(Event{Time: time.Now(), Kind: EventError, MAC: slices.Clone(req.ClientHWAddr), Network: s.Network.Name,
				IP: addr4(resp.YourIPAddr), Reason: "send reply: " + err.Error()})
		}
	}
}

func (s *Server) logError(msg string, err error, req *dhcpv4.DHCPv4) {
	if s.Log != nil {
		s.Log.Error(msg, "interface", s.Interface, "mac", req.ClientHWAddr.String(), "err", err)
	}
}
