// Package discovery decides what a discovery report means: which node
// definition the reporting machine is (Match), what is written to that node
// (Updates) and what the node's chain asks for next (ParseChain). It is
// pure: no I/O, no clock; the discovery service feeds it a snapshot of the
// inventory and records the Decision as an event.
package discovery

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"drover.dev/drover/internal/inventory"
)

// Input is everything Match decides from.
type Input struct {
	Facts     Facts
	Inventory inventory.View
	// Sequential is the state of sequential discovery
	// (nodediscoverstart noderange=...); nil when it is not running.
	Sequential *Sequential
	// Rules are the discovery rules, tried in order; the first whose
	// selectors all hold names the machine.
	Rules []Rule
	// Reserved are names handed out by earlier decisions that are not yet
	// in the inventory; sequential discovery and rules skip them.
	Reserved []string
}

// Sequential is a running sequential discovery.
type Sequential struct {
	// Names is the expanded noderange, in the order names are handed out.
	Names []string
	// Groups are given to a node sequential discovery creates
	// (nodediscoverstart groups=...).
	Groups []string
}

// Outcome is what the discovery service does with a report.
type Outcome string

// The outcomes.
const (
	// Matched: write Updates(Node, Facts) to Node (creating it when Create)
	// and carry out its chain.
	Matched Outcome = "matched"
	// Duplicate: Node already holds these facts; nothing to write. The
	// report repeats one already applied.
	Duplicate Outcome = "duplicate"
	// Flagged: the report contradicts the inventory or is ambiguous; it is
	// not applied and waits for an administrator.
	Flagged Outcome = "flagged"
	// Queued: nothing claims the machine; the report waits for approval.
	Queued Outcome = "queued"
)

// Method is the matching rule that decided, named like xCAT's
// discoverydata.method where xCAT has one.
type Method string

// The methods, in the order Match tries them.
const (
	ByMAC        Method = "mac"        // a node with one of the reported MACs
	ByMTMS       Method = "mtms"       // serial (and mtm) or UUID
	BySwitch     Method = "switch"     // switch and switchport from LLDP
	BySequential Method = "sequential" // the next free name of nodediscoverstart
	ByRule       Method = "rule"       // a discovery rule
)

// Decision is Match's verdict and why.
type Decision struct {
	Outcome Outcome
	// Method is the rule that matched (for Flagged: the one that found the
	// conflict; "" for Queued).
	Method Method
	// Node is the matched node (Matched, Duplicate; for Flagged the node
	// whose definition the report contradicts, if one).
	Node string
	// Create says Node does not exist yet and must be created with Groups.
	Create bool
	Groups []string
	// Rule is the name of the discovery rule (Method ByRule), or its text
	// when the rule has no name.
	Rule string
	// Reason says in words why, for the event log.
	Reason string
	// Candidates are the nodes of an ambiguous match (Flagged), sorted.
	Candidates []string
	// Notes are observations that did not decide, e.g. an exhausted
	// sequential range.
	Notes []string
}

// node is one node definition with the attributes matching reads.
type node struct {
	name   string
	attrs  inventory.Resolved
	macs   []net.HardwareAddr
	exists bool
}

// Match decides which node a discovery report belongs to, trying in order:
//
//  1. a defined node with one of the reported MACs;
//  2. a node whose serial (and mtm, when the node has one) or uuid matches
//     the report (xCAT's MTMS discovery);
//  3. a node whose switch and switchport match an LLDP neighbour of the
//     report (see switchMatches and portMatches for the comparison);
//  4. sequential discovery: the first name of Input.Sequential that is not
//     defined with a MAC, not reserved and not bound to another machine's
//     serial or UUID;
//  5. the first discovery rule whose selectors hold: a new node named by
//     its template with the smallest free number;
//  6. otherwise the report is Queued.
//
// Safety: the node found by rules 1–3 must not contradict the report — a
// node whose serial or uuid is set differently from the report's (both
// known and not placeholders) is Flagged, as is a report whose MACs,
// serial/UUID or LLDP neighbours point at more than one node. A match whose
// node already holds everything Updates would write is a Duplicate.
func Match(in Input) Decision {
	f := in.Facts
	v := in.Inventory
	var nodes []*node
	for _, o := range v.List(inventory.Node) {
		r := inventory.Resolve(v, o)
		nodes = append(nodes, &node{name: o.Name, attrs: r, macs: r.MACs(), exists: true})
	}
	macs := f.allMACs()

	// 1. MAC.
	var byMAC []*node
	for _, n := range nodes {
		for _, m := range macs {
			if HasMAC(n.macs, m) {
				byMAC = append(byMAC, n)
				break
			}
		}
	}
	if len(byMAC) > 1 {
		return ambiguous(ByMAC, byMAC, "the report's MACs belong to more than one node")
	}
	if len(byMAC) == 1 {
		n := byMAC[0]
		if d, bad := contradiction(ByMAC, n, f); bad {
			return d
		}
		// The report's serial or UUID must not belong to another node.
		for _, o := range mtmsMatches(nodes, f) {
			if o != n {
				return Decision{Outcome: Flagged, Method: ByMAC, Node: n.name,
					Candidates: sortedNames([]*node{n, o}),
					Reason:     fmt.Sprintf("the report has a MAC of node %s but the serial/uuid of node %s", n.name, o.name)}
			}
		}
		return matched(ByMAC, n, f, fmt.Sprintf("node %s has MAC %s", n.name, firstShared(n.macs, macs)))
	}

	// 2. MTMS.
	if ms := mtmsMatches(nodes, f); len(ms) > 1 {
		return ambiguous(ByMTMS, ms, "the report's serial/uuid matches more than one node")
	} else if len(ms) == 1 {
		n := ms[0]
		if d, bad := contradiction(ByMTMS, n, f); bad {
			return d
		}
		return matched(ByMTMS, n, f, mtmsReason(n, f))
	}

	// 3. Switch and port.
	var bySwitch []*node
	var via []Neighbour
	for _, n := range nodes {
		sw, port := n.attrs.Switch(), n.attrs.SwitchPort()
		if sw == "" || port == "" {
			continue
		}
		for _, nb := range f.LLDP {
			if switchMatches(v, sw, nb) && portMatches(port, nb) {
				bySwitch = append(bySwitch, n)
				via = append(via, nb)
				break
			}
		}
	}
	if len(bySwitch) > 1 {
		return ambiguous(BySwitch, bySwitch, "the report's LLDP neighbours match the switch ports of more than one node")
	}
	if len(bySwitch) == 1 {
		n, nb := bySwitch[0], via[0]
		if d, bad := contradiction(BySwitch, n, f); bad {
			return d
		}
		return matched(BySwitch, n, f, fmt.Sprintf("node %s has switch=%s switchport=%s; %s hears chassis %q (%s) port %q (%s)",
			n.name, n.attrs.Switch(), n.attrs.SwitchPort(), nb.NIC, nb.ChassisID, nb.SysName, nb.PortID, nb.PortDesc))
	}

	byName := make(map[string]*node, len(nodes))
	for _, n := range nodes {
		byName[n.name] = n
	}
	reserved := make(map[string]bool, len(in.Reserved))
	for _, r := range in.Reserved {
		reserved[r] = true
	}
	var notes []string

	// 4. Sequential.
	if seq := in.Sequential; seq != nil {
		for _, name := range seq.Names {
			n, ok := byName[name]
			if reserved[name] || ok && (len(n.macs) > 0 || bound(n, f)) {
				continue
			}
			if !ok {
				d := Decision{Outcome: Matched, Method: BySequential, Node: name, Create: true,
					Groups: slices.Clone(seq.Groups),
					Reason: fmt.Sprintf("sequential discovery: %s is the next free name", name)}
				return d
			}
			return matched(BySequential, n, f, fmt.Sprintf("sequential discovery: %s is the next free name", name))
		}
		notes = append(notes, fmt.Sprintf("sequential discovery: no free name left among %d names", len(seq.Names)))
	}

	// 5. Discovery rules.
	for _, r := range in.Rules {
		if !r.Matches(f) {
			continue
		}
		label := r.Name
		if label == "" {
			label = r.String()
		}
		name := ""
		for i := 1; i <= 1_000_000; i++ {
			cand := r.Template.Format(i)
			if _, taken := byName[cand]; !taken && !reserved[cand] {
				name = cand
				break
			}
		}
		if name == "" {
			notes = append(notes, fmt.Sprintf("rule %s: no free name for template %s", label, r.Template))
			continue
		}
		return Decision{Outcome: Matched, Method: ByRule, Node: name, Create: true, Rule: label,
			Groups: slices.Clone(r.Groups), Notes: notes,
			Reason: fmt.Sprintf("rule %s matches: %s", label, selectorsText(r.Selectors))}
	}

	return Decision{Outcome: Queued, Reason: "no node definition, sequential discovery or rule claims the machine", Notes: notes}
}

// mtmsMatches returns the nodes whose serial (and mtm when set) or uuid
// match the facts.
func mtmsMatches(nodes []*node, f Facts) []*node {
	var out []*node
	for _, n := range nodes {
		serial, mtm, uuid := n.attrs.Serial(), n.attrs.MTM(), n.attrs.UUID()
		bySerial := usefulID(f.Serial) && serial != "" && sameID(serial, f.Serial) && (mtm == "" || sameID(mtm, f.MTM))
		byUUID := usefulID(f.UUID) && uuid != "" && sameID(uuid, f.UUID)
		if bySerial || byUUID {
			out = append(out, n)
		}
	}
	return out
}

func mtmsReason(n *node, f Facts) string {
	switch {
	case usefulID(f.Serial) && sameID(n.attrs.Serial(), f.Serial) && n.attrs.MTM() != "":
		return fmt.Sprintf("node %s has serial %s and mtm %s", n.name, n.attrs.Serial(), n.attrs.MTM())
	case usefulID(f.Serial) && sameID(n.attrs.Serial(), f.Serial):
		return fmt.Sprintf("node %s has serial %s", n.name, n.attrs.Serial())
	}
	return fmt.Sprintf("node %s has uuid %s", n.name, n.attrs.UUID())
}

// bound reports whether node n is reserved for another machine: its serial
// or uuid is set and differs from the report's.
func bound(n *node, f Facts) bool {
	_, bad := contradiction("", n, f)
	return bad
}

// contradiction flags a node whose serial or uuid is set and differs from
// the report's (a value missing or a placeholder on either side cannot
// contradict).
func contradiction(m Method, n *node, f Facts) (Decision, bool) {
	var diffs []string
	if s := n.attrs.Serial(); usefulID(s) && usefulID(f.Serial) && !sameID(s, f.Serial) {
		diffs = append(diffs, fmt.Sprintf("serial %s, the report %s", s, f.Serial))
	}
	if u := n.attrs.UUID(); usefulID(u) && usefulID(f.UUID) && !sameID(u, f.UUID) {
		diffs = append(diffs, fmt.Sprintf("uuid %s, the report %s", u, f.UUID))
	}
	if len(diffs) == 0 {
		return Decision{}, false
	}
	return Decision{Outcome: Flagged, Method: m, Node: n.name,
		Reason: fmt.Sprintf("conflict: node %s has %s", n.name, strings.Join(diffs, "; "))}, true
}

func ambiguous(m Method, ns []*node, why string) Decision {
	names := sortedNames(ns)
	return Decision{Outcome: Flagged, Method: m, Candidates: names,
		Reason: fmt.Sprintf("ambiguous: %s (%s)", why, strings.Join(names, ", "))}
}

// matched returns Matched, or Duplicate when n already holds the facts.
func matched(m Method, n *node, f Facts, reason string) Decision {
	if holds(n, f) {
		return Decision{Outcome: Duplicate, Method: m, Node: n.name,
			Reason: reason + "; the node already holds the reported facts"}
	}
	d := Decision{Outcome: Matched, Method: m, Node: n.name, Reason: reason}
	if len(n.macs) > 0 && firstShared(n.macs, f.allMACs()) == "" {
		d.Notes = append(d.Notes, fmt.Sprintf("node %s had other MACs (%s); the report's replace them", n.name, n.attrs["mac"]))
	}
	return d
}

// holds reports whether node n already has every value Updates would write
// (mac compared as a set of addresses; status not compared, as it moves on
// after discovery).
func holds(n *node, f Facts) bool {
	for k, want := range Updates(n.name, f) {
		switch k {
		case "status":
			continue
		case "mac":
			for _, m := range f.allMACs() {
				if !HasMAC(n.macs, m) {
					return false
				}
			}
		default:
			if n.attrs[k] != want {
				return false
			}
		}
	}
	return true
}

func sortedNames(ns []*node) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func firstShared(have, report []net.HardwareAddr) string {
	for _, m := range report {
		if HasMAC(have, m) {
			return m.String()
		}
	}
	return ""
}

func selectorsText(sels []Selector) string {
	parts := make([]string, len(sels))
	for i, s := range sels {
		parts[i] = s.String()
	}
	return strings.Join(parts, " ")
}
