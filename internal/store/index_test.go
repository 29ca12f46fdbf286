package store

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"drover.dev/drover/internal/inventory"
)

// lookups is what the boot-path indexes answer: key → node name ("" for
// no node).
type lookups struct {
	mac, ip, uuid, serial map[string]string
}

func checkLookups(t *testing.T, s *Store, want lookups) {
	t.Helper()
	check := func(kind string, f func(string) (*inventory.Object, bool), m map[string]string) {
		for key, wantName := range m {
			o, ok := f(key)
			got := ""
			if ok {
				got = o.Name
			}
			if got != wantName {
				t.Errorf("NodeBy%s(%q) = %q, want %q", kind, key, got, wantName)
			}
		}
	}
	check("MAC", s.NodeByMAC, want.mac)
	check("IP", s.NodeByIP, want.ip)
	check("UUID", s.NodeByUUID, want.uuid)
	check("Serial", s.NodeBySerial, want.serial)
}

func TestIndexes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		mustApply(t, s,
			put(obj(inventory.Group, "compute", "ip", "|node(\\d+)|10.0.0.($1+0)|", "mgt", "ipmi")),
			put(obj(inventory.Group, "rack1", "serial", "ignored-node-has-own")),
			put(obj(inventory.Node, "node001", "groups", "rack1,compute",
				"mac", "00:11:22:33:44:55!eth0|AA-BB-CC-DD-EE-FF!eth1",
				"uuid", "4C4C4544-0042-1010-8050-B4C04F4B4E32", "serial", "SN-001")),
			put(obj(inventory.Node, "node254", "groups", "compute", "mac", "00:11:22:33:44:fe")),
			put(obj(inventory.Node, "mgmt1", "ip", "192.168.0.1", "mac", "0a:00:00:00:00:01")),
		)
		checkLookups(t, s, lookups{
			mac: map[string]string{
				"00:11:22:33:44:55": "node001", "00-11-22-33-44-55": "node001",
				"aa:bb:cc:dd:ee:ff": "node001", "AA:BB:CC:DD:EE:FF": "node001", "aabb.ccdd.eeff": "node001",
				"00:11:22:33:44:FE": "node254", "0a:00:00:00:00:01": "mgmt1",
				"00:11:22:33:44:56": "", "": "", "eth0": "",
			},
			ip: map[string]string{
				"10.0.0.1": "node001", "10.0.0.254": "node254", "192.168.0.1": "mgmt1", "10.0.0.2": "",
			},
			uuid: map[string]string{
				"4c4c4544-0042-1010-8050-b4c04f4b4e32": "node001", "4C4C4544-0042-1010-8050-B4C04F4B4E32": "node001",
				"4c4c4544-0042-1010-8050-b4c04f4b4e33": "",
			},
			serial: map[string]string{"SN-001": "node001", "ignored-node-has-own": "", "sn-001": ""},
		})

		// A group change re-indexes its members only through the group.
		mustApply(t, s, put(obj(inventory.Group, "compute", "ip", "|node(\\d+)|10.1.0.($1+0)|")))
		checkLookups(t, s, lookups{ip: map[string]string{
			"10.0.0.1": "", "10.0.0.254": "", "10.1.0.1": "node001", "10.1.0.254": "node254", "192.168.0.1": "mgmt1",
		}})

		// A group that supplies the serial to nodes without one.
		mustApply(t, s, put(obj(inventory.Group, "rack1", "serial", "RACK1")),
			put(obj(inventory.Node, "node254", "groups", "rack1,compute", "mac", "00:11:22:33:44:fe")))
		checkLookups(t, s, lookups{serial: map[string]string{"RACK1": "node254", "SN-001": "node001"}})

		// Deleting the group drops the inherited values.
		mustApply(t, s, del(inventory.Group, "compute"))
		checkLookups(t, s, lookups{ip: map[string]string{"10.1.0.1": "", "10.1.0.254": "", "192.168.0.1": "mgmt1"}})

		// Creating a group a node already lists indexes the node.
		mustApply(t, s, create(obj(inventory.Group, "compute", "ip", "|node(\\d+)|10.2.0.($1+0)|")))
		checkLookups(t, s, lookups{ip: map[string]string{"10.2.0.1": "node001", "10.2.0.254": "node254"}})

		// A node changing its MACs and leaving a group.
		mustApply(t, s, put(obj(inventory.Node, "node001", "groups", "rack1", "mac", "00:11:22:33:44:66")))
		checkLookups(t, s, lookups{
			mac: map[string]string{"00:11:22:33:44:55": "", "aa:bb:cc:dd:ee:ff": "", "00:11:22:33:44:66": "node001"},
			ip:  map[string]string{"10.2.0.1": "", "10.2.0.254": "node254"},
		})
		mustApply(t, s, put(obj(inventory.Group, "compute", "ip", "|node(\\d+)|10.3.0.($1+0)|")))
		checkLookups(t, s, lookups{ip: map[string]string{"10.3.0.1": "", "10.3.0.254": "node254"}})

		// Deleting a node removes it from every index.
		mustApply(t, s, del(inventory.Node, "node001"))
		checkLookups(t, s, lookups{
			mac:    map[string]string{"00:11:22:33:44:66": ""},
			uuid:   map[string]string{"4c4c4544-0042-1010-8050-b4c04f4b4e32": ""},
			serial: map[string]string{"SN-001": ""},
		})

		// Two nodes claiming one MAC: the first by name answers, and the
		// index stays right when one lets go.
		mustApply(t, s, put(obj(inventory.Node, "b", "mac", "02:00:00:00:00:01")),
			put(obj(inventory.Node, "a", "mac", "02:00:00:00:00:01")))
		checkLookups(t, s, lookups{mac: map[string]string{"02:00:00:00:00:01": "a"}})
		mustApply(t, s, put(obj(inventory.Node, "a", "mac", "02:00:00:00:00:02")))
		checkLookups(t, s, lookups{mac: map[string]string{"02:00:00:00:00:01": "b", "02:00:00:00:00:02": "a"}})

		// The indexes come back on reopen.
		s.Close()
		s2 := open()
		checkLookups(t, s2, lookups{
			mac: map[string]string{"02:00:00:00:00:01": "b", "00:11:22:33:44:fe": "node254"},
			ip:  map[string]string{"10.3.0.254": "node254", "192.168.0.1": "mgmt1"},
		})
	})
}

func TestIndexHierarchicalAttrs(t *testing.T) {
	// site.hierarchicalattrs changes how every node resolves: with mac
	// joined by '|', a node also gets its groups' MACs.
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		mustApply(t, s,
			put(obj(inventory.Group, "g", "mac", "02:00:00:00:00:ff")),
			put(obj(inventory.Node, "n1", "groups", "g", "mac", "02:00:00:00:00:01")),
			put(obj(inventory.Node, "n2", "groups", "g", "mac", "02:00:00:00:00:02")),
		)
		checkLookups(t, s, lookups{mac: map[string]string{"02:00:00:00:00:01": "n1", "02:00:00:00:00:ff": ""}})
		mustApply(t, s, put(obj(inventory.Site, inventory.SiteName, "hierarchicalattrs", "mac:|")), del(inventory.Node, "n2"))
		checkLookups(t, s, lookups{mac: map[string]string{
			"02:00:00:00:00:01": "n1", "02:00:00:00:00:ff": "n1", "02:00:00:00:00:02": "",
		}})
		mustApply(t, s, put(obj(inventory.Site, inventory.SiteName, "domain", "example.com")))
		checkLookups(t, s, lookups{mac: map[string]string{"02:00:00:00:00:01": "n1", "02:00:00:00:00:ff": ""}})
	})
}

func TestIndexMatchesResolve(t *testing.T) {
	// After a random mix of changes, the incremental indexes equal indexes
	// built from scratch.
	s := openT(t, Config{DataDir: t.TempDir()})
	var changes []inventory.Change
	for g := range 5 {
		changes = append(changes, put(obj(inventory.Group, fmt.Sprintf("g%d", g), "ip", fmt.Sprintf("|n(\\d+)|10.%d.0.($1+0)|", g))))
	}
	for n := range 50 {
		changes = append(changes, put(obj(inventory.Node, fmt.Sprintf("n%d", n),
			"groups", fmt.Sprintf("g%d,g%d", n%5, (n+1)%5), "mac", fmt.Sprintf("02:00:00:00:00:%02x", n))))
	}
	mustApply(t, s, changes...)
	mustApply(t, s, del(inventory.Group, "g1"), put(obj(inventory.Group, "g3", "ip", "10.99.0.1")),
		put(obj(inventory.Node, "n7", "groups", "g4")), del(inventory.Node, "n8"))
	fresh := newMemory()
	var all []*inventory.Object
	for _, ty := range inventory.Types() {
		all = append(all, s.List(ty)...)
	}
	fresh.load(s.Rev(), all)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for name, ix := range map[string][2]keyIndex[string]{
		"mac-text": {s.mem.byMAC.text, fresh.byMAC.text}, "ip": {s.mem.byIP, fresh.byIP},
		"uuid": {s.mem.byUUID, fresh.byUUID}, "serial": {s.mem.bySerial, fresh.bySerial},
	} {
		if diff := cmp.Diff(dumpIndex(ix[1]), dumpIndex(ix[0])); diff != "" {
			t.Errorf("%s index (-fresh +incremental):\n%s", name, diff)
		}
	}
	if diff := cmp.Diff(dumpIndex(fresh.byMAC.bits), dumpIndex(s.mem.byMAC.bits)); diff != "" {
		t.Errorf("mac index (-fresh +incremental):\n%s", diff)
	}
	// Every node is filed under the values inventory.Resolve gives it.
	for _, n := range s.mem.objs[inventory.Node] {
		attrs := inventory.Resolve(s.mem, n)
		if ip := attrs["ip"]; ip != "" && !slices.Contains(dumpIndex(s.mem.byIP)[ip], n.Name) {
			t.Errorf("node %s: ip %q indexed as %v", n.Name, ip, dumpIndex(s.mem.byIP)[ip])
		}
		for _, mac := range splitMACs(attrs["mac"], nil) {
			if o, ok := s.mem.byMAC.lookup(mac); !ok || o != n {
				t.Errorf("node %s: mac %q indexed as %v", n.Name, mac, o)
			}
		}
	}
	if diff := cmp.Diff(fresh.members, s.mem.members); diff != "" {
		t.Errorf("group members (-fresh +incremental):\n%s", diff)
	}
}

// dumpIndex lists an index as key → node names, the first answering.
func dumpIndex[K comparable](ix keyIndex[K]) map[K][]string {
	out := make(map[K][]string)
	for k, o := range ix.one {
		out[k] = []string{o.Name}
	}
	for k, nodes := range ix.dup {
		if ix.one[k] != nodes[0] {
			out[k] = append(out[k], "(one and dup disagree)")
		}
		out[k] = names(nodes)
	}
	return out
}

func TestNormalizeMAC(t *testing.T) {
	tests := []struct{ in, want string }{
		{"00:11:22:33:44:55", "00:11:22:33:44:55"},
		{"AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff"},
		{"aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee:ff"},
		{" aabb.ccdd.eeff ", "aa:bb:cc:dd:ee:ff"},
		{"aabb:ccdd:eeff", "aabb:ccdd:eeff"},
		{"aa:bb:cc:dd:ee:fg", "aa:bb:cc:dd:ee:fg"},
		{"aa.bb.cc.dd.ee.ff", "aa.bb.cc.dd.ee.ff"},
		{"AABBCCDDEEFF", "aa:bb:cc:dd:ee:ff"},
		{"", ""},
		{"aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee"},
		{"aa:bb-cc:dd:ee:ff", "aa:bb-cc:dd:ee:ff"},
		{"aab:bcc:dde:eff", "aab:bcc:dde:eff"},
		{"NOT-A-MAC", "not-a-mac"},
		{"00:11:22:33:44:55:66:77", "00:11:22:33:44:55:66:77"},
	}
	for _, tt := range tests {
		if got := NormalizeMAC(tt.in); got != tt.want {
			t.Errorf("NormalizeMAC(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitMACs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"00:11:22:33:44:55", []string{"00:11:22:33:44:55"}},
		{"00:11:22:33:44:55!eth0|AA-BB-CC-DD-EE-FF!eth1", []string{"00:11:22:33:44:55", "aa:bb:cc:dd:ee:ff"}},
		{"00:11:22:33:44:55|00-11-22-33-44-55!*NOIP*|", []string{"00:11:22:33:44:55"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, splitMACs(tt.in, nil)); diff != "" {
			t.Errorf("splitMACs(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func FuzzNormalizeMAC(f *testing.F) {
	for _, s := range []string{"00:11:22:33:44:55", "AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff", "AABBCCDDEEFF", "x", "", "00:11:22:33:44:55!eth0|aa:bb:cc:dd:ee:ff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeMAC(s)
		if NormalizeMAC(n) != n {
			t.Errorf("NormalizeMAC not idempotent: %q → %q → %q", s, n, NormalizeMAC(n))
		}
		for _, m := range splitMACs(s, nil) {
			if m == "" || NormalizeMAC(m) != m {
				t.Errorf("splitMACs(%q) gave %q", s, m)
			}
		}
		if bits, ok := parseMAC(s); ok && formatMAC(bits) != n {
			t.Errorf("parseMAC(%q) = %x, NormalizeMAC = %q", s, bits, n)
		}
	})
}

func TestPostgresTwoServers(t *testing.T) {
	cfg := Config{DSN: pgSchemaDSN(t)}
	a, b := openT(t, cfg), openT(t, cfg)
	ctx := t.Context()
	evA, evB := a.Subscribe(ctx), b.Subscribe(ctx)

	// A writes; B hears it through NOTIFY and serves it from memory.
	mustApply(t, a,
		put(obj(inventory.Group, "compute", "ip", "|node(\\d+)|10.0.0.($1+0)|")),
		put(obj(inventory.Node, "node5", "groups", "compute", "mac", "02:00:00:00:00:05")),
	)
	want := []Event{
		{Rev: 1, Type: inventory.Group, Name: "compute", Op: inventory.Put},
		{Rev: 1, Type: inventory.Node, Name: "node5", Op: inventory.Put},
	}
	if diff := cmp.Diff(want, receive(t, evB, 2)); diff != "" {
		t.Errorf("B's events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, receive(t, evA, 2)); diff != "" {
		t.Errorf("A's events (-want +got):\n%s", diff)
	}
	if n, ok := b.NodeByMAC("02:00:00:00:00:05"); !ok || n.Name != "node5" {
		t.Errorf("B.NodeByMAC = %v, %v", n, ok)
	}
	if n, ok := b.NodeByIP("10.0.0.5"); !ok || n.Name != "node5" {
		t.Errorf("B.NodeByIP = %v, %v", n, ok)
	}

	// B writes a group change and a delete; A re-indexes.
	mustApply(t, b, put(obj(inventory.Group, "compute", "ip", "|node(\\d+)|10.5.0.($1+0)|")), del(inventory.Node, "gone"))
	if diff := cmp.Diff([]Event{{Rev: 2, Type: inventory.Group, Name: "compute", Op: inventory.Put}}, receive(t, evA, 1)); diff != "" {
		t.Errorf("A's events (-want +got):\n%s", diff)
	}
	if n, ok := a.NodeByIP("10.5.0.5"); !ok || n.Name != "node5" {
		t.Errorf("A.NodeByIP after B's group change = %v, %v", n, ok)
	}
	receive(t, evB, 1)

	// Both write at once; both end at the same revision with the same objects.
	done := make(chan error, 2)
	for i, s := range []*Store{a, b} {
		go func() {
			for k := range 25 {
				err := s.Apply(ctx, []inventory.Change{put(obj(inventory.Node, fmt.Sprintf("s%d-%02d", i, k), "groups", "compute"))})
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	receive(t, evA, 50)
	receive(t, evB, 50)
	if a.Rev() != 52 || b.Rev() != 52 {
		t.Errorf("Rev: A %d, B %d, want 52", a.Rev(), b.Rev())
	}
	if diff := cmp.Diff(snapshot(a), snapshot(b)); diff != "" {
		t.Errorf("A and B differ (-A +B):\n%s", diff)
	}

	// A large transaction is not listed in the change log: B reloads.
	var big []inventory.Change
	for i := range pgLogMax + 1 {
		big = append(big, put(obj(inventory.Node, fmt.Sprintf("big%05d", i), "mac", fmt.Sprintf("02:01:00:00:%02x:%02x", i/256, i%256))))
	}
	big = append(big, del(inventory.Node, "s0-00"))
	mustApply(t, a, big...)
	got := receive(t, evB, pgLogMax+2)
	if got[0].Rev != 53 {
		t.Errorf("B's first event after the large Apply: %+v", got[0])
	}
	if n, ok := b.NodeByMAC("02:01:00:00:27:10"); !ok || n.Name != "big10000" {
		t.Errorf("B.NodeByMAC(big) = %v, %v", n, ok)
	}
	if _, ok := b.Get(inventory.Node, "s0-00"); ok {
		t.Error("B still has s0-00")
	}
	if diff := cmp.Diff(snapshot(a), snapshot(b)); diff != "" {
		t.Errorf("A and B differ after the large Apply (-A +B):\n%s", diff)
	}

	// A token deleted on A stops working on B, which had cached it.
	secret, tok, err := a.CreateToken(ctx, "t", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.LookupToken(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := b.LookupToken(ctx, secret); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B still accepts a token deleted on A")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPostgresListenerReconnects(t *testing.T) {
	cfg := Config{DSN: pgSchemaDSN(t)}
	a, b := openT(t, cfg), openT(t, cfg)
	ctx := t.Context()
	ev := b.Subscribe(ctx)
	// Kill B's listening connection from the server side; commits made
	// while it is gone arrive once it reconnects.
	if _, err := a.pg.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query = $1 AND pid <> pg_backend_pid()`, "LISTEN "+pgx.Identifier{b.pg.channel}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	mustApply(t, a, put(obj(inventory.Node, "after-kill", "mac", "02:00:00:00:00:99")))
	got := receive(t, ev, 1)
	if got[0].Name != "after-kill" {
		t.Errorf("event %+v, want after-kill", got[0])
	}
	if n, ok := b.NodeByMAC("02:00:00:00:00:99"); !ok || n.Name != "after-kill" {
		t.Errorf("B.NodeByMAC = %v, %v", n, ok)
	}
}
