package discovery

import (
	"fmt"
	"strconv"
	"strings"
)

// StatusDiscovered is the node status a match sets.
const StatusDiscovered = "discovered"

// Updates returns the node attributes a match writes, as xCAT's
// nodediscover writes them (unknown facts are left out, so nothing is
// blanked):
//
//	mac       the boot MAC, then every other NIC as MAC!*NOIP* (xCAT's mark
//	          for a NIC that gets no address), lower-case, "|"-separated;
//	          without a boot MAC the first MAC is the plain one
//	serial, mtm, uuid  the SMBIOS values (vpd table), placeholders left out
//	cputype   the CPU model name (hwinv.cputype)
//	cpucount  the logical CPU count (hwinv.cpucount)
//	memory    the memory in MiB with xCAT's unit suffix, e.g. "16384MB"
//	          (hwinv.memory: "the size of the memory in MB")
//	disksize  each disk as NAME:SIZEGB, decimal GB rounded down,
//	          comma-separated (hwinv.disksize: "in GB"), e.g.
//	          "sda:500GB,nvme0n1:1920GB"
//	status    "discovered"
//
// node is the node being written; the values do not depend on it today
// (xCAT's per-network host tags, MAC!HOSTNAME, need the networks and are
// the discovery service's business).
func Updates(node string, f Facts) map[string]string {
	out := map[string]string{"status": StatusDiscovered}
	if macs := f.allMACs(); len(macs) > 0 {
		parts := make([]string, len(macs))
		for i, m := range macs {
			parts[i] = m.String()
			if i > 0 {
				parts[i] += "!*NOIP*"
			}
		}
		out["mac"] = strings.Join(parts, "|")
	}
	set := func(k, v string) {
		if v = strings.TrimSpace(v); usefulID(v) {
			out[k] = v
		}
	}
	set("serial", f.Serial)
	set("mtm", f.MTM)
	set("uuid", strings.ToLower(f.UUID))
	if m := strings.Join(strings.Fields(f.CPUModel), " "); m != "" {
		out["cputype"] = m
	}
	if f.CPUs > 0 {
		out["cpucount"] = strconv.Itoa(f.CPUs)
	}
	if f.MemoryBytes > 0 {
		out["memory"] = fmt.Sprintf("%dMB", f.MemoryBytes>>20)
	}
	var disks []string
	for _, d := range f.Disks {
		if d.Name != "" && d.SizeBytes > 0 {
			disks = append(disks, fmt.Sprintf("%s:%dGB", d.Name, d.SizeBytes/1e9))
		}
	}
	if len(disks) > 0 {
		out["disksize"] = strings.Join(disks, ",")
	}
	return out
}
