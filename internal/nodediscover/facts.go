package nodediscover

import (
	"net"
	"strings"

	"drover.dev/drover/internal/discovery"
	"drover.dev/drover/internal/facts"
)

// factsOf is what matching needs from the agent's report; bootMAC is the
// MAC the machine booted the discovery environment from (signed in its
// registration URL).
func factsOf(r *facts.Report, bootMAC net.HardwareAddr) discovery.Facts {
	f := discovery.Facts{
		BootMAC:     bootMAC,
		Serial:      strings.TrimSpace(r.System.Serial),
		MTM:         strings.TrimSpace(r.System.Product),
		UUID:        strings.ToLower(strings.TrimSpace(r.System.UUID)),
		CPUModel:    r.CPUs.Model,
		CPUs:        r.CPUs.Threads,
		MemoryBytes: r.MemoryBytes,
	}
	for _, n := range r.NICs {
		if m, err := net.ParseMAC(n.MAC); err == nil {
			f.MACs = append(f.MACs, m)
		}
	}
	for _, l := range r.LLDP {
		f.LLDP = append(f.LLDP, discovery.Neighbour{NIC: l.NIC, ChassisID: l.ChassisID, SysName: l.SysName,
			PortID: l.PortID, PortDesc: l.PortDescr})
	}
	for _, d := range r.Disks {
		f.Disks = append(f.Disks, discovery.Disk{Name: d.Name, SizeBytes: d.SizeBytes})
	}
	for _, p := range r.PCI {
		f.PCI = append(f.PCI, discovery.PCIDevice{Vendor: strings.ToLower(p.Vendor), Device: strings.ToLower(p.Product),
			Class: strings.ToLower(p.Class)})
	}
	return f
}
