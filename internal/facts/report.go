// Package facts is the hardware report a discovered machine sends to drover:
// the Report type, Collect (run by drover-agent on the machine, reading
// /sys, /proc and /dev through github.com/jaypipes/ghw and listening for
// LLDP) and ParseReport (run by the server, strict).
package facts

import "time"

// Report is what drover-agent POSTs to its registration URL. Field names are
// the JSON wire format; a change that is not backwards compatible needs a new
// Schema value.
type Report struct {
	Schema      int       `json:"schema"`          // wire format version, SchemaVersion
	Version     string    `json:"version"`         // the agent's version (git describe)
	Image       string    `json:"image,omitempty"` // the discovery image's version (/etc/drover/version)
	Time        time.Time `json:"time"`            // when the facts were collected
	System      DMI       `json:"system"`
	Board       DMI       `json:"board"`
	Chassis     DMI       `json:"chassis"`
	CPUs        CPUs      `json:"cpus"`
	MemoryBytes uint64    `json:"memoryBytes"`
	Disks       []Disk    `json:"disks"`
	NICs        []NIC     `json:"nics"`
	PCI         []PCI     `json:"pci"`
	BMC         *BMC      `json:"bmc,omitempty"` // nil: no /dev/ipmi0 or not readable
	LLDP        []LLDP    `json:"lldp"`
	Warnings    []string  `json:"warnings,omitempty"` // parts that could not be collected
}

// SchemaVersion is the Report wire format this package writes and accepts.
const SchemaVersion = 1

// DMI is one SMBIOS structure's identity strings (system, baseboard or
// chassis). UUID is only set for the system; Type only for the chassis.
type DMI struct {
	Vendor   string `json:"vendor,omitempty"`
	Product  string `json:"product,omitempty"`
	Version  string `json:"version,omitempty"`
	Serial   string `json:"serial,omitempty"`
	UUID     string `json:"uuid,omitempty"`
	AssetTag string `json:"assetTag,omitempty"`
	SKU      string `json:"sku,omitempty"`
	Type     string `json:"type,omitempty"`
}

// CPUs summarises the processors.
type CPUs struct {
	Model   string `json:"model,omitempty"`
	Vendor  string `json:"vendor,omitempty"`
	Sockets int    `json:"sockets"`
	Cores   int    `json:"cores"`
	Threads int    `json:"threads"`
}

// Disk is a whole block device (no partitions).
type Disk struct {
	Name       string `json:"name"`
	SizeBytes  uint64 `json:"sizeBytes"`
	Model      string `json:"model,omitempty"`
	Serial     string `json:"serial,omitempty"`
	Vendor     string `json:"vendor,omitempty"`
	Rotational bool   `json:"rotational"`
	Removable  bool   `json:"removable,omitempty"`
}

// NIC is a physical network interface.
type NIC struct {
	Name      string `json:"name"`
	MAC       string `json:"mac"` // lowercase, colon separated
	Driver    string `json:"driver,omitempty"`
	Link      bool   `json:"link"`                // carrier present
	SpeedMbps int    `json:"speedMbps,omitempty"` // 0: unknown
	PCI       string `json:"pci,omitempty"`       // PCI address, e.g. 0000:00:03.0
}

// PCI is one PCI function. Vendor, Product and Class are the hexadecimal
// IDs from sysfs ("8086", "100e", "020000"); the names come from a pci.ids
// database and are empty when the image has none.
type PCI struct {
	Address     string `json:"address"`
	Vendor      string `json:"vendor"`
	Product     string `json:"product"`
	Class       string `json:"class"`
	VendorName  string `json:"vendorName,omitempty"`
	ProductName string `json:"productName,omitempty"`
	Driver      string `json:"driver,omitempty"`
}

// BMC is the management controller's LAN address read through /dev/ipmi0
// (LAN channel 1).
type BMC struct {
	IP  string `json:"ip,omitempty"`
	MAC string `json:"mac,omitempty"`
}

// LLDP is one neighbour heard on a NIC: normally the switch port it is
// cabled to.
type LLDP struct {
	NIC       string `json:"nic"`
	ChassisID string `json:"chassisID"`
	PortID    string `json:"portID"`
	PortDescr string `json:"portDescr,omitempty"`
	SysName   string `json:"sysName,omitempty"`
}
