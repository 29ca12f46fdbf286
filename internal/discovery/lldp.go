package discovery

import (
	"bytes"
	"net"
	"regexp"
	"strings"

	"drover.dev/drover/internal/inventory"
)

// switchMatches reports whether an LLDP neighbour is the switch a node's
// switch attribute names. The attribute matches when, ignoring case, it
//   - equals the neighbour's system name, or its first DNS label equals the
//     system name's first label ("sw1" and "sw1.lab.example");
//   - equals the chassis ID as text, or both parse as MAC addresses and are
//     the same address;
//   - names a node (the switch's own definition, as xCAT keeps switches)
//     whose mac attribute holds the chassis ID.
func switchMatches(v inventory.View, sw string, n Neighbour) bool {
	sw = strings.TrimSpace(sw)
	if sw == "" {
		return false
	}
	if n.SysName != "" && (strings.EqualFold(sw, n.SysName) || strings.EqualFold(firstLabel(sw), firstLabel(n.SysName))) {
		return true
	}
	if n.ChassisID == "" {
		return false
	}
	if strings.EqualFold(sw, strings.TrimSpace(n.ChassisID)) {
		return true
	}
	chassis, err := net.ParseMAC(strings.TrimSpace(n.ChassisID))
	if err != nil {
		return false
	}
	if m, err := net.ParseMAC(sw); err == nil {
		return bytes.Equal(m, chassis)
	}
	if o, ok := v.Get(inventory.Node, sw); ok {
		return HasMAC(inventory.Resolve(v, o).MACs(), chassis)
	}
	return false
}

func firstLabel(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), ".")
	return s
}

// portMatches reports whether a node's switchport attribute names the port
// an LLDP neighbour reports, as its port ID or port description. The
// comparison is xCAT's (MacMap namesmatch, used by switch-based discovery):
// an exact match, or the reported name ends with the configured value
// (optionally followed by ".0", Juniper's unit) and the character before it
// is not a digit ("5" matches "Ethernet1/5", "swp5" and "Gi1/0/5", not
// "Ethernet15"), unless the reported name is a VLAN, null, console, stack,
// trunk, port-channel, LAG, CPU or management interface. The vendor forms
// "RMON Port 05 on unit 1" (3Com) and "Unit 1 Port 5" (Dell) give their port
// number. Unlike xCAT the configured value is taken literally, not as a
// regular expression.
func portMatches(cfg string, n Neighbour) bool {
	cfg = strings.TrimSpace(cfg)
	if cfg == "" {
		return false
	}
	for _, name := range []string{n.PortID, n.PortDesc} {
		if name = strings.TrimSpace(name); name != "" && namesMatch(cfg, name) {
			return true
		}
	}
	return false
}

func namesMatch(cfg, reported string) bool {
	if cfg == reported {
		return true
	}
	if m := rmonPort.FindStringSubmatch(reported); m != nil && m[1] == strings.TrimLeft(cfg, "0") {
		return true
	}
	if m := dellPort.FindStringSubmatch(reported); m != nil && m[1] == cfg {
		return true
	}
	rest, ok := strings.CutSuffix(reported, cfg)
	if !ok {
		if r, ok0 := strings.CutSuffix(reported, cfg+".0"); ok0 {
			rest, ok = r, true
		}
	}
	if !ok || rest == "" || isDigit(rest[len(rest)-1]) {
		return false
	}
	switch {
	case strings.Contains(strings.ToLower(reported), "vl"),
		strings.Contains(reported, "Nu"), strings.Contains(reported, "onsole"),
		strings.Contains(reported, "Stack"), strings.Contains(reported, "Trunk"):
		return false
	case !strings.Contains(reported, "Port #") && !portDigit.MatchString(reported) && strings.Contains(reported, "Po"),
		poDigit.MatchString(reported), strings.Contains(reported, "XGE"),
		strings.Contains(reported, "LAG"), strings.Contains(reported, "CPU"),
		strings.Contains(reported, "Management"):
		return false
	}
	return true
}

// The fixed patterns of namesMatch (compiled once; regexp values are safe
// for concurrent use and never change).
var (
	rmonPort  = regexp.MustCompile(`^RMON Port 0?(\d+) on unit \d+`)
	dellPort  = regexp.MustCompile(`^Unit \d Port (\d+)$`)
	portDigit = regexp.MustCompile(`Port\d`)
	poDigit   = regexp.MustCompile(`po\d`)
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
