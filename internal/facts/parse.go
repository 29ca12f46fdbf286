package facts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits ParseReport enforces.
const (
	MaxReportBytes = 1 << 20 // body size
	MaxString      = 256     // any one string field
	MaxImage       = 128     // Report.Image
	MaxNICs        = 128
	MaxDisks       = 512
	MaxPCI         = 2048
	MaxLLDP        = 512
	MaxWarnings    = 64
)

var (
	// ErrTooLarge: the body exceeds MaxReportBytes.
	ErrTooLarge = errors.New("report too large")
	// ErrInvalid: the body is not a valid report; the wrapping error says why.
	ErrInvalid = errors.New("invalid report")
)

// ParseReport decodes and validates a report body as the server receives
// it: at most MaxReportBytes, exactly one JSON object, no unknown fields,
// the current Schema, well-formed MACs, UUID, PCI and IP addresses, no
// control characters and bounded lengths. MACs and UUIDs are returned
// lowercase.
func ParseReport(body []byte) (*Report, error) {
	if len(body) > MaxReportBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(body), MaxReportBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the report object", ErrInvalid)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Validate checks r as ParseReport does and normalises MACs and the UUID
// to lowercase. Collect's output passes it.
func (r *Report) Validate() error {
	v := validator{}
	if r.Schema != SchemaVersion {
		v.fail("schema", "is %d, want %d", r.Schema, SchemaVersion)
	}
	v.str("version", r.Version, true)
	v.str("image", r.Image, false)
	if len(r.Image) > MaxImage {
		v.fail("image", "%d bytes, limit %d", len(r.Image), MaxImage)
	}
	if r.Time.IsZero() {
		v.fail("time", "missing")
	}
	v.dmi("system", &r.System)
	v.dmi("board", &r.Board)
	v.dmi("chassis", &r.Chassis)
	v.str("cpus.model", r.CPUs.Model, false)
	v.str("cpus.vendor", r.CPUs.Vendor, false)
	v.small("cpus.sockets", r.CPUs.Sockets)
	v.small("cpus.cores", r.CPUs.Cores)
	v.small("cpus.threads", r.CPUs.Threads)
	v.count("disks", len(r.Disks), MaxDisks)
	for i := range r.Disks {
		d := &r.Disks[i]
		p := fmt.Sprintf("disks[%d]", i)
		v.str(p+".name", d.Name, true)
		v.str(p+".model", d.Model, false)
		v.str(p+".serial", d.Serial, false)
		v.str(p+".vendor", d.Vendor, false)
	}
	v.count("nics", len(r.NICs), MaxNICs)
	nics := map[string]bool{}
	for i := range r.NICs {
		n := &r.NICs[i]
		p := fmt.Sprintf("nics[%d]", i)
		v.str(p+".name", n.Name, true)
		if nics[n.Name] {
			v.fail(p+".name", "duplicate %q", n.Name)
		}
		nics[n.Name] = true
		n.MAC = v.mac(p+".mac", n.MAC, true)
		v.str(p+".driver", n.Driver, false)
		if n.SpeedMbps < 0 || n.SpeedMbps > 10_000_000 {
			v.fail(p+".speedMbps", "%d out of range", n.SpeedMbps)
		}
		v.pciAddr(p+".pci", n.PCI, false)
	}
	v.count("pci", len(r.PCI), MaxPCI)
	for i := range r.PCI {
		d := &r.PCI[i]
		p := fmt.Sprintf("pci[%d]", i)
		v.pciAddr(p+".address", d.Address, true)
		v.hex(p+".vendor", d.Vendor, 4)
		v.hex(p+".product", d.Product, 4)
		v.hex(p+".class", d.Class, 6)
		v.str(p+".vendorName", d.VendorName, false)
		v.str(p+".productName", d.ProductName, false)
		v.str(p+".driver", d.Driver, false)
	}
	if r.BMC != nil {
		if r.BMC.IP != "" {
			if _, err := netip.ParseAddr(r.BMC.IP); err != nil {
				v.fail("bmc.ip", "%q is not an IP address", r.BMC.IP)
			}
		}
		r.BMC.MAC = v.mac("bmc.mac", r.BMC.MAC, false)
	}
	v.count("lldp", len(r.LLDP), MaxLLDP)
	for i := range r.LLDP {
		l := &r.LLDP[i]
		p := fmt.Sprintf("lldp[%d]", i)
		v.str(p+".nic", l.NIC, true)
		if !nics[l.NIC] {
			v.fail(p+".nic", "%q is not one of the report's nics", l.NIC)
		}
		v.str(p+".chassisID", l.ChassisID, true)
		v.str(p+".portID", l.PortID, true)
		v.str(p+".portDescr", l.PortDescr, false)
		v.str(p+".sysName", l.SysName, false)
	}
	v.count("warnings", len(r.Warnings), MaxWarnings)
	for i, w := range r.Warnings {
		v.str(fmt.Sprintf("warnings[%d]", i), w, false)
	}
	return v.err
}

type validator struct{ err error }

func (v *validator) fail(field, format string, args ...any) {
	if v.err == nil {
		v.err = fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
	}
}

func (v *validator) count(field string, n, limit int) {
	if n > limit {
		v.fail(field, "%d entries, limit %d", n, limit)
	}
}

func (v *validator) small(field string, n int) {
	if n < 0 || n > 1<<20 {
		v.fail(field, "%d out of range", n)
	}
}

func (v *validator) str(field, s string, required bool) {
	switch {
	case required && s == "":
		v.fail(field, "missing")
	case len(s) > MaxString:
		v.fail(field, "%d bytes, limit %d", len(s), MaxString)
	case !utf8.ValidString(s):
		v.fail(field, "not valid UTF-8")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.fail(field, "contains control characters")
	}
}

func (v *validator) dmi(field string, d *DMI) {
	v.str(field+".vendor", d.Vendor, false)
	v.str(field+".product", d.Product, false)
	v.str(field+".version", d.Version, false)
	v.str(field+".serial", d.Serial, false)
	v.str(field+".assetTag", d.AssetTag, false)
	v.str(field+".sku", d.SKU, false)
	v.str(field+".type", d.Type, false)
	if d.UUID != "" {
		if !isUUID(d.UUID) {
			v.fail(field+".uuid", "%q is not a UUID", d.UUID)
		}
		d.UUID = strings.ToLower(d.UUID)
	}
}

// mac checks an Ethernet MAC in colon form and returns it lowercase.
func (v *validator) mac(field, s string, required bool) string {
	if s == "" {
		if required {
			v.fail(field, "missing")
		}
		return s
	}
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 || len(s) != 17 || s[2] != ':' {
		v.fail(field, "%q is not a MAC address (aa:bb:cc:dd:ee:ff)", s)
		return s
	}
	return hw.String()
}

func (v *validator) hex(field, s string, n int) {
	if len(s) != n || !isHex(s) {
		v.fail(field, "%q is not %d hex digits", s, n)
	}
}

// pciAddr checks the sysfs form dddd:bb:dd.f.
func (v *validator) pciAddr(field, s string, required bool) {
	if s == "" {
		if required {
			v.fail(field, "missing")
		}
		return
	}
	if !isPCIAddress(s) {
		v.fail(field, "%q is not a PCI address (dddd:bb:dd.f)", s)
	}
}

func isPCIAddress(s string) bool {
	return len(s) == 12 && s[4] == ':' && s[7] == ':' && s[10] == '.' &&
		isHex(s[0:4]) && isHex(s[5:7]) && isHex(s[8:10]) && s[11] >= '0' && s[11] <= '7'
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i : i+1]) {
				return false
			}
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}
