package boot

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Arch is the client system architecture a PXE client sends in DHCP
// option 93 (RFC 4578, IANA "Processor Architecture Types").
type Arch uint16

// Client architectures drover knows. A request without option 93 is BIOS.
const (
	ArchBIOS         Arch = 0  // x86 BIOS (legacy PXE)
	ArchEFIIA32      Arch = 6  // x86 UEFI (32-bit)
	ArchEFIBC        Arch = 7  // x86-64 UEFI (EFI byte code; x86-64 in practice)
	ArchEFIx8664     Arch = 9  // x86-64 UEFI
	ArchEFIARM64     Arch = 11 // arm64 UEFI
	ArchEFIx8664HTTP Arch = 16 // x86-64 UEFI HTTP Boot
	ArchEFIARM64HTTP Arch = 19 // arm64 UEFI HTTP Boot
)

// String names the architecture ("bios", "efi-x86_64", ...; "arch-N" for others).
func (a Arch) String() string {
	switch a {
	case ArchBIOS:
		return "bios"
	case ArchEFIIA32:
		return "efi-ia32"
	case ArchEFIBC:
		return "efi-bc"
	case ArchEFIx8664:
		return "efi-x86_64"
	case ArchEFIARM64:
		return "efi-arm64"
	case ArchEFIx8664HTTP:
		return "efi-x86_64-http"
	case ArchEFIARM64HTTP:
		return "efi-arm64-http"
	}
	return "arch-" + strconv.Itoa(int(a))
}

// UEFI reports whether a is a UEFI architecture.
func (a Arch) UEFI() bool { return a != ArchBIOS }

// HTTP reports whether a is a UEFI HTTP Boot architecture.
func (a Arch) HTTP() bool { return a == ArchEFIx8664HTTP || a == ArchEFIARM64HTTP }

// Stage is the point in the boot chain a request comes from.
type Stage int

// Stages.
const (
	// StageDHCP is a DHCP (or ProxyDHCP) request: the plan says what boot
	// file, loader URL or script URL the reply carries.
	StageDHCP Stage = iota
	// StageScript is iPXE fetching its per-node script over HTTP: the plan
	// carries the rendered script.
	StageScript
)

// String returns "dhcp" or "script".
func (s Stage) String() string {
	if s == StageScript {
		return "script"
	}
	return "dhcp"
}

// Vendor and user classes that change the decision.
const (
	VendorPXEClient  = "PXEClient"  // option 60 prefix of PXE firmware
	VendorHTTPClient = "HTTPClient" // option 60 prefix of UEFI HTTP Boot firmware
	UserClassIPXE    = "iPXE"       // option 77 iPXE sends
)

// Request is what the machine asked, as the protocol servers saw it.
type Request struct {
	MAC         net.HardwareAddr
	Arch        Arch       // DHCP option 93; ArchBIOS when absent
	UserClass   string     // DHCP option 77 ("iPXE" for iPXE)
	VendorClass string     // DHCP option 60 ("PXEClient:Arch:00000:UNDI:002001", "HTTPClient:...")
	Relay       netip.Addr // giaddr of a relayed request; zero if direct (dhcpd picks the network, and so Settings.Server, by it)
	Stage       Stage
}

// IPXE reports whether the request comes from iPXE (user class "iPXE").
// At StageScript the client is iPXE by definition.
func (r Request) IPXE() bool { return r.Stage == StageScript || r.UserClass == UserClassIPXE }

// HTTPClient reports whether the request comes from UEFI HTTP Boot firmware
// (vendor class "HTTPClient...").
func (r Request) HTTPClient() bool { return strings.HasPrefix(r.VendorClass, VendorHTTPClient) }
