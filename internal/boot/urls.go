package boot

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"strings"
)

// HTTP paths httpboot serves; every URL Decide emits starts with one of them.
const (
	// ScriptPathPrefix + MACPath(mac) is a node's iPXE script (with ?token=).
	ScriptPathPrefix = "/boot/script/"
	// ReportPathPrefix + MACPath(mac) is where a booted node POSTs its stage (with ?token=).
	ReportPathPrefix = "/boot/report/"
	// DiscoverPathPrefix + MACPath(mac) is where the discovery agent of a
	// machine booted into the discovery environment registers its facts
	// (with ?token= carrying the discovery token, not the node token).
	DiscoverPathPrefix = "/boot/discover/"
	// LoaderPathPrefix + a TFTP boot file name is that loader over HTTP (UEFI HTTP Boot).
	LoaderPathPrefix = "/boot/loader/"
	// FilesPathPrefix + an absolute server path is that file (kernel, initrd).
	FilesPathPrefix = "/boot/files"
)

// TFTP boot file names, relative to the tftpd root (Debian's ipxe package
// puts the x86 ones in /usr/lib/ipxe).
const (
	LoaderBIOS      = "undionly.kpxe"
	LoaderEFIx8664  = "snponly.efi"
	LoaderEFIARM64  = "arm64-efi/snponly.efi"
	ReportParam     = "drover.report"   // kernel argument carrying the report URL
	DiscoverParam   = "drover.discover" // kernel argument carrying the discovery registration URL
	TokenQueryParam = "token"           // query parameter carrying the per-node token
)

// Target is a kernel, its initrds and command line configured outside the
// inventory (the shell and discovery environments).
type Target struct {
	Kernel  string   // absolute server path, path under DataDir, or URL
	Initrds []string // same forms
	Cmdline string
}

// Configured reports whether t has a kernel.
func (t Target) Configured() bool { return t.Kernel != "" }

// Settings are the server-side facts the decision needs.
type Settings struct {
	Server   netip.Addr // address put into URLs (site master / the network's server)
	HTTPPort uint16     // httpboot port; 0 means 80
	DataDir  string     // absolute; relative kernel/initrd paths are under it
	Discover Target     // booted for StateDiscover and, if configured, unknown MACs
	Shell    Target     // booted for StateShell
}

// MACPath is the form of a MAC in URL paths: lowercase, hyphen separated
// ("52-54-00-18-01-01").
func MACPath(mac net.HardwareAddr) string {
	return strings.ReplaceAll(strings.ToLower(mac.String()), ":", "-")
}

func (s Settings) baseURL() (url.URL, error) {
	if !s.Server.IsValid() {
		return url.URL{}, ErrNoServer
	}
	port := s.HTTPPort
	if port == 0 {
		port = 80
	}
	return url.URL{Scheme: "http", Host: netip.AddrPortFrom(s.Server.Unmap(), port).String()}, nil
}

func (s Settings) pathURL(p, token string) (string, error) {
	u, err := s.baseURL()
	if err != nil {
		return "", err
	}
	u.Path = p
	if token != "" {
		u.RawQuery = url.Values{TokenQueryParam: {token}}.Encode()
	}
	return u.String(), nil
}

// ScriptURL is the URL of the iPXE script for mac, carrying token if not empty.
func (s Settings) ScriptURL(mac net.HardwareAddr, token string) (string, error) {
	return s.pathURL(ScriptPathPrefix+MACPath(mac), token)
}

// ReportURL is the URL a node booted by mac POSTs its stage to, carrying token if not empty.
func (s Settings) ReportURL(mac net.HardwareAddr, token string) (string, error) {
	return s.pathURL(ReportPathPrefix+MACPath(mac), token)
}

// DiscoverURL is the URL the discovery agent booted by mac registers at,
// carrying the discovery token if not empty.
func (s Settings) DiscoverURL(mac net.HardwareAddr, token string) (string, error) {
	return s.pathURL(DiscoverPathPrefix+MACPath(mac), token)
}

// LoaderURL is the HTTP URL of a TFTP loader file (for UEFI HTTP Boot).
func (s Settings) LoaderURL(loader string) (string, error) {
	return s.pathURL(LoaderPathPrefix+loader, "")
}

// FileURL maps a kernel or initrd reference to the URL iPXE fetches. It is
// the one place that mapping is defined:
//
//   - a URL (anything with a scheme and "://", e.g. "http://x/vmlinuz") passes through unchanged;
//   - an absolute path P is served by httpboot at FilesPathPrefix+P
//     ("/srv/k/vmlinuz" → "http://SERVER:PORT/boot/files/srv/k/vmlinuz");
//   - a relative path R is DataDir/R and maps like an absolute path;
//     R must not climb out of DataDir with "..".
//
// Paths are cleaned; FilePath inverts the mapping for httpboot.
func (s Settings) FileURL(ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", fmt.Errorf("%w: empty", ErrBadPath)
	}
	if isURL(ref) {
		return ref, nil
	}
	abs, err := s.absPath(ref)
	if err != nil {
		return "", err
	}
	return s.pathURL(FilesPathPrefix+abs, "")
}

func (s Settings) absPath(ref string) (string, error) {
	if path.IsAbs(ref) {
		return path.Clean(ref), nil
	}
	rel := path.Clean(ref)
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%w: %q leaves the data directory", ErrBadPath, ref)
	}
	if !path.IsAbs(s.DataDir) {
		return "", fmt.Errorf("%w: %q is relative and the data directory %q is not absolute", ErrBadPath, ref, s.DataDir)
	}
	return path.Join(s.DataDir, rel), nil
}

// FilePath is the inverse of FileURL for httpboot: the absolute server path
// a request path under FilesPathPrefix names, and false if urlPath is not
// such a path. It does not decide whether the file may be served.
func FilePath(urlPath string) (string, bool) {
	rest, ok := strings.CutPrefix(urlPath, FilesPathPrefix)
	if !ok || !strings.HasPrefix(rest, "/") {
		return "", false
	}
	clean := path.Clean(rest)
	if clean == "/" {
		return "", false
	}
	return clean, true
}

func isURL(s string) bool {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme == "" || rest == "" {
		return false
	}
	for i, c := range scheme {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}
