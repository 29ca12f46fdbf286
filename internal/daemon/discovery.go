package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"drover.dev/drover/internal/httpboot"
	"drover.dev/drover/internal/nodediscover"
	"drover.dev/drover/internal/xcatcmd"
)

// discoverer hands httpboot's discovery registrations to the discovery
// service, mapping its bad-report errors to httpboot's.
type discoverer struct{ svc *nodediscover.Service }

func (d discoverer) Discover(ctx context.Context, mac net.HardwareAddr, remote netip.AddrPort, body []byte) ([]byte, string, error) {
	ans, detail, err := d.svc.Discover(ctx, mac, remote, body)
	if errors.Is(err, nodediscover.ErrBadReport) {
		err = fmt.Errorf("%w: %w", httpboot.ErrBadReport, err)
	}
	return ans, detail, err
}

// nodesetWith runs xCAT's nodeset through the command runner, for the
// discovery chain.
func nodesetWith(r *xcatcmd.Runner) func(ctx context.Context, node, state string) error {
	return func(ctx context.Context, node, state string) error {
		res := r.Run(ctx, xcatcmd.Request{Command: "nodeset", Args: []string{node, state}})
		if res.ExitCode != 0 {
			return fmt.Errorf("%s", strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(res.Stderr), "Error: ")))
		}
		return nil
	}
}
