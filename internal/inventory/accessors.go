package inventory

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Typed accessors for the node attributes drover itself uses.

// Groups returns the node's groups, in order.
func (r Resolved) Groups() []string { return SplitList(r["groups"]) }

// MACs returns the node's MAC addresses. xCAT's mac attribute holds one or
// more addresses separated by "|", each optionally followed by
// "!hostname" ("01:02:03:04:05:0E!node5|01:02:03:04:05:0F!node5-eth1");
// entries that are not MAC addresses are skipped.
func (r Resolved) MACs() []net.HardwareAddr {
	var out []net.HardwareAddr
	for item := range strings.SplitSeq(r["mac"], "|") {
		addr, _, _ := strings.Cut(item, "!")
		if mac, err := net.ParseMAC(strings.TrimSpace(addr)); err == nil {
			out = append(out, mac)
		}
	}
	return out
}

// IP returns the node's ip attribute, the zero Addr if unset or invalid.
func (r Resolved) IP() netip.Addr {
	a, err := netip.ParseAddr(strings.TrimSpace(r["ip"]))
	if err != nil {
		return netip.Addr{}
	}
	return a
}

// Mgt is the hardware management method (ipmi, openbmc, kvm, ...).
func (r Resolved) Mgt() string { return r["mgt"] }

// BMC is the BMC's host name or address.
func (r Resolved) BMC() string { return r["bmc"] }

// BMCUsername is the BMC user.
func (r Resolved) BMCUsername() string { return r["bmcusername"] }

// BMCPassword is the BMC password.
func (r Resolved) BMCPassword() string { return r["bmcpassword"] }

// ProvMethod is install, netboot, statelite or an osimage name.
func (r Resolved) ProvMethod() string { return r["provmethod"] }

// OS is the node's operating system (nodetype.os).
func (r Resolved) OS() string { return r["os"] }

// Arch is the node's architecture.
func (r Resolved) Arch() string { return r["arch"] }

// Profile is the node's provisioning profile.
func (r Resolved) Profile() string { return r["profile"] }

// Netboot is the network boot loader (pxe, xnba, grub2, petitboot, ...).
func (r Resolved) Netboot() string { return r["netboot"] }

// Postscripts lists the scripts run after installation, in order.
func (r Resolved) Postscripts() []string { return SplitList(r["postscripts"]) }

// Postbootscripts lists the scripts run on every boot, in order.
func (r Resolved) Postbootscripts() []string { return SplitList(r["postbootscripts"]) }

// Status is the node's deployment status (nodelist.status).
func (r Resolved) Status() string { return r["status"] }

// Serial is the node's serial number.
func (r Resolved) Serial() string { return r["serial"] }

// MTM is the node's machine type and model.
func (r Resolved) MTM() string { return r["mtm"] }

// UUID is the node's system UUID.
func (r Resolved) UUID() string { return r["uuid"] }

// Switch is the switch the node's install NIC is connected to.
func (r Resolved) Switch() string { return r["switch"] }

// SwitchPort is the port of Switch.
func (r Resolved) SwitchPort() string { return r["switchport"] }

// InstallNIC is the interface used for installation.
func (r Resolved) InstallNIC() string { return r["installnic"] }

// PrimaryNIC is the node's primary interface.
func (r Resolved) PrimaryNIC() string { return r["primarynic"] }

// Hostnames lists the node's host name aliases (comma or blank separated).
func (r Resolved) Hostnames() []string {
	return strings.FieldsFunc(r["hostnames"], func(c rune) bool { return c == ',' || c == ' ' || c == '\t' })
}

// Nic returns one interface's value of a nic* attribute stored in the
// collapsed form "eth0!v0,eth1!v1" (Nic("nicips", "eth1") = "v1").
func (r Resolved) Nic(attr, nic string) string {
	for entry := range strings.SplitSeq(r[attr], ",") {
		if name, val, ok := strings.Cut(entry, "!"); ok && name == nic {
			return val
		}
	}
	return ""
}

// Net returns a network object's prefix from its net and mask attributes;
// mask may be dotted ("255.255.255.0") or a prefix length ("24", "/64"). It
// is the zero Prefix when they do not form one.
func (o *Object) Net() netip.Prefix {
	addr, err := netip.ParseAddr(strings.TrimSpace(o.Get("net")))
	if err != nil {
		return netip.Prefix{}
	}
	mask := strings.TrimPrefix(strings.TrimSpace(o.Get("mask")), "/")
	bits := -1
	if n, err := strconv.Atoi(mask); err == nil {
		bits = n
	} else if m, err := netip.ParseAddr(mask); err == nil && m.Is4() && addr.Is4() {
		b := m.As4()
		ones, _ := net.IPv4Mask(b[0], b[1], b[2], b[3]).Size()
		if ones > 0 || b == [4]byte{} {
			bits = ones
		}
	}
	if bits < 0 || bits > addr.BitLen() {
		return netip.Prefix{}
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}
