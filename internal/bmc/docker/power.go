package docker

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"drover.dev/drover/internal/bmc"
)

// Client is one container node's bmc.Client (and bmc.Consoler,
// bmc.Inventorier).
type Client struct {
	Engine  *Engine
	Name    string        // the container, named after the node
	Timeout time.Duration // bounds each call; 0 means bmc.DefaultTimeout
	Grace   time.Duration // softoff's SIGTERM grace; 0 means DefaultGrace
}

func (c *Client) ctx(ctx context.Context, extra time.Duration) (context.Context, context.CancelFunc) {
	t := c.Timeout
	if t <= 0 {
		t = bmc.DefaultTimeout
	}
	return context.WithTimeout(ctx, t+extra)
}

func (c *Client) grace() time.Duration {
	if c.Grace > 0 {
		return c.Grace
	}
	return DefaultGrace
}

// SetPower implements bmc.Client: on starts the container, off stops it
// with no grace (SIGKILL at once), softoff stops it (the container's stop
// signal, SIGTERM by default, then SIGKILL after the grace period), cycle
// and reset restart it with no grace (a stopped container just starts).
// Each returns once the engine has done it: after off, the state is off.
// On an already running container on succeeds, as do off and softoff on a
// stopped one.
func (c *Client) SetPower(ctx context.Context, a bmc.PowerAction) error {
	extra := time.Duration(0)
	if a == bmc.PowerSoftOff {
		extra = c.grace()
	}
	ctx, cancel := c.ctx(ctx, extra)
	defer cancel()
	return c.Engine.SetPower(ctx, c.Name, a, c.grace())
}

// PowerState implements bmc.Client: on while the container runs (also when
// paused or restarting), off when it is created, exited or dead.
func (c *Client) PowerState(ctx context.Context) (bmc.PowerState, error) {
	ctx, cancel := c.ctx(ctx, 0)
	defer cancel()
	return c.Engine.PowerState(ctx, c.Name)
}

// SetBootDevice implements bmc.Client: containers do not boot from
// devices, so it always gives bmc.ErrUnsupported.
func (c *Client) SetBootDevice(context.Context, bmc.BootDevice, bmc.BootOptions) error {
	return fmt.Errorf("%w: containers do not boot from devices", bmc.ErrUnsupported)
}

// Console implements bmc.Consoler: the container's TTY, both ways, until
// the stream is closed or ctx ends. The Client's timeout bounds only the
// attach itself.
func (c *Client) Console(ctx context.Context) (io.ReadWriteCloser, error) {
	t := c.Timeout
	if t <= 0 {
		t = bmc.DefaultTimeout
	}
	return c.Engine.Console(ctx, c.Name, t)
}

// Close implements bmc.Client.
func (c *Client) Close() error { return c.Engine.Close() }

// SetPower applies a to the container name; grace is softoff's SIGTERM
// grace period (rounded up to whole seconds, as the API takes seconds).
func (e *Engine) SetPower(ctx context.Context, name string, a bmc.PowerAction, grace time.Duration) error {
	var err error
	switch a {
	case bmc.PowerOn:
		_, err = e.cli.ContainerStart(ctx, name, client.ContainerStartOptions{})
	case bmc.PowerOff:
		// stop with no grace is SIGKILL at once; Podman's compat kill
		// would also do, but waits ~20 s for the exit (podman 4.3)
		zero := 0
		_, err = e.cli.ContainerStop(ctx, name, client.ContainerStopOptions{Timeout: &zero})
	case bmc.PowerSoftOff:
		secs := int(math.Ceil(grace.Seconds()))
		_, err = e.cli.ContainerStop(ctx, name, client.ContainerStopOptions{Timeout: &secs})
	case bmc.PowerCycle, bmc.PowerReset:
		zero := 0
		_, err = e.cli.ContainerRestart(ctx, name, client.ContainerRestartOptions{Timeout: &zero})
	default:
		return fmt.Errorf("%w: power action %q for a container", bmc.ErrUnsupported, a)
	}
	if err != nil {
		return fmt.Errorf("power %s: %w", a, e.wrap(err, name))
	}
	return nil
}

// PowerState inspects the container name.
func (e *Engine) PowerState(ctx context.Context, name string) (bmc.PowerState, error) {
	r, err := e.cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return bmc.StateUnknown, e.wrap(err, name)
	}
	s := r.Container.State
	switch {
	case s == nil:
		return bmc.StateUnknown, fmt.Errorf("container engine %s: container %q has no state", e.addr, name)
	case s.Running || s.Restarting || s.Paused:
		return bmc.StateOn, nil
	default:
		return bmc.StateOff, nil
	}
}

// Console attaches to the container's TTY (stdin, stdout and stderr; a
// container created without a TTY has its output streams demultiplexed).
// timeout bounds the attach (0: only ctx does); the stream lives until it
// is closed or ctx ends.
func (e *Engine) Console(ctx context.Context, name string, timeout time.Duration) (io.ReadWriteCloser, error) {
	setup, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		setup, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	r, err := e.cli.ContainerInspect(setup, name, client.ContainerInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("console: %w", e.wrap(err, name))
	}
	tty := r.Container.Config != nil && r.Container.Config.Tty
	att, err := e.cli.ContainerAttach(setup, name, client.ContainerAttachOptions{
		Stream: true, Stdin: true, Stdout: true, Stderr: true,
	})
	if err != nil {
		return nil, fmt.Errorf("console: %w", e.wrap(err, name))
	}
	c := &console{hr: att.HijackedResponse, r: att.Reader}
	if !tty {
		pr, pw := io.Pipe()
		go func() {
			_, err := stdcopy.StdCopy(pw, pw, att.Reader)
			pw.CloseWithError(err)
		}()
		c.r = pr
		c.pipe = pr
	}
	c.stop = context.AfterFunc(ctx, c.shut)
	return c, nil
}

// console is an attached container stream.
type console struct {
	hr     client.HijackedResponse
	r      io.Reader
	pipe   *io.PipeReader // demultiplexed output, for containers without a TTY
	stop   func() bool
	once   sync.Once
	closed atomic.Bool
}

// Read reads the container's output; after Close it gives io.EOF.
func (c *console) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && c.closed.Load() {
		err = io.EOF
	}
	return n, err
}

// Write types into the container's stdin.
func (c *console) Write(p []byte) (int, error) { return c.hr.Conn.Write(p) }

// Close ends the attachment (the container keeps running).
func (c *console) Close() error {
	c.stop()
	c.shut()
	return nil
}

// shut closes the streams once; it runs from Close or when the console's
// context ends.
func (c *console) shut() {
	c.once.Do(func() {
		c.closed.Store(true)
		c.hr.Close()
		if c.pipe != nil {
			c.pipe.Close()
		}
	})
}

// Inventory implements bmc.Inventorier (rinv): what the engine knows of
// the container.
func (c *Client) Inventory(ctx context.Context) ([]bmc.Fact, error) {
	ctx, cancel := c.ctx(ctx, 0)
	defer cancel()
	return c.Engine.Inventory(ctx, c.Name)
}

// Inventory describes the container name: ID, image, state, limits,
// restart policy and its addresses, one fact per network.
func (e *Engine) Inventory(ctx context.Context, name string) ([]bmc.Fact, error) {
	r, err := e.cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", e.wrap(err, name))
	}
	in := r.Container
	facts := []bmc.Fact{{Name: "Container ID", Value: in.ID}}
	add := func(n, v string) {
		if v != "" {
			facts = append(facts, bmc.Fact{Name: n, Value: v})
		}
	}
	if in.Config != nil {
		add("Image", in.Config.Image)
		add("Hostname", in.Config.Hostname)
	}
	if in.State != nil {
		add("State", string(in.State.Status))
		add("Started", in.State.StartedAt)
	}
	add("Created", in.Created)
	if hc := in.HostConfig; hc != nil {
		if hc.NanoCPUs > 0 {
			add("CPUs", strconv.FormatFloat(float64(hc.NanoCPUs)/1e9, 'f', -1, 64))
		}
		if hc.Memory > 0 {
			add("Memory", fmt.Sprintf("%d MiB", hc.Memory>>20))
		}
		add("Restart", string(hc.RestartPolicy.Name))
	}
	if in.NetworkSettings != nil {
		for _, n := range slices.Sorted(maps.Keys(in.NetworkSettings.Networks)) {
			ep := in.NetworkSettings.Networks[n]
			if ep == nil {
				continue
			}
			v := n
			if ep.IPAddress.IsValid() && !ep.IPAddress.IsUnspecified() {
				v += " " + ep.IPAddress.String()
			}
			if len(ep.MacAddress) > 0 {
				v += " " + ep.MacAddress.String()
			}
			add("Network", v)
		}
	}
	return facts, nil
}
