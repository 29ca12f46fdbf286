package xcatcmd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"drover.dev/drover/internal/inventory"
)

// discNow is the fake clock of the discovery tests.
var discNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// fakeDiscovery keeps reports and one sequential discovery in memory and
// logs every call, so the goldens show what each command asked for.
type fakeDiscovery struct {
	st    SeqStatus
	reps  []DiscoveryReport
	rules string
	taken map[string]bool // names sequential discovery does not hand out
	calls []string
}

func (f *fakeDiscovery) log(format string, a ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, a...))
}

func (f *fakeDiscovery) StartSequential(_ context.Context, req SeqRequest) error {
	f.log("StartSequential(%+v)", req)
	if f.st.Running {
		return ErrDiscoveryRunning
	}
	f.st = SeqStatus{Running: true, Noderange: req.Noderange, Groups: req.Groups, OSImage: req.OSImage, Started: discNow}
	for _, n := range req.Names {
		if !f.taken[n] {
			f.st.Free = append(f.st.Free, n)
		}
	}
	return nil
}

func (f *fakeDiscovery) StopSequential(context.Context) (SeqStatus, error) {
	f.log("StopSequential()")
	if !f.st.Running {
		return SeqStatus{}, ErrDiscoveryNotRunning
	}
	f.st.Running, f.st.Stopped = false, discNow
	return f.st, nil
}

func (f *fakeDiscovery) Sequential(context.Context) (SeqStatus, error) {
	f.log("Sequential()")
	return f.st, nil
}

func (f *fakeDiscovery) Reports(context.Context) ([]DiscoveryReport, error) {
	f.log("Reports()")
	return slices.Clone(f.reps), nil
}

func (f *fakeDiscovery) find(ref string) (int, error) {
	for i, r := range f.reps {
		if r.ID == ref || strings.EqualFold(r.MAC, ref) || r.UUID != "" && strings.EqualFold(r.UUID, ref) {
			return i, nil
		}
	}
	return -1, ErrNoReport
}

func (f *fakeDiscovery) Report(_ context.Context, ref string) (DiscoveryReport, error) {
	f.log("Report(%q)", ref)
	i, err := f.find(ref)
	if err != nil {
		return DiscoveryReport{}, err
	}
	return f.reps[i], nil
}

func (f *fakeDiscovery) Approve(_ context.Context, ref, node string) (DiscoveryReport, error) {
	f.log("Approve(%q, %q)", ref, node)
	i, err := f.find(ref)
	if err != nil {
		return DiscoveryReport{}, err
	}
	if f.reps[i].State == "flagged" {
		return DiscoveryReport{}, fmt.Errorf("report %s is flagged: %s", f.reps[i].ID, f.reps[i].Reason)
	}
	f.reps[i].State, f.reps[i].Node, f.reps[i].Method = "approved", node, "manual"
	return f.reps[i], nil
}

func (f *fakeDiscovery) Reject(_ context.Context, ref string) (DiscoveryReport, error) {
	f.log("Reject(%q)", ref)
	i, err := f.find(ref)
	if err != nil {
		return DiscoveryReport{}, err
	}
	f.reps[i].State = "rejected"
	return f.reps[i], nil
}

func (f *fakeDiscovery) Remove(_ context.Context, refs []string) (int, error) {
	f.log("Remove(%q)", refs)
	n := 0
	for _, ref := range refs {
		if i, err := f.find(ref); err == nil {
			f.reps = slices.Delete(f.reps, i, i+1)
			n++
		}
	}
	return n, nil
}

func (f *fakeDiscovery) Rules(context.Context) (string, error) {
	f.log("Rules()")
	return f.rules, nil
}

func (f *fakeDiscovery) SetRules(_ context.Context, text string) error {
	f.log("SetRules(%d bytes)", len(text))
	for i, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "bogus") {
			return fmt.Errorf("line %d: unknown selector %q", i+1, strings.Fields(line)[0])
		}
	}
	f.rules = text
	return nil
}

const discFacts = `{"schema":1,"version":"v0.5.0-3-gabc1234","time":"2026-11-22T11:55:00Z",` +
	`"system":{"vendor":"QEMU","product":"Standard PC (Q35 + ICH9, 2009)","serial":"SN0001","uuid":"51e5f2d7-0d59-11e2-a7bc-3440b5bedbb2"},` +
	`"cpus":{"model":"QEMU Virtual CPU version 2.5+","sockets":1,"cores":2,"threads":4},"memoryBytes":2147483648,` +
	`"disks":[{"name":"vda","sizeBytes":10737418240,"rotational":true}],` +
	`"nics":[{"name":"eth0","mac":"52:54:00:00:00:01","driver":"virtio_net","link":true,"pci":"0000:00:03.0"},` +
	`{"name":"eth1","mac":"52:54:00:00:01:01","driver":"e1000","link":false,"pci":"0000:00:04.0"}],` +
	`"lldp":[{"nic":"eth0","chassisID":"9e:aa:bb:cc:dd:ee","portID":"tap-cn1","sysName":"labhost"}]}`

// discReports are the fake's reports: matched by MTMS, by sequential, by
// switch and by a rule, one queued, one flagged.
func discReports() []DiscoveryReport {
	return []DiscoveryReport{
		{ID: "1", MAC: "52:54:00:00:00:01", UUID: "51E5F2D7-0D59-11E2-A7BC-3440B5BEDBB2", Serial: "SN0001", MTM: "786310X",
			Received: discNow.Add(-5 * time.Minute), Updated: discNow.Add(-4 * time.Minute), Count: 2,
			State: "matched", Node: "cn1", Method: "mtms", Reason: "serial SN0001 and mtm 786310X of cn1",
			CPUModel: "QEMU Virtual CPU version 2.5+", CPUs: 4, MemoryBytes: 2 << 30, Disks: 1,
			NICs:         []DiscoveredNIC{{"eth0", "52:54:00:00:00:01", "virtio_net", "0000:00:03.0"}, {"eth1", "52:54:00:00:01:01", "e1000", "0000:00:04.0"}},
			LLDP:         []DiscoveredNeighbour{{"eth0", "9e:aa:bb:cc:dd:ee", "tap-cn1", "labhost"}},
			AgentVersion: "v0.5.0-3-gabc1234", Facts: []byte(discFacts)},
		{ID: "2", MAC: "52:54:00:00:00:02", UUID: "51E5F2D7-0D59-11E2-A7BC-3440B5BEDBB3", Serial: "SN0002",
			Received: discNow.Add(-3 * time.Minute), Updated: discNow.Add(-3 * time.Minute), Count: 1,
			State: "matched", Node: "cn2", Method: "sequential", Reason: "next free name of cn[2-4]",
			CPUs: 2, MemoryBytes: 1 << 30, Disks: 1, NICs: []DiscoveredNIC{{MAC: "52:54:00:00:00:02"}}, AgentVersion: "v0.5.0-3-gabc1234"},
		{ID: "3", MAC: "52:54:00:00:00:03", Serial: "VERYLONGSERIAL123456",
			Received: discNow.Add(-90 * time.Second), Updated: discNow.Add(-30 * time.Second), Count: 3,
			State: "queued", Reason: "no rule matched", AgentVersion: "v0.5.0-3-gabc1234"},
		{ID: "4", MAC: "aa:bb:cc:00:00:03", UUID: "0A1B2C3D-0000-0000-0000-000000000004", Serial: "SN9999", MTM: "786310X",
			Received: discNow.Add(-2*time.Hour - 5*time.Minute), Updated: discNow.Add(-2 * time.Hour), Count: 1,
			State: "flagged", Reason: "MAC aa:bb:cc:00:00:03 belongs to cn3 whose serial is SN0003, the report says SN9999"},
		{ID: "5", MAC: "52:54:00:00:00:05", UUID: "51E5F2D7-0D59-11E2-A7BC-3440B5BEDBB5", Serial: "SN0005",
			Received: discNow.Add(-26 * time.Hour), Updated: discNow.Add(-26 * time.Hour), Count: 1,
			State: "matched", Node: "cn5", Method: "switch", Reason: "switch sw1 port 5 of cn5"},
		{ID: "6", MAC: "52:54:00:00:00:06", UUID: "51E5F2D7-0D59-11E2-A7BC-3440B5BEDBB6", Serial: "SN0006",
			Received: discNow.Add(-9 * 24 * time.Hour), Updated: discNow.Add(-9 * 24 * time.Hour), Count: 1,
			State: "matched", Node: "gpu01", Method: "rule", Reason: "rule 2 (gpu.vendor=nvidia)"},
	}
}

// discInventory: cn1 and cn3 are defined with MACs, cn2 without; the
// osimage rocky9 exists.
func discInventory() []inventory.Object {
	return []inventory.Object{
		obj(inventory.Group, "compute", "mgt", "ipmi"),
		obj(inventory.Node, "cn1", "groups", "compute", "mac", "52:54:00:00:00:01", "ip", "198.18.0.11", "bmc", "198.18.1.11"),
		obj(inventory.Node, "cn2", "groups", "compute", "ip", "198.18.0.12"),
		obj(inventory.Node, "cn3", "groups", "compute", "mac", "aa:bb:cc:00:00:03"),
		obj(inventory.OSImage, "rocky9", "provmethod", "netboot", "osvers", "rocky9", "osarch", "x86_64"),
	}
}

// discCase is one command line against a fresh fake.
type discCase struct {
	args    []string
	stdin   string
	running bool // a sequential discovery over cn[2-4] runs, cn2 discovered
	empty   bool // the fake holds no reports
	nilDisc bool // Runner.Discovery is nil
}

func runDiscCase(t *testing.T, tc discCase) (Response, *fakeDiscovery) {
	t.Helper()
	f := &fakeDiscovery{taken: map[string]bool{"cn1": true, "cn3": true}, rules: "# rules\nmemory>=512GiB groups=bigmem name=big{n:02}\n"}
	if !tc.empty {
		f.reps = discReports()
	}
	if tc.running {
		f.st = SeqStatus{Running: true, Noderange: "cn[2-4]", Groups: []string{"compute", "rack1"}, OSImage: "rocky9",
			Started: discNow.Add(-10 * time.Minute), Free: []string{"cn3", "cn4"}, Discovered: []string{"cn2"}}
	} else {
		f.st = SeqStatus{Noderange: "cn[2-4]", Started: discNow.Add(-2 * time.Hour), Stopped: discNow.Add(-time.Hour)}
	}
	r := &Runner{Backend: &countingBackend{mem: inventory.NewMemory(discInventory()...)}, Schema: inventory.DefaultSchema(),
		Now: func() time.Time { return discNow }}
	if !tc.nilDisc {
		r.Discovery = f
	}
	return r.Run(t.Context(), Request{Command: tc.args[0], Args: tc.args[1:], Stdin: tc.stdin}), f
}

// discGolden runs the cases and compares their transcripts (with the
// calls the fake saw) with testdata/discovery/NAME.golden.
func discGolden(t *testing.T, name string, cases []discCase) {
	t.Helper()
	var b strings.Builder
	for _, tc := range cases {
		resp, f := runDiscCase(t, tc)
		tr := transcript(tc.args, tc.stdin, resp)
		if tc.running {
			tr = "# sequential discovery running\n" + tr
		}
		if tc.nilDisc {
			tr = "# no discovery service\n" + tr
		}
		if len(f.calls) > 0 {
			tr = strings.TrimSuffix(tr, "\n") + "--- calls\n" + strings.Join(f.calls, "\n") + "\n\n"
		}
		b.WriteString(tr)
	}
	checkGolden(t, "discovery", name, b.String())
}

func discArgs(s string) []string { return strings.Fields(s) }

func TestNodediscoverstart(t *testing.T) {
	discGolden(t, "nodediscoverstart", []discCase{
		{args: discArgs("nodediscoverstart noderange=cn[1-4] groups=compute,rack1 osimage=rocky9")},
		{args: discArgs("nodediscoverstart noderange=cn[1-4] -V")},
		{args: discArgs("nodediscoverstart noderange=compute,cn[4-5]")},
		{args: discArgs("nodediscoverstart noderange=cn[5-6]"), running: true},
		{args: discArgs("nodediscoverstart")},
		{args: discArgs("nodediscoverstart groups=compute")},
		{args: discArgs("nodediscoverstart networkprofile=default_cn imageprofile=rh hostnameformat=compute#NNN")},
		{args: discArgs("nodediscoverstart noderange=cn[1-4] foo=bar")},
		{args: discArgs("nodediscoverstart noderange=")},
		{args: discArgs("nodediscoverstart noderange=cn[1-4] groups")},
		{args: discArgs("nodediscoverstart noderange=cn[1-4] hostiprange=198.18.0.1-198.18.0.10")},
		{args: discArgs("nodediscoverstart noderange=cn[1-4] bmciprange=198.18.1.[1-10]")},
		{args: discArgs("nodediscoverstart noderange=cn[1-4] rack=r1 unit=3")},
		{args: discArgs("nodediscoverstart noderange=cn[1-4] -n")},
		{args: discArgs("nodediscoverstart noderange=cn[1-4] --skipbmcsetup")},
		{args: discArgs("nodediscoverstart noderange=cn[1-4] osimage=nosuch")},
		{args: discArgs("nodediscoverstart noderange=(cn1")},
		{args: discArgs("nodediscoverstart noderange=cn.a")},
		{args: discArgs("nodediscoverstart noderange=cn[1-4] --bogus")},
		{args: discArgs("nodediscoverstart noderange=cn[1-4]"), nilDisc: true},
		{args: discArgs("nodediscoverstart -v")},
		{args: discArgs("nodediscoverstart -h"), nilDisc: true},
	})
}

// TestNodediscoverstartRequest checks what reaches the service.
func TestNodediscoverstartRequest(t *testing.T) {
	resp, f := runDiscCase(t, discCase{args: discArgs("nodediscoverstart noderange=cn3,cn[1-2],cn1 groups=compute,,rack1 osimage=rocky9")})
	if resp.ExitCode != 0 {
		t.Fatalf("%+v", resp)
	}
	want := `StartSequential({Noderange:cn3,cn[1-2],cn1 Names:[cn1 cn2 cn3] Groups:[compute rack1] OSImage:rocky9})`
	if len(f.calls) == 0 || f.calls[0] != want {
		t.Errorf("calls %q, want first %q", f.calls, want)
	}
}

func TestNodediscoverstopStatus(t *testing.T) {
	discGolden(t, "nodediscoverstop", []discCase{
		{args: discArgs("nodediscoverstop"), running: true},
		{args: discArgs("nodediscoverstop")},
		{args: discArgs("nodediscoverstop extra"), running: true},
		{args: discArgs("nodediscoverstop"), nilDisc: true},
		{args: discArgs("nodediscoverstop --help")},
		{args: discArgs("nodediscoverstatus"), running: true},
		{args: discArgs("nodediscoverstatus")},
		{args: discArgs("nodediscoverstatus"), nilDisc: true},
		{args: discArgs("nodediscoverstatus -h")},
	})
}

func TestNodediscoverls(t *testing.T) {
	discGolden(t, "nodediscoverls", []discCase{
		{args: discArgs("nodediscoverls"), running: true},
		{args: discArgs("nodediscoverls")},
		{args: discArgs("nodediscoverls -t all"), running: true},
		{args: discArgs("nodediscoverls -t seq")},
		{args: discArgs("nodediscoverls -t undef")},
		{args: discArgs("nodediscoverls -t profile")},
		{args: discArgs("nodediscoverls -t switch")},
		{args: discArgs("nodediscoverls -t mtms")},
		{args: discArgs("nodediscoverls -t blade")},
		{args: discArgs("nodediscoverls -t bogus")},
		{args: discArgs("nodediscoverls -u 51E5F2D7-0D59-11E2-A7BC-3440B5BEDBB2 -l")},
		{args: discArgs("nodediscoverls -u 51e5f2d7-0d59-11e2-a7bc-3440b5bedbb3")},
		{args: discArgs("nodediscoverls -u 00000000-0000-0000-0000-000000000000")},
		{args: discArgs("nodediscoverls -t undef -l")},
		{args: discArgs("nodediscoverls"), empty: true},
		{args: discArgs("nodediscoverls"), empty: true, running: true},
		{args: discArgs("nodediscoverls"), nilDisc: true},
		{args: discArgs("nodediscoverls -h")},
	})
}

func TestNodediscoverdef(t *testing.T) {
	discGolden(t, "nodediscoverdef", []discCase{
		{args: discArgs("nodediscoverdef -u 51E5F2D7-0D59-11E2-A7BC-3440B5BEDBB2 -n cn1")},
		{args: discArgs("nodediscoverdef -i 3 -n cn2")},
		{args: discArgs("nodediscoverdef -u 00000000-0000-0000-0000-000000000000 -n cn1")},
		{args: discArgs("nodediscoverdef -u 3 -n cn9")},
		{args: discArgs("nodediscoverdef -u 3 -n cn[1-2]")},
		{args: discArgs("nodediscoverdef -u 4 -n cn3")},
		{args: discArgs("nodediscoverdef -r -u 51E5F2D7-0D59-11E2-A7BC-3440B5BEDBB2")},
		{args: discArgs("nodediscoverdef -r -u 00000000-0000-0000-0000-000000000000")},
		{args: discArgs("nodediscoverdef -r -t undef")},
		{args: discArgs("nodediscoverdef -r -t seq")},
		{args: discArgs("nodediscoverdef -r -t all")},
		{args: discArgs("nodediscoverdef -r -t blade")},
		{args: discArgs("nodediscoverdef -r -t bogus")},
		{args: discArgs("nodediscoverdef -r")},
		{args: discArgs("nodediscoverdef -r -u 3 -t seq")},
		{args: discArgs("nodediscoverdef -r -u 3 -n cn1")},
		{args: discArgs("nodediscoverdef -u 3")},
		{args: discArgs("nodediscoverdef -u 3 -i 3 -n cn1")},
		{args: discArgs("nodediscoverdef -u 3 -n cn1"), nilDisc: true},
		{args: discArgs("nodediscoverdef -h")},
	})
}

func TestDiscoveryCommand(t *testing.T) {
	discGolden(t, "discovery", []discCase{
		{args: discArgs("discovery list")},
		{args: discArgs("discovery list -o wide")},
		{args: discArgs("discovery list -o json")},
		{args: discArgs("discovery list -o yaml"), empty: true},
		{args: discArgs("discovery list"), empty: true},
		{args: discArgs("discovery list -o xml")},
		{args: discArgs("discovery show 1")},
		{args: discArgs("discovery show 52:54:00:00:00:03")},
		{args: discArgs("discovery show nosuch")},
		{args: discArgs("discovery approve 3 cn7")},
		{args: discArgs("discovery approve 52:54:00:00:00:03 cn7")},
		{args: discArgs("discovery approve nosuch cn7")},
		{args: discArgs("discovery approve 4 cn3")},
		{args: discArgs("discovery approve 3 cn7.example")},
		{args: discArgs("discovery approve 3 a,b")},
		{args: discArgs("discovery approve 3")},
		{args: discArgs("discovery reject 3")},
		{args: discArgs("discovery reject nosuch")},
		{args: discArgs("discovery rules")},
		{args: discArgs("discovery rules -f -"), stdin: "# GPU boxes\ngpu.vendor=nvidia groups=gpu name=gpu{n:02}\n\nmemory>=512GiB groups=bigmem\n"},
		{args: discArgs("discovery rules -f -"), stdin: "memory>=512GiB groups=bigmem\nbogus=1 groups=x\n"},
		{args: discArgs("discovery rules -f -"), stdin: " \n"},
		{args: discArgs("discovery rules -f -"), stdin: "# no rules\n"},
		{args: discArgs("discovery rules -f rules.txt")},
		{args: discArgs("discovery show 1 -o json")},
		{args: discArgs("discovery help"), nilDisc: true},
		{args: discArgs("discovery -h")},
		{args: discArgs("discovery")},
		{args: discArgs("discovery frobnicate")},
		{args: discArgs("discovery list"), nilDisc: true},
	})
}

func TestDiscoveryListYAML(t *testing.T) {
	resp, _ := runDiscCase(t, discCase{args: discArgs("discovery list -o yaml")})
	if resp.ExitCode != 0 {
		t.Fatalf("%+v", resp)
	}
	var got []reportOut
	if err := yaml.Unmarshal([]byte(resp.Stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, resp.Stdout)
	}
	var want []reportOut
	for _, rep := range discReports() {
		want = append(want, reportOut{ID: rep.ID, State: rep.State, MAC: rep.MAC, UUID: rep.UUID, Serial: rep.Serial, MTM: rep.MTM,
			Node: rep.Node, Method: rep.Method, Reason: rep.Reason, Received: rep.Received, Updated: rep.Updated, Count: rep.Count,
			CPUModel: rep.CPUModel, CPUs: rep.CPUs, MemoryBytes: rep.MemoryBytes, Disks: rep.Disks, NICs: rep.MACs(), AgentVersion: rep.AgentVersion})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("yaml round trip (-want +got):\n%s", diff)
	}
}

func TestDiscoveryReadOnly(t *testing.T) {
	want := map[string]bool{"nodediscoverstart": false, "nodediscoverstop": false, "nodediscoverdef": false,
		"nodediscoverls": true, "nodediscoverstatus": true, "discovery": false}
	for name, ro := range want {
		if !Known(name) {
			t.Errorf("%s is not a known command", name)
		}
		if got := ReadOnly(name); got != ro {
			t.Errorf("ReadOnly(%s) = %v, want %v", name, got, ro)
		}
	}
}

func TestXCATMethod(t *testing.T) {
	tests := []struct {
		rep  DiscoveryReport
		want string
	}{
		{DiscoveryReport{State: "queued"}, "undef"},
		{DiscoveryReport{State: "flagged", Method: "mac"}, "undef"},
		{DiscoveryReport{State: "rejected"}, "undef"},
		{DiscoveryReport{State: "matched", Node: "a", Method: "mac"}, "mac"},
		{DiscoveryReport{State: "matched", Node: "a", Method: "mtms"}, "mtms"},
		{DiscoveryReport{State: "matched", Node: "a", Method: "switch"}, "switch"},
		{DiscoveryReport{State: "matched", Node: "a", Method: "sequential"}, "sequential"},
		{DiscoveryReport{State: "matched", Node: "a", Method: "rule"}, "profile"},
		{DiscoveryReport{State: "approved", Node: "a", Method: "manual"}, "manual"},
		{DiscoveryReport{State: "approved", Node: "a"}, "manual"},
	}
	for _, tt := range tests {
		t.Run(tt.rep.State+"/"+tt.rep.Method, func(t *testing.T) {
			if got := xcatMethod(tt.rep); got != tt.want {
				t.Errorf("xcatMethod(%+v) = %q, want %q", tt.rep, got, tt.want)
			}
		})
	}
}

func TestHumanAge(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"}, {45 * time.Second, "45s"}, {119 * time.Second, "119s"}, {200 * time.Second, "3m20s"},
		{5 * time.Minute, "5m"}, {12 * time.Minute, "12m"}, {185 * time.Minute, "3h5m"}, {4 * time.Hour, "4h"},
		{20 * time.Hour, "20h"}, {76 * time.Hour, "3d4h"}, {72 * time.Hour, "3d"}, {40 * 24 * time.Hour, "40d"},
		{3 * 365 * 24 * time.Hour, "3y"},
	}
	var got, want []string
	for _, tt := range tests {
		got = append(got, humanAge(tt.d))
		want = append(want, tt.want)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("humanAge (-want +got):\n%s", diff)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "", 512: "512 B", 2 << 30: "2.0 GiB", 1536 << 20: "1.5 GiB", 3 << 40: "3.0 TiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
