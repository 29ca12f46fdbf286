package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/inventory"
)

func obj(t inventory.Type, name string, kv ...string) inventory.Object {
	o := inventory.Object{Type: t, Name: name, Attrs: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Attrs[kv[i]] = kv[i+1]
	}
	return o
}

func put(o inventory.Object) inventory.Change { return inventory.Change{Op: inventory.Put, Object: o} }
func create(o inventory.Object) inventory.Change {
	return inventory.Change{Op: inventory.Create, Object: o}
}
func del(t inventory.Type, name string) inventory.Change {
	return inventory.Change{Op: inventory.Delete, Object: inventory.Object{Type: t, Name: name}}
}

func mustApply(t *testing.T, s *Store, changes ...inventory.Change) {
	t.Helper()
	if err := s.Apply(t.Context(), changes); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

// snapshot returns every object as name → attrs per type, for cmp.
func snapshot(s *Store) map[inventory.Type]map[string]map[string]string {
	out := make(map[inventory.Type]map[string]map[string]string)
	for _, t := range inventory.Types() {
		for _, o := range s.List(t) {
			if out[t] == nil {
				out[t] = make(map[string]map[string]string)
			}
			out[t][o.Name] = o.Attrs
		}
	}
	return out
}

func names(objs []*inventory.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Name)
	}
	return out
}

func TestCRUD(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		if !s.Empty() || s.Rev() != 0 {
			t.Fatalf("new store: Empty=%v Rev=%d, want true 0", s.Empty(), s.Rev())
		}
		mustApply(t, s,
			put(obj(inventory.Group, "compute", "mgt", "ipmi")),
			put(obj(inventory.Node, "n2", "groups", "compute", "arch", "x86_64")),
			put(obj(inventory.Node, "n10", "groups", "compute")),
			put(obj(inventory.Node, "n1", "groups", "compute", "comments", "")),
			create(obj(inventory.OSImage, "rhels9", "osvers", "rhels9.4")),
		)
		if s.Empty() || s.Rev() != 1 {
			t.Fatalf("after one Apply: Empty=%v Rev=%d, want false 1", s.Empty(), s.Rev())
		}
		if diff := cmp.Diff([]string{"n1", "n10", "n2"}, names(s.List(inventory.Node))); diff != "" {
			t.Errorf("List(node) (-want +got):\n%s", diff)
		}
		n1, ok := s.Get(inventory.Node, "n1")
		if !ok {
			t.Fatal("Get(n1): missing")
		}
		if diff := cmp.Diff(map[string]string{"groups": "compute"}, n1.Attrs); diff != "" {
			t.Errorf("n1 attrs (empty values dropped) (-want +got):\n%s", diff)
		}
		// Put replaces all attributes.
		mustApply(t, s, put(obj(inventory.Node, "n2", "groups", "compute", "os", "rhels9")))
		n2, _ := s.Get(inventory.Node, "n2")
		if diff := cmp.Diff(map[string]string{"groups": "compute", "os": "rhels9"}, n2.Attrs); diff != "" {
			t.Errorf("n2 after Put (-want +got):\n%s", diff)
		}
		// Delete, and deleting a missing object is fine.
		mustApply(t, s, del(inventory.Node, "n10"), del(inventory.Node, "nosuch"), del(inventory.Policy, "9"))
		if _, ok := s.Get(inventory.Node, "n10"); ok {
			t.Error("n10 still there after Delete")
		}
		if got := s.Rev(); got != 3 {
			t.Errorf("Rev = %d, want 3", got)
		}
		// The view reads the same objects.
		v := s.View()
		if o, ok := v.Get(inventory.OSImage, "rhels9"); !ok || o.Attrs["osvers"] != "rhels9.4" {
			t.Errorf("View().Get(osimage rhels9) = %v, %v", o, ok)
		}
		if diff := cmp.Diff([]string{"n1", "n2"}, names(v.List(inventory.Node))); diff != "" {
			t.Errorf("View().List(node) (-want +got):\n%s", diff)
		}
		// List hands out the caller's own slice.
		l := s.List(inventory.Node)
		l[0] = nil
		if s.List(inventory.Node)[0] == nil {
			t.Error("changing List's slice changed the store")
		}
		// The caller's object is copied, not kept.
		o := obj(inventory.Node, "n3", "arch", "ppc64le")
		mustApply(t, s, put(o))
		o.Attrs["arch"] = "changed"
		if got, _ := s.Get(inventory.Node, "n3"); got.Attrs["arch"] != "ppc64le" {
			t.Errorf("store kept the caller's map: arch=%q", got.Attrs["arch"])
		}
	})
}

func TestCreateConflict(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		mustApply(t, s, create(obj(inventory.Node, "n1", "arch", "x86_64")))
		tests := []struct {
			name    string
			changes []inventory.Change
			want    string // name in the error
		}{
			{"exists", []inventory.Change{create(obj(inventory.Node, "n1"))}, "n1"},
			{"twice in one batch", []inventory.Change{
				create(obj(inventory.Node, "n2")), create(obj(inventory.Node, "n2")),
			}, "n2"},
			{"after a put in the batch", []inventory.Change{
				put(obj(inventory.Node, "n3")), create(obj(inventory.Node, "n3")),
			}, "n3"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before, rev := snapshot(s), s.Rev()
				err := s.Apply(t.Context(), tt.changes)
				if !errors.Is(err, inventory.ErrExists) {
					t.Fatalf("Apply: err = %v, want ErrExists", err)
				}
				var ee *ExistsError
				if !errors.As(err, &ee) || ee.Name != tt.want || ee.Type != inventory.Node {
					t.Errorf("Apply: err = %#v, want *ExistsError for node %s", err, tt.want)
				}
				if diff := cmp.Diff(before, snapshot(s)); diff != "" {
					t.Errorf("memory changed (-before +after):\n%s", diff)
				}
				if s.Rev() != rev {
					t.Errorf("Rev moved from %d to %d", rev, s.Rev())
				}
			})
		}
		// Create of the same name with another type is no conflict, and
		// Create after Delete in one batch is fine.
		mustApply(t, s, create(obj(inventory.Group, "n1")), del(inventory.Node, "n1"), create(obj(inventory.Node, "n1", "arch", "aarch64")))
		if o, _ := s.Get(inventory.Node, "n1"); o.Attrs["arch"] != "aarch64" {
			t.Errorf("n1 arch = %q, want aarch64", o.Attrs["arch"])
		}
	})
}

func TestAllOrNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		mustApply(t, s,
			put(obj(inventory.Group, "compute", "ip", "|node(\\d+)|10.0.0.($1+0)|")),
			put(obj(inventory.Node, "node1", "groups", "compute", "mac", "00:00:00:00:00:01")),
		)
		before, rev := snapshot(s), s.Rev()
		big := []inventory.Change{
			put(obj(inventory.Node, "node1", "groups", "compute", "mac", "00:00:00:00:00:99")),
			del(inventory.Group, "compute"),
		}
		for i := 2; i < 500; i++ {
			big = append(big, put(obj(inventory.Node, fmt.Sprintf("node%d", i), "groups", "compute")))
		}
		bad := []struct {
			name    string
			changes []inventory.Change
		}{
			{"create conflict last", append(big, create(obj(inventory.Node, "node1")))},
			{"unknown type", append(big, put(obj("widget", "w1")))},
			{"empty name", append(big, put(obj(inventory.Node, "")))},
			{"unknown op", append(big, inventory.Change{Op: 99, Object: obj(inventory.Node, "x")})},
		}
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				if err := s.Apply(t.Context(), tt.changes); err == nil {
					t.Fatal("Apply succeeded, want an error")
				}
				if diff := cmp.Diff(before, snapshot(s)); diff != "" {
					t.Errorf("memory changed (-before +after):\n%s", diff)
				}
				if s.Rev() != rev {
					t.Errorf("Rev moved from %d to %d", rev, s.Rev())
				}
				if n, ok := s.NodeByMAC("00:00:00:00:00:01"); !ok || n.Name != "node1" {
					t.Errorf("NodeByMAC(old mac) = %v, %v; want node1", n, ok)
				}
			})
		}
		// Nothing reached the database either.
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s2 := open()
		if diff := cmp.Diff(before, snapshot(s2)); diff != "" {
			t.Errorf("database changed (-before +after):\n%s", diff)
		}
		if s2.Rev() != rev {
			t.Errorf("reopened Rev = %d, want %d", s2.Rev(), rev)
		}
	})
}

func TestApplyCanceledContext(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.Apply(ctx, []inventory.Change{put(obj(inventory.Node, "n1"))}); err == nil {
			t.Fatal("Apply with a canceled context succeeded")
		}
		if !s.Empty() {
			t.Error("store not empty after a failed Apply")
		}
		mustApply(t, s, put(obj(inventory.Node, "n1")))
	})
}

func TestReopen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		mustApply(t, s,
			put(obj(inventory.Site, inventory.SiteName, "domain", "cluster.example", "master", "10.0.0.1")),
			put(obj(inventory.Group, "compute", "ip", "|node(\\d+)|10.0.0.($1+0)|", "mgt", "ipmi")),
			put(obj(inventory.Node, "node7", "groups", "compute", "mac", "aa:bb:cc:dd:ee:07", "comments", "a=b, c: \"d\" é")),
			put(obj(inventory.Network, "mgmt", "net", "10.0.0.0", "mask", "255.255.255.0")),
			put(obj(inventory.Policy, "1.0", "name", "root", "rule", "allow")),
			put(obj(inventory.BootTarget, "rescue", "kernel", "k", "initrd", "i", "kcmdline", "console=ttyS0")),
		)
		mustApply(t, s, del(inventory.Policy, "1.0"))
		want, rev := snapshot(s), s.Rev()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Apply(t.Context(), []inventory.Change{put(obj(inventory.Node, "x"))}); !errors.Is(err, ErrClosed) {
			t.Errorf("Apply after Close: err = %v, want ErrClosed", err)
		}
		s2 := open()
		if diff := cmp.Diff(want, snapshot(s2)); diff != "" {
			t.Errorf("after reopen (-want +got):\n%s", diff)
		}
		if s2.Rev() != rev {
			t.Errorf("Rev after reopen = %d, want %d", s2.Rev(), rev)
		}
		if n, ok := s2.NodeByMAC("AA:BB:CC:DD:EE:07"); !ok || n.Name != "node7" {
			t.Errorf("NodeByMAC after reopen = %v, %v", n, ok)
		}
		mustApply(t, s2, put(obj(inventory.Node, "node8")))
		if s2.Rev() != rev+1 {
			t.Errorf("Rev after reopen and Apply = %d, want %d", s2.Rev(), rev+1)
		}
	})
}

func TestSubscribe(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		ctx, cancel := context.WithCancel(t.Context())
		ch := s.Subscribe(ctx)
		mustApply(t, s,
			put(obj(inventory.Group, "g")),
			create(obj(inventory.Node, "n1", "groups", "g")),
		)
		mustApply(t, s, del(inventory.Node, "n1"), del(inventory.Node, "never-existed"))
		want := []Event{
			{Rev: 1, Type: inventory.Group, Name: "g", Op: inventory.Put},
			{Rev: 1, Type: inventory.Node, Name: "n1", Op: inventory.Create},
			{Rev: 2, Type: inventory.Node, Name: "n1", Op: inventory.Delete},
		}
		if diff := cmp.Diff(want, receive(t, ch, len(want))); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		cancel()
		waitClosed(t, ch)
		// A subscriber that never reads does not hold up writers.
		_ = s.Subscribe(t.Context())
		for i := range 200 {
			mustApply(t, s, put(obj(inventory.Node, fmt.Sprintf("n%d", i))))
		}
		// Close closes every channel.
		ch2 := s.Subscribe(context.Background())
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, ch2)
	})
}

func receive(t *testing.T, ch <-chan Event, n int) []Event {
	t.Helper()
	var got []Event
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed after %d events, want %d", len(got), n)
			}
			got = append(got, e)
		case <-timeout:
			t.Fatalf("got %d events in 10s, want %d: %v", len(got), n, got)
		}
	}
	return got
}

func waitClosed(t *testing.T, ch <-chan Event) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("channel not closed")
		}
	}
}

func TestConcurrentReadsAndWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		mustApply(t, s, put(obj(inventory.Group, "g", "ip", "|n(\\d+)|10.9.0.($1+0)|")))
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for ctx.Err() == nil {
					for _, n := range s.List(inventory.Node) {
						s.Get(inventory.Node, n.Name)
					}
					s.NodeByMAC("02:00:00:00:00:05")
					s.NodeByIP("10.9.0.5")
					inventory.Resolve(s.View(), &inventory.Object{Type: inventory.Node, Name: "n1", Attrs: map[string]string{"groups": "g"}})
				}
			})
		}
		var wwg sync.WaitGroup
		for w := range 3 {
			wwg.Go(func() {
				for i := range 20 {
					n := fmt.Sprintf("n%d", w*100+i)
					mac := fmt.Sprintf("02:00:00:00:%02x:%02x", w, i)
					if err := s.Apply(ctx, []inventory.Change{
						put(obj(inventory.Node, n, "groups", "g", "mac", mac)),
						put(obj(inventory.Group, "g", "ip", "|n(\\d+)|10.9.0.($1+0)|", "comments", n)),
					}); err != nil {
						t.Errorf("Apply: %v", err)
						return
					}
				}
			})
		}
		wwg.Wait()
		cancel()
		wg.Wait()
		if got := len(s.List(inventory.Node)); got != 60 {
			t.Errorf("%d nodes, want 60", got)
		}
		if got := s.Rev(); got != 61 {
			t.Errorf("Rev = %d, want 61", got)
		}
		if n, ok := s.NodeByMAC("02:00:00:00:02:13"); !ok || n.Name != "n219" {
			t.Errorf("NodeByMAC = %v, %v; want n219", n, ok)
		}
	})
}

func TestMeta(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		ctx := t.Context()
		if v, ok, err := s.Meta(ctx, "restored"); err != nil || ok || v != "" {
			t.Fatalf("Meta(missing) = %q, %v, %v", v, ok, err)
		}
		for _, v := range []string{"2026-11-21T10:00:00Z", "again"} {
			if err := s.SetMeta(ctx, "restored", v); err != nil {
				t.Fatal(err)
			}
			if got, ok, err := s.Meta(ctx, "restored"); err != nil || !ok || got != v {
				t.Fatalf("Meta = %q, %v, %v; want %q", got, ok, err, v)
			}
		}
		s.Close()
		s2 := open()
		if got, ok, err := s2.Meta(ctx, "restored"); err != nil || !ok || got != "again" {
			t.Errorf("Meta after reopen = %q, %v, %v", got, ok, err)
		}
	})
}

func TestTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		ctx := t.Context()
		secret, tok, err := s.CreateToken(ctx, "admin", "admin")
		if err != nil {
			t.Fatal(err)
		}
		secret2, tok2, err := s.CreateToken(ctx, "ci", "viewer")
		if err != nil {
			t.Fatal(err)
		}
		if secret == secret2 || tok.ID == tok2.ID || len(secret) < 40 {
			t.Fatalf("secrets/IDs not unique or too short: %q %q %q %q", secret, secret2, tok.ID, tok2.ID)
		}
		for range 2 { // the second lookup comes from the cache
			got, err := s.LookupToken(ctx, secret2)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tok2, got); diff != "" {
				t.Errorf("LookupToken (-want +got):\n%s", diff)
			}
		}
		for _, bad := range []string{"", "nope", secret + "x"} {
			if _, err := s.LookupToken(ctx, bad); !errors.Is(err, inventory.ErrNotFound) {
				t.Errorf("LookupToken(%q): err = %v, want ErrNotFound", bad, err)
			}
		}
		list, err := s.ListTokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]Token{tok, tok2}, list); diff != "" {
			t.Errorf("ListTokens (-want +got):\n%s", diff)
		}
		if err := s.DeleteToken(ctx, tok2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LookupToken(ctx, secret2); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("LookupToken after delete: err = %v, want ErrNotFound", err)
		}
		if err := s.DeleteToken(ctx, tok2.ID); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("DeleteToken(again): err = %v, want ErrNotFound", err)
		}
		s.Close()
		s2 := open()
		got, err := s2.LookupToken(ctx, secret)
		if err != nil || got != tok {
			t.Errorf("LookupToken after reopen = %v, %v; want %v", got, err, tok)
		}
	})
}

func TestMigrationsIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		ctx := t.Context()
		v1, err := s.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := s.SchemaVersion(ctx) // runs the migrations again
		if err != nil {
			t.Fatal(err)
		}
		if v1 < 1 || v1 != v2 {
			t.Errorf("schema versions %d then %d, want the same, >= 1", v1, v2)
		}
		mustApply(t, s, put(obj(inventory.Node, "n1")))
		s.Close()
		s2 := open() // migrations run again on Open
		if v3, err := s2.SchemaVersion(ctx); err != nil || v3 != v1 {
			t.Errorf("schema version after reopen = %d, %v; want %d", v3, err, v1)
		}
		if _, ok := s2.Get(inventory.Node, "n1"); !ok {
			t.Error("n1 lost across reopen")
		}
	})
}

func TestPingAndIntegrity(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		s := open()
		mustApply(t, s, put(obj(inventory.Node, "n1")))
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
		if err := s.CheckIntegrity(t.Context()); err != nil {
			t.Errorf("CheckIntegrity: %v", err)
		}
		want := BackendSQLite
		if strings.HasSuffix(t.Name(), "/postgres") {
			want = BackendPostgres
		}
		if b := s.Backend(); b != want {
			t.Errorf("Backend() = %q, want %q", b, want)
		}
	})
}

func TestSQLitePath(t *testing.T) {
	tests := []struct {
		cfg     Config
		want    string
		wantErr bool
	}{
		{cfg: Config{DataDir: "/tmp/d"}, want: "/tmp/d/drover.db"},
		{cfg: Config{DSN: "sqlite:/var/lib/x.db"}, want: "/var/lib/x.db"},
		{cfg: Config{DSN: "file:/var/lib/x.db?mode=rw"}, want: "/var/lib/x.db"},
		{cfg: Config{DSN: "sqlite:///var/lib/x.db"}, want: "/var/lib/x.db"},
		{cfg: Config{}, wantErr: true},
		{cfg: Config{DSN: "mysql://x"}, wantErr: true},
		{cfg: Config{DSN: "sqlite:"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.cfg.DSN, func(t *testing.T) {
			if tt.cfg.DataDir != "" {
				tt.cfg.DataDir = t.TempDir()
				tt.want = tt.cfg.DataDir + "/drover.db"
			}
			got, err := sqlitePath(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("sqlitePath(%+v) error = %v, wantErr %v", tt.cfg, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("sqlitePath(%+v) = %q, want %q", tt.cfg, got, tt.want)
			}
		})
	}
}

func TestOpenSQLiteDSN(t *testing.T) {
	path := t.TempDir() + "/new dir/odd?name#1%.db"
	s := openT(t, Config{DSN: "sqlite:" + path})
	if s.Backend() != BackendSQLite {
		t.Errorf("Backend() = %q", s.Backend())
	}
	mustApply(t, s, put(obj(inventory.Node, "n1")))
	s.Close()
	s2 := openT(t, Config{DSN: "sqlite:" + path})
	if _, ok := s2.Get(inventory.Node, "n1"); !ok {
		t.Error("n1 lost across reopen")
	}
}

func TestNotifyChannel(t *testing.T) {
	long := strings.Repeat("s", 63)
	for _, schema := range []string{"public", "drover_test_0123456789ab", long} {
		ch := notifyChannel(schema)
		if len(ch) > 63 || !strings.HasPrefix(ch, "drover_changes_") {
			t.Errorf("notifyChannel(%q) = %q", schema, ch)
		}
	}
	if notifyChannel(long) == notifyChannel(long+"x") {
		t.Error("long schema names share a channel")
	}
}
