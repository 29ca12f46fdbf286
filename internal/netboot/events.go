package netboot

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"drover.dev/drover/internal/dhcpd"
	"drover.dev/drover/internal/httpboot"
	"drover.dev/drover/internal/store"
	"drover.dev/drover/internal/tftpd"
)

// recorder writes boot events to the store in batches, off the request
// path. When the database cannot keep up and the queue is full, events are
// dropped and counted rather than slowing the protocol servers.
type recorder struct {
	st      *store.Store
	log     *slog.Logger
	ch      chan store.BootEvent
	dropped atomic.Int64
}

const (
	eventQueue = 1 << 16
	eventBatch = 256
	eventTick  = 100 * time.Millisecond
)

func newRecorder(st *store.Store, log *slog.Logger) *recorder {
	return &recorder{st: st, log: log, ch: make(chan store.BootEvent, eventQueue)}
}

func (r *recorder) add(e store.BootEvent) {
	select {
	case r.ch <- e:
	default:
		if r.dropped.Add(1)%1000 == 1 {
			r.log.Warn("boot event queue full: events dropped", "dropped", r.dropped.Load())
		}
	}
}

// run writes queued events until ctx ends, then writes what is queued.
func (r *recorder) run(ctx context.Context) error {
	t := time.NewTicker(eventTick)
	defer t.Stop()
	batch := make([]store.BootEvent, 0, eventBatch)
	flush := func(ctx context.Context) {
		if len(batch) == 0 {
			return
		}
		if err := r.st.AddBootEvents(ctx, batch); err != nil {
			r.log.Error("recording boot events", "events", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case e := <-r.ch:
					batch = append(batch, e)
					if len(batch) == eventBatch {
						flush(context.WithoutCancel(ctx))
					}
				default:
					flush(context.WithoutCancel(ctx))
					return nil
				}
			}
		case e := <-r.ch:
			batch = append(batch, e)
			if len(batch) == eventBatch {
				flush(ctx)
			}
		case <-t.C:
			flush(ctx)
		}
	}
}

// joinDetail renders key=value pairs, skipping empty values.
func joinDetail(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(kv[i+1])
	}
	return b.String()
}

func addrString(a netip.Addr) string {
	if !a.IsValid() || a.IsUnspecified() {
		return ""
	}
	return a.String()
}

// redactToken hides the per-node token in a URL: events are readable by
// every API role, the token only by the node.
func redactToken(u string) string {
	if i := strings.Index(u, "token="); i >= 0 {
		end := strings.IndexByte(u[i:], '&')
		if end < 0 {
			return u[:i] + "token=REDACTED"
		}
		return u[:i] + "token=REDACTED" + u[i+end:]
	}
	return u
}

// dhcpEvent converts a dhcpd event.
func dhcpEvent(e dhcpd.Event) store.BootEvent {
	var opt82 string
	if len(e.RelayInfo) > 0 {
		opt82 = fmt.Sprintf("%x", e.RelayInfo)
	}
	detail := joinDetail("ip", addrString(e.IP), "network", e.Network, "arch", e.Arch,
		"bootfile", redactToken(e.Bootfile), "relay", addrString(e.Relay), "option82", opt82)
	ev := store.BootEvent{Time: e.Time, Node: e.Node, Kind: string(e.Kind), Detail: detail, Reason: e.Reason}
	if e.MAC != nil {
		ev.MAC = e.MAC.String()
	}
	if e.Relay.IsValid() {
		ev.Remote = e.Relay.String()
	}
	return ev
}

// tftpEvent converts a tftpd event; who maps the client address to a node
// and MAC through the leases.
func tftpEvent(e tftpd.Event, who func(netip.Addr) (node, mac string)) store.BootEvent {
	var opts []string
	for k, v := range e.Options {
		opts = append(opts, k+"="+v)
	}
	sort.Strings(opts)
	ev := store.BootEvent{Time: e.Time, Kind: "tftp-" + string(e.Op), Remote: e.Client.String(),
		Detail: joinDetail("file", e.Path, "bytes", strconv.FormatInt(e.Bytes, 10),
			"ms", strconv.FormatInt(e.Duration.Milliseconds(), 10), "options", strings.Join(opts, ","))}
	if e.Err != nil {
		ev.Reason = e.Err.Error()
	}
	ev.Node, ev.MAC = who(e.Client.Addr())
	return ev
}

// httpEvent converts an httpboot event.
func httpEvent(e httpboot.Event, who func(netip.Addr) (node, mac string)) store.BootEvent {
	ev := store.BootEvent{Time: e.Time, Kind: "http-" + string(e.Kind), Node: e.Node, Reason: e.Reason,
		Detail: joinDetail("path", e.Path, "status", strconv.Itoa(e.Status), "bytes", strconv.FormatInt(e.Bytes, 10),
			"state", e.Detail)}
	if e.Kind == httpboot.KindReport && e.Reason == "" {
		ev.Detail = e.Detail // "stage booted ip ... uptime ...s"
	}
	if e.Remote.IsValid() {
		ev.Remote = e.Remote.String()
	}
	if e.MAC != nil {
		ev.MAC = e.MAC.String()
	}
	if ev.Node == "" || ev.MAC == "" {
		node, mac := who(e.Remote.Addr())
		if ev.Node == "" {
			ev.Node = node
		}
		if ev.MAC == "" {
			ev.MAC = mac
		}
	}
	return ev
}
