package docker

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"drover.dev/drover/internal/bmc"
)

// fakeEngine answers the few Docker API calls the driver makes, on a unix
// socket, and records what it was asked.
type fakeEngine struct {
	mu     sync.Mutex
	states map[string]container.State // containers by name
	calls  []string                   // "METHOD /path?query", without the version
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Api-Version", "1.41")
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/v1.41"); ok {
		path = rest
	}
	if path == "/_ping" {
		w.Write([]byte("OK"))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	call := r.Method + " " + path
	if r.URL.RawQuery != "" {
		call += "?" + r.URL.RawQuery
	}
	f.calls = append(f.calls, call)
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) != 3 || parts[0] != "containers" {
		http.Error(w, "not faked", http.StatusInternalServerError)
		return
	}
	st, ok := f.states[parts[1]]
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"message": "no container with name or ID " + parts[1] + " found: no such container"})
		return
	}
	switch parts[2] {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(container.InspectResponse{ID: "0123456789ab", Name: "/" + parts[1], State: &st})
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// serveFake serves f on a unix socket and gives its endpoint.
func serveFake(t *testing.T, f *fakeEngine) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "engine.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + sock
}

func TestPowerFake(t *testing.T) {
	f := &fakeEngine{states: map[string]container.State{
		"running":    {Status: container.StateRunning, Running: true},
		"paused":     {Status: container.StatePaused, Running: true, Paused: true},
		"restarting": {Status: container.StateRestarting, Restarting: true},
		"created":    {Status: container.StateCreated},
		"exited":     {Status: container.StateExited, ExitCode: 137},
	}}
	ep := serveFake(t, f)
	ctx := context.Background()
	open := func(t *testing.T, node string) bmc.Client {
		t.Helper()
		c, err := Driver{Grace: 1500 * time.Millisecond}.Open(ctx, bmc.Target{Node: node, Address: ep})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	for _, tc := range []struct {
		node string
		want bmc.PowerState
	}{
		{"running", bmc.StateOn}, {"paused", bmc.StateOn}, {"restarting", bmc.StateOn},
		{"created", bmc.StateOff}, {"exited", bmc.StateOff},
	} {
		t.Run("state/"+tc.node, func(t *testing.T) {
			got, err := open(t, tc.node).PowerState(ctx)
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	t.Run("state/missing", func(t *testing.T) {
		_, err := open(t, "missing").PowerState(ctx)
		if !errors.Is(err, ErrNoContainer) || !strings.Contains(err.Error(), `"missing"`) {
			t.Fatalf("got %v, want ErrNoContainer naming the container", err)
		}
	})
	for _, tc := range []struct {
		action bmc.PowerAction
		want   string
	}{
		{bmc.PowerOn, "POST /containers/running/start"},
		{bmc.PowerOff, "POST /containers/running/stop?t=0"},
		{bmc.PowerSoftOff, "POST /containers/running/stop?t=2"}, // grace 1.5 s, whole seconds up
		{bmc.PowerCycle, "POST /containers/running/restart?t=0"},
		{bmc.PowerReset, "POST /containers/running/restart?t=0"},
	} {
		t.Run("set/"+string(tc.action), func(t *testing.T) {
			f.mu.Lock()
			f.calls = nil
			f.mu.Unlock()
			if err := open(t, "running").SetPower(ctx, tc.action); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if diff := cmp.Diff([]string{tc.want}, f.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("set/boot", func(t *testing.T) {
		if err := open(t, "running").SetPower(ctx, "boot"); !errors.Is(err, bmc.ErrUnsupported) {
			t.Fatalf("got %v, want ErrUnsupported", err)
		}
	})
	t.Run("set/missing", func(t *testing.T) {
		if err := open(t, "missing").SetPower(ctx, bmc.PowerOn); !errors.Is(err, ErrNoContainer) {
			t.Fatalf("got %v, want ErrNoContainer", err)
		}
	})
	t.Run("bootdev", func(t *testing.T) {
		if err := open(t, "running").SetBootDevice(ctx, bmc.BootNetwork, bmc.BootOptions{Persistent: true}); !errors.Is(err, bmc.ErrUnsupported) {
			t.Fatalf("got %v, want ErrUnsupported", err)
		}
	})
	t.Run("inventory", func(t *testing.T) {
		got, err := open(t, "exited").(bmc.Inventorier).Inventory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []bmc.Fact{{Name: "Container ID", Value: "0123456789ab"}, {Name: "State", Value: "exited"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("remove-running", func(t *testing.T) {
		e, err := Connect(ctx, Endpoint{Address: ep})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if err := e.Remove(ctx, "running", false); !errors.Is(err, ErrRunning) {
			t.Fatalf("got %v, want ErrRunning", err)
		}
	})
}

func TestUnreachable(t *testing.T) {
	dir := t.TempDir()
	// a listener that accepts and never answers
	silent, err := net.Listen("unix", filepath.Join(dir, "silent.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	// a TCP port on loopback that refuses: bound, not listening
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.Addr().String()
	closed.Close()

	for _, tc := range []struct {
		name, addr string
		want       error
	}{
		{"no socket", "unix://" + filepath.Join(dir, "no", "podman.sock"), bmc.ErrUnreachable},
		{"bare path, no socket", filepath.Join(dir, "podman.sock"), bmc.ErrUnreachable},
		{"tcp refused", "tcp://" + refused, bmc.ErrUnreachable},
		{"silent engine", "unix://" + filepath.Join(dir, "silent.sock"), bmc.ErrUnreachable},
		{"no address", "", bmc.ErrNoAddress},
		{"ssh", "ssh://root@host", nil},
		{"unix without path", "unix://", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Driver{Timeout: 300 * time.Millisecond}.Open(context.Background(), bmc.Target{Node: "cn1", Address: tc.addr})
			if err == nil {
				c.Close()
				t.Fatal("Open succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}

func TestEndpointFor(t *testing.T) {
	got := EndpointFor(bmc.Target{Address: " tcp://198.18.0.5:2376 ", Attrs: map[string]string{
		"tlscacert": "/etc/drover/ca.pem", "tlscert": "/etc/drover/cert.pem", "tlskey": "/etc/drover/key.pem", "vmhost": "host1",
	}})
	want := Endpoint{Address: "tcp://198.18.0.5:2376", CACert: "/etc/drover/ca.pem", Cert: "/etc/drover/cert.pem", Key: "/etc/drover/key.pem"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		ep Endpoint
		ok bool
	}{
		{Endpoint{Address: "unix:///run/podman/podman.sock"}, true},
		{Endpoint{Address: "/run/podman/podman.sock"}, true},
		{Endpoint{Address: "tcp://198.18.0.5:2375"}, true},
		{Endpoint{Address: "http://198.18.0.5:2375"}, true},
		{Endpoint{Address: "https://198.18.0.5:2376"}, true},
		{Endpoint{Address: "unix:///run/podman/podman.sock", CACert: "/ca.pem"}, false}, // TLS over a socket
		{Endpoint{Address: "ssh://root@198.18.0.5"}, false},
		{Endpoint{Address: "198.18.0.5:2375"}, false},
		{Endpoint{}, false},
	} {
		_, err := tc.ep.options()
		if (err == nil) != tc.ok {
			t.Errorf("%+v: err %v, want ok=%v", tc.ep, err, tc.ok)
		}
	}
}

func TestSpecConfig(t *testing.T) {
	mac, _ := net.ParseMAC("52:54:00:18:05:21")
	s := Spec{
		Name: "cn01", Image: "localhost/node:1", Cmd: []string{"/sbin/init"},
		CPUs: 1.5, MemoryBytes: 512 << 20,
		Network: "cluster", IP: netip.MustParseAddr("198.18.5.21"), MAC: mac,
		Volumes: []string{"/srv/cn01:/data", "scratch:/scratch:ro"},
		Restart: "on-failure:3", Env: []string{"A=1", "B="},
		Labels: map[string]string{"drover.group": "compute", Label: "spoofed"},
	}
	cfg, hc, nc, err := s.config()
	if err != nil {
		t.Fatal(err)
	}
	wantCfg := &container.Config{
		Hostname: "cn01", Image: "localhost/node:1", Cmd: []string{"/sbin/init"}, Env: []string{"A=1", "B="},
		Labels: map[string]string{"drover.group": "compute", Label: "cn01"}, Tty: true, OpenStdin: true,
	}
	if diff := cmp.Diff(wantCfg, cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	wantHC := &container.HostConfig{
		Binds:         []string{"/srv/cn01:/data", "scratch:/scratch:ro"},
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 3},
		NetworkMode:   "cluster",
	}
	wantHC.NanoCPUs, wantHC.Memory = 1.5e9, 512<<20
	if diff := cmp.Diff(wantHC, hc); diff != "" {
		t.Errorf("host config (-want +got):\n%s", diff)
	}
	wantNC := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"cluster": {
		IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: netip.MustParseAddr("198.18.5.21")},
		MacAddress: network.HardwareAddr(mac),
	}}}
	if diff := cmp.Diff(wantNC, nc, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("networking config (-want +got):\n%s", diff)
	}
	if s.Labels[Label] != "spoofed" {
		t.Error("config changed the caller's labels")
	}

	// no network: the engine's default, no endpoint settings
	_, hc, nc, err = Spec{Name: "cn02", Image: "i"}.config()
	if err != nil || hc.NetworkMode != "" || nc != nil || hc.RestartPolicy.Name != container.RestartPolicyDisabled {
		t.Errorf("minimal spec: %v, %q, %+v, %+v", err, hc.NetworkMode, nc, hc.RestartPolicy)
	}
	// a network mode: no endpoint settings either
	_, hc, nc, err = Spec{Name: "cn02", Image: "i", Network: "ns:/run/netns/cn02"}.config()
	if err != nil || hc.NetworkMode != "ns:/run/netns/cn02" || nc != nil {
		t.Errorf("network mode: %v, %q, %+v", err, hc.NetworkMode, nc)
	}
}

func TestSpecInvalid(t *testing.T) {
	ok := Spec{Name: "cn01", Image: "localhost/node:1"}
	for _, tc := range []struct {
		name string
		edit func(*Spec)
	}{
		{"no name", func(s *Spec) { s.Name = "" }},
		{"name with slash", func(s *Spec) { s.Name = "a/b" }},
		{"name starting with dash", func(s *Spec) { s.Name = "-a" }},
		{"no image", func(s *Spec) { s.Image = " " }},
		{"negative cpus", func(s *Spec) { s.CPUs = -1 }},
		{"negative memory", func(s *Spec) { s.MemoryBytes = -1 }},
		{"ip without network", func(s *Spec) { s.IP = netip.MustParseAddr("198.18.5.1") }},
		{"ip on host network", func(s *Spec) { s.IP, s.Network = netip.MustParseAddr("198.18.5.1"), "host" }},
		{"mac on none", func(s *Spec) { s.MAC, s.Network = net.HardwareAddr{2, 0, 0, 0, 0, 1}, "none" }},
		{"long mac", func(s *Spec) { s.MAC, s.Network = make(net.HardwareAddr, 8), "cluster" }},
		{"bad volume", func(s *Spec) { s.Volumes = []string{"/a"} }},
		{"bad restart", func(s *Spec) { s.Restart = "sometimes" }},
		{"bad env", func(s *Spec) { s.Env = []string{"NOVALUE"} }},
		{"empty env key", func(s *Spec) { s.Env = []string{"=x"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.edit(&s)
			if _, _, _, err := s.config(); !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("got %v, want ErrInvalidSpec", err)
			}
		})
	}
	if _, _, _, err := ok.config(); err != nil {
		t.Fatal(err)
	}
}

var volumeCases = []struct {
	in   string
	want Volume
	ok   bool
}{
	{"/srv/a:/data", Volume{Source: "/srv/a", Target: "/data"}, true},
	{"/srv/a:/data:ro", Volume{Source: "/srv/a", Target: "/data", ReadOnly: true}, true},
	{"/srv/a:/data:rw", Volume{Source: "/srv/a", Target: "/data"}, true},
	{"scratch:/scratch", Volume{Source: "scratch", Target: "/scratch"}, true},
	{"my_vol.1:/v", Volume{Source: "my_vol.1", Target: "/v"}, true},
	{"/srv/a", Volume{}, false},
	{"/srv/a:data", Volume{}, false},
	{"/srv/a:/data:rx", Volume{}, false},
	{"/srv/a:/data:ro:z", Volume{}, false},
	{"./a:/data", Volume{}, false},
	{"/srv/../a:/data", Volume{}, false},
	{"/srv/a:/data/", Volume{}, false},
	{":/data", Volume{}, false},
	{"", Volume{}, false},
}

func TestParseVolume(t *testing.T) {
	for _, tc := range volumeCases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseVolume(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseVolume(f *testing.F) {
	for _, tc := range volumeCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVolume(s)
		if err != nil {
			return
		}
		again, err := ParseVolume(v.String())
		if err != nil || again != v {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, v, v.String(), again, err)
		}
	})
}

var restartCases = []struct {
	in   string
	want container.RestartPolicy
	ok   bool
}{
	{"", container.RestartPolicy{Name: "no"}, true},
	{"no", container.RestartPolicy{Name: "no"}, true},
	{"always", container.RestartPolicy{Name: "always"}, true},
	{"unless-stopped", container.RestartPolicy{Name: "unless-stopped"}, true},
	{"on-failure", container.RestartPolicy{Name: "on-failure"}, true},
	{"on-failure:5", container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}, true},
	{"on-failure:0", container.RestartPolicy{Name: "on-failure"}, true},
	{"on-failure:-1", container.RestartPolicy{}, false},
	{"on-failure:05", container.RestartPolicy{}, false},
	{"on-failure:", container.RestartPolicy{}, false},
	{"always:3", container.RestartPolicy{}, false},
	{"Always", container.RestartPolicy{}, false},
	{"sometimes", container.RestartPolicy{}, false},
}

func TestParseRestart(t *testing.T) {
	for _, tc := range restartCases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRestart(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseRestart(f *testing.F) {
	for _, tc := range restartCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseRestart(s)
		if err != nil {
			return
		}
		switch p.Name {
		case "no", "always", "unless-stopped", "on-failure":
		default:
			t.Fatalf("%q -> mode %q", s, p.Name)
		}
		if p.MaximumRetryCount < 0 || (p.MaximumRetryCount > 0 && p.Name != "on-failure") {
			t.Fatalf("%q -> %+v", s, p)
		}
	})
}
