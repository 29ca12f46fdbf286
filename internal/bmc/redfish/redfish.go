// Package redfish drives a node's BMC over DMTF Redfish (mgt=redfish) with
// github.com/stmcginnis/gofish: power through ComputerSystem.Reset, power
// state from the ComputerSystem, the boot source override through a PATCH
// of its Boot property, and an inventory for rinv.
//
// # Authentication
//
// Open logs in through the SessionService (POST to the service root's
// Links.Sessions, else /redfish/v1/SessionService/Sessions) and sends the
// returned X-Auth-Token on every later request; Close deletes the session.
// When the BMC has no session service (the POST answers 404, 405 or 501, or
// no X-Auth-Token comes back), or when the service root itself demands
// credentials, the driver falls back to HTTP basic auth on every request
// and checks the credentials by reading the Systems collection. A 401
// (or 403) anywhere is bmc.ErrAuth; it never falls back to basic auth after
// the BMC refused the session login.
//
// # TLS
//
// A Driver's zero value verifies the BMC's certificate against the system
// roots, as any Go HTTPS client does. Nearly every BMC ships a self-signed
// certificate, so a fleet needs either RootCAs (the CA that signed the BMCs'
// certificates: verification on, host names checked) or Insecure (no
// verification at all, as xCAT's BMC plugins do). The composition
// root decides; a certificate the driver does not trust fails Open with
// ErrUntrustedCert, whose message names both fields.
//
// # Mapping
//
//	bmc.PowerOn      On (ForceOn when On is not offered)
//	bmc.PowerOff     ForceOff
//	bmc.PowerSoftOff GracefulShutdown
//	bmc.PowerReset   ForceRestart
//	bmc.PowerCycle   PowerCycle; when the BMC does not offer it: ForceOff,
//	                 wait for PowerState Off, then On (only On when it is off)
//
// Reset types are checked against the action's ResetType@Redfish.AllowableValues
// (or its @Redfish.ActionInfo); a type the BMC does not offer is
// bmc.ErrUnsupported without a request. When the BMC lists nothing, the
// request is sent and the BMC decides.
//
// PowerState reports On and PoweringOff as on, Off and PoweringOn as off
// (the state the system is in until the transition completes), Paused as on,
// anything else as unknown.
//
//	bmc.BootNetwork  Pxe (UefiHttp when the BMC offers UefiHttp but not Pxe)
//	bmc.BootDisk     Hdd
//	bmc.BootCD       Cd
//	bmc.BootSetup    BiosSetup
//	bmc.BootDefault  None with BootSourceOverrideEnabled Disabled
//
// BootSourceOverrideEnabled is Once, or Continuous with Persistent;
// BootSourceOverrideMode is sent as UEFI only when BootOptions.UEFI is set
// (bmc.BootOptions cannot ask for Legacy, so the BMC's current mode is left
// alone otherwise). A target missing from the BMC's
// BootSourceOverrideTarget@Redfish.AllowableValues is bmc.ErrUnsupported.
//
// # Choosing the system
//
// A BMC that manages one ComputerSystem drives that one. When it lists
// several, the node's uuid attribute (Target.Attrs["uuid"]) must match one
// system's UUID or Id (case-insensitively).
package redfish

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/stmcginnis/gofish"
	"github.com/stmcginnis/gofish/schemas"

	"drover.dev/drover/internal/bmc"
)

// ErrUntrustedCert: the BMC's TLS certificate did not verify against the
// system roots or Driver.RootCAs.
var ErrUntrustedCert = errors.New("BMC certificate not trusted")

// defaultSessionsPath is where the Redfish specification puts the session
// collection when the service root does not link it.
const defaultSessionsPath = "/redfish/v1/SessionService/Sessions"

// pollInterval paces the wait for PowerState Off in a power cycle done as
// ForceOff then On.
const pollInterval = 500 * time.Millisecond

// Driver opens Redfish clients. The zero value is usable: calls time out
// after bmc.DefaultTimeout and certificates are verified against the
// system roots (see the package documentation on TLS).
type Driver struct {
	// Timeout bounds Open (service root, login, system lookup) and each
	// later call; 0 means bmc.DefaultTimeout. A context deadline that is
	// earlier wins.
	Timeout time.Duration
	// Insecure skips TLS certificate verification (self-signed BMCs).
	Insecure bool
	// RootCAs, when set, is the pool the BMC's certificate must chain to.
	// Ignored when Insecure is set.
	RootCAs *x509.CertPool
	// Log receives debug lines (basic-auth fallback, ignored ActionInfo
	// errors); nil discards them.
	Log *slog.Logger
}

// Open implements bmc.Driver. Target.Address is a host, host:port or an
// http(s) URL (https when no scheme is given); Username and Password are
// required.
func (d Driver) Open(ctx context.Context, t bmc.Target) (bmc.Client, error) {
	c, err := d.open(ctx, t)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (d Driver) open(ctx context.Context, t bmc.Target) (*Client, error) {
	if strings.TrimSpace(t.Address) == "" {
		return nil, fmt.Errorf("%w: set the node's bmc attribute", bmc.ErrNoAddress)
	}
	ep, err := endpoint(t.Address)
	if err != nil {
		return nil, fmt.Errorf("bad bmc address %q: %w", t.Address, err)
	}
	switch {
	case t.Username == "" && t.Password == "":
		return nil, fmt.Errorf("%w: set bmcusername and bmcpassword", bmc.ErrNoCredentials)
	case t.Username == "":
		return nil, fmt.Errorf("%w: set bmcusername", bmc.ErrNoCredentials)
	case t.Password == "":
		return nil, fmt.Errorf("%w: set bmcpassword", bmc.ErrNoCredentials)
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = bmc.DefaultTimeout
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		endpoint: ep,
		timeout:  timeout,
		log:      log.With("bmc", ep),
		hc:       d.httpClient(timeout),
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.login(ctx, t.Username, t.Password); err != nil {
		c.hc.CloseIdleConnections()
		return nil, err
	}
	if err := c.pickSystem(ctx, t.Attrs["uuid"]); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// httpClient builds the transport: no proxy from the environment (BMCs
// live on management networks), dial and TLS handshake bounded by the
// timeout, kept-alive connections for the few calls of one command.
func (d Driver) httpClient(timeout time.Duration) *http.Client {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if d.Insecure {
		tlsConf.InsecureSkipVerify = true //nolint:gosec // chosen by the operator for self-signed BMCs
	} else if d.RootCAs != nil {
		tlsConf.RootCAs = d.RootCAs
	}
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: timeout,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
	}}
}

// Client drives one ComputerSystem through its BMC. It implements
// bmc.Client and bmc.Inventorier and is safe for concurrent use (gofish
// sends one request at a time per client).
type Client struct {
	endpoint string
	timeout  time.Duration
	log      *slog.Logger
	hc       *http.Client
	api      *gofish.APIClient

	systemURI string // @odata.id of the chosen ComputerSystem
	systemID  string

	closeOnce sync.Once
	closeErr  error
	session   string // session URI to DELETE on Close; empty with basic auth
}

// Endpoint is the BMC's base URL, e.g. "https://198.18.0.5".
func (c *Client) Endpoint() string { return c.endpoint }

// System is the Id of the ComputerSystem the client drives.
func (c *Client) System() string { return c.systemID }

// SessionAuth reports whether the client holds a Redfish session (false:
// it sends basic auth on every request).
func (c *Client) SessionAuth() bool { return c.session != "" }

func (c *Client) login(ctx context.Context, user, pass string) error {
	base := gofish.ClientConfig{
		Endpoint:          c.endpoint,
		HTTPClient:        c.hc,
		NoModifyTransport: true,
		ReuseConnections:  true,
	}
	anon, err := gofish.ConnectContext(ctx, base)
	if err != nil {
		if statusOf(err) != http.StatusUnauthorized {
			return c.fail(err, "read the service root")
		}
		c.log.Debug("service root demands credentials; using basic auth")
		return c.basicLogin(ctx, base, user, pass)
	}
	auth, err := anon.Service.CreateSession(user, pass)
	if err != nil && notSent(err) {
		// The service root links no session collection (gofish refuses
		// the empty target before sending): try the specification's path.
		auth, err = schemas.CreateSession(anon, defaultSessionsPath, user, pass)
	}
	switch status := statusOf(err); {
	case err == nil && auth.Token != "":
		cfg := base
		cfg.Session = &gofish.Session{ID: auth.Session, Token: auth.Token}
		api, err := gofish.ConnectContext(ctx, cfg)
		if err != nil {
			return c.fail(err, "read the service root")
		}
		c.api = api
		c.session = auth.Session
		return nil
	case err == nil:
		c.log.Debug("session login returned no X-Auth-Token; using basic auth")
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented:
		c.log.Debug("no session service; using basic auth", "status", status)
	default:
		return c.fail(err, fmt.Sprintf("log in as %q", user))
	}
	return c.basicLogin(ctx, base, user, pass)
}

func (c *Client) basicLogin(ctx context.Context, base gofish.ClientConfig, user, pass string) error {
	cfg := base
	cfg.Username, cfg.Password, cfg.BasicAuth = user, pass, true
	// gofish reads the service root before it adds credentials; a BMC
	// that protects the root needs them on that first request too.
	cfg.HTTPClient = &http.Client{Transport: basicAuth{next: c.hc.Transport, user: user, pass: pass}}
	api, err := gofish.ConnectContext(ctx, cfg)
	if err != nil {
		return c.fail(err, fmt.Sprintf("read the service root as %q", user))
	}
	c.api = api
	return nil
}

// basicAuth adds HTTP basic credentials to requests that carry none.
type basicAuth struct {
	next       http.RoundTripper
	user, pass string
}

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" && r.Header.Get("X-Auth-Token") == "" {
		r = r.Clone(r.Context())
		r.SetBasicAuth(b.user, b.pass)
	}
	return b.next.RoundTrip(r)
}

// pickSystem chooses the ComputerSystem (see the package documentation).
func (c *Client) pickSystem(ctx context.Context, uuid string) error {
	systems, err := c.api.WithContext(ctx).Service.Systems()
	if err != nil {
		return c.fail(err, "list systems")
	}
	var sys *schemas.ComputerSystem
	switch {
	case len(systems) == 0:
		return fmt.Errorf("%w: %s lists no computer system", bmc.ErrUnsupported, c.endpoint)
	case len(systems) == 1:
		sys = systems[0]
	default:
		uuid = strings.TrimSpace(uuid)
		var names []string
		for _, s := range systems {
			if uuid != "" && (strings.EqualFold(s.UUID, uuid) || strings.EqualFold(s.ID, uuid)) {
				sys = s
				break
			}
			names = append(names, fmt.Sprintf("%s (uuid %s)", s.ID, s.UUID))
		}
		if sys == nil {
			if uuid == "" {
				return fmt.Errorf("%s manages %d systems (%s): set the node's uuid attribute to one of them", c.endpoint, len(systems), strings.Join(names, ", "))
			}
			return fmt.Errorf("%s manages no system with uuid or id %q (%s)", c.endpoint, uuid, strings.Join(names, ", "))
		}
	}
	c.systemURI, c.systemID = sys.ODataID, sys.ID
	return nil
}

// call bounds ctx by the client's timeout.
func (c *Client) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// system reads the chosen ComputerSystem afresh.
func (c *Client) system(ctx context.Context) (*schemas.ComputerSystem, error) {
	sys, err := schemas.GetComputerSystem(c.api.WithContext(ctx), c.systemURI)
	if err != nil {
		return nil, c.fail(err, "read system "+c.systemID)
	}
	return sys, nil
}

// SetPower implements bmc.Client.
func (c *Client) SetPower(ctx context.Context, a bmc.PowerAction) error {
	ctx, cancel := c.call(ctx)
	defer cancel()
	sys, err := c.system(ctx)
	if err != nil {
		return err
	}
	if resetTarget(sys) == "" {
		return fmt.Errorf("%w: system %s has no ComputerSystem.Reset action", bmc.ErrUnsupported, c.systemID)
	}
	allowed := c.resetTypes(sys)
	switch a {
	case bmc.PowerOn:
		return c.reset(sys, allowed, schemas.OnResetType, schemas.ForceOnResetType)
	case bmc.PowerOff:
		return c.reset(sys, allowed, schemas.ForceOffResetType)
	case bmc.PowerSoftOff:
		return c.reset(sys, allowed, schemas.GracefulShutdownResetType)
	case bmc.PowerReset:
		return c.reset(sys, allowed, schemas.ForceRestartResetType)
	case bmc.PowerCycle:
		if offers(allowed, schemas.PowerCycleResetType) {
			return c.reset(sys, allowed, schemas.PowerCycleResetType)
		}
		if !offers(allowed, schemas.ForceOffResetType) || !offers(allowed, schemas.OnResetType) {
			return unsupportedReset(schemas.PowerCycleResetType, allowed)
		}
		if sys.PowerState != schemas.OffPowerState {
			if err := c.reset(sys, allowed, schemas.ForceOffResetType); err != nil {
				return err
			}
			if err := c.waitOff(ctx); err != nil {
				return err
			}
		}
		return c.reset(sys, allowed, schemas.OnResetType)
	default:
		return fmt.Errorf("%w: power action %q", bmc.ErrUnsupported, a)
	}
}

// resetTypes lists the reset types the system offers; nil means the BMC
// does not say.
func (c *Client) resetTypes(sys *schemas.ComputerSystem) []schemas.ResetType {
	types, err := sys.GetSupportedResetTypes()
	if err != nil {
		c.log.Debug("reset ActionInfo unreadable; sending reset types unchecked", "err", err)
		return nil
	}
	return types
}

func offers(allowed []schemas.ResetType, t schemas.ResetType) bool {
	return len(allowed) == 0 || slices.Contains(allowed, t)
}

func unsupportedReset(t schemas.ResetType, allowed []schemas.ResetType) error {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return fmt.Errorf("%w: reset type %s (the BMC offers %s)", bmc.ErrUnsupported, t, strings.Join(names, ", "))
}

// reset sends the first of types the system offers.
func (c *Client) reset(sys *schemas.ComputerSystem, allowed []schemas.ResetType, types ...schemas.ResetType) error {
	for _, t := range types {
		if !offers(allowed, t) {
			continue
		}
		if _, err := sys.Reset(t); err != nil {
			return c.fail(err, fmt.Sprintf("reset %s (%s)", c.systemID, t))
		}
		return nil
	}
	return unsupportedReset(types[0], allowed)
}

// waitOff polls the system until its PowerState is Off or ctx ends.
func (c *Client) waitOff(ctx context.Context) error {
	for {
		sys, err := c.system(ctx)
		if err != nil {
			return err
		}
		if sys.PowerState == schemas.OffPowerState {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("power cycle of %s: still %s after ForceOff: %w", c.systemID, sys.PowerState, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

// resetTarget is the system's ComputerSystem.Reset target, "" when it has
// none.
func resetTarget(sys *schemas.ComputerSystem) string {
	var raw struct {
		Actions struct {
			Reset struct {
				Target string `json:"target"`
			} `json:"#ComputerSystem.Reset"`
		}
	}
	if json.Unmarshal(sys.RawData, &raw) != nil {
		return ""
	}
	return raw.Actions.Reset.Target
}

// PowerState implements bmc.Client.
func (c *Client) PowerState(ctx context.Context) (bmc.PowerState, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	sys, err := c.system(ctx)
	if err != nil {
		return bmc.StateUnknown, err
	}
	return powerState(sys.PowerState), nil
}

func powerState(s schemas.PowerState) bmc.PowerState {
	switch s {
	case schemas.OnPowerState, schemas.PoweringOffPowerState, schemas.PausedPowerState:
		return bmc.StateOn
	case schemas.OffPowerState, schemas.PoweringOnPowerState:
		return bmc.StateOff
	default:
		return bmc.StateUnknown
	}
}

// bootTarget maps a boot device to its BootSourceOverrideTarget.
func bootTarget(d bmc.BootDevice) (schemas.BootSource, bool) {
	switch d {
	case bmc.BootNetwork:
		return schemas.PxeBootSource, true
	case bmc.BootDisk:
		return schemas.HddBootSource, true
	case bmc.BootCD:
		return schemas.CdBootSource, true
	case bmc.BootSetup:
		return schemas.BiosSetupBootSource, true
	case bmc.BootDefault:
		return schemas.NoneBootSource, true
	}
	return "", false
}

// SetBootDevice implements bmc.Client.
func (c *Client) SetBootDevice(ctx context.Context, d bmc.BootDevice, o bmc.BootOptions) error {
	if _, ok := bootTarget(d); !ok {
		return fmt.Errorf("%w: boot device %q", bmc.ErrUnsupported, d)
	}
	ctx, cancel := c.call(ctx)
	defer cancel()
	sys, err := c.system(ctx)
	if err != nil {
		return err
	}
	boot, err := bootOverride(d, o, sys.Boot.AllowableBootSourceOverrideTargetValues)
	if err != nil {
		return err
	}
	if err := sys.SetBoot(boot); err != nil {
		return c.fail(err, fmt.Sprintf("set boot override of %s to %s", c.systemID, boot.BootSourceOverrideTarget))
	}
	return nil
}

// bootOverride is the Boot object PATCHed for d and o, given the targets
// the BMC offers (none listed: any).
func bootOverride(d bmc.BootDevice, o bmc.BootOptions, allowed []schemas.BootSource) (*schemas.Boot, error) {
	target, ok := bootTarget(d)
	if !ok {
		return nil, fmt.Errorf("%w: boot device %q", bmc.ErrUnsupported, d)
	}
	if d == bmc.BootDefault {
		return &schemas.Boot{
			BootSourceOverrideTarget:  schemas.NoneBootSource,
			BootSourceOverrideEnabled: schemas.DisabledBootSourceOverrideEnabled,
		}, nil
	}
	if len(allowed) > 0 && !slices.Contains(allowed, target) {
		if d == bmc.BootNetwork && slices.Contains(allowed, schemas.UefiHTTPBootSource) {
			target = schemas.UefiHTTPBootSource
		} else {
			names := make([]string, len(allowed))
			for i, a := range allowed {
				names[i] = string(a)
			}
			return nil, fmt.Errorf("%w: boot source %s (the BMC offers %s)", bmc.ErrUnsupported, target, strings.Join(names, ", "))
		}
	}
	b := &schemas.Boot{
		BootSourceOverrideTarget:  target,
		BootSourceOverrideEnabled: schemas.OnceBootSourceOverrideEnabled,
	}
	if o.Persistent {
		b.BootSourceOverrideEnabled = schemas.ContinuousBootSourceOverrideEnabled
	}
	if o.UEFI {
		b.BootSourceOverrideMode = schemas.UEFIBootSourceOverrideMode
	}
	return b, nil
}

// Inventory implements bmc.Inventorier: the system's identity (named as
// xCAT's rinv names the IPMI FRU fields, so the drivers' outputs line up),
// BIOS and BMC firmware, and the processor and memory summary; empty
// values are left out.
func (c *Client) Inventory(ctx context.Context) ([]bmc.Fact, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	sys, err := c.system(ctx)
	if err != nil {
		return nil, err
	}
	var facts []bmc.Fact
	add := func(name, value string) {
		if v := strings.TrimSpace(value); v != "" {
			facts = append(facts, bmc.Fact{Name: name, Value: v})
		}
	}
	count := func(n *uint) string {
		if n == nil {
			return ""
		}
		return strconv.FormatUint(uint64(*n), 10)
	}
	add("System Manufacturer", sys.Manufacturer)
	add("System Model/MTM", sys.Model)
	add("System Part Number", sys.PartNumber)
	add("System SKU", sys.SKU)
	add("System Serial Number", sys.SerialNumber)
	add("System Asset Number", sys.AssetTag)
	add("UUID/GUID", strings.ToUpper(sys.UUID))
	add("BIOS Version", sys.BiosVersion)
	if managers, err := sys.ManagedBy(); err == nil && len(managers) > 0 {
		add("BMC Firmware", managers[0].FirmwareVersion)
	} else if err != nil {
		c.log.Debug("manager unreadable; no BMC firmware in the inventory", "err", err)
	}
	ps := sys.ProcessorSummary
	add("CPU Count", count(ps.Count))
	add("CPU Model", ps.Model)
	add("CPU Cores", count(ps.CoreCount))
	add("CPU Threads", count(ps.LogicalProcessorCount))
	if gib := sys.MemorySummary.TotalSystemMemoryGiB; gib != nil {
		add("Total Memory", strconv.FormatFloat(*gib, 'f', -1, 64)+" GiB")
	}
	return facts, nil
}

// Close implements bmc.Client: it deletes the session (bounded by the
// client's timeout) and drops idle connections. Later calls return the
// first result.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		defer c.hc.CloseIdleConnections()
		if c.session == "" || c.api == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		defer cancel()
		if err := schemas.DeleteSession(c.api.WithContext(ctx), c.session); err != nil {
			c.closeErr = c.fail(err, "log out")
		}
	})
	return c.closeErr
}

// fail turns a gofish or transport error into one that names what was
// being done and wraps the bmc sentinel callers branch on.
func (c *Client) fail(err error, what string) error {
	var cerr *schemas.CollectionError
	if errors.As(err, &cerr) && len(cerr.Failures) > 0 {
		// gofish gathers a collection's failures by link; the first one
		// (by link) stands for them all.
		links := slices.Sorted(maps.Keys(cerr.Failures))
		return c.fail(cerr.Failures[links[0]], fmt.Sprintf("%s (%s)", what, links[0]))
	}
	var rerr *schemas.Error
	if errors.As(err, &rerr) && rerr.HTTPReturnedStatusCode != 0 {
		msg := redfishMessage(rerr)
		switch rerr.HTTPReturnedStatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("%w: %s at %s: %s", bmc.ErrAuth, what, c.endpoint, msg)
		case http.StatusForbidden:
			return fmt.Errorf("%w: %s at %s: not allowed: %s", bmc.ErrAuth, what, c.endpoint, msg)
		case http.StatusMethodNotAllowed, http.StatusNotImplemented:
			return fmt.Errorf("%w: %s at %s: %s", bmc.ErrUnsupported, what, c.endpoint, msg)
		}
		if unsupportedMessage(rerr) {
			return fmt.Errorf("%w: %s at %s: %s", bmc.ErrUnsupported, what, c.endpoint, msg)
		}
		return fmt.Errorf("%s at %s: %s", what, c.endpoint, msg)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // the URL is the endpoint plus a path: say it once
	}
	var (
		certErr      *tls.CertificateVerificationError
		unknownAuth  x509.UnknownAuthorityError
		hostnameErr  x509.HostnameError
		invalidCert  x509.CertificateInvalidError
		recordHeader tls.RecordHeaderError
		netErr       net.Error
		opErr        *net.OpError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostnameErr), errors.As(err, &invalidCert):
		return fmt.Errorf("%w: %s at %s: %w (give the driver the signing CA in RootCAs, or set Insecure)", ErrUntrustedCert, what, c.endpoint, err)
	case errors.As(err, &recordHeader):
		return fmt.Errorf("%s at %s: the BMC does not speak TLS there (try an http:// address): %w", what, c.endpoint, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s at %s: %w", what, c.endpoint, err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("%w: %s at %s: no answer within %s: %w", bmc.ErrUnreachable, what, c.endpoint, c.timeout, err)
	case errors.As(err, &opErr), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s at %s: %w", bmc.ErrUnreachable, what, c.endpoint, err)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("%w: %s at %s: %w", bmc.ErrUnreachable, what, c.endpoint, err)
	}
	return fmt.Errorf("%s at %s: %w", what, c.endpoint, err)
}

// notSent reports whether gofish refused a request before sending it
// (an empty target): not an HTTP answer, not a transport or context error.
func notSent(err error) bool {
	var uerr *url.Error
	return statusOf(err) == 0 && !errors.As(err, &uerr) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// statusOf is the HTTP status of a Redfish error, 0 for anything else.
func statusOf(err error) int {
	var rerr *schemas.Error
	if errors.As(err, &rerr) {
		return rerr.HTTPReturnedStatusCode
	}
	return 0
}

// redfishMessage renders a Redfish error body briefly: the status, the
// message and the first extended message id.
func redfishMessage(e *schemas.Error) string {
	var parts []string
	for _, x := range e.ExtendedInfos {
		if x.Message != "" {
			parts = append(parts, strings.TrimSpace(x.Message))
		}
		if x.MessageID != "" {
			parts = append(parts, "("+x.MessageID+")")
		}
		if len(parts) > 0 {
			break
		}
	}
	if len(parts) == 0 && strings.TrimSpace(e.Message) != "" {
		parts = append(parts, strings.TrimSpace(e.Message))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("HTTP %d", e.HTTPReturnedStatusCode)
	}
	return fmt.Sprintf("HTTP %d: %s", e.HTTPReturnedStatusCode, strings.Join(parts, " "))
}

// unsupportedMessage reports whether a Redfish error says the value or
// action is not supported (the registry's ...NotSupported, ...NotInList).
func unsupportedMessage(e *schemas.Error) bool {
	ids := []string{e.Code}
	for _, x := range e.ExtendedInfos {
		ids = append(ids, x.MessageID)
	}
	for _, id := range ids {
		// Message ids look like "Base.1.8.ActionParameterNotSupported".
		name := id[strings.LastIndex(id, ".")+1:]
		if strings.HasSuffix(name, "NotSupported") || strings.HasSuffix(name, "NotInList") {
			return true
		}
	}
	return false
}

// endpoint turns a bmc attribute (host, host:port, IPv6 literal, or an
// http/https URL) into the base URL gofish wants: scheme://host[:port].
func endpoint(addr string) (string, error) {
	a := strings.TrimSpace(addr)
	if a == "" {
		return "", errors.New("empty address")
	}
	if strings.Contains(a, "://") {
		u, err := url.Parse(a)
		if err != nil {
			return "", err
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", fmt.Errorf("scheme %q: want http or https", u.Scheme)
		}
		if strings.HasSuffix(u.Host, ":") {
			return "", errors.New("empty port")
		}
		return baseURL(u.Scheme, u.Hostname(), u.Port())
	}
	if strings.ContainsAny(a, "/?#@ \t\\") {
		return "", errors.New("want host, host:port or an http(s) URL")
	}
	if h, p, err := net.SplitHostPort(a); err == nil {
		if p == "" {
			return "", errors.New("empty port")
		}
		return baseURL("https", h, p)
	}
	host := a
	if strings.HasPrefix(a, "[") {
		if !strings.HasSuffix(a, "]") {
			return "", fmt.Errorf("unbalanced brackets in %q", a)
		}
		host = a[1 : len(a)-1]
		if !strings.Contains(host, ":") {
			return "", fmt.Errorf("brackets around %q, which is not an IPv6 address", host)
		}
	}
	return baseURL("https", host, "")
}

// baseURL formats scheme://host[:port], bracketing IPv6 addresses and
// escaping their zone; it rejects what a URL cannot carry.
func baseURL(scheme, host, port string) (string, error) {
	if host == "" {
		return "", errors.New("no host")
	}
	if err := checkPort(port); err != nil {
		return "", err
	}
	if strings.ContainsAny(host, "[]%") || strings.Contains(host, ":") {
		ip, zone, _ := strings.Cut(host, "%")
		if net.ParseIP(ip) == nil || !strings.Contains(ip, ":") {
			return "", fmt.Errorf("%q is neither a host name nor an IPv6 address", host)
		}
		if strings.Contains(host, "%") && (zone == "" || strings.ContainsAny(zone, "%[]")) {
			return "", fmt.Errorf("bad zone in %q", host)
		}
		host = "[" + ip
		if zone != "" {
			host += "%25" + url.PathEscape(zone)
		}
		host += "]"
	}
	ep := scheme + "://" + host
	if port != "" {
		ep += ":" + port
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "", err
	}
	if u.Hostname() == "" || u.Path != "" {
		return "", fmt.Errorf("bad host %q", host)
	}
	return ep, nil
}

func checkPort(p string) error {
	if p == "" {
		return nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q: want 1-65535", p)
	}
	return nil
}
