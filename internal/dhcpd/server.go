package dhcpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
)

// ServerPort is the DHCP server port.
const ServerPort = 67

// Server serves Handler on one interface (SO_BINDTODEVICE, port 67,
// broadcast replies), as server4 does. It needs CAP_NET_BIND_SERVICE and
// CAP_NET_RAW.
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
}

// Serve answers requests until ctx is done; it returns nil then, or the
// error that stopped it.
func (s *Server) Serve(ctx context.Context) error {
	if s.Handler == nil {
		return errors.New("dhcpd: server without handler")
	}
	var opts []server4.ServerOpt
	if s.Conn != nil {
		opts = append(opts, server4.WithConn(s.Conn))
	}
	srv, err := server4.NewServer(s.Interface, &net.UDPAddr{IP: net.IPv4zero, Port: ServerPort}, s.serve, opts...)
	if err != nil {
		return fmt.Errorf("dhcp on %s: %w", s.Interface, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = srv.Close() })
	defer stop()
	err = srv.Serve()
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("dhcp on %s: %w", s.Interface, err)
}

// serve is the server4 handler for one packet.
func (s *Server) serve(conn net.PacketConn, peer net.Addr, req *dhcpv4.DHCPv4) {
	resp, err := s.Handler.Handle(req, s.Network)
	if err != nil {
		s.logError("dhcp request", err, req)
	}
	if resp == nil {
		return
	}
	dst := peer
	if relay := addr4(req.GatewayIPAddr); relay.IsValid() && !relay.IsUnspecified() {
		dst = &net.UDPAddr{IP: relay.AsSlice(), Port: ServerPort}
	}
	if _, err := conn.WriteTo(resp.ToBytes(), dst); err != nil {
		s.logError("dhcp reply to "+dst.String(), err, req)
		if s.Events != nil {
			s.Events(Event{Time: time.Now(), Kind: EventError, MAC: req.ClientHWAddr, Network: s.Network.Name,
				IP: addr4(resp.YourIPAddr), Reason: "send reply: " + err.Error()})
		}
	}
}

func (s *Server) logError(msg string, err error, req *dhcpv4.DHCPv4) {
	if s.Log != nil {
		s.Log.Error(msg, "interface", s.Interface, "mac", req.ClientHWAddr.String(), "err", err)
	}
}
