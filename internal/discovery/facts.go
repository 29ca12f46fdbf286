package discovery

import (
	"bytes"
	"net"
	"strings"
)

// Facts is what the matcher needs from a discovery report: the machine's
// identity (MACs, SMBIOS serial, model, UUID), where it is plugged in (LLDP)
// and a hardware summary for discovery rules and the hwinv attributes. The
// report decoder fills it from the agent's full report; it is deliberately
// independent of that type.
type Facts struct {
	// BootMAC is the MAC of the interface the machine booted from (the PXE
	// NIC); nil when unknown. It is written first in the node's mac
	// attribute.
	BootMAC net.HardwareAddr
	// MACs are the MACs of all the machine's physical NICs.
	MACs []net.HardwareAddr
	// Serial, MTM and UUID are the SMBIOS system serial number, machine type
	// and model (product name) and system UUID; "" when the firmware gives
	// none.
	Serial, MTM, UUID string
	// LLDP lists the neighbours heard per NIC.
	LLDP []Neighbour
	// CPUModel is the processor model name; CPUs the logical CPU count.
	CPUModel string
	CPUs     int
	// MemoryBytes is the installed physical memory.
	MemoryBytes uint64
	// Disks are the machine's block devices.
	Disks []Disk
	// PCI lists the machine's PCI devices.
	PCI []PCIDevice
}

// Neighbour is one LLDP neighbour heard on a NIC: the switch and the switch
// port the NIC is plugged into.
type Neighbour struct {
	NIC string // the machine's interface, e.g. "eth0"
	// ChassisID is the chassis ID TLV as text (a MAC address for subtype 4,
	// else the ID as sent); SysName the system name TLV.
	ChassisID, SysName string
	// PortID is the port ID TLV as text (an interface name such as
	// "Ethernet1/5" or "swp5" for subtypes 5 and 7); PortDesc the port
	// description TLV.
	PortID, PortDesc string
}

// Disk is one block device.
type Disk struct {
	Name      string // kernel name, e.g. "sda"
	SizeBytes uint64
}

// PCIDevice is one PCI function: vendor, device and class as lower-case
// hexadecimal without 0x ("10de", "2330", "0302" or "030200").
type PCIDevice struct {
	Vendor, Device, Class string
}

// IsGPU reports whether the device is a display controller (PCI class 03).
func (d PCIDevice) IsGPU() bool { return strings.HasPrefix(d.Class, "03") }

// allMACs returns BootMAC followed by MACs, without duplicates or empty
// addresses.
func (f *Facts) allMACs() []net.HardwareAddr {
	var out []net.HardwareAddr
	add := func(m net.HardwareAddr) {
		if len(m) == 0 {
			return
		}
		for _, o := range out {
			if bytes.Equal(o, m) {
				return
			}
		}
		out = append(out, m)
	}
	add(f.BootMAC)
	for _, m := range f.MACs {
		add(m)
	}
	return out
}

// HasMAC reports whether list holds m.
func HasMAC(list []net.HardwareAddr, m net.HardwareAddr) bool {
	for _, o := range list {
		if bytes.Equal(o, m) {
			return true
		}
	}
	return false
}

// diskTotal is the summed size of all disks.
func (f *Facts) diskTotal() uint64 {
	var t uint64
	for _, d := range f.Disks {
		t += d.SizeBytes
	}
	return t
}

// sameID compares two identity strings (serial, mtm, UUID) the way firmware
// varies them: surrounding blanks and letter case do not count.
func sameID(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// usefulID reports whether s can identify a machine: placeholder values
// firmware reports when a field is not filled in never match.
func usefulID(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "none", "n/a", "na", "default string", "to be filled by o.e.m.",
		"system serial number", "not specified", "not applicable", "0123456789", "123456789",
		"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
		"03000200-0400-0500-0006-000700080009":
		return false
	}
	return true
}
