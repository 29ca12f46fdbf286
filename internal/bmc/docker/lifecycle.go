package docker

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"drover.dev/drover/internal/bmc"
)

// Spec describes a node's container for Create (mkvm).
type Spec struct {
	Name        string   // the node name; also the container's name and hostname
	Image       string   // must be on the engine already (drover never pulls)
	Cmd         []string // overrides the image's command; empty keeps it
	CPUs        float64  // CPU limit in cores (0.5 = half a core); 0 = none
	MemoryBytes int64    // memory limit; 0 = none
	// Network is the engine network the container joins: a network name,
	// or "none", "host", "bridge", or Podman's "ns:/run/netns/NAME"; ""
	// leaves the engine's default.
	Network string
	IP      netip.Addr       // fixed address on Network (needs a named network)
	MAC     net.HardwareAddr // fixed MAC on Network (needs a named network)
	Volumes []string         // "host:container[:ro|rw]"; host is a path or a volume name
	Restart string           // "", "no", "always", "unless-stopped", "on-failure[:N]"
	Env     []string         // "KEY=VALUE"
	Labels  map[string]string
}

// Container is one container on an engine, as List reports it.
type Container struct {
	Name    string     // without Docker's leading "/"
	ID      string     // full ID
	Node    string     // the drover.node label ("" when not a drover node)
	Image   string     // as given at creation
	State   string     // created, running, paused, restarting, exited, dead
	Status  string     // the engine's words: "Up 3 minutes", "Exited (0) ..."
	Network string     // the network IP is on ("" when none)
	IP      netip.Addr // first address on the first network, by name; zero when none
}

// containerName is what Docker accepts as a container name.
var containerName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// specialNetworks are network modes rather than named networks: no fixed
// address can be asked for on them.
func specialNetwork(n string) bool {
	switch {
	case n == "none", n == "host", n == "bridge", n == "default", n == "private", n == "slirp4netns", n == "pasta":
		return true
	case strings.HasPrefix(n, "ns:"), strings.HasPrefix(n, "container:"):
		return true
	}
	return false
}

// config builds the engine's create request from s.
func (s Spec) config() (*container.Config, *container.HostConfig, *network.NetworkingConfig, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidSpec, fmt.Sprintf(format, a...))
	}
	switch {
	case !containerName.MatchString(s.Name):
		return nil, nil, nil, bad("container name %q: want letters, digits, '_', '.', '-', starting with a letter or digit", s.Name)
	case strings.TrimSpace(s.Image) == "":
		return nil, nil, nil, bad("no image for %s", s.Name)
	case s.CPUs < 0 || s.CPUs > 1e6:
		return nil, nil, nil, bad("cpus %g", s.CPUs)
	case s.MemoryBytes < 0:
		return nil, nil, nil, bad("memory %d bytes", s.MemoryBytes)
	case (s.IP.IsValid() || len(s.MAC) > 0) && (s.Network == "" || specialNetwork(s.Network)):
		return nil, nil, nil, bad("a fixed IP or MAC needs a named network, not %q", s.Network)
	case len(s.MAC) > 0 && len(s.MAC) != 6:
		return nil, nil, nil, bad("MAC %s: want 6 bytes", s.MAC)
	}
	restart, err := ParseRestart(s.Restart)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	binds := make([]string, 0, len(s.Volumes))
	for _, v := range s.Volumes {
		b, err := ParseVolume(v)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
		}
		binds = append(binds, b.String())
	}
	for _, kv := range s.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return nil, nil, nil, bad("environment %q: want KEY=VALUE", kv)
		}
	}
	labels := maps.Clone(s.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[Label] = s.Name

	cfg := &container.Config{
		Hostname:  s.Name,
		Image:     s.Image,
		Cmd:       slices.Clone(s.Cmd),
		Env:       slices.Clone(s.Env),
		Labels:    labels,
		Tty:       true, // a node has a console: rcons attaches to it
		OpenStdin: true,
	}
	hc := &container.HostConfig{
		Binds:         binds,
		RestartPolicy: restart,
		NetworkMode:   container.NetworkMode(s.Network),
	}
	hc.NanoCPUs = int64(s.CPUs * 1e9)
	hc.Memory = s.MemoryBytes
	var nc *network.NetworkingConfig
	if s.Network != "" && !specialNetwork(s.Network) {
		ep := &network.EndpointSettings{MacAddress: network.HardwareAddr(s.MAC)}
		if s.IP.IsValid() {
			ep.IPAMConfig = &network.EndpointIPAMConfig{}
			if ip := s.IP.Unmap(); ip.Is4() {
				ep.IPAMConfig.IPv4Address = ip
			} else {
				ep.IPAMConfig.IPv6Address = ip
			}
		}
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{s.Network: ep}}
	}
	return cfg, hc, nc, nil
}

// Create creates the node's container from s, stopped (rpower on starts
// it). The image must be on the engine and the network, if named, must
// exist: each gives its own error (ErrNoImage, ErrNoNetwork); a container
// of the same name gives ErrExists.
func (e *Engine) Create(ctx context.Context, s Spec) error {
	cfg, hc, nc, err := s.config()
	if err != nil {
		return err
	}
	if _, err := e.cli.ImageInspect(ctx, s.Image); err != nil {
		if cerrdefs.IsNotFound(err) {
			return fmt.Errorf("%w: %q on %s (drover does not pull: load or pull it on the engine)", ErrNoImage, s.Image, e.addr)
		}
		return fmt.Errorf("create %s: %w", s.Name, e.wrap(err, ""))
	}
	if nc != nil {
		if _, err := e.cli.NetworkInspect(ctx, s.Network, client.NetworkInspectOptions{}); err != nil {
			if cerrdefs.IsNotFound(err) {
				return fmt.Errorf("%w: %q on %s", ErrNoNetwork, s.Network, e.addr)
			}
			return fmt.Errorf("create %s: %w", s.Name, e.wrap(err, ""))
		}
	}
	_, err = e.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: s.Name, Config: cfg, HostConfig: hc, NetworkingConfig: nc,
	})
	switch {
	case err == nil:
		return nil
	case cerrdefs.IsConflict(err) || cerrdefs.IsAlreadyExists(err) || strings.Contains(err.Error(), "already in use"):
		return fmt.Errorf("%w: %q on %s", ErrExists, s.Name, e.addr)
	}
	return fmt.Errorf("create %s: %w", s.Name, e.wrap(err, ""))
}

// Remove removes the container name (rmvm). A running container is
// removed only with force (it is killed first); without force it gives
// ErrRunning. Volumes the container named are kept.
func (e *Engine) Remove(ctx context.Context, name string, force bool) error {
	if !force {
		// ask first: engines word the refusal differently (Docker 409,
		// Podman 500)
		st, err := e.PowerState(ctx, name)
		if err != nil {
			return fmt.Errorf("remove: %w", err)
		}
		if st == bmc.StateOn {
			return fmt.Errorf("%w: %q on %s (power it off first, or remove with force)", ErrRunning, name, e.addr)
		}
	}
	_, err := e.cli.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: force})
	if err != nil {
		if !force && cerrdefs.IsConflict(err) {
			return fmt.Errorf("%w: %q on %s (power it off first, or remove with force)", ErrRunning, name, e.addr)
		}
		return fmt.Errorf("remove: %w", e.wrap(err, name))
	}
	return nil
}

// List lists every container on the engine (lsvm), sorted by name. Node
// tells drover's from others.
func (e *Engine) List(ctx context.Context) ([]Container, error) {
	r, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("list: %w", e.wrap(err, ""))
	}
	out := make([]Container, 0, len(r.Items))
	for _, s := range r.Items {
		c := Container{ID: s.ID, Image: s.Image, State: string(s.State), Status: s.Status, Node: s.Labels[Label]}
		if len(s.Names) > 0 {
			c.Name = strings.TrimPrefix(s.Names[0], "/")
		}
		if s.NetworkSettings != nil {
			for _, n := range slices.Sorted(maps.Keys(s.NetworkSettings.Networks)) {
				if ep := s.NetworkSettings.Networks[n]; ep != nil && ep.IPAddress.IsValid() && !ep.IPAddress.IsUnspecified() {
					c.Network, c.IP = n, ep.IPAddress
					break
				}
			}
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Container) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Volume is one parsed Spec.Volumes entry.
type Volume struct {
	Source   string // absolute host path or volume name
	Target   string // absolute path in the container
	ReadOnly bool
}

// String gives the engine's bind form, "source:target[:ro]".
func (v Volume) String() string {
	s := v.Source + ":" + v.Target
	if v.ReadOnly {
		s += ":ro"
	}
	return s
}

// volumeName is what Docker accepts as a named volume.
var volumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// ParseVolume parses "host:container[:ro|rw]": host is an absolute path or
// a volume name, container an absolute path.
func ParseVolume(s string) (Volume, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Volume{}, fmt.Errorf("volume %q: want host:container[:ro|rw]", s)
	}
	v := Volume{Source: parts[0], Target: parts[1]}
	switch {
	case strings.HasPrefix(v.Source, "/"):
		if path.Clean(v.Source) != v.Source {
			return Volume{}, fmt.Errorf("volume %q: host path %q is not clean", s, v.Source)
		}
	case !volumeName.MatchString(v.Source):
		return Volume{}, fmt.Errorf("volume %q: host side %q is neither an absolute path nor a volume name", s, v.Source)
	}
	if !strings.HasPrefix(v.Target, "/") || path.Clean(v.Target) != v.Target {
		return Volume{}, fmt.Errorf("volume %q: container path %q must be absolute and clean", s, v.Target)
	}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			v.ReadOnly = true
		case "rw":
		default:
			return Volume{}, fmt.Errorf("volume %q: mode %q: want ro or rw", s, parts[2])
		}
	}
	return v, nil
}

// ParseRestart parses a restart policy: "" or "no", "always",
// "unless-stopped", "on-failure" or "on-failure:N" (N ≥ 0 retries).
func ParseRestart(s string) (container.RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	p := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	switch name {
	case "", "no":
		p.Name = container.RestartPolicyDisabled
	case "always", "unless-stopped":
	case "on-failure":
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 || strconv.Itoa(n) != count {
				return container.RestartPolicy{}, fmt.Errorf("restart policy %q: retry count %q is not a number ≥ 0", s, count)
			}
			p.MaximumRetryCount = n
		}
		return p, nil
	default:
		return container.RestartPolicy{}, fmt.Errorf("restart policy %q: want no, always, unless-stopped or on-failure[:N]", s)
	}
	if hasCount {
		return container.RestartPolicy{}, fmt.Errorf("restart policy %q: only on-failure takes a retry count", s)
	}
	return p, nil
}
