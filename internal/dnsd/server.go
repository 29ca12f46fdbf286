// Package dnsd is drover's DNS server: authoritative for the site domain,
// answering A and PTR queries for nodes from live records, and forwarding
// every other name to configured forwarders or refusing it.
package dnsd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Defaults used when the corresponding Server field is zero.
const (
	DefaultTTL            = 60 * time.Second
	DefaultForwardTimeout = 2 * time.Second
)

// Server answers DNS over UDP and TCP on one address.
//
// Inside Domain it is authoritative: HOST.Domain has the A records
// Records.Addrs(HOST) gives, the apex has SOA and NS, any other name is
// NXDOMAIN and any other type NODATA (both with the SOA in the authority
// section). HOST must be a single label. A PTR query for an address Records
// knows is answered with HOST.Domain. Every other query goes to Forwarders,
// or is REFUSED when there are none.
type Server struct {
	// Addr is the host:port to listen on, for UDP and TCP alike. Port 0
	// picks a free port that both can use.
	Addr string
	// Domain is the zone the server is authoritative for, e.g.
	// "cluster.lab". Empty means no zone: only PTR queries for known
	// addresses are answered.
	Domain string
	// Records holds the names; nil means none.
	Records Records
	// Forwarders are the upstream servers ("ip" or "ip:port") tried in
	// order for names outside Domain. Empty means such queries are REFUSED.
	Forwarders []string
	// ForwardTimeout bounds each attempt at a forwarder; zero means
	// DefaultForwardTimeout.
	ForwardTimeout time.Duration
	// TTL of the answers, also the negative-caching TTL in the SOA; zero
	// means DefaultTTL.
	TTL time.Duration
	// Log receives errors and forwarding failures; nil discards them.
	Log *slog.Logger
	// Listening, if set, is called once both sockets are bound and served,
	// with their addresses.
	Listening func(udp, tcp net.Addr)
}

// Serve listens on Addr and answers queries until ctx ends, then returns nil.
// It returns an error if it cannot listen or a listener fails.
func (s *Server) Serve(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil
	}
	pc, ln, err := s.listen(ctx)
	if err != nil {
		return err
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		network := "udp"
		if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
			network = "tcp"
		}
		if reply := s.answer(ctx, r, network); reply != nil {
			if err := w.WriteMsg(reply); err != nil {
				s.log().Debug("dns write failed", "remote", w.RemoteAddr().String(), "err", err)
			}
		}
	})
	servers := []*dns.Server{
		{PacketConn: pc, Handler: handler},
		{Listener: ln, Handler: handler},
	}
	errc := make(chan error, len(servers))
	var started sync.WaitGroup
	var wg sync.WaitGroup
	for _, srv := range servers {
		started.Add(1)
		var once sync.Once
		srv.NotifyStartedFunc = func() { once.Do(started.Done) }
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := srv.ActivateAndServe()
			once.Do(started.Done)
			errc <- err
		}()
	}
	started.Wait()
	if s.Listening != nil {
		s.Listening(pc.LocalAddr(), ln.Addr())
	}
	var result error
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil {
			result = fmt.Errorf("dns server: %w", err)
		} else {
			result = errors.New("dns server: listener stopped")
		}
	}
	for _, srv := range servers {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.ShutdownContext(shutdownCtx) // fails only for a server that already stopped
		cancel()
	}
	pc.Close()
	ln.Close()
	wg.Wait()
	return result
}

// listen binds UDP and then TCP on the same port; with port 0 it retries
// when the port the kernel chose for UDP is taken for TCP.
func (s *Server) listen(ctx context.Context) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns listen address %q: %w", s.Addr, err)
	}
	var lc net.ListenConfig
	for attempt := 0; ; attempt++ {
		pc, err := lc.ListenPacket(ctx, "udp", s.Addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dns listen udp: %w", err)
		}
		_, udpPort, _ := net.SplitHostPort(pc.LocalAddr().String())
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, udpPort))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" || attempt >= 9 {
			return nil, nil, fmt.Errorf("dns listen tcp: %w", err)
		}
	}
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s.Log
}

func (s *Server) ttl() uint32 {
	if s.TTL <= 0 {
		return uint32(DefaultTTL / time.Second)
	}
	return uint32(s.TTL / time.Second)
}

// respond answers one raw DNS message as received on network ("udp" or
// "tcp"). It returns nil when there is to be no reply: input that does not
// parse as a DNS message, responses, and replies that cannot be packed.
func (s *Server) respond(ctx context.Context, raw []byte, network string) []byte {
	req := new(dns.Msg)
	if err := req.Unpack(raw); err != nil {
		return nil
	}
	reply := s.answer(ctx, req, network)
	if reply == nil {
		return nil
	}
	out, err := reply.Pack()
	if err != nil {
		s.log().Warn("dns reply does not pack", "question", req.Question, "err", err)
		return nil
	}
	return out
}

// answer builds the reply to req, or returns nil for no reply.
func (s *Server) answer(ctx context.Context, req *dns.Msg, network string) *dns.Msg {
	if req.Response {
		return nil
	}
	reply := new(dns.Msg)
	reply.SetReply(req)
	reply.RecursionAvailable = len(s.Forwarders) > 0
	if req.Opcode != dns.OpcodeQuery {
		reply.SetRcode(req, dns.RcodeNotImplemented)
		return reply
	}
	if len(req.Question) != 1 {
		reply.SetRcode(req, dns.RcodeFormatError)
		return reply
	}
	q := req.Question[0]
	name := strings.ToLower(dns.CanonicalName(q.Name))
	zone := ""
	if s.Domain != "" {
		zone = strings.ToLower(dns.CanonicalName(s.Domain))
	}
	switch {
	case zone != "" && dns.IsSubDomain(zone, name):
		if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
			reply.SetRcode(req, dns.RcodeRefused)
			break
		}
		s.authoritative(reply, q, name, zone)
	case s.reverse(reply, q, name, zone):
	default:
		return s.forward(ctx, req, network)
	}
	if network == "udp" {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		reply.Truncate(size)
	}
	return reply
}

func (s *Server) authoritative(reply *dns.Msg, q dns.Question, name, zone string) {
	reply.Authoritative = true
	ttl := s.ttl()
	soa := &dns.SOA{
		Hdr:     dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns:      "ns." + zone,
		Mbox:    "hostmaster." + zone,
		Serial:  1,
		Refresh: 3600,
		Retry:   600,
		Expire:  86400,
		Minttl:  ttl,
	}
	if name == zone {
		if q.Qtype == dns.TypeSOA || q.Qtype == dns.TypeANY {
			soa := dns.Copy(soa).(*dns.SOA)
			soa.Hdr.Name = q.Name
			reply.Answer = append(reply.Answer, soa)
		}
		if q.Qtype == dns.TypeNS || q.Qtype == dns.TypeANY {
			reply.Answer = append(reply.Answer, &dns.NS{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: ttl},
				Ns:  "ns." + zone,
			})
		}
		if len(reply.Answer) == 0 {
			reply.Ns = append(reply.Ns, soa)
		}
		return
	}
	host := strings.TrimSuffix(name, "."+zone)
	var addrs []netip.Addr
	if !strings.Contains(host, ".") && s.Records != nil {
		addrs = s.Records.Addrs(host)
	}
	if len(addrs) == 0 {
		reply.Rcode = dns.RcodeNameError
		reply.Ns = append(reply.Ns, soa)
		return
	}
	if q.Qtype == dns.TypeA || q.Qtype == dns.TypeANY {
		for _, ip := range addrs {
			if !ip.Is4() {
				continue
			}
			reply.Answer = append(reply.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl},
				A:   ip.AsSlice(),
			})
		}
	}
	if len(reply.Answer) == 0 {
		reply.Ns = append(reply.Ns, soa)
	}
}

// reverse answers a query for the in-addr.arpa name of an address Records
// knows and reports whether it did.
func (s *Server) reverse(reply *dns.Msg, q dns.Question, name, zone string) bool {
	if s.Records == nil || q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		return false
	}
	ip, ok := reverseAddr(name)
	if !ok {
		return false
	}
	host, ok := s.Records.Host(ip)
	if !ok || !validLabel(host) {
		return false
	}
	reply.Authoritative = true
	if q.Qtype == dns.TypePTR || q.Qtype == dns.TypeANY {
		target := host + "."
		if zone != "" {
			target = host + "." + zone
		}
		reply.Answer = append(reply.Answer, &dns.PTR{
			Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: s.ttl()},
			Ptr: target,
		})
	}
	return true
}

// reverseAddr parses "d.c.b.a.in-addr.arpa." into a.b.c.d.
func reverseAddr(name string) (netip.Addr, bool) {
	rest, ok := strings.CutSuffix(name, ".in-addr.arpa.")
	if !ok {
		return netip.Addr{}, false
	}
	labels := strings.Split(rest, ".")
	if len(labels) != 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, l := range labels {
		if len(l) == 0 || len(l) > 3 || (len(l) > 1 && l[0] == '0') {
			return netip.Addr{}, false
		}
		n := 0
		for j := 0; j < len(l); j++ {
			if l[j] < '0' || l[j] > '9' {
				return netip.Addr{}, false
			}
			n = n*10 + int(l[j]-'0')
		}
		if n > 255 {
			return netip.Addr{}, false
		}
		b[3-i] = byte(n)
	}
	return netip.AddrFrom4(b), true
}

// forward relays req to the forwarders in order and returns the first
// answer, SERVFAIL if none answers, or REFUSED if there are no forwarders.
func (s *Server) forward(ctx context.Context, req *dns.Msg, network string) *dns.Msg {
	if len(s.Forwarders) == 0 {
		reply := new(dns.Msg)
		reply.SetRcode(req, dns.RcodeRefused)
		return reply
	}
	timeout := s.ForwardTimeout
	if timeout <= 0 {
		timeout = DefaultForwardTimeout
	}
	client := &dns.Client{Net: network, Timeout: timeout}
	out := req.Copy()
	out.Id = dns.Id()
	for _, fwd := range s.Forwarders {
		addr := fwd
		if _, _, err := net.SplitHostPort(fwd); err != nil {
			addr = net.JoinHostPort(fwd, "53")
		}
		attemptCtx, cancel := context.WithTimeout(ctx, timeout)
		in, _, err := client.ExchangeContext(attemptCtx, out, addr)
		cancel()
		if err != nil {
			s.log().Warn("dns forwarder failed", "forwarder", addr, "question", req.Question[0].String(), "err", err)
			continue
		}
		in.Id = req.Id
		return in
	}
	reply := new(dns.Msg)
	reply.SetRcode(req, dns.RcodeServerFailure)
	reply.RecursionAvailable = true
	return reply
}
