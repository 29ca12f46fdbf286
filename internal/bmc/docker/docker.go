// Package docker drives container nodes (mgt=docker): containers on a
// Docker or Podman host, managed like machines through the Docker Engine
// API (the moby client; Podman serves the same API from
// `podman system service`).
//
// A node's container is named after the node. Power maps onto the
// container's life: on starts it, off stops it at once (SIGKILL), softoff
// stops it (SIGTERM, then SIGKILL after a grace period), cycle and reset
// restart it; the state is on while the container runs. Containers do not boot from
// devices, so SetBootDevice is unsupported. The console is the container's
// TTY (attach); the inventory (rinv) is what the engine knows of it.
//
// The container's own lifecycle (mkvm, rmvm, lsvm) is on Engine: Create
// from a Spec, Remove, List.
//
// The engine endpoint is the Target's Address: unix:///run/podman/podman.sock,
// a bare socket path, or tcp://host:port. TLS client files come from the
// target's attributes tlscacert, tlscert and tlskey (any of them set means
// TLS); https://host:port is TLS with the system roots.
package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"drover.dev/drover/internal/bmc"
)

// Label is the container label that names the node a container belongs to;
// Create always sets it.
const Label = "drover.node"

// DefaultGrace is how long softoff waits for the container's processes to
// exit after SIGTERM before the engine kills them, when Driver.Grace is 0.
const DefaultGrace = 5 * time.Second

// Attribute names in bmc.Target.Attrs that hold TLS client files.
const (
	AttrTLSCACert = "tlscacert"
	AttrTLSCert   = "tlscert"
	AttrTLSKey    = "tlskey"
)

// Errors callers can tell apart (wrapped with the container or image name).
// An engine that cannot be reached gives bmc.ErrUnreachable.
var (
	// ErrNoContainer: the node has no container on the engine (mkvm first).
	ErrNoContainer = errors.New("no such container")
	// ErrNoImage: the engine does not have the image (drover never pulls).
	ErrNoImage = errors.New("image not found")
	// ErrNoNetwork: the engine has no network of that name.
	ErrNoNetwork = errors.New("network not found")
	// ErrExists: a container of that name already exists.
	ErrExists = errors.New("container already exists")
	// ErrRunning: the container runs and the operation needs it stopped.
	ErrRunning = errors.New("container is running")
	// ErrInvalidSpec: a Spec field is malformed.
	ErrInvalidSpec = errors.New("invalid container spec")
)

// Endpoint says how to reach a container engine.
type Endpoint struct {
	// Address is unix:///path/engine.sock, a bare /path, tcp://host:port,
	// or https://host:port.
	Address string
	// CACert, Cert and Key are PEM file paths for TLS; any set means TLS.
	CACert, Cert, Key string
}

// EndpointFor reads the endpoint of t: its Address and the TLS files named
// by the attributes tlscacert, tlscert and tlskey.
func EndpointFor(t bmc.Target) Endpoint {
	return Endpoint{
		Address: strings.TrimSpace(t.Address),
		CACert:  strings.TrimSpace(t.Attrs[AttrTLSCACert]),
		Cert:    strings.TrimSpace(t.Attrs[AttrTLSCert]),
		Key:     strings.TrimSpace(t.Attrs[AttrTLSKey]),
	}
}

func (ep Endpoint) tls() bool { return ep.CACert != "" || ep.Cert != "" || ep.Key != "" }

// options turns the endpoint into moby client options.
func (ep Endpoint) options() ([]client.Opt, error) {
	addr := ep.Address
	useTLS := ep.tls()
	switch {
	case addr == "":
		return nil, fmt.Errorf("%w: no container engine endpoint", bmc.ErrNoAddress)
	case strings.HasPrefix(addr, "/"):
		addr = "unix://" + addr
	case strings.HasPrefix(addr, "https://"):
		addr, useTLS = "tcp://"+strings.TrimPrefix(addr, "https://"), true
	case strings.HasPrefix(addr, "http://"):
		addr = "tcp://" + strings.TrimPrefix(addr, "http://")
	}
	proto, rest, ok := strings.Cut(addr, "://")
	if !ok || rest == "" || (proto != "unix" && proto != "tcp") {
		return nil, fmt.Errorf("container engine endpoint %q: want unix:///path, tcp://host:port or https://host:port", ep.Address)
	}
	if useTLS && proto != "tcp" {
		return nil, fmt.Errorf("container engine endpoint %q: TLS needs tcp:// or https://", ep.Address)
	}
	opts := []client.Opt{client.WithHost(addr)}
	if useTLS {
		opts = append(opts, client.WithTLSClientConfig(ep.CACert, ep.Cert, ep.Key))
	}
	return opts, nil
}

// Engine is a connection to one container engine. Its methods are bounded
// by their context only (the Client adds the driver's timeout).
type Engine struct {
	cli  *client.Client
	addr string
}

// Connect opens a connection to the engine at ep and checks that it answers
// (negotiating the API version: Podman serves 1.41). An engine that does
// not answer gives bmc.ErrUnreachable.
func Connect(ctx context.Context, ep Endpoint) (*Engine, error) {
	opts, err := ep.options()
	if err != nil {
		return nil, err
	}
	cli, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("container engine %s: %w", ep.Address, err)
	}
	e := &Engine{cli: cli, addr: ep.Address}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		return nil, e.wrap(err, "")
	}
	return e, nil
}

// Close releases the engine's connections.
func (e *Engine) Close() error { return e.cli.Close() }

// APIVersion is the negotiated Docker API version.
func (e *Engine) APIVersion() string { return e.cli.ClientVersion() }

// wrap turns an engine error into one of the package's (or bmc's) errors
// with a clear message; subject names the container for not-found errors
// ("" when there is none).
func (e *Engine) wrap(err error, subject string) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: container engine %s did not answer in time", bmc.ErrUnreachable, e.addr)
	case errors.As(err, &oe):
		return fmt.Errorf("%w: container engine %s: %v", bmc.ErrUnreachable, e.addr, oe.Err)
	case client.IsErrConnectionFailed(err):
		why := err.Error() // TLS trouble has its own words
		if strings.HasPrefix(why, "Cannot connect to the Docker daemon") {
			why = "cannot connect (is the engine running?)"
		}
		return fmt.Errorf("%w: container engine %s: %s", bmc.ErrUnreachable, e.addr, why)
	case errors.Is(err, context.Canceled):
		return err
	case subject != "" && cerrdefs.IsNotFound(err):
		return fmt.Errorf("%w: %q on %s", ErrNoContainer, subject, e.addr)
	}
	return fmt.Errorf("container engine %s: %s", e.addr, engineMessage(err))
}

// engineMessage strips the moby client's "Error response from daemon: "
// prefix, which says nothing here.
func engineMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "Error response from daemon: ")
}

// Driver opens Clients for container nodes (mgt=docker).
type Driver struct {
	// Timeout bounds each call to the engine; 0 means bmc.DefaultTimeout.
	// Calls that wait for the container to stop (softoff, cycle, reset)
	// get Grace on top.
	Timeout time.Duration
	// Grace is how long softoff gives the container's processes to exit
	// after SIGTERM before they are killed; 0 means DefaultGrace.
	Grace time.Duration
}

// Open implements bmc.Driver: it connects to the engine at t.Address
// (TLS files from t.Attrs) for the container named t.Node.
func (d Driver) Open(ctx context.Context, t bmc.Target) (bmc.Client, error) {
	if strings.TrimSpace(t.Node) == "" {
		return nil, fmt.Errorf("%w: no node name for the container", ErrInvalidSpec)
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	e, err := Connect(ctx, EndpointFor(t))
	if err != nil {
		return nil, err
	}
	return &Client{Engine: e, Name: t.Node, Timeout: d.timeout(), Grace: d.grace()}, nil
}

func (d Driver) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return bmc.DefaultTimeout
}

func (d Driver) grace() time.Duration {
	if d.Grace > 0 {
		return d.Grace
	}
	return DefaultGrace
}

var (
	_ bmc.Driver      = Driver{}
	_ bmc.Client      = (*Client)(nil)
	_ bmc.Consoler    = (*Client)(nil)
	_ bmc.Inventorier = (*Client)(nil)
)
