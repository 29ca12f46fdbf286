// Package netboot runs drover's network boot services — DHCP (dhcpd),
// TFTP (tftpd), HTTP boot (httpboot), DNS (dnsd) and IPv6 router
// advertisements (ra) — where the inventory says: on the interfaces in
// site.dhcpinterfaces, for the network objects on them. It recomputes that
// (Desired) whenever site, network, boottarget or osimage objects change or
// the host's interfaces do, and starts, stops or restarts only the services
// whose settings changed. It connects the services to the store: nodes by
// MAC from the in-memory index, leases with group commit, boot events in
// batches, and node status from boot reports.
//
// Where a DHCP request becomes a boot plan: dhcpd.Handler.Handle looks the
// MAC up through nodes.NodeByMAC and calls boot.Decide; httpboot renders
// the same plan's iPXE script.
package netboot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"drover.dev/drover/internal/boot"
	"drover.dev/drover/internal/dhcpd"
	"drover.dev/drover/internal/dnsd"
	"drover.dev/drover/internal/httpboot"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/ra"
	"drover.dev/drover/internal/store"
	"drover.dev/drover/internal/tftpd"
)

// Service runs the boot services. Set the fields, then call Serve once.
type Service struct {
	Store    *store.Store // required
	Services Services     // which services may run at all
	DataDir  string       // absolute; relative kernel paths are under it
	// TFTPRoot is the directory TFTP serves and httpboot's loader
	// directory; tftpd.DefaultRoot (/usr/lib/ipxe) when empty.
	TFTPRoot string
	Log      *slog.Logger // nil discards
	// Interfaces lists the host's interfaces; nil means the real ones.
	Interfaces func() ([]Iface, error)
	// Rescan is how often interfaces are re-read; 0 means 5 s.
	Rescan time.Duration
	// Ready, if set, is called after each reconfiguration with the
	// configuration now served (tests wait on it).
	Ready func(Config)
	// Discoverer takes the discovery agents' registrations on the HTTP
	// boot server; nil refuses them.
	Discoverer httpboot.Discoverer
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Serve runs until ctx ends.
func (s *Service) Serve(ctx context.Context) error {
	if s.Store == nil {
		return errors.New("netboot: no store")
	}
	log := s.log()
	ls, err := loadLeases(ctx, s.Store, log.With("svc", "leases"))
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	key, err := tokenKey(ctx, s.Store)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	tokens, err := httpboot.NewTokens(key)
	if err != nil {
		return err
	}
	rt := &runtime{
		svc:     s,
		log:     log,
		leases:  ls,
		tokens:  tokens,
		rec:     newRecorder(s.Store, log.With("svc", "events")),
		records: &dnsd.Live{},
		units:   map[string]*unit{},
		reports: make(chan statusUpdate, 1024),
	}
	rt.records.Store(dnsd.RecordsFromNodes(nil))
	rt.booters.seen = map[string]time.Time{}

	// The writers outlive the services so the last events and leases land.
	wctx, stopWriters := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, run := range []func(context.Context) error{ls.run, rt.rec.run, rt.statusWriter} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = run(wctx) }()
	}
	err = rt.supervise(ctx)
	stopWriters()
	wg.Wait()
	return err
}

// tokenKey is the key that signs per-node boot URLs, kept in the store so
// every server on a shared database signs alike.
func tokenKey(ctx context.Context, st *store.Store) ([]byte, error) {
	const metaKey = "boot_token_key"
	v, ok, err := st.Meta(ctx, metaKey)
	if err != nil {
		return nil, err
	}
	if ok {
		if k, err := hex.DecodeString(v); err == nil && len(k) >= 32 {
			return k, nil
		}
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := st.SetMeta(ctx, metaKey, hex.EncodeToString(k)); err != nil {
		return nil, err
	}
	return k, nil
}

// runtime is one Serve call's state.
type runtime struct {
	svc     *Service
	log     *slog.Logger
	leases  *leases
	tokens  *httpboot.Tokens
	rec     *recorder
	records *dnsd.Live
	units   map[string]*unit
	reports chan statusUpdate

	settings struct {
		sync.RWMutex
		boot boot.Settings
	}
	// booters are the unknown MACs seen network booting, and when.
	booters struct {
		sync.Mutex
		seen map[string]time.Time
	}
}

// unit is one running service instance.
type unit struct {
	spec   any
	cancel context.CancelFunc
	done   chan struct{}
}

// relevant reports whether a change of an object of type t can change the
// boot services' configuration.
func relevant(t inventory.Type) bool {
	switch t {
	case inventory.Site, inventory.Network, inventory.BootTarget, inventory.OSImage:
		return true
	}
	return false
}

func (rt *runtime) supervise(ctx context.Context) error {
	sub := rt.svc.Store.Subscribe(ctx)
	rescan := rt.svc.Rescan
	if rescan <= 0 {
		rescan = 5 * time.Second
	}
	tick := time.NewTicker(rescan)
	defer tick.Stop()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	var last *Config
	// DNS records are rebuilt from every node, so node changes (reports
	// setting status, mass edits) are coalesced: the wait after a change is
	// ten times what the last rebuild took, between 50 ms and 2 s.
	dnsTimer := time.NewTimer(time.Hour)
	dnsTimer.Stop()
	dnsPending := false
	dnsDelay := 50 * time.Millisecond
	rebuildDNS := func() {
		if last != nil && last.Services.DNS && len(last.Links) > 0 {
			start := time.Now()
			rt.records.Store(dnsRecords(rt.svc.Store))
			dnsDelay = min(max(10*time.Since(start), 50*time.Millisecond), 2*time.Second)
		}
	}
	reconcile := func() {
		cfg, err := rt.desired()
		if err != nil {
			rt.log.Error("boot services: reading interfaces", "err", err)
			return
		}
		if last != nil && reflect.DeepEqual(*last, cfg) {
			return
		}
		rt.apply(ctx, cfg, last)
		last = &cfg
		rebuildDNS()
		if rt.svc.Ready != nil {
			rt.svc.Ready(cfg)
		}
	}
	reconcile()
	for {
		select {
		case <-ctx.Done():
			rt.stopAll()
			return nil
		case ev, ok := <-sub:
			if !ok {
				rt.stopAll()
				return nil
			}
			if relevant(ev.Type) {
				debounce.Reset(100 * time.Millisecond)
			}
			if (ev.Type == inventory.Node || ev.Type == inventory.Group || ev.Type == inventory.Site) && !dnsPending {
				dnsPending = true
				dnsTimer.Reset(dnsDelay)
			}
		case <-dnsTimer.C:
			dnsPending = false
			rebuildDNS()
		case <-debounce.C:
			reconcile()
		case <-tick.C:
			reconcile()
		}
	}
}

// desired reads the inventory and interfaces.
func (rt *runtime) desired() (Config, error) {
	st := rt.svc.Store
	list := rt.svc.Interfaces
	if list == nil {
		list = HostInterfaces
	}
	ifaces, err := list()
	if err != nil {
		return Config{}, err
	}
	in := Inputs{
		Site:        siteAttrs(st),
		Networks:    st.List(inventory.Network),
		BootTargets: map[string]inventory.Resolved{},
		Osimages:    st.List(inventory.OSImage),
		Ifaces:      ifaces,
		Services:    rt.svc.Services,
		DataDir:     rt.svc.DataDir,
		TFTPRoot:    rt.svc.TFTPRoot,
	}
	if in.TFTPRoot == "" {
		in.TFTPRoot = tftpd.DefaultRoot
	}
	for _, bt := range st.List(inventory.BootTarget) {
		in.BootTargets[bt.Name] = inventory.Resolved(bt.Attrs)
	}
	return Desired(in), nil
}

func siteAttrs(st *store.Store) inventory.Resolved {
	for _, o := range st.List(inventory.Site) {
		return inventory.Resolved(o.Attrs)
	}
	return inventory.Resolved{}
}

// HostInterfaces lists the host's interfaces that are up, with their addresses.
func HostInterfaces() ([]Iface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []Iface
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		ifc := Iface{Name: i.Name, MAC: i.HardwareAddr}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok {
					ones, _ := n.Mask.Size()
					ifc.Addrs = append(ifc.Addrs, netip.PrefixFrom(ip.Unmap(), ones))
				}
			}
		}
		out = append(out, ifc)
	}
	return out, nil
}

// apply starts, stops and restarts units to match cfg.
func (rt *runtime) apply(ctx context.Context, cfg Config, last *Config) {
	rt.settings.Lock()
	rt.settings.boot = cfg.Boot
	rt.settings.Unlock()
	if last == nil || !slices.Equal(last.Problems, cfg.Problems) {
		for _, p := range cfg.Problems {
			rt.log.Warn("boot services: configuration problem", "problem", p)
		}
	}
	want := rt.plan(cfg)
	for key, u := range rt.units {
		if w, ok := want[key]; ok && reflect.DeepEqual(w.spec, u.spec) {
			continue
		}
		rt.stop(key, u)
	}
	for key, w := range want {
		if _, ok := rt.units[key]; ok {
			continue
		}
		uctx, cancel := context.WithCancel(ctx)
		u := &unit{spec: w.spec, cancel: cancel, done: make(chan struct{})}
		rt.units[key] = u
		go rt.run(uctx, key, w.serve, u.done)
	}
	if cfg.Idle != "" {
		rt.log.Info("boot services idle: no DHCP, TFTP, HTTP boot, DNS or RA is served", "why", cfg.Idle)
		return
	}
	keys := make([]string, 0, len(rt.units))
	for k := range rt.units {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	rt.log.Info("boot services configured", "services", strings.Join(keys, " "))
}

// stop cancels a unit and waits briefly for it to let go of its sockets.
func (rt *runtime) stop(key string, u *unit) {
	u.cancel()
	select {
	case <-u.done:
	case <-time.After(3 * time.Second):
		rt.log.Warn("boot service still stopping", "service", key)
	}
	delete(rt.units, key)
}

func (rt *runtime) stopAll() {
	for key, u := range rt.units {
		u.cancel()
		select {
		case <-u.done:
		case <-time.After(10 * time.Second):
			rt.log.Warn("boot service did not stop in time", "service", key)
		}
	}
}

// run serves one unit, restarting it with backoff when it fails (an
// address not yet configured, a port in use) until ctx ends.
func (rt *runtime) run(ctx context.Context, key string, serve func(context.Context) error, done chan struct{}) {
	defer close(done)
	backoff := time.Second
	for {
		err := serve(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("stopped")
		}
		rt.log.Error("boot service failed; retrying", "service", key, "in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

type wantUnit struct {
	spec  any
	serve func(context.Context) error
}

// plan maps cfg to the units it needs, keyed "svc/where".
func (rt *runtime) plan(cfg Config) map[string]wantUnit {
	want := map[string]wantUnit{}
	if cfg.Idle != "" {
		return want
	}
	var handler *dhcpd.Handler
	handlerFor := func() *dhcpd.Handler {
		if handler == nil {
			handler = &dhcpd.Handler{
				Nodes:    nodes{rt.svc.Store},
				Leases:   rt.leases,
				Networks: cfg.Networks,
				Boot:     cfg.Boot,
				Token:    rt.tokens.Sign,
				Events:   rt.dhcpEvent,
			}
		}
		return handler
	}
	who := rt.who
	for _, l := range cfg.Links {
		if l.DHCP {
			type dhcpSpec struct {
				Link     Link
				Networks []dhcpd.Network
				Boot     boot.Settings
			}
			srv := &dhcpd.Server{Interface: l.Iface, Network: l.Network, Handler: handlerFor(),
				Log: rt.log.With("svc", "dhcpd"), Events: rt.dhcpEvent}
			want["dhcp/"+l.Iface] = wantUnit{spec: dhcpSpec{l, cfg.Networks, cfg.Boot}, serve: srv.Serve}
			if l.Proxy {
				px := &dhcpd.Server{Interface: l.Iface, Network: l.Network, Handler: handlerFor(), Port: dhcpd.ProxyPort,
					Log: rt.log.With("svc", "proxydhcp"), Events: rt.dhcpEvent}
				want["proxydhcp/"+l.Iface] = wantUnit{spec: dhcpSpec{l, cfg.Networks, cfg.Boot}, serve: px.Serve}
			}
		}
		if l.RA {
			snd := &ra.Sender{Interface: l.Iface, MTU: uint32(l.MTU), Log: rt.log.With("svc", "ra"), Events: rt.raEvent}
			want["ra/"+l.Iface] = wantUnit{spec: l.Iface, serve: snd.Serve}
		}
		ip := l.ServerIP.String()
		if cfg.Services.TFTP {
			addr := net.JoinHostPort(ip, "69")
			srv := &tftpd.Server{Root: cfg.TFTPRoot, Addr: addr, Log: rt.log.With("svc", "tftpd"),
				Events: func(e tftpd.Event) { rt.rec.add(tftpEvent(e, who)) }}
			want["tftp/"+addr] = wantUnit{spec: [2]string{addr, cfg.TFTPRoot}, serve: srv.Serve}
		}
		if cfg.Services.HTTP {
			addr := net.JoinHostPort(ip, strconv.Itoa(int(cfg.Boot.HTTPPort)))
			srv := &httpboot.Server{Addr: addr, Nodes: nodes{rt.svc.Store}, Tokens: rt.tokens,
				Settings: rt.bootSettings, LoaderDir: cfg.TFTPRoot, FileRoots: cfg.FileRoots,
				Log: rt.log, Events: rt.httpEvent, Discoverer: rt.svc.Discoverer}
			type httpSpec struct {
				Addr, Loaders string
				Roots         []string
			}
			want["http/"+addr] = wantUnit{spec: httpSpec{addr, cfg.TFTPRoot, cfg.FileRoots}, serve: srv.Serve}
		}
		if cfg.Services.DNS && (cfg.Domain != "" || l.Network.Domain != "") {
			domain := cfg.Domain
			if domain == "" {
				domain = l.Network.Domain
			}
			addr := net.JoinHostPort(ip, "53")
			srv := &dnsd.Server{Addr: addr, Domain: domain, Records: rt.records, Forwarders: cfg.Forwarders,
				Log: rt.log.With("svc", "dnsd")}
			type dnsSpec struct {
				Addr, Domain string
				Forwarders   []string
			}
			want["dns/"+addr] = wantUnit{spec: dnsSpec{addr, domain, cfg.Forwarders}, serve: srv.Serve}
		}
	}
	return want
}

func (rt *runtime) bootSettings() boot.Settings {
	rt.settings.RLock()
	defer rt.settings.RUnlock()
	return rt.settings.boot
}

// who names the node and MAC holding a lease on ip (for TFTP and HTTP
// events, which only know the client address).
func (rt *runtime) who(ip netip.Addr) (node, mac string) {
	if l, ok := rt.leases.ByIP(ip.Unmap()); ok {
		return l.Node, l.MAC.String()
	}
	if o, ok := rt.svc.Store.NodeByIP(ip.Unmap().String()); ok {
		return o.Name, ""
	}
	return "", ""
}

// dhcpEvent records a DHCP step. Every step of a node or of a network
// boot client (PXE, iPXE, UEFI HTTP Boot: it sends its architecture) is
// recorded, and of the OS that machine boots (an unknown machine's
// discovery environment) for an hour after. A plain DHCP client nothing
// else is known of (a laptop, a printer, a DHCP storm) is recorded by its
// outcome only — ack, nak, release, decline, refusal, error — so it cannot
// fill the log with four rows per client.
func (rt *runtime) dhcpEvent(e dhcpd.Event) {
	if e.Node == "" && e.Reason == "" && e.MAC != nil {
		key := string(e.MAC)
		rt.booters.Lock()
		if e.Arch != "" {
			if len(rt.booters.seen) >= maxBooters {
				clear(rt.booters.seen) // a flood of unknown PXE clients: start over
			}
			rt.booters.seen[key] = e.Time
		}
		seen, ok := rt.booters.seen[key]
		rt.booters.Unlock()
		if !ok || e.Time.Sub(seen) > time.Hour {
			switch e.Kind {
			case dhcpd.EventDiscover, dhcpd.EventOffer, dhcpd.EventRequest:
				return
			}
		}
	}
	rt.rec.add(dhcpEvent(e))
}

// maxBooters bounds the set of unknown MACs recently seen network booting.
const maxBooters = 1 << 16

// raEvent records router solicitations (a booting iPXE asks for a router)
// on the soliciting node's timeline, and failures.
func (rt *runtime) raEvent(e ra.Event) {
	if e.Kind != ra.EventSolicit && e.Kind != ra.EventError {
		return
	}
	ev := store.BootEvent{Time: e.Time, Kind: string(e.Kind), Reason: e.Reason,
		Detail: joinDetail("interface", e.Interface)}
	if e.Peer.IsValid() {
		ev.Remote = e.Peer.String()
	}
	if e.MAC != nil {
		ev.MAC = e.MAC.String()
		if o, ok := rt.svc.Store.NodeByMAC(ev.MAC); ok {
			ev.Node = o.Name
		}
	}
	rt.rec.add(ev)
}

func (rt *runtime) httpEvent(e httpboot.Event) {
	rt.rec.add(httpEvent(e, rt.who))
	if e.Kind == httpboot.KindReport && e.Report != nil && e.Node != "" && e.Reason == "" {
		select {
		case rt.reports <- statusUpdate{node: e.Node, status: e.Report.Stage, at: e.Time}:
		default:
		}
	}
}

type statusUpdate struct {
	node, status string
	at           time.Time
}

// statusWriter sets a reporting node's status and statustime (xCAT's
// nodelist.status), one report at a time.
func (rt *runtime) statusWriter(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case u := <-rt.reports:
			o, ok := rt.svc.Store.Get(inventory.Node, u.node)
			if !ok {
				continue
			}
			c := o.Clone()
			c.Set("status", u.status)
			c.Set("statustime", u.at.Local().Format("01-02-2006 15:04:05"))
			if err := rt.svc.Store.Apply(ctx, []inventory.Change{{Op: inventory.Put, Object: c}}); err != nil {
				rt.log.Warn("setting node status", "node", u.node, "err", err)
			}
		}
	}
}

// dnsRecords builds the DNS table from every node's resolved ip and bmc.
func dnsRecords(st *store.Store) *dnsd.Table {
	view := st.View()
	ns := st.List(inventory.Node)
	addrs := make([]dnsd.NodeAddr, 0, len(ns))
	for _, n := range ns {
		ip, _ := inventory.ResolveAttr(view, n, "ip")
		bmc, _ := inventory.ResolveAttr(view, n, "bmc")
		if ip == "" && bmc == "" {
			continue
		}
		addrs = append(addrs, dnsd.NodeAddr{Name: n.Name, IP: ip, BMC: bmc})
	}
	return dnsd.RecordsFromNodes(addrs)
}

// String renders a Link for logs.
func (l Link) String() string {
	return fmt.Sprintf("%s %s network=%s dhcp=%t proxy=%t ra=%t", l.Iface, l.ServerIP, l.Network.Name, l.DHCP, l.Proxy, l.RA)
}
