// Package boot decides what a network-booting machine gets at each stage
// from its inventory data. It does no I/O: callers (dhcpd, httpboot) look
// up the node by MAC, its currstate, its osimage (named by the state) and
// the osimage's boottarget (BootTargetName) and pass them in.
//
// The chain it drives:
//
//	firmware PXE --DHCP--> TFTP loader (undionly.kpxe / snponly.efi)  ActionLoaderTFTP
//	UEFI HTTP Boot --DHCP--> HTTP loader LoaderPathPrefix+loader       ActionLoaderHTTP
//	iPXE --DHCP--> script URL ScriptPathPrefix+MACPath(mac)?token=T   ActionScript
//	iPXE --HTTP--> rendered script (kernel, initrds, cmdline | exit)  ActionScript, Plan.Script
//	Linux --POST--> ReportPathPrefix+MACPath(mac)?token=T (kernel argument drover.report=)
//
// Kernel and initrd references map to URLs with Settings.FileURL.
package boot

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
	"text/template"

	"drover.dev/drover/internal/inventory"
)

//go:embed templates/*.ipxe
var templateFS embed.FS

// scripts holds the parsed templates; it is never modified after parsing.
var scripts = template.Must(template.New("").ParseFS(templateFS, "templates/*.ipxe"))

// Action is what the server does for a request.
type Action int

// Actions.
const (
	ActionIgnore     Action = iota // answer nothing (offline, unknown MAC without discovery)
	ActionLoaderTFTP               // DHCP: boot file Plan.Bootfile over TFTP
	ActionLoaderHTTP               // DHCP: UEFI HTTP Boot of Plan.LoaderURL
	ActionScript                   // DHCP: Plan.ScriptURL as boot file; script stage: Plan.Script
)

// String names the action.
func (a Action) String() string {
	switch a {
	case ActionLoaderTFTP:
		return "loader-tftp"
	case ActionLoaderHTTP:
		return "loader-http"
	case ActionScript:
		return "script"
	}
	return "ignore"
}

// Input is everything Decide looks at.
type Input struct {
	Request  Request
	NodeName string             // empty for an unknown MAC
	Node     inventory.Resolved // nil for an unknown MAC
	// State is the node's currstate attribute as nodeset wrote it (see ParseState).
	State string
	// OSImage is the osimage named by State, nil if it does not exist.
	OSImage inventory.Resolved
	// BootTarget is the boottarget named by BootTargetName(OSImage), nil if it does not exist.
	BootTarget inventory.Resolved
	// Token is the node's signed token, put into every node-specific URL.
	Token string
	// DiscoverToken is the machine's discovery token, put into the
	// registration URL (DiscoverParam) of the discovery environment only;
	// it is what lets the agent's report in.
	DiscoverToken string
	Settings      Settings
}

// Plan is the decision.
type Plan struct {
	Action Action
	Node   string // node name; empty for an unknown MAC
	// State is the effective state: the node's, StateDiscover for an
	// unknown MAC booting discovery, the zero State for an ignored unknown MAC.
	State    State
	Reason   string // why the request is ignored, for the boot timeline
	Bootfile string // TFTP boot file for ActionLoaderTFTP
	// LoaderURL is the loader for ActionLoaderHTTP.
	LoaderURL string
	// ScriptURL is the node's script URL (with token) whenever the request
	// is not ignored; iPXE gets it as its boot file.
	ScriptURL string
	Kernel    string   // kernel URL (empty for StateBoot)
	Initrds   []string // initrd URLs
	// Cmdline is the kernel command line, report URL included; the script
	// adds "initrd=initrdN" arguments naming the initrds for EFI stub kernels.
	Cmdline string
	Script  string // rendered iPXE script (StageScript only)
}

// DHCPBootfile is what the DHCP reply carries as boot file (option 67 /
// file): the TFTP loader, the HTTP loader URL or the script URL; empty if
// the request is ignored.
func (p Plan) DHCPBootfile() string {
	switch p.Action {
	case ActionLoaderTFTP:
		return p.Bootfile
	case ActionLoaderHTTP:
		return p.LoaderURL
	case ActionScript:
		return p.ScriptURL
	}
	return ""
}

// BootTargetName is the boottarget an osimage boots, or "" if it boots its
// own kernel: the osimage's boottarget attribute (xCAT's
// linuximage.boottarget), or its profile when provmethod is "boottarget"
// and boottarget is unset (xCAT's os=boottarget rule).
func BootTargetName(osimage inventory.Resolved) string {
	if name := strings.TrimSpace(osimage["boottarget"]); name != "" {
		return name
	}
	if strings.TrimSpace(osimage["provmethod"]) == "boottarget" {
		return strings.TrimSpace(osimage["profile"])
	}
	return ""
}

// Decide returns what the machine in in.Request gets. It does no I/O.
func Decide(in Input) (Plan, error) {
	p := Plan{Node: in.NodeName}
	known := in.Node != nil
	if known {
		st, err := ParseState(in.State)
		if err != nil {
			return Plan{}, fmt.Errorf("node %s: %w", in.NodeName, err)
		}
		p.State = st
	} else {
		if !in.Settings.Discover.Configured() {
			p.Reason = "unknown mac, discovery not configured"
			return p, nil
		}
		p.State = State{Kind: StateDiscover}
	}
	if p.State.Kind == StateOffline {
		p.Reason = "node is offline"
		return p, nil
	}
	if err := resolveTarget(&p, in); err != nil {
		return Plan{}, err
	}
	token := in.Token
	var err error
	if p.ScriptURL, err = in.Settings.ScriptURL(in.Request.MAC, token); err != nil {
		return Plan{}, err
	}
	req := in.Request
	switch {
	case req.Stage == StageScript:
		p.Action = ActionScript
		if p.Script, err = render(p, in); err != nil {
			return Plan{}, err
		}
	case req.IPXE():
		p.Action = ActionScript
	default:
		loader, err := Loader(req.Arch)
		if err != nil {
			return Plan{}, err
		}
		if req.HTTPClient() || req.Arch.HTTP() {
			p.Action = ActionLoaderHTTP
			if p.LoaderURL, err = in.Settings.LoaderURL(loader); err != nil {
				return Plan{}, err
			}
		} else {
			p.Action = ActionLoaderTFTP
			p.Bootfile = loader
		}
	}
	return p, nil
}

// Loader is the iPXE loader, relative to the TFTP root (and to
// LoaderPathPrefix over HTTP), for a client architecture. ArchEFIIA32 and
// other architectures without a loader give ErrUnsupportedArch.
func Loader(a Arch) (string, error) {
	switch a {
	case ArchBIOS:
		return LoaderBIOS, nil
	case ArchEFIBC, ArchEFIx8664, ArchEFIx8664HTTP:
		return LoaderEFIx8664, nil
	case ArchEFIARM64, ArchEFIARM64HTTP:
		return LoaderEFIARM64, nil
	}
	return "", fmt.Errorf("%w: %d (%s)", ErrUnsupportedArch, uint16(a), a)
}

// resolveTarget fills Kernel, Initrds and Cmdline for the state.
func resolveTarget(p *Plan, in Input) error {
	var t Target
	switch p.State.Kind {
	case StateBoot:
		return nil
	case StateShell:
		if !in.Settings.Shell.Configured() {
			return fmt.Errorf("node %s: shell: %w", in.NodeName, ErrNotConfigured)
		}
		t = in.Settings.Shell
	case StateDiscover:
		if !in.Settings.Discover.Configured() {
			return fmt.Errorf("node %s: discover: %w", in.NodeName, ErrNotConfigured)
		}
		t = in.Settings.Discover
	case StateOSImage:
		var err error
		if t, err = imageTarget(p.State.OSImage, in); err != nil {
			return fmt.Errorf("node %s: %w", in.NodeName, err)
		}
	}
	var err error
	if p.Kernel, err = in.Settings.FileURL(t.Kernel); err != nil {
		return fmt.Errorf("node %s: kernel: %w", in.NodeName, err)
	}
	for _, ref := range t.Initrds {
		u, err := in.Settings.FileURL(ref)
		if err != nil {
			return fmt.Errorf("node %s: initrd: %w", in.NodeName, err)
		}
		p.Initrds = append(p.Initrds, u)
	}
	report, err := in.Settings.ReportURL(in.Request.MAC, in.Token)
	if err != nil {
		return err
	}
	p.Cmdline = strings.TrimSpace(strings.TrimSpace(t.Cmdline) + " " + ReportParam + "=" + report)
	if p.State.Kind == StateDiscover {
		reg, err := in.Settings.DiscoverURL(in.Request.MAC, in.DiscoverToken)
		if err != nil {
			return err
		}
		p.Cmdline += " " + DiscoverParam + "=" + reg
	}
	for _, v := range append([]string{p.Kernel, p.Cmdline}, p.Initrds...) {
		if err := checkSafe(v); err != nil {
			return fmt.Errorf("node %s: %w", in.NodeName, err)
		}
	}
	for _, v := range p.Initrds {
		if strings.ContainsAny(v, " \t") {
			return fmt.Errorf("node %s: %w: initrd %q contains white space", in.NodeName, ErrUnsafeValue, v)
		}
	}
	if strings.ContainsAny(p.Kernel, " \t") {
		return fmt.Errorf("node %s: %w: kernel %q contains white space", in.NodeName, ErrUnsafeValue, p.Kernel)
	}
	return nil
}

// imageTarget is the kernel, initrds and command line of osimage name: its
// boottarget's (xCAT ignores addkcmdline then), or its own kernel, initrd
// and kcmdline attributes plus the addkcmdline options without the "R::"
// prefix (those are for the installed OS).
func imageTarget(name string, in Input) (Target, error) {
	img := in.OSImage
	if img == nil {
		return Target{}, fmt.Errorf("%w: %q", ErrOSImageNotFound, name)
	}
	if bt := BootTargetName(img); bt != "" {
		if in.BootTarget == nil {
			return Target{}, fmt.Errorf("osimage %q: %w: %q", name, ErrBootTargetNotFound, bt)
		}
		t := Target{
			Kernel:  strings.TrimSpace(in.BootTarget["kernel"]),
			Initrds: inventory.SplitList(in.BootTarget["initrd"]),
			Cmdline: in.BootTarget["kcmdline"],
		}
		if t.Kernel == "" {
			return Target{}, fmt.Errorf("boottarget %q: %w", bt, ErrNoKernel)
		}
		return t, nil
	}
	t := Target{
		Kernel:  strings.TrimSpace(img["kernel"]),
		Initrds: inventory.SplitList(img["initrd"]),
		Cmdline: strings.TrimSpace(img["kcmdline"]),
	}
	if t.Kernel == "" {
		return Target{}, fmt.Errorf("osimage %q: %w", name, ErrNoKernel)
	}
	var add []string
	for _, opt := range strings.Fields(img["addkcmdline"]) {
		if !strings.HasPrefix(opt, "R::") {
			add = append(add, opt)
		}
	}
	if len(add) > 0 {
		t.Cmdline = strings.TrimSpace(t.Cmdline + " " + strings.Join(add, " "))
	}
	return t, nil
}

// checkSafe rejects what iPXE would not take literally on a command line
// (iPXE has no quoting; see split_command and command_terminator in its
// src/core/exec.c): line breaks and other control characters, "${"
// (setting expansion), the words "||", "&&" and ";" (command terminators),
// words starting with "#" (comments) and a trailing backslash (line
// continuation in scripts).
func checkSafe(v string) error {
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %q contains control character %q", ErrUnsafeValue, v, r)
		}
	}
	if strings.Contains(v, "${") {
		return fmt.Errorf("%w: %q contains \"${\"", ErrUnsafeValue, v)
	}
	if strings.HasSuffix(v, "\\") {
		return fmt.Errorf("%w: %q ends with a backslash", ErrUnsafeValue, v)
	}
	for _, w := range strings.Fields(v) {
		if w == "||" || w == "&&" || w == ";" || strings.HasPrefix(w, "#") {
			return fmt.Errorf("%w: %q contains %q", ErrUnsafeValue, v, w)
		}
	}
	return nil
}

type initrdLine struct{ Name, URL string }

type scriptData struct {
	Title   string
	Kernel  string
	Initrds []initrdLine
	Args    string
}

func render(p Plan, in Input) (string, error) {
	title := p.State.String()
	if p.Node != "" {
		title = "node " + p.Node + " " + title
	} else {
		title = "unknown " + MACPath(in.Request.MAC) + " " + title
	}
	if err := checkSafe(title); err != nil {
		return "", err
	}
	d := scriptData{Title: title, Kernel: p.Kernel, Args: p.Cmdline}
	name := "linux.ipxe"
	if p.State.Kind == StateBoot {
		name = "exit.ipxe"
	}
	for i, u := range p.Initrds {
		d.Initrds = append(d.Initrds, initrdLine{Name: "initrd" + strconv.Itoa(i), URL: u})
	}
	var b strings.Builder
	if err := scripts.ExecuteTemplate(&b, name, d); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}
