// Package power runs BMC operations over many nodes at once, the way
// rpower, rsetboot and rinv need them: bounded concurrency, a timeout per
// node, one retry for a BMC that did not answer, and one result per node
// (its output, or the reason it failed) so one bad node never stops the
// rest.
package power

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"drover.dev/drover/internal/bmc"
	"drover.dev/drover/internal/inventory"
)

// Defaults.
const (
	DefaultConcurrency = 256
	DefaultTimeout     = 20 * time.Second
)

// Opener opens a client for a node by its mgt (*bmc.Registry).
type Opener interface {
	Open(ctx context.Context, mgt string, t bmc.Target) (bmc.Client, error)
}

// Runner fans operations out over nodes.
type Runner struct {
	Drivers Opener // required
	// Concurrency bounds the nodes handled at once; DefaultConcurrency when 0.
	Concurrency int
	// Timeout bounds each node (open, operation, close, retry included);
	// DefaultTimeout when 0.
	Timeout time.Duration
	// Progress, if set, is called after each node with the count done.
	Progress func(done, total int)
}

// Node is one node to act on: its mgt and BMC target, or the reason it
// cannot be reached at all (missing address or credentials).
type Node struct {
	Name   string
	Mgt    string
	Target bmc.Target
	Err    error
}

// Result is one node's outcome.
type Result struct {
	Node   string
	Output string // e.g. "on"; empty on error
	Err    error
}

// Op is the operation for one node's open client; it returns the node's
// output line value.
type Op func(ctx context.Context, c bmc.Client) (string, error)

// Run applies op to every node and returns the results sorted by node
// name. A node whose BMC did not answer is tried once more.
func (r *Runner) Run(ctx context.Context, nodes []Node, op Op) []Result {
	conc := r.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	results := make([]Result, len(nodes))
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	finished := func() {
		if r.Progress != nil {
			mu.Lock()
			done++
			d := done
			mu.Unlock()
			r.Progress(d, len(nodes))
		}
	}
	for i, n := range nodes {
		results[i].Node = n.Name
		if n.Err != nil {
			results[i].Err = n.Err
			finished()
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			nctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			out, err := r.once(nctx, n, op)
			if err != nil && transient(err) && nctx.Err() == nil {
				out, err = r.once(nctx, n, op)
			}
			if err != nil && nctx.Err() != nil && ctx.Err() == nil && !errors.Is(err, bmc.ErrUnreachable) {
				err = fmt.Errorf("%w: no answer within %s: %v", bmc.ErrUnreachable, timeout, err)
			}
			results[i].Output, results[i].Err = out, err
			finished()
		}()
	}
	wg.Wait()
	sort.SliceStable(results, func(a, b int) bool { return results[a].Node < results[b].Node })
	return results
}

func (r *Runner) once(ctx context.Context, n Node, op Op) (string, error) {
	c, err := r.Drivers.Open(ctx, n.Mgt, n.Target)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return op(ctx, c)
}

// transient reports whether err is worth one retry: the BMC did not answer
// or the network failed, not a refusal.
func transient(err error) bool {
	if errors.Is(err, bmc.ErrUnreachable) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// NodeFromInventory builds a Node from a node's resolved attributes:
// mgt, bmc (address), bmcusername, bmcpassword, with site-wide defaults
// from the site object's bmcusername and bmcpassword (drover's stand-in
// for xCAT's passwd table). Containers (mgt=docker) take their engine
// endpoint from vmhost: an endpoint itself (unix:///run/podman/podman.sock,
// tcp://host:2376) or the name of the host's node object, whose
// dockerendpoint attribute holds it (hosts looks it up; nil means none).
func NodeFromInventory(name string, node, site inventory.Resolved, hosts func(string) (inventory.Resolved, bool)) Node {
	n := Node{Name: name, Mgt: strings.ToLower(strings.TrimSpace(node["mgt"]))}
	attrs := make(map[string]string, len(node))
	for k, v := range node {
		attrs[k] = v
	}
	n.Target = bmc.Target{Node: name, Address: strings.TrimSpace(node["bmc"]), Attrs: attrs,
		Username: node["bmcusername"], Password: node["bmcpassword"]}
	if n.Target.Username == "" {
		n.Target.Username = site["bmcusername"]
	}
	if n.Target.Password == "" {
		n.Target.Password = site["bmcpassword"]
	}
	switch n.Mgt {
	case "":
		n.Err = fmt.Errorf("%w: the node has no mgt attribute", bmc.ErrUnknownMgt)
	case "docker":
		host := strings.TrimSpace(node["vmhost"])
		n.Target.Address, n.Target.Username, n.Target.Password = host, "", ""
		switch {
		case host == "":
			n.Err = fmt.Errorf("%w: container node without vmhost (the engine endpoint or its host node)", bmc.ErrNoAddress)
		case !strings.Contains(host, "://"):
			var h inventory.Resolved
			ok := false
			if hosts != nil {
				h, ok = hosts(host)
			}
			switch {
			case !ok:
				n.Err = fmt.Errorf("%w: vmhost %q is neither an endpoint URL nor a defined node", bmc.ErrNoAddress, host)
			case strings.TrimSpace(h["dockerendpoint"]) == "":
				n.Err = fmt.Errorf("%w: host node %q has no dockerendpoint attribute", bmc.ErrNoAddress, host)
			default:
				n.Target.Address = strings.TrimSpace(h["dockerendpoint"])
				for _, k := range []string{"tlscacert", "tlscert", "tlskey"} {
					if v := strings.TrimSpace(h[k]); v != "" {
						n.Target.Attrs[k] = v
					}
				}
			}
		}
	default:
		if n.Target.Address == "" {
			n.Err = fmt.Errorf("%w: the node has no bmc attribute", bmc.ErrNoAddress)
		} else if n.Target.Username == "" || n.Target.Password == "" {
			n.Err = fmt.Errorf("%w: set bmcusername and bmcpassword on the node, a group, or the site", bmc.ErrNoCredentials)
		}
	}
	return n
}
