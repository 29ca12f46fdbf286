package redfish

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stmcginnis/gofish/schemas"

	"drover.dev/drover/internal/bmc"
)

// open opens a client on m with the mockup's credentials, failing the test
// on error, and closes it at cleanup.
func open(t *testing.T, m *mockBMC, attrs map[string]string) *Client {
	t.Helper()
	c, err := Driver{Insecure: true}.Open(context.Background(), bmc.Target{
		Node: "n1", Address: m.addr(), Username: m.user, Password: m.pass, Attrs: attrs,
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c.(*Client)
}

var (
	_ bmc.Driver      = Driver{}
	_ bmc.Client      = (*Client)(nil)
	_ bmc.Inventorier = (*Client)(nil)
)

func TestSetPower(t *testing.T) {
	tests := []struct {
		name       string
		opts       []func(*mockBMC)
		action     bmc.PowerAction
		wantResets []string
		wantState  bmc.PowerState
		wantErr    error
	}{
		{name: "on from off", opts: opts(withPowerState("Off")), action: bmc.PowerOn, wantResets: []string{"On"}, wantState: bmc.StateOn},
		{name: "off", action: bmc.PowerOff, wantResets: []string{"ForceOff"}, wantState: bmc.StateOff},
		{name: "softoff", action: bmc.PowerSoftOff, wantResets: []string{"GracefulShutdown"}, wantState: bmc.StateOff},
		{name: "reset", action: bmc.PowerReset, wantResets: []string{"ForceRestart"}, wantState: bmc.StateOn},
		{name: "reset from off", opts: opts(withPowerState("Off")), action: bmc.PowerReset, wantResets: []string{"ForceRestart"}, wantState: bmc.StateOn},
		{name: "cycle without PowerCycle: off then on", action: bmc.PowerCycle, wantResets: []string{"ForceOff", "On"}, wantState: bmc.StateOn},
		{name: "cycle without PowerCycle waits for Off", opts: opts(func(m *mockBMC) { m.offDelay = 1 }), action: bmc.PowerCycle, wantResets: []string{"ForceOff", "On"}, wantState: bmc.StateOn},
		{name: "cycle without PowerCycle from off: on", opts: opts(withPowerState("Off")), action: bmc.PowerCycle, wantResets: []string{"On"}, wantState: bmc.StateOn},
		{name: "cycle with PowerCycle", opts: opts(withResetTypes("On", "ForceOff", "PowerCycle")), action: bmc.PowerCycle, wantResets: []string{"PowerCycle"}, wantState: bmc.StateOn},
		{name: "on falls back to ForceOn", opts: opts(withPowerState("Off"), withResetTypes("ForceOn", "ForceOff")), action: bmc.PowerOn, wantResets: []string{"ForceOn"}, wantState: bmc.StateOn},
		{name: "reset type not offered", opts: opts(withResetTypes("On", "ForceOff")), action: bmc.PowerReset, wantState: bmc.StateOn, wantErr: bmc.ErrUnsupported},
		{name: "cycle not possible", opts: opts(withResetTypes("On", "GracefulShutdown")), action: bmc.PowerCycle, wantState: bmc.StateOn, wantErr: bmc.ErrUnsupported},
		{name: "no allowable values: sent, BMC refuses", opts: opts(withResetTypes(), func(m *mockBMC) { m.rejectResets = []string{"ForceRestart"} }), action: bmc.PowerReset, wantState: bmc.StateOn, wantErr: bmc.ErrUnsupported},
		{name: "no allowable values: sent, BMC accepts", opts: opts(withResetTypes()), action: bmc.PowerCycle, wantResets: []string{"PowerCycle"}, wantState: bmc.StateOn},
		{name: "no reset action", opts: opts(func(m *mockBMC) { delete(m.system(), "Actions") }), action: bmc.PowerOff, wantState: bmc.StateOn, wantErr: bmc.ErrUnsupported},
		{name: "unknown action", action: "hibernate", wantState: bmc.StateOn, wantErr: bmc.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMockBMC(t, tt.opts...)
			c := open(t, m, nil)
			err := c.SetPower(context.Background(), tt.action)
			if err != nil {
				t.Log(err)
			}
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("SetPower(%s) = %v, want %v", tt.action, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantResets, m.snapshot().Resets); diff != "" {
				t.Errorf("resets sent (-want +got):\n%s", diff)
			}
			got, err := c.PowerState(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.wantState {
				t.Errorf("PowerState = %s, want %s", got, tt.wantState)
			}
		})
	}
}

func opts(o ...func(*mockBMC)) []func(*mockBMC) { return o }

// TestPowerSequence drives one client through a day's rpower commands.
func TestPowerSequence(t *testing.T) {
	m := newMockBMC(t)
	c := open(t, m, nil)
	ctx := context.Background()
	steps := []struct {
		action bmc.PowerAction
		want   bmc.PowerState
	}{
		{bmc.PowerOff, bmc.StateOff},
		{bmc.PowerOn, bmc.StateOn},
		{bmc.PowerSoftOff, bmc.StateOff},
		{bmc.PowerCycle, bmc.StateOn},
		{bmc.PowerReset, bmc.StateOn},
		{bmc.PowerOff, bmc.StateOff},
	}
	for _, s := range steps {
		if err := c.SetPower(ctx, s.action); err != nil {
			t.Fatalf("SetPower(%s): %v", s.action, err)
		}
		got, err := c.PowerState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != s.want {
			t.Fatalf("after %s: PowerState = %s, want %s", s.action, got, s.want)
		}
	}
	want := []string{"ForceOff", "On", "GracefulShutdown", "On", "ForceRestart", "ForceOff"}
	if diff := cmp.Diff(want, m.snapshot().Resets); diff != "" {
		t.Errorf("resets (-want +got):\n%s", diff)
	}
}

func TestPowerState(t *testing.T) {
	tests := []struct {
		redfish string
		want    bmc.PowerState
	}{
		{"On", bmc.StateOn},
		{"Off", bmc.StateOff},
		{"PoweringOn", bmc.StateOff},
		{"PoweringOff", bmc.StateOn},
		{"Paused", bmc.StateOn},
		{"", bmc.StateUnknown},
		{"Exploded", bmc.StateUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.redfish, func(t *testing.T) {
			m := newMockBMC(t, withPowerState(tt.redfish))
			got, err := open(t, m, nil).PowerState(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PowerState with %q = %s, want %s", tt.redfish, got, tt.want)
			}
		})
	}
}

func TestSetBootDevice(t *testing.T) {
	tests := []struct {
		name     string
		opts     []func(*mockBMC)
		dev      bmc.BootDevice
		bo       bmc.BootOptions
		wantBody string    // the PATCH body, compared as JSON; "" for none
		wantBoot [3]string // target, enabled, mode stored afterwards
		wantErr  error
	}{
		{
			name: "net once", dev: bmc.BootNetwork,
			wantBody: `{"Boot":{"BootSourceOverrideTarget":"Pxe","BootSourceOverrideEnabled":"Once"}}`,
			wantBoot: [3]string{"Pxe", "Once", "UEFI"},
		},
		{
			name: "net persistent uefi", dev: bmc.BootNetwork, bo: bmc.BootOptions{Persistent: true, UEFI: true},
			wantBody: `{"Boot":{"BootSourceOverrideTarget":"Pxe","BootSourceOverrideEnabled":"Continuous","BootSourceOverrideMode":"UEFI"}}`,
			wantBoot: [3]string{"Pxe", "Continuous", "UEFI"},
		},
		{
			name: "hd once uefi", dev: bmc.BootDisk, bo: bmc.BootOptions{UEFI: true},
			opts:     opts(func(m *mockBMC) { m.system()["Boot"].(map[string]any)["BootSourceOverrideMode"] = "Legacy" }),
			wantBody: `{"Boot":{"BootSourceOverrideTarget":"Hdd","BootSourceOverrideEnabled":"Once","BootSourceOverrideMode":"UEFI"}}`,
			wantBoot: [3]string{"Hdd", "Once", "UEFI"},
		},
		{
			name: "hd persistent keeps the mode", dev: bmc.BootDisk, bo: bmc.BootOptions{Persistent: true},
			opts:     opts(func(m *mockBMC) { m.system()["Boot"].(map[string]any)["BootSourceOverrideMode"] = "Legacy" }),
			wantBody: `{"Boot":{"BootSourceOverrideTarget":"Hdd","BootSourceOverrideEnabled":"Continuous"}}`,
			wantBoot: [3]string{"Hdd", "Continuous", "Legacy"},
		},
		{
			name: "cd", dev: bmc.BootCD,
			wantBody: `{"Boot":{"BootSourceOverrideTarget":"Cd","BootSourceOverrideEnabled":"Once"}}`,
			wantBoot: [3]string{"Cd", "Once", "UEFI"},
		},
		{
			name: "bios", dev: bmc.BootSetup,
			wantBody: `{"Boot":{"BootSourceOverrideTarget":"BiosSetup","BootSourceOverrideEnabled":"Once"}}`,
			wantBoot: [3]string{"BiosSetup", "Once", "UEFI"},
		},
		{
			name: "def clears the override", dev: bmc.BootDefault, bo: bmc.BootOptions{Persistent: true, UEFI: true},
			wantBody: `{"Boot":{"BootSourceOverrideTarget":"None","BootSourceOverrideEnabled":"Disabled"}}`,
			wantBoot: [3]string{"None", "Disabled", "UEFI"},
		},
		{
			name: "net is UefiHttp where Pxe is not offered", dev: bmc.BootNetwork, bo: bmc.BootOptions{UEFI: true},
			opts:     opts(withBootTargets("None", "Hdd", "UefiHttp")),
			wantBody: `{"Boot":{"BootSourceOverrideTarget":"UefiHttp","BootSourceOverrideEnabled":"Once","BootSourceOverrideMode":"UEFI"}}`,
			wantBoot: [3]string{"UefiHttp", "Once", "UEFI"},
		},
		{
			name: "target not offered", dev: bmc.BootCD,
			opts:     opts(withBootTargets("None", "Pxe", "Hdd")),
			wantBoot: [3]string{"Pxe", "Once", "UEFI"}, wantErr: bmc.ErrUnsupported,
		},
		{
			name: "unknown device", dev: "floppy",
			wantBoot: [3]string{"Pxe", "Once", "UEFI"}, wantErr: bmc.ErrUnsupported,
		},
		{
			name: "BMC refuses the value", dev: bmc.BootSetup,
			opts: opts(func(m *mockBMC) {
				// The BMC checks its own list, the driver sees none.
				withBootTargets("None", "Pxe")(m)
				m.hideBootTargets = true
			}),
			wantBody: `{"Boot":{"BootSourceOverrideTarget":"BiosSetup","BootSourceOverrideEnabled":"Once"}}`,
			wantBoot: [3]string{"Pxe", "Once", "UEFI"}, wantErr: bmc.ErrUnsupported,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMockBMC(t)
			for _, o := range tt.opts {
				o(m)
			}
			c := open(t, m, nil)
			err := c.SetBootDevice(context.Background(), tt.dev, tt.bo)
			if err != nil {
				t.Log(err)
			}
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("SetBootDevice(%s, %+v) = %v, want %v", tt.dev, tt.bo, err, tt.wantErr)
			}
			rec := m.snapshot()
			var want []any
			if tt.wantBody != "" {
				want = []any{decode(t, tt.wantBody)}
			}
			var got []any
			for _, p := range rec.Patches {
				got = append(got, decode(t, p))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("PATCH bodies (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantBoot, rec.Boot); diff != "" {
				t.Errorf("stored Boot (-want +got):\n%s", diff)
			}
		})
	}
}

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return v
}

func TestInventory(t *testing.T) {
	m := newMockBMC(t)
	facts, err := open(t, m, nil).Inventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []bmc.Fact{
		{Name: "System Manufacturer", Value: "Contoso"},
		{Name: "System Model/MTM", Value: "3500"},
		{Name: "System Part Number", Value: "224071-J23"},
		{Name: "System SKU", Value: "8675309"},
		{Name: "System Serial Number", Value: "437XR1138R2"},
		{Name: "System Asset Number", Value: "Chicago-45Z-2381"},
		{Name: "UUID/GUID", Value: "38947555-7742-3448-3784-823347823834"},
		{Name: "BIOS Version", Value: "P79 v1.45 (12/06/2017)"},
		{Name: "BMC Firmware", Value: "1.45.455b66-rev4"},
		{Name: "CPU Count", Value: "2"},
		{Name: "CPU Model", Value: "Multi-Core Intel(R) Xeon(R) processor 7xxx Series"},
		{Name: "CPU Cores", Value: "8"},
		{Name: "CPU Threads", Value: "16"},
		{Name: "Total Memory", Value: "96 GiB"},
	}
	if diff := cmp.Diff(want, facts); diff != "" {
		t.Errorf("Inventory (-want +got):\n%s", diff)
	}
}

func TestSessions(t *testing.T) {
	tests := []struct {
		name        string
		opts        []func(*mockBMC)
		wantSession bool
		want        mockRecord // Logins, Logouts, Sessions after Close; BasicReq>0, TokenReq>0 as 1
	}{
		{name: "session login and logout", wantSession: true, want: mockRecord{Logins: 1, Logouts: 1, TokenReq: 1}},
		{name: "no session service: basic auth", opts: opts(func(m *mockBMC) { m.noSessions = true }), want: mockRecord{BasicReq: 1}},
		{name: "protected service root: basic auth", opts: opts(func(m *mockBMC) { m.rootAuth = true }), want: mockRecord{BasicReq: 1}},
		{name: "root without session link: the specification's path", opts: opts(func(m *mockBMC) {
			delete(m.res["/redfish/v1"], "Links")
		}), wantSession: true, want: mockRecord{Logins: 1, Logouts: 1, TokenReq: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMockBMC(t, tt.opts...)
			c, err := Driver{Insecure: true}.Open(context.Background(), bmc.Target{Address: m.addr(), Username: m.user, Password: m.pass})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.(*Client).SessionAuth(); got != tt.wantSession {
				t.Errorf("SessionAuth = %v, want %v", got, tt.wantSession)
			}
			if err := c.SetPower(context.Background(), bmc.PowerOff); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			rec := m.snapshot()
			got := mockRecord{Logins: rec.Logins, Logouts: rec.Logouts, Sessions: rec.Sessions,
				BasicReq: min(rec.BasicReq, 1), TokenReq: min(rec.TokenReq, 1)}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("server saw (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPickSystem(t *testing.T) {
	const second, secondUUID = "437XR1138R3", "4C4C4544-0042-4D10-8052-B4C04F4A4E32"
	tests := []struct {
		name    string
		opts    []func(*mockBMC)
		uuid    string
		want    string
		wantErr string
	}{
		{name: "the only system", want: "437XR1138R2"},
		{name: "the only system, whatever the uuid", uuid: "00000000-0000-0000-0000-000000000000", want: "437XR1138R2"},
		{name: "by uuid", opts: opts(withSecondSystem(second, secondUUID)), uuid: strings.ToLower(secondUUID), want: second},
		{name: "by id", opts: opts(withSecondSystem(second, secondUUID)), uuid: "437XR1138R2", want: "437XR1138R2"},
		{name: "several, no uuid", opts: opts(withSecondSystem(second, secondUUID)), wantErr: "manages 2 systems"},
		{name: "several, no match", opts: opts(withSecondSystem(second, secondUUID)), uuid: "nope", wantErr: `no system with uuid or id "nope"`},
		{name: "none", opts: opts(func(m *mockBMC) {
			m.res["/redfish/v1/Systems"]["Members"] = []any{}
		}), wantErr: "lists no computer system"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMockBMC(t, tt.opts...)
			c, err := Driver{Insecure: true}.Open(context.Background(), bmc.Target{
				Address: m.addr(), Username: m.user, Password: m.pass, Attrs: map[string]string{"uuid": tt.uuid},
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Open = %v, want an error containing %q", err, tt.wantErr)
				}
				if rec := m.snapshot(); rec.Sessions != 0 {
					t.Errorf("%d sessions left open after a failed Open", rec.Sessions)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := c.(*Client).System(); got != tt.want {
				t.Errorf("System = %q, want %q", got, tt.want)
			}
			if err := c.SetPower(context.Background(), bmc.PowerOff); err != nil {
				t.Fatal(err)
			}
			m.mu.Lock()
			state := m.res["/redfish/v1/Systems/"+tt.want]["PowerState"]
			m.mu.Unlock()
			if state != "Off" {
				t.Errorf("system %s PowerState = %v after off", tt.want, state)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	m := newMockBMC(t)
	basic := newMockBMC(t, func(m *mockBMC) { m.noSessions = true })

	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	// A port that accepts and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()

	pool := x509.NewCertPool()
	pool.AddCert(m.srv.Certificate())

	tests := []struct {
		name    string
		d       Driver
		t       bmc.Target
		wantErr error  // sentinel, nil: any error
		wantMsg string // part of the message
	}{
		{name: "no address", d: Driver{Insecure: true}, t: bmc.Target{Username: "u", Password: "p"}, wantErr: bmc.ErrNoAddress, wantMsg: "bmc attribute"},
		{name: "no credentials", d: Driver{Insecure: true}, t: bmc.Target{Address: m.addr()}, wantErr: bmc.ErrNoCredentials, wantMsg: "bmcusername and bmcpassword"},
		{name: "no user", d: Driver{Insecure: true}, t: bmc.Target{Address: m.addr(), Password: "p"}, wantErr: bmc.ErrNoCredentials, wantMsg: "set bmcusername"},
		{name: "no password", d: Driver{Insecure: true}, t: bmc.Target{Address: m.addr(), Username: "u"}, wantErr: bmc.ErrNoCredentials, wantMsg: "set bmcpassword"},
		{name: "bad scheme", d: Driver{Insecure: true}, t: bmc.Target{Address: "ftp://198.18.0.5", Username: "u", Password: "p"}, wantMsg: `scheme "ftp"`},
		{name: "wrong password", d: Driver{Insecure: true}, t: bmc.Target{Address: m.addr(), Username: m.user, Password: "wrong"}, wantErr: bmc.ErrAuth, wantMsg: `log in as "Administrator"`},
		{name: "wrong user", d: Driver{Insecure: true}, t: bmc.Target{Address: "https://" + m.addr() + "/redfish/v1/", Username: "root", Password: m.pass}, wantErr: bmc.ErrAuth, wantMsg: "HTTP 401"},
		{name: "wrong password, basic auth", d: Driver{Insecure: true}, t: bmc.Target{Address: basic.addr(), Username: basic.user, Password: "wrong"}, wantErr: bmc.ErrAuth, wantMsg: "list systems"},
		{name: "closed port", d: Driver{Timeout: 2 * time.Second, Insecure: true}, t: bmc.Target{Address: closed, Username: "u", Password: "p"}, wantErr: bmc.ErrUnreachable, wantMsg: "connection refused"},
		{name: "silent port", d: Driver{Timeout: 300 * time.Millisecond, Insecure: true}, t: bmc.Target{Address: silent.Addr().String(), Username: "u", Password: "p"}, wantErr: bmc.ErrUnreachable, wantMsg: "no answer within 300ms"},
		{name: "untrusted certificate", d: Driver{}, t: bmc.Target{Address: m.addr(), Username: m.user, Password: m.pass}, wantErr: ErrUntrustedCert, wantMsg: "RootCAs"},
		{name: "http to a TLS port", d: Driver{Timeout: 2 * time.Second}, t: bmc.Target{Address: "http://" + m.addr(), Username: m.user, Password: m.pass}, wantMsg: "read the service root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.d.Open(context.Background(), tt.t)
			if err == nil {
				c.Close()
				t.Fatalf("Open succeeded, want %v", tt.wantErr)
			}
			t.Log(err)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Open = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Open = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
	if rec := m.snapshot(); rec.Logins != 0 || rec.Sessions != 0 {
		t.Errorf("failed logins left %d logins, %d sessions", rec.Logins, rec.Sessions)
	}

	t.Run("trusted by RootCAs", func(t *testing.T) {
		c, err := Driver{RootCAs: pool}.Open(context.Background(), bmc.Target{Address: m.addr(), Username: m.user, Password: m.pass})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCallErrors: a session that the BMC forgot is ErrAuth; a BMC that went
// away is ErrUnreachable.
func TestCallErrors(t *testing.T) {
	m := newMockBMC(t)
	c := open(t, m, nil)
	m.mu.Lock()
	clear(m.tokens)
	m.mu.Unlock()
	if _, err := c.PowerState(context.Background()); !errors.Is(err, bmc.ErrAuth) {
		t.Errorf("PowerState with an expired session = %v, want %v", err, bmc.ErrAuth)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.SetPower(ctx, bmc.PowerOff); !errors.Is(err, context.Canceled) {
		t.Errorf("SetPower with a canceled context = %v, want %v", err, context.Canceled)
	}
	m.srv.Close()
	if err := c.SetPower(context.Background(), bmc.PowerOn); !errors.Is(err, bmc.ErrUnreachable) {
		t.Errorf("SetPower on a stopped BMC = %v, want %v", err, bmc.ErrUnreachable)
	}
	if err := c.Close(); !errors.Is(err, bmc.ErrUnreachable) {
		t.Errorf("Close on a stopped BMC = %v, want %v", err, bmc.ErrUnreachable)
	}
}

func TestBootOverride(t *testing.T) {
	// The pure part of SetBootDevice, for values the mockup cannot show.
	tests := []struct {
		dev     bmc.BootDevice
		o       bmc.BootOptions
		allowed []schemas.BootSource
		want    *schemas.Boot
		wantErr error
	}{
		{dev: bmc.BootNetwork, want: &schemas.Boot{BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Once"}},
		{dev: bmc.BootNetwork, allowed: []schemas.BootSource{"Hdd"}, wantErr: bmc.ErrUnsupported},
		{dev: bmc.BootDefault, allowed: []schemas.BootSource{"Pxe"}, want: &schemas.Boot{BootSourceOverrideTarget: "None", BootSourceOverrideEnabled: "Disabled"}},
		{dev: bmc.BootSetup, o: bmc.BootOptions{Persistent: true, UEFI: true}, want: &schemas.Boot{BootSourceOverrideTarget: "BiosSetup", BootSourceOverrideEnabled: "Continuous", BootSourceOverrideMode: "UEFI"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.dev), func(t *testing.T) {
			got, err := bootOverride(tt.dev, tt.o, tt.allowed)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(schemas.Boot{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

var endpointTests = []struct {
	in, want string
	bad      bool
}{
	{in: "198.18.0.5", want: "https://198.18.0.5"},
	{in: " 198.18.0.5:8443 ", want: "https://198.18.0.5:8443"},
	{in: "bmc-n1.cluster", want: "https://bmc-n1.cluster"},
	{in: "bmc-n1:443", want: "https://bmc-n1:443"},
	{in: "fd18::5", want: "https://[fd18::5]"},
	{in: "[fd18::5]", want: "https://[fd18::5]"},
	{in: "[fd18::5]:8443", want: "https://[fd18::5]:8443"},
	{in: "fe80::1%eth0", want: "https://[fe80::1%25eth0]"},
	{in: "http://198.18.0.5:8000", want: "http://198.18.0.5:8000"},
	{in: "HTTPS://bmc-n1/redfish/v1/", want: "https://bmc-n1"},
	{in: "https://[fd18::5]:443/", want: "https://[fd18::5]:443"},
	{in: "", bad: true},
	{in: "ftp://bmc", bad: true},
	{in: "https://", bad: true},
	{in: "https://:443", bad: true},
	{in: "bmc:0", bad: true},
	{in: "bmc:99999", bad: true},
	{in: "bmc:http", bad: true},
	{in: "bmc:", bad: true},
	{in: "bmc/redfish", bad: true},
	{in: "user@bmc", bad: true},
	{in: "a:b:c", bad: true},
	{in: "[bmc", bad: true},
	{in: "fe80::1%", bad: true},
}

func TestEndpoint(t *testing.T) {
	for _, tt := range endpointTests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := endpoint(tt.in)
			if (err != nil) != tt.bad {
				t.Fatalf("endpoint(%q) = %q, %v; want bad=%v", tt.in, got, err, tt.bad)
			}
			if got != tt.want {
				t.Errorf("endpoint(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzEndpoint(f *testing.F) {
	for _, tt := range endpointTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ep, err := endpoint(in)
		if err != nil {
			return
		}
		u, err := url.Parse(ep)
		if err != nil {
			t.Fatalf("endpoint(%q) = %q, which does not parse: %v", in, ep, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Path != "" {
			t.Fatalf("endpoint(%q) = %q: scheme %q host %q path %q", in, ep, u.Scheme, u.Hostname(), u.Path)
		}
		again, err := endpoint(ep)
		if err != nil || again != ep {
			t.Fatalf("endpoint(%q) = %q, but endpoint(%q) = %q, %v", in, ep, ep, again, err)
		}
	})
}
