package dnsd

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

type addrs struct{ udp, tcp string }

// start runs s on 127.0.0.1 port 0 until the test ends and returns where
// it listens. Cleanup checks that Serve returns nil.
func start(t *testing.T, s *Server) addrs {
	t.Helper()
	s.Addr = "127.0.0.1:0"
	ready := make(chan addrs, 1)
	s.Listening = func(udp, tcp net.Addr) { ready <- addrs{udp.String(), tcp.String()} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v after cancel, want nil", err)
		}
	})
	select {
	case a := <-ready:
		return a
	case err := <-done:
		t.Fatalf("Serve: %v", err)
		return addrs{}
	}
}

// result is the comparable part of a reply.
type result struct {
	Rcode     string
	AA        bool
	Answer    []string
	Authority []string
}

func query(t *testing.T, a addrs, network, name string, qtype uint16) result {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	addr := a.udp
	if network == "tcp" {
		addr = a.tcp
	}
	c := &dns.Client{Net: network, Timeout: 10 * time.Second}
	in, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("query %s %s over %s: %v", name, dns.TypeToString[qtype], network, err)
	}
	if in.Id != m.Id {
		t.Errorf("reply id %d, want %d", in.Id, m.Id)
	}
	r := result{Rcode: dns.RcodeToString[in.Rcode], AA: in.Authoritative}
	for _, rr := range in.Answer {
		r.Answer = append(r.Answer, rr.String())
	}
	for _, rr := range in.Ns {
		r.Authority = append(r.Authority, dns.TypeToString[rr.Header().Rrtype]+" "+rr.Header().Name)
	}
	return r
}

func labTable() *Table {
	return RecordsFromNodes([]NodeAddr{
		{Name: "cn1", IP: "198.18.0.11", BMC: "198.18.1.11"},
		{Name: "cn2", IP: "198.18.0.12", BMC: "cn2-ipmi"},
	})
}

func TestServeAuthoritative(t *testing.T) {
	a := start(t, &Server{Domain: "Cluster.Lab", Records: labTable(), TTL: 30 * time.Second})
	soa := []string{"SOA cluster.lab."}
	tests := []struct {
		name    string
		network string
		qname   string
		qtype   uint16
		want    result
	}{
		{"A", "udp", "cn1.cluster.lab.", dns.TypeA, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"cn1.cluster.lab.\t30\tIN\tA\t198.18.0.11"}}},
		{"A over TCP", "tcp", "cn2.cluster.lab.", dns.TypeA, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"cn2.cluster.lab.\t30\tIN\tA\t198.18.0.12"}}},
		{"A case-insensitive", "udp", "CN1.cluster.LAB.", dns.TypeA, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"CN1.cluster.LAB.\t30\tIN\tA\t198.18.0.11"}}},
		{"A for BMC", "udp", "cn1-bmc.cluster.lab.", dns.TypeA, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"cn1-bmc.cluster.lab.\t30\tIN\tA\t198.18.1.11"}}},
		{"ANY gives A", "tcp", "cn1.cluster.lab.", dns.TypeANY, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"cn1.cluster.lab.\t30\tIN\tA\t198.18.0.11"}}},
		{"PTR", "udp", "11.0.18.198.in-addr.arpa.", dns.TypePTR, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"11.0.18.198.in-addr.arpa.\t30\tIN\tPTR\tcn1.cluster.lab."}}},
		{"PTR over TCP", "tcp", "12.0.18.198.IN-ADDR.ARPA.", dns.TypePTR, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"12.0.18.198.IN-ADDR.ARPA.\t30\tIN\tPTR\tcn2.cluster.lab."}}},
		{"PTR for BMC", "udp", "11.1.18.198.in-addr.arpa.", dns.TypePTR, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"11.1.18.198.in-addr.arpa.\t30\tIN\tPTR\tcn1-bmc.cluster.lab."}}},
		{"known address other type", "udp", "11.0.18.198.in-addr.arpa.", dns.TypeTXT, result{Rcode: "NOERROR", AA: true}},
		{"NXDOMAIN", "udp", "nosuch.cluster.lab.", dns.TypeA, result{Rcode: "NXDOMAIN", AA: true, Authority: soa}},
		{"NXDOMAIN BMC host name", "udp", "cn2-bmc.cluster.lab.", dns.TypeA, result{Rcode: "NXDOMAIN", AA: true, Authority: soa}},
		{"NXDOMAIN below a node", "tcp", "x.cn1.cluster.lab.", dns.TypeA, result{Rcode: "NXDOMAIN", AA: true, Authority: soa}},
		{"AAAA is NODATA", "udp", "cn1.cluster.lab.", dns.TypeAAAA, result{Rcode: "NOERROR", AA: true, Authority: soa}},
		{"MX is NODATA", "udp", "cn1.cluster.lab.", dns.TypeMX, result{Rcode: "NOERROR", AA: true, Authority: soa}},
		{"apex SOA", "udp", "cluster.lab.", dns.TypeSOA, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"cluster.lab.\t30\tIN\tSOA\tns.cluster.lab. hostmaster.cluster.lab. 1 3600 600 86400 30"}}},
		{"apex NS", "udp", "cluster.lab.", dns.TypeNS, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"cluster.lab.\t30\tIN\tNS\tns.cluster.lab."}}},
		{"apex A is NODATA", "udp", "cluster.lab.", dns.TypeA, result{Rcode: "NOERROR", AA: true, Authority: soa}},
		{"outside the zone REFUSED", "udp", "example.org.", dns.TypeA, result{Rcode: "REFUSED"}},
		{"outside the zone REFUSED over TCP", "tcp", "example.org.", dns.TypeA, result{Rcode: "REFUSED"}},
		{"suffix lookalike REFUSED", "udp", "cn1.notcluster.lab.", dns.TypeA, result{Rcode: "REFUSED"}},
		{"unknown address REFUSED", "udp", "99.0.18.198.in-addr.arpa.", dns.TypePTR, result{Rcode: "REFUSED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := query(t, a, tt.network, tt.qname, tt.qtype)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServeForwards(t *testing.T) {
	upstream := start(t, &Server{Domain: "upstream.test", TTL: 10 * time.Second,
		Records: RecordsFromNodes([]NodeAddr{{Name: "www", IP: "192.0.2.80"}})})
	// The first forwarder is a closed port: the server moves on to the next.
	a := start(t, &Server{Domain: "cluster.lab", Records: labTable(),
		Forwarders: []string{closedPort(t), upstream.udp}})
	tests := []struct {
		name    string
		network string
		qname   string
		qtype   uint16
		want    result
	}{
		{"A", "udp", "www.upstream.test.", dns.TypeA, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"www.upstream.test.\t10\tIN\tA\t192.0.2.80"}}},
		{"A over TCP", "tcp", "WWW.upstream.test.", dns.TypeA, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"WWW.upstream.test.\t10\tIN\tA\t192.0.2.80"}}},
		{"NXDOMAIN from upstream", "udp", "nosuch.upstream.test.", dns.TypeA, result{Rcode: "NXDOMAIN", AA: true,
			Authority: []string{"SOA upstream.test."}}},
		{"unknown address forwarded", "udp", "80.2.0.192.in-addr.arpa.", dns.TypePTR, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"80.2.0.192.in-addr.arpa.\t10\tIN\tPTR\twww.upstream.test."}}},
		{"own zone not forwarded", "udp", "cn1.cluster.lab.", dns.TypeA, result{Rcode: "NOERROR", AA: true,
			Answer: []string{"cn1.cluster.lab.\t60\tIN\tA\t198.18.0.11"}}},
		{"upstream refusal passed on", "udp", "example.org.", dns.TypeA, result{Rcode: "REFUSED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := query(t, a, tt.network, tt.qname, tt.qtype)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
		})
	}
}

// closedPort returns a loopback address where nothing listens on UDP or TCP.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestServeForwarderFailure(t *testing.T) {
	a := start(t, &Server{Domain: "cluster.lab", Forwarders: []string{closedPort(t)}, ForwardTimeout: 5 * time.Second})
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			got := query(t, a, network, "example.org.", dns.TypeA)
			if diff := cmp.Diff(result{Rcode: "SERVFAIL"}, got); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServeRecordsChangeWithoutRestart(t *testing.T) {
	var live Live
	a := start(t, &Server{Domain: "cluster.lab", Records: &live})
	steps := []struct {
		name  string
		nodes []NodeAddr
		want  result
	}{
		{"no records yet", nil, result{Rcode: "NXDOMAIN", AA: true, Authority: []string{"SOA cluster.lab."}}},
		{"node defined", []NodeAddr{{Name: "cn9", IP: "198.18.0.9"}},
			result{Rcode: "NOERROR", AA: true, Answer: []string{"cn9.cluster.lab.\t60\tIN\tA\t198.18.0.9"}}},
		{"ip changed", []NodeAddr{{Name: "cn9", IP: "198.18.0.99"}},
			result{Rcode: "NOERROR", AA: true, Answer: []string{"cn9.cluster.lab.\t60\tIN\tA\t198.18.0.99"}}},
		{"node removed", []NodeAddr{}, result{Rcode: "NXDOMAIN", AA: true, Authority: []string{"SOA cluster.lab."}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			live.Store(RecordsFromNodes(st.nodes))
			got := query(t, a, "udp", "cn9.cluster.lab.", dns.TypeA)
			if diff := cmp.Diff(st.want, got); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServeNoDomain(t *testing.T) {
	a := start(t, &Server{Records: labTable()})
	got := query(t, a, "udp", "11.0.18.198.in-addr.arpa.", dns.TypePTR)
	want := result{Rcode: "NOERROR", AA: true, Answer: []string{"11.0.18.198.in-addr.arpa.\t60\tIN\tPTR\tcn1."}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PTR (-want +got):\n%s", diff)
	}
	got = query(t, a, "udp", "cn1.cluster.lab.", dns.TypeA)
	if diff := cmp.Diff(result{Rcode: "REFUSED"}, got); diff != "" {
		t.Errorf("A (-want +got):\n%s", diff)
	}
}

func TestServeListenErrors(t *testing.T) {
	tests := []struct{ name, addr string }{
		{"no port", "127.0.0.1"},
		{"bad host", "256.0.0.1:0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{Addr: tt.addr}
			if err := s.Serve(context.Background()); err == nil {
				t.Errorf("Serve(%q) = nil, want an error", tt.addr)
			}
		})
	}
	t.Run("port in use", func(t *testing.T) {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		s := &Server{Addr: pc.LocalAddr().String()}
		err = s.Serve(context.Background())
		var opErr *net.OpError
		if !errors.As(err, &opErr) {
			t.Errorf("Serve on a used port = %v, want a *net.OpError", err)
		}
	})
}

func TestAnswerMessages(t *testing.T) {
	s := &Server{Domain: "cluster.lab", Records: labTable()}
	ctx := context.Background()

	resp := new(dns.Msg)
	resp.SetQuestion("cn1.cluster.lab.", dns.TypeA)
	resp.Response = true
	if got := s.answer(ctx, resp, "udp"); got != nil {
		t.Errorf("answer to a response = %v, want none", got)
	}

	notify := new(dns.Msg)
	notify.SetNotify("cluster.lab.")
	if got := s.answer(ctx, notify, "udp"); got == nil || got.Rcode != dns.RcodeNotImplemented {
		t.Errorf("answer to NOTIFY = %v, want NOTIMP", got)
	}

	two := new(dns.Msg)
	two.SetQuestion("cn1.cluster.lab.", dns.TypeA)
	two.Question = append(two.Question, two.Question[0])
	if got := s.answer(ctx, two, "udp"); got == nil || got.Rcode != dns.RcodeFormatError {
		t.Errorf("answer to two questions = %v, want FORMERR", got)
	}

	chaos := new(dns.Msg)
	chaos.SetQuestion("cn1.cluster.lab.", dns.TypeA)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	if got := s.answer(ctx, chaos, "udp"); got == nil || got.Rcode != dns.RcodeRefused {
		t.Errorf("answer to CHAOS = %v, want REFUSED", got)
	}

	if got := s.respond(ctx, []byte{1, 2, 3}, "udp"); got != nil {
		t.Errorf("respond to garbage = %v, want nil", got)
	}
}

func FuzzHandle(f *testing.F) {
	seeds := []struct {
		name  string
		qtype uint16
	}{
		{"cn1.cluster.lab.", dns.TypeA},
		{"CN1-bmc.Cluster.Lab.", dns.TypeA},
		{"cn1.cluster.lab.", dns.TypeAAAA},
		{"nosuch.cluster.lab.", dns.TypeA},
		{"cluster.lab.", dns.TypeSOA},
		{"cluster.lab.", dns.TypeNS},
		{"cluster.lab.", dns.TypeANY},
		{"11.0.18.198.in-addr.arpa.", dns.TypePTR},
		{"99.0.18.198.in-addr.arpa.", dns.TypePTR},
		{"example.org.", dns.TypeA},
	}
	for _, sd := range seeds {
		m := new(dns.Msg)
		m.SetQuestion(sd.name, sd.qtype)
		raw, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		m.SetEdns0(4096, true)
		if raw, err = m.Pack(); err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte{})
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	// No forwarders: the handler never touches the network.
	s := &Server{Domain: "cluster.lab", Records: labTable()}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, network := range []string{"udp", "tcp"} {
			out := s.respond(ctx, raw, network)
			req := new(dns.Msg)
			if err := req.Unpack(raw); err != nil {
				if out != nil {
					t.Fatalf("reply to unparsable input %x", raw)
				}
				continue
			}
			if out == nil {
				if !req.Response {
					t.Fatalf("no reply to a parsable query %v", req)
				}
				continue
			}
			reply := new(dns.Msg)
			if err := reply.Unpack(out); err != nil {
				t.Fatalf("reply does not parse: %v", err)
			}
			if reply.Id != req.Id || !reply.Response {
				t.Fatalf("reply header %v does not answer %v", reply.MsgHdr, req.MsgHdr)
			}
			if network == "udp" && len(out) > 65535 {
				t.Fatalf("reply too large: %d bytes", len(out))
			}
		}
	})
}
