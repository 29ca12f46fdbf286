package xcatcmd

import (
	"context"
	"strings"

	"drover.dev/drover/internal/inventory"
)

const nodesetUsage = `Usage:
   nodeset <noderange> [boot|shell|discover|offline|runimage=<url>|osimage[=<imagename>]]
   nodeset [-h|--help|-v|--version]
`

// The nodeset states that need no argument.
const (
	nodesetBoot     = "boot"     // iPXE exits to the local disk
	nodesetShell    = "shell"    // the rescue environment
	nodesetDiscover = "discover" // the discovery image
	nodesetOffline  = "offline"  // the boot services answer nothing
)

// nodesetImage is one osimage a nodeset state refers to.
type nodesetImage struct {
	name    string
	obj     *inventory.Object // nil when there is no such osimage
	errText string            // xCAT's error for an unusable image, "" if usable
}

// nodeset sets the next network boot of nodes (xCAT's nodeset, destiny.pm
// setdestiny), writing the node attribute currstate (chain.currstate):
//
//   - boot, shell, discover, offline: currstate is the state's name. boot
//     also clears the node's own provmethod unless it names a disk install
//     (as xCAT blanks nodetype.provmethod).
//   - runimage=URL: currstate is "runimage=URL".
//   - osimage=NAME: the osimage must exist and have a provmethod; the node's
//     provmethod becomes NAME and its os, arch and profile the image's
//     osvers, osarch and profile; each is set on the node itself only
//     where the value it resolves to (perhaps from a group) differs,
//     and currstate is "PROVMETHOD NAME" (the image's provmethod: install,
//     netboot, statelite, boottarget, ...; xCAT writes "PROVMETHOD
//     os-arch-profile" there). An install image also sets currchain=boot,
//     so the node boots from disk once installed.
//   - osimage: as osimage=NAME with each node's resolved provmethod.
//
// Every node of the noderange must exist. The changed nodes are written in
// one Backend.Apply (nothing is written on any error), then "node: currstate"
// is printed for each node, sorted by name.
func (r *Runner) nodeset(ctx context.Context, c *call) int {
	p, err := tabGetopt([]tabOpt{
		{names: []string{"h", "?", "help"}},
		{names: []string{"v", "version"}},
		{names: []string{"V", "verbose"}},
		{names: []string{"noupdateinitrd"}},
		{names: []string{"ignorekernelchk"}},
	}, c.req.Args)
	if err != nil {
		c.out(nodesetUsage)
		return 1
	}
	switch {
	case p.has("h"):
		c.out(nodesetUsage)
		return 0
	case p.has("v"):
		c.out(tabVersion)
		return 0
	case len(p.args) != 2:
		c.out(nodesetUsage)
		return 1
	}
	rng, state := p.args[0], strings.TrimSpace(p.args[1])

	view := r.Backend.View()
	nodes, ok := r.definedNodes(c, view, rng)
	if !ok {
		return 1
	}
	ix := inventory.NewIndex(view, r.Schema)
	objs := make([]*inventory.Object, len(nodes))
	for i, n := range nodes {
		o, ok := view.Get(inventory.Node, n)
		if !ok {
			c.errorf("Invalid nodes and/or groups in noderange: %s\n", n)
			return 1
		}
		objs[i] = o
	}

	images := map[string]*nodesetImage{}
	image := func(name string) *nodesetImage {
		if img, ok := images[name]; ok {
			return img
		}
		img := &nodesetImage{name: name}
		if o, ok := view.Get(inventory.OSImage, name); ok {
			img.obj = o
			if o.Get("provmethod") == "" {
				img.errText = "osimage.provmethod for " + name + " must be set."
			}
		} else {
			img.errText = "Cannot find the OS image " + name + " on the osimage table."
		}
		images[name] = img
		return img
	}

	// perNode is each node's image for the osimage states.
	var perNode []*nodesetImage
	kind, arg, hasArg := strings.Cut(state, "=")
	switch {
	case kind == "osimage" && arg != "":
		img := image(arg)
		if img.errText != "" {
			c.errorf("%s\n", img.errText)
			return 1
		}
		perNode = make([]*nodesetImage, len(nodes))
		for i := range perNode {
			perNode[i] = img
		}
	case kind == "osimage":
		perNode = make([]*nodesetImage, len(nodes))
		var missing []string
		for i, n := range nodes {
			pm, _ := ix.Attr(n, "nodetype.provmethod")
			switch pm {
			case "", "install", "netboot", "statelite":
				missing = append(missing, n)
				continue
			}
			img := image(pm)
			if img.errText != "" {
				c.errorf("%s\n", img.errText)
				return 1
			}
			perNode[i] = img
		}
		if len(missing) > 0 {
			c.errorf("OS image name must be specified in nodetype.provmethod for nodes: %s.\n", strings.Join(missing, " "))
			return 1
		}
	case kind == "runimage" && hasArg:
		if arg == "" {
			c.errorf("An image path should be specified to runnimage.\n")
			return 1
		}
	case !hasArg && (state == nodesetBoot || state == nodesetShell || state == nodesetDiscover || state == nodesetOffline):
	default:
		c.errorf("Unknown state %s requested\n", state)
		return 1
	}

	states := make([]string, len(nodes))
	changes := make([]inventory.Change, 0, len(nodes))
	for i, n := range nodes {
		o := objs[i]
		next := o.Clone()
		if perNode != nil {
			img := perNode[i]
			pm := img.obj.Get("provmethod")
			states[i] = pm + " " + img.name
			for _, a := range [][2]string{{"provmethod", ""}, {"os", "osvers"}, {"arch", "osarch"}, {"profile", "profile"}} {
				v := img.name
				if a[1] != "" {
					v = img.obj.Get(a[1])
				}
				if v == "" {
					continue
				}
				if cur, _ := ix.Attr(n, "nodetype."+a[0]); cur != v {
					next.Set(a[0], v)
				}
			}
			if pm == "install" {
				next.Set("currchain", "boot")
			}
		} else {
			states[i] = state
			if state == nodesetBoot && nodesetBlankProvmethod(o.Get("provmethod"), image) {
				next.Set("provmethod", "")
			}
		}
		next.Set("currstate", states[i])
		if next.Equal(o) {
			continue
		}
		changes = append(changes, inventory.Change{Op: inventory.Put, Object: next})
	}
	if len(changes) > 0 {
		if err := r.Backend.Apply(ctx, changes); err != nil {
			c.errorf("%v\n", err)
			return 1
		}
	}
	var b strings.Builder
	for i, n := range nodes {
		b.WriteString(n)
		b.WriteString(": ")
		b.WriteString(states[i])
		b.WriteByte('\n')
	}
	c.stdout.WriteString(b.String())
	return 0
}

// nodesetBlankProvmethod reports whether nodeset boot clears a node's own
// provmethod: xCAT keeps it only when it is, or names an osimage whose
// provmethod is, "install".
func nodesetBlankProvmethod(own string, image func(string) *nodesetImage) bool {
	switch own {
	case "":
		return false
	case "install":
		return false
	case "netboot", "statelite":
		return true
	}
	if img := image(own); img.obj != nil && img.obj.Get("provmethod") != "" {
		return img.obj.Get("provmethod") != "install"
	}
	return true
}
