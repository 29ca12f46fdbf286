package daemon

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"drover.dev/drover/internal/consoles"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/store"
)

// consoleRouter serves rcons: through the hub when it keeps the node's
// console (so rcons and the log share the one SOL session), else directly.
type consoleRouter struct {
	hub *consoles.Hub
	ops *bmcOps
}

func (r consoleRouter) Console(ctx context.Context, node string) (io.ReadWriteCloser, error) {
	c, err := r.hub.Attach(node)
	if errors.Is(err, consoles.ErrNotWatched) || errors.Is(err, consoles.ErrNotConnected) {
		return r.ops.Console(ctx, node)
	}
	return c, err
}

// keptConsoles lists the nodes whose consoles the hub keeps and logs:
// those with a cons attribute (xCAT's nodehm.cons) whose mgt has a driver.
func keptConsoles(view inventory.View, mgts []string) []string {
	var out []string
	for _, n := range view.List(inventory.Node) {
		cons, _ := inventory.ResolveAttr(view, n, "cons")
		if strings.TrimSpace(cons) == "" {
			continue
		}
		mgt, _ := inventory.ResolveAttr(view, n, "mgt")
		if slices.Contains(mgts, strings.ToLower(strings.TrimSpace(mgt))) {
			out = append(out, n.Name)
		}
	}
	return out
}

// watchConsoles keeps the hub's node set current with the inventory.
func watchConsoles(ctx context.Context, st *store.Store, hub *consoles.Hub, mgts func() []string) error {
	sub := st.Subscribe(ctx)
	t := time.NewTimer(200 * time.Millisecond) // after the hub's Serve started
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-sub:
			if !ok {
				return nil
			}
			if ev.Type == inventory.Node || ev.Type == inventory.Group {
				t.Reset(time.Second)
			}
		case <-t.C:
			hub.Watch(keptConsoles(st.View(), mgts()))
		}
	}
}
