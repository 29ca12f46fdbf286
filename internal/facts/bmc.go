package facts

import (
	"context"
	"fmt"

	ipmi "github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/types"
)

// bmcChannel is the LAN channel most BMCs use for their dedicated or shared port.
const bmcChannel = 1

// readBMC asks the local BMC through /dev/ipmi0 (the OpenIPMI driver, pure
// Go ioctls in go-ipmi) for its LAN channel's IP and MAC addresses.
func readBMC(ctx context.Context) (*BMC, error) {
	c, err := ipmi.NewOpenClient()
	if err != nil {
		return nil, err
	}
	if err := c.Connect(ctx); err != nil {
		return nil, fmt.Errorf("open /dev/ipmi0: %w", err)
	}
	defer c.Close(ctx)
	ip := &types.LanConfigParam_IP{}
	if err := c.GetLanConfigParamFor(ctx, bmcChannel, ip); err != nil {
		return nil, fmt.Errorf("lan channel %d ip: %w", bmcChannel, err)
	}
	mac := &types.LanConfigParam_MAC{}
	if err := c.GetLanConfigParamFor(ctx, bmcChannel, mac); err != nil {
		return nil, fmt.Errorf("lan channel %d mac: %w", bmcChannel, err)
	}
	b := &BMC{}
	if ip.IP != nil && !ip.IP.IsUnspecified() {
		b.IP = ip.IP.String()
	}
	if len(mac.MAC) == 6 {
		b.MAC = mac.MAC.String()
	}
	return b, nil
}
