package e2e

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Lab inventory: node names, MACs and fixed addresses, and the pool.
const (
	kcmdline  = "console=ttyS0 quiet panic=-1"
	osimage   = "e2e-img"
	unknownMA = "52:54:00:18:00:99" // defined nowhere: gets the pool and discovery
	vmTimeout = 240 * time.Second   // per VM; TCG on a loaded 2-core machine is slow
)

var (
	poolFirst = netip.MustParseAddr("198.18.0.100")
	poolLast  = netip.MustParseAddr("198.18.0.200")
)

type node struct{ name, mac, ip string }

var nodes = []node{
	{"cn1", "52:54:00:18:00:01", "198.18.0.11"}, // osimage
	{"cn2", "52:54:00:18:00:02", "198.18.0.12"}, // nodeset boot
	{"cn3", "52:54:00:18:00:03", "198.18.0.13"}, // two at once
	{"cn4", "52:54:00:18:00:04", "198.18.0.14"}, // two at once
}

func inPool(a netip.Addr) bool {
	return a.Is4() && poolFirst.Compare(a) <= 0 && a.Compare(poolLast) <= 0
}

// TestNetboot is issue 3's acceptance 1: drover alone is the DHCP, TFTP and
// HTTP server of the lab, and real iPXE firmware in QEMU boots through it.
// (QEMU's NIC ROM is iPXE itself: drover hands it the script URL at once,
// so the firmware takes no TFTP step; TFTP is served all the same.)
// The lab (one namespace, one drover server) is shared by the scenarios,
// which run one after the other (TCG VMs are CPU-bound: running them side
// by side on two cores only stretches each boot), except the two-VM one.
func TestNetboot(t *testing.T) {
	l := newLab(t)
	configure(t, l)

	t.Run("defined node boots its osimage", func(t *testing.T) {
		n := nodes[0]
		v := l.startVM(t, n.name, n.mac)
		l.dumpOnFailure(t, v)
		how, err := v.waitOff(vmTimeout)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s %.1fs after power-on", n.name, how, time.Since(v.started).Seconds())
		l.checkBooted(t, v, n.name, func(a netip.Addr) bool { return a.String() == n.ip }, true)
		// The table form too, as an operator reads it.
		out, err := l.drover("events", n.name)
		if err != nil {
			t.Error(err)
		} else if !strings.Contains(out, "http-report") {
			t.Errorf("drover events %s shows no http-report:\n%s", n.name, out)
		}
		t.Logf("drover events %s:\n%s", n.name, out)
	})

	t.Run("nodeset boot makes iPXE exit", func(t *testing.T) {
		n := nodes[1]
		v := l.startVM(t, n.name, n.mac)
		l.dumpOnFailure(t, v)
		l.checkExited(t, v, n.name)
	})

	t.Run("unknown MAC gets the pool and discovery", func(t *testing.T) {
		v := l.startVM(t, "disc1", unknownMA)
		l.dumpOnFailure(t, v)
		how, err := v.waitOff(vmTimeout)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("disc1: %s %.1fs after power-on", how, time.Since(v.started).Seconds())
		l.checkBooted(t, v, unknownMA, inPool, false)
	})

	t.Run("two VMs at once", func(t *testing.T) {
		pair := nodes[2:4]
		vms := make([]*vm, len(pair))
		for i, n := range pair {
			vms[i] = l.startVM(t, n.name, n.mac)
			l.dumpOnFailure(t, vms[i])
		}
		errs := make([]error, len(vms))
		var wg sync.WaitGroup
		for i, v := range vms {
			wg.Go(func() { _, errs[i] = v.waitOff(vmTimeout) })
		}
		wg.Wait()
		for i, n := range pair {
			if errs[i] != nil {
				t.Errorf("%s: %v", n.name, errs[i])
				continue
			}
			l.checkBooted(t, vms[i], n.name, func(a netip.Addr) bool { return a.String() == n.ip }, true)
		}
	})
}

// configure sets the lab up the way the README tells a newcomer to: site,
// network, boottargets, osimage, nodes, nodeset — all through the CLI.
func configure(t *testing.T, l *lab) {
	t.Helper()
	// The discovery target uses paths under the data directory (the other
	// form boottarget paths may take); the osimage's uses absolute paths.
	disc := filepath.Join(l.data, "discover")
	if err := os.MkdirAll(disc, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, l.kernel, filepath.Join(disc, "vmlinuz"))
	copyFile(t, l.initrd, filepath.Join(disc, "initrd.gz"))

	cmds := l.baseConfig(kcmdline)
	for _, n := range nodes {
		cmds = append(cmds, []string{"mkdef", "-t", "node", n.name, "groups=all", "mac=" + n.mac, "ip=" + n.ip})
	}
	cmds = append(cmds,
		[]string{"nodeset", "cn1,cn3,cn4", "osimage=" + osimage},
		[]string{"nodeset", "cn2", "boot"},
	)
	for _, c := range cmds {
		out := l.mustDrover(t, c...)
		t.Logf("drover %s: %s", strings.Join(c, " "), strings.TrimSpace(out))
	}
	l.waitListening(t)
}

// baseConfig is the lab's site, network, OS image (boot target e2e: the
// report-in initramfs) and discover boot target (files under
// DATA/discover, booted with discoverCmdline), as drover commands.
func (l *lab) baseConfig(discoverCmdline string) [][]string {
	return [][]string{
		{"chdef", "-t", "site", "dhcpinterfaces=" + bridge, "master=" + serverIP},
		{"mkdef", "-t", "network", "-o", "lab", "net=198.18.0.0", "mask=255.255.255.0", "mgtifname=" + bridge,
			"dynamicrange=" + poolFirst.String() + "-" + poolLast.String()},
		{"mkdef", "-t", "boottarget", "-o", "e2e", "kernel=" + l.kernel, "initrd=" + l.initrd, "kcmdline=" + kcmdline},
		{"mkdef", "-t", "boottarget", "-o", "discover", "kernel=discover/vmlinuz", "initrd=discover/initrd.gz",
			"kcmdline=" + discoverCmdline},
		{"mkdef", "-t", "osimage", "-o", osimage, "provmethod=boottarget", "boottarget=e2e"},
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// dumpOnFailure logs the VM's serial console and the drover log when t fails.
func (l *lab) dumpOnFailure(t *testing.T, v *vm) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		t.Logf("--- serial console of %s (last lines):\n%s", v.name, printableTail(v.serialLog(), 40))
		t.Logf("--- drover log (last lines):\n%s", tail(l.serveLog, 60))
	})
}

// step is one expected entry of a boot timeline.
type step struct {
	kind   string
	detail string // a regular expression the event's detail must match; "" matches any
	what   string
}

// findSteps matches steps, in order, against a subsequence of evs. It
// returns the matched events and the index of the first step not found
// (len(steps) when all are).
func findSteps(evs []event, steps []step) ([]event, int) {
	res := make([]*regexp.Regexp, len(steps))
	for i, s := range steps {
		res[i] = regexp.MustCompile(s.detail)
	}
	var got []event
	i := 0
	for _, e := range evs {
		if i == len(steps) {
			break
		}
		if e.Kind == steps[i].kind && e.Reason == "" && res[i].MatchString(e.Detail) {
			got = append(got, e)
			i++
		}
	}
	return got, i
}

func dora(who string) []step {
	return []step{
		{"dhcp-discover", "", who + " DHCPDISCOVER"},
		{"dhcp-offer", "", who + " DHCPOFFER"},
		{"dhcp-request", "", who + " DHCPREQUEST"},
		{"dhcp-ack", "", who + " DHCPACK"},
	}
}

// logTimeline prints events relative to power-on.
func logTimeline(t *testing.T, ref string, v *vm, evs []event) {
	t.Helper()
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "\n  %+7.2fs %s", e.Time.Sub(v.started).Seconds(), e)
	}
	t.Logf("drover events %s (seconds after power-on):%s", ref, b.String())
}

// checkBooted checks a VM that booted the kernel and initramfs and powered
// off: the serial console shows the report accepted from an address ipOK
// accepts, and `drover events ref` shows the whole chain, firmware DHCP to
// report. strict also fails on refused steps (a defined node has none).
func (l *lab) checkBooted(t *testing.T, v *vm, ref string, ipOK func(netip.Addr) bool, strict bool) {
	t.Helper()
	serial := v.serialLog()
	if !strings.Contains(serial, markReportOK) {
		t.Errorf("%s: no %s on the serial console; initramfs said:\n  %s", v.name, markReportOK,
			strings.Join(v.initLines(), "\n  "))
	}
	ip, ok := v.dhcpIP()
	switch {
	case !ok:
		t.Errorf("%s: the initramfs got no address (no %q line)", v.name, markDHCPOK)
	case !ipOK(ip):
		t.Errorf("%s: the initramfs got %s from DHCP, not the expected address", v.name, ip)
	}

	evs, err := l.eventsUntil(ref, "http-report", 5*time.Second)
	if err != nil {
		t.Errorf("%s: %v", v.name, err)
		return
	}
	if len(evs) == 0 && ref == unknownMA {
		// Boot events are kept per node; a machine no node claims has none
		// to show, so the serial console above is the evidence.
		t.Logf("%s: drover events %s shows nothing (events are per node); checked the serial console only", v.name, ref)
		return
	}
	logTimeline(t, ref, v, evs)

	steps := dora("firmware")
	state := `\bstate=osimage\b.*\b` + osimage + `\b`
	if ref == unknownMA {
		state = `\bstate=discover\b`
	}
	steps = append(steps,
		step{"http-script", state, "iPXE fetches its script"},
		step{"http-file", regexp.QuoteMeta(l.kernelRef(ref)) + `\b`, "iPXE fetches the kernel"},
		step{"http-file", regexp.QuoteMeta(l.initrdRef(ref)) + `\b`, "iPXE fetches the initrd"},
	)
	steps = append(steps, dora("initramfs")...)
	steps = append(steps, step{"http-report", `\bbooted\b`, "the initramfs reports"})
	got, n := findSteps(evs, steps)
	if n < len(steps) {
		t.Errorf("%s: timeline misses step %d (%s: %s %q) after %d matched steps",
			ref, n+1, steps[n].what, steps[n].kind, steps[n].detail, n)
	}
	if tftp := kinds(evs, "tftp-read"); len(tftp) > 0 {
		t.Logf("%s: TFTP stage: %s", ref, tftp[0])
	} else {
		t.Logf("%s: no TFTP stage (QEMU's ROM is iPXE itself, which gets its script URL at once)", ref)
	}
	if strict {
		for _, e := range evs {
			if e.Reason != "" {
				t.Errorf("%s: refused step in a clean boot: %s", ref, e)
			}
		}
	}

	reports := kinds(evs, "http-report")
	if len(reports) == 0 {
		return
	}
	r := reports[len(reports)-1]
	if from := r.remoteAddr(); !ipOK(from) {
		t.Errorf("%s: report came from %q, not the expected address", ref, r.Remote)
	}
	t.Logf("%s: power-on -> report %.1fs (report from %s)", ref, r.Time.Sub(v.started).Seconds(), r.Remote)
	if n == len(steps) {
		scriptAt := got[4].Time
		t.Logf("%s: firmware DHCPDISCOVER %+.1fs, script %+.1fs, kernel %+.1fs, initrd %+.1fs, report %+.1fs",
			ref, got[0].Time.Sub(v.started).Seconds(), scriptAt.Sub(v.started).Seconds(),
			got[5].Time.Sub(v.started).Seconds(), got[6].Time.Sub(v.started).Seconds(), r.Time.Sub(v.started).Seconds())
	}
}

// kernelRef and initrdRef are the server files a node's timeline names.
func (l *lab) kernelRef(ref string) string {
	if ref == unknownMA {
		return filepath.Join(l.data, "discover", "vmlinuz")
	}
	return l.kernel
}

func (l *lab) initrdRef(ref string) string {
	if ref == unknownMA {
		return filepath.Join(l.data, "discover", "initrd.gz")
	}
	return l.initrd
}

func kinds(evs []event, kind string) []event {
	var out []event
	for _, e := range evs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// checkExited checks a node set to `boot`: its script is served and iPXE
// exits, so SeaBIOS finds nothing else to boot; no kernel is fetched.
func (l *lab) checkExited(t *testing.T, v *vm, name string) {
	t.Helper()
	deadline := time.Now().Add(vmTimeout)
	for !strings.Contains(v.serialLog(), markNoBoot) {
		if !v.running() {
			break // SeaBIOS retried after its 60 s and -no-reboot ended QEMU
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %q on the serial console after %s", name, markNoBoot, vmTimeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
	exitedAt := time.Now()
	t.Logf("%s: SeaBIOS found nothing to boot %.1fs after power-on", name, exitedAt.Sub(v.started).Seconds())

	evs, err := l.eventsUntil(name, "http-script", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	logTimeline(t, name, v, evs)
	steps := append(dora("firmware"), step{"http-script", `\bstate=boot(\s|$)`, "iPXE fetches its script (state boot)"})
	if _, n := findSteps(evs, steps); n < len(steps) {
		t.Errorf("%s: timeline misses step %d (%s: %s %q)", name, n+1, steps[n].what, steps[n].kind, steps[n].detail)
	}
	for _, k := range []string{"http-file", "http-report"} {
		for _, e := range kinds(evs, k) {
			t.Errorf("%s: a node set to boot must fetch no kernel and report nothing, got %s", name, e)
		}
	}
	for _, e := range evs {
		if e.Reason != "" {
			t.Errorf("%s: refused step: %s", name, e)
		}
	}
	// iPXE's console: the script was fetched, then iPXE gave up the
	// device ("No more network devices") and no kernel image was loaded.
	s := escapes.ReplaceAllString(v.serialLog(), "")
	script, gaveUp := strings.Index(s, "[script]"), strings.Index(s, "No more network devices")
	if script < 0 || gaveUp < script {
		t.Errorf("%s: serial console does not show iPXE fetching the script and then exiting:\n%s", name, printableTail(s, 20))
	}
	if strings.Contains(s, "[bzImage]") || strings.Contains(s, "drover-init:") {
		t.Errorf("%s: a kernel was loaded although the node is set to boot", name)
	}
}
