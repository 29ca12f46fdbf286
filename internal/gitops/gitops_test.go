package gitops

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"

	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/store"
)

// gitRepo is a real Git repository on disk, written with the git CLI.
type gitRepo struct {
	t   *testing.T
	dir string
	env []string
}

func newRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git command not found: the tests build real repositories with it (install git)")
	}
	home := t.TempDir()
	r := &gitRepo{t: t, dir: t.TempDir(), env: append(os.Environ(),
		"HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.invalid", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.invalid", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z",
	)}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = r.dir, r.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (an empty content removes the file) and commits them.
func (r *gitRepo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	for name, body := range files {
		p := filepath.Join(r.dir, name)
		if body == "" {
			if err := os.Remove(p); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

type fakeSecrets map[string]string

func (f fakeSecrets) Secret(_ context.Context, name string) (string, bool, error) {
	v, ok := f[name]
	return v, ok, nil
}

type event struct{ Kind, Detail, Reason string }

type eventLog struct {
	mu  sync.Mutex
	evs []event
}

func (l *eventLog) add(kind, detail, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, event{kind, detail, reason})
}

func (l *eventLog) take() []event {
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.evs
	l.evs = nil
	return evs
}

func newSyncer(t *testing.T, st Store, repo string, cfg Config) (*Syncer, *eventLog) {
	t.Helper()
	cfg.Repo = repo
	if cfg.WorkDir == "" {
		cfg.WorkDir = filepath.Join(t.TempDir(), "gitops")
	}
	log := &eventLog{}
	return &Syncer{Config: cfg, Store: st, Events: log.add}, log
}

// inventoryOf lists the objects of the owned kinds as "type/name attr=value ...".
func inventoryOf(v inventory.View) []string {
	var out []string
	for _, t := range DefaultKinds() {
		for _, o := range v.List(t) {
			s := string(t) + "/" + o.Name
			for _, a := range o.AttrNames() {
				s += " " + a + "=" + o.Attrs[a]
			}
			out = append(out, s)
		}
	}
	return out
}

const (
	nodesV1 = `# compute nodes
cn1:
    objtype=node
    groups=compute,all
    mac=52:54:00:00:00:01

cn2:
    objtype=node
    groups=compute,all
    mac=52:54:00:00:00:02

cn3:
    objtype=node
    groups=compute,all
`
	netV1 = `apiVersion: drover.dev/v1
kind: Network
metadata: {name: prov}
spec: {net: 198.18.0.0, mask: 255.255.0.0}
---
apiVersion: drover.dev/v1
kind: Group
metadata: {name: compute}
spec: {arch: x86_64}
`
	// nodesV2 changes cn1, drops cn3 and keeps cn2.
	nodesV2 = `cn1:
    objtype=node
    groups=compute,all
    mac=52:54:00:00:00:11
    arch=aarch64

cn2:
    objtype=node
    groups=compute,all
    mac=52:54:00:00:00:02
`
	// nodesBad has an invalid line 7.
	nodesBad = `cn1:
    objtype=node
    groups=compute,all

cn4:
    objtype=node
    this line is not an attribute
`
)

// TestAcceptance is issue 6's acceptance 3 over file://, step by step.
func TestAcceptance(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t)
	c1 := repo.commit("initial", map[string]string{"cluster/nodes.stanza": nodesV1, "cluster/net/prov.yaml": netV1, "README.md": "not a definition"})
	st := openStore(t, t.TempDir())
	// An object of an owned kind that Git does not define is pruned on the
	// first sync; a site attribute and a policy (not owned) are kept.
	if err := st.Apply(ctx, []inventory.Change{
		{Op: inventory.Create, Object: inventory.Object{Type: inventory.Node, Name: "stray", Attrs: map[string]string{"groups": "all"}}},
		{Op: inventory.Put, Object: inventory.Object{Type: inventory.Site, Name: inventory.SiteName, Attrs: map[string]string{"domain": "example.test"}}},
	}); err != nil {
		t.Fatal(err)
	}
	s, events := newSyncer(t, st, "file://"+repo.dir, Config{Path: "cluster"})

	t.Log("initial sync creates the objects")
	res, err := s.Sync(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Applied || res.Commit != c1 || res.Branch != "main" {
		t.Fatalf("initial sync: %+v, want commit %s of main applied", res, c1)
	}
	want := []string{
		"node/cn1 groups=compute,all mac=52:54:00:00:00:01",
		"node/cn2 groups=compute,all mac=52:54:00:00:00:02",
		"node/cn3 groups=compute,all",
		"group/compute arch=x86_64",
		"network/prov mask=255.255.0.0 net=198.18.0.0",
	}
	if diff := cmp.Diff(want, inventoryOf(st.View())); diff != "" {
		t.Fatalf("after initial sync (-want +got):\n%s", diff)
	}
	if _, ok := st.Get(inventory.Site, inventory.SiteName); !ok {
		t.Error("site object pruned")
	}
	if evs := events.take(); len(evs) != 1 || evs[0].Kind != "gitops-applied" || !strings.Contains(evs[0].Detail, "5 created, 1 deleted") {
		t.Errorf("events after the initial sync: %+v", evs)
	}
	status := mustStatus(t, s)
	if status.Applied != c1 || status.Error != "" || len(status.Drift) != 0 || status.Branch != "main" || status.Path != "cluster" {
		t.Errorf("status after the initial sync: %+v", status)
	}

	t.Log("an ordinary sync of the same commit writes nothing")
	if res, err := s.Sync(ctx, false); err != nil || res.Applied {
		t.Fatalf("second sync: %+v, %v; want not applied", res, err)
	}

	t.Log("a new commit changes and removes objects (prune)")
	c2 := repo.commit("cn1 moves to arm, cn3 retired", map[string]string{"cluster/nodes.stanza": nodesV2})
	res, err = s.Sync(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	wantChanges := []Change{
		{Op: "put", Kind: "node", Name: "cn1", Attrs: []string{"arch", "mac"}},
		{Op: "delete", Kind: "node", Name: "cn3"},
	}
	if diff := cmp.Diff(wantChanges, res.Changes); diff != "" || !res.Applied || res.Commit != c2 {
		t.Fatalf("sync of the second commit: %+v (-want +got changes):\n%s", res, diff)
	}
	want = []string{
		"node/cn1 arch=aarch64 groups=compute,all mac=52:54:00:00:00:11",
		"node/cn2 groups=compute,all mac=52:54:00:00:00:02",
		"group/compute arch=x86_64",
		"network/prov mask=255.255.0.0 net=198.18.0.0",
	}
	if diff := cmp.Diff(want, inventoryOf(st.View())); diff != "" {
		t.Fatalf("after the second commit (-want +got):\n%s", diff)
	}

	t.Log("CLI edits show up as drift and survive an ordinary sync")
	cn2 := st.View().List(inventory.Node)[1].Clone()
	cn2.Set("mac", "52:54:00:00:00:99")
	cn2.Set("serialport", "0")
	if err := st.Apply(ctx, []inventory.Change{
		{Op: inventory.Put, Object: cn2},
		{Op: inventory.Create, Object: inventory.Object{Type: inventory.Node, Name: "cn9", Attrs: map[string]string{"groups": "all"}}},
		{Op: inventory.Delete, Object: inventory.Object{Type: inventory.Network, Name: "prov"}},
	}); err != nil {
		t.Fatal(err)
	}
	wantDrift := []DriftItem{
		{Kind: "node", Name: "cn2", Change: DriftModified, Attrs: []string{"mac", "serialport"}},
		{Kind: "node", Name: "cn9", Change: DriftAdded},
		{Kind: "network", Name: "prov", Change: DriftDeleted},
	}
	if diff := cmp.Diff(wantDrift, mustStatus(t, s).Drift); diff != "" {
		t.Fatalf("drift (-want +got):\n%s", diff)
	}
	if res, err := s.Sync(ctx, false); err != nil || res.Applied {
		t.Fatalf("ordinary sync with drift: %+v, %v; want nothing applied", res, err)
	}
	if diff := cmp.Diff(wantDrift, mustStatus(t, s).Drift); diff != "" {
		t.Fatalf("drift after an ordinary sync (-want +got):\n%s", diff)
	}

	t.Log("a forced sync reverts the drift")
	res, err = s.Sync(ctx, true)
	if err != nil || !res.Applied || res.Commit != c2 {
		t.Fatalf("forced sync: %+v, %v", res, err)
	}
	if diff := cmp.Diff(want, inventoryOf(st.View())); diff != "" {
		t.Fatalf("after the forced sync (-want +got):\n%s", diff)
	}
	if d := mustStatus(t, s).Drift; len(d) != 0 {
		t.Errorf("drift after the forced sync: %+v", d)
	}
	events.take()

	t.Log("a commit with a bad stanza line is refused whole")
	c3 := repo.commit("broken", map[string]string{
		"cluster/net/prov.yaml": strings.Replace(netV1, "arch: x86_64", "arch: ppc64le", 1), // a valid change in the same commit
		"cluster/nodes.stanza":  nodesBad,
	})
	_, err = s.Sync(ctx, false)
	if err == nil {
		t.Fatal("bad commit applied")
	}
	const wantErr = "cluster/nodes.stanza: line 7: invalid line"
	if !strings.Contains(err.Error(), wantErr) {
		t.Errorf("sync error %q, want it to contain %q", err, wantErr)
	}
	if diff := cmp.Diff(want, inventoryOf(st.View())); diff != "" {
		t.Fatalf("a refused commit changed the inventory (-want +got):\n%s", diff)
	}
	status = mustStatus(t, s)
	if status.Applied != c2 || status.Attempted != c3 || !strings.Contains(status.Error, wantErr) {
		t.Errorf("status after the bad commit: applied %s attempted %s error %q; want %s, %s, %q", status.Applied, status.Attempted, status.Error, c2, c3, wantErr)
	}
	if evs := events.take(); len(evs) != 1 || evs[0].Kind != "gitops-refused" || !strings.Contains(evs[0].Reason, wantErr) {
		t.Errorf("events after the bad commit: %+v", evs)
	}
	t.Log("the same error again is not a new event")
	if _, err := s.Sync(ctx, false); err == nil {
		t.Fatal("bad commit applied on retry")
	}
	if evs := events.take(); len(evs) != 0 {
		t.Errorf("repeated events: %+v", evs)
	}

	t.Log("fixing the line applies the next commit and clears the error")
	c4 := repo.commit("fixed", map[string]string{"cluster/nodes.stanza": strings.Replace(nodesBad, "this line is not an attribute", "groups=all", 1)})
	res, err = s.Sync(ctx, false)
	if err != nil || res.Commit != c4 || !res.Applied {
		t.Fatalf("sync of the fixed commit: %+v, %v", res, err)
	}
	want = []string{
		"node/cn1 groups=compute,all",
		"node/cn4 groups=all",
		"group/compute arch=ppc64le",
		"network/prov mask=255.255.0.0 net=198.18.0.0",
	}
	if diff := cmp.Diff(want, inventoryOf(st.View())); diff != "" {
		t.Fatalf("after the fixed commit (-want +got):\n%s", diff)
	}
	if status := mustStatus(t, s); status.Error != "" || status.Applied != c4 {
		t.Errorf("status after the fix: %+v", status)
	}
}

func mustStatus(t *testing.T, s *Syncer) Status {
	t.Helper()
	st, err := s.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.DriftError != "" {
		t.Fatalf("drift error: %s", st.DriftError)
	}
	return st
}

// TestRestart: a new Syncer on the same store (and a new, empty work
// directory) knows the applied commit and its drift.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t)
	c1 := repo.commit("initial", map[string]string{"nodes.stanza": nodesV1})
	dataDir := t.TempDir()
	st := openStore(t, dataDir)
	s, _ := newSyncer(t, st, repo.dir, Config{})
	if _, err := s.Sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = openStore(t, dataDir)
	for name, workDir := range map[string]string{"same clone": s.WorkDir, "new clone": filepath.Join(t.TempDir(), "clone")} {
		t.Run(name, func(t *testing.T) {
			s2, events := newSyncer(t, st, repo.dir, Config{WorkDir: workDir})
			if name == "same clone" {
				if got := mustStatus(t, s2); got.Applied != c1 || got.Branch != "main" || len(got.Drift) != 0 {
					t.Errorf("status after restart: %+v", got)
				}
			} else {
				got, err := s2.Status(ctx)
				if err != nil || got.Applied != c1 || !strings.Contains(got.DriftError, "no local clone yet") {
					t.Errorf("status with no clone: %+v, %v", got, err)
				}
			}
			res, err := s2.Sync(ctx, false)
			if err != nil || res.Applied || res.Commit != c1 {
				t.Errorf("sync after restart: %+v, %v; want commit %s known as applied", res, err, c1)
			}
			if got := mustStatus(t, s2); got.Applied != c1 || len(got.Drift) != 0 {
				t.Errorf("status after restart and sync: %+v", got)
			}
			if evs := events.take(); len(evs) != 0 {
				t.Errorf("events: %+v", evs)
			}
		})
	}
	t.Run("another path is applied", func(t *testing.T) {
		c2 := repo.commit("subdir", map[string]string{"sub/n.stanza": "cn7:\n    objtype=node\n    groups=all\n"})
		s3, _ := newSyncer(t, st, repo.dir, Config{Path: "sub/"})
		res, err := s3.Sync(ctx, false)
		if err != nil || !res.Applied || res.Commit != c2 {
			t.Fatalf("sync of another path: %+v, %v", res, err)
		}
		if got := inventoryOf(st.View()); !cmp.Equal(got, []string{"node/cn7 groups=all"}) {
			t.Errorf("inventory: %q", got)
		}
	})
}

// TestSecrets: secret:NAME values are resolved before planning and drift;
// a missing secret refuses the revision, naming file, object, attribute and
// secret.
func TestSecrets(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t)
	c1 := repo.commit("with a secret", map[string]string{"nodes.stanza": "cn1:\n    objtype=node\n    groups=all\n    bmcpassword=secret:ipmi-admin\n"})
	st := openStore(t, t.TempDir())
	secrets := fakeSecrets{"ipmi-admin": "s3cret"}
	s, events := newSyncer(t, st, "file://"+repo.dir, Config{})
	s.Secrets = secrets
	if _, err := s.Sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if o, ok := st.Get(inventory.Node, "cn1"); !ok || o.Get("bmcpassword") != "s3cret" {
		t.Fatalf("cn1 = %+v, want bmcpassword resolved", o)
	}
	if d := mustStatus(t, s).Drift; len(d) != 0 {
		t.Errorf("drift with resolved secrets: %+v", d)
	}
	t.Log("a rotated secret is drift until a forced sync")
	secrets["ipmi-admin"] = "n3w"
	want := []DriftItem{{Kind: "node", Name: "cn1", Change: DriftModified, Attrs: []string{"bmcpassword"}}}
	if diff := cmp.Diff(want, mustStatus(t, s).Drift); diff != "" {
		t.Errorf("drift after rotation (-want +got):\n%s", diff)
	}
	if _, err := s.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if o, _ := st.Get(inventory.Node, "cn1"); o.Get("bmcpassword") != "n3w" {
		t.Errorf("bmcpassword %q after forced sync", o.Get("bmcpassword"))
	}
	events.take()

	t.Log("a missing secret refuses the revision")
	c2 := repo.commit("missing secret", map[string]string{
		"nodes.stanza": "cn1:\n    objtype=node\n    groups=all\n    bmcpassword=secret:ipmi-admin\n\ncn2:\n    objtype=node\n    bmcpassword=secret:nope\n",
	})
	_, err := s.Sync(ctx, false)
	var se *SecretError
	if !errors.As(err, &se) {
		t.Fatalf("sync error %v, want a *SecretError", err)
	}
	const wantErr = `nodes.stanza: node cn2: attribute bmcpassword refers to secret "nope", which does not exist`
	if !strings.Contains(err.Error(), wantErr) {
		t.Errorf("error %q, want %q", err, wantErr)
	}
	if _, ok := st.Get(inventory.Node, "cn2"); ok {
		t.Error("cn2 created from a refused revision")
	}
	status := mustStatus(t, s)
	if status.Applied != c1 || status.Attempted != c2 || !strings.Contains(status.Error, wantErr) {
		t.Errorf("status: %+v", status)
	}
	if evs := events.take(); len(evs) != 1 || strings.Contains(evs[0].Reason, "n3w") {
		t.Errorf("events: %+v", evs)
	}
	t.Log("setting the secret lets the next ordinary sync apply the revision")
	secrets["nope"] = "x"
	if res, err := s.Sync(ctx, false); err != nil || !res.Applied || res.Commit != c2 {
		t.Fatalf("sync after setting the secret: %+v, %v", res, err)
	}

	t.Log("without a Secrets, references are an error")
	s.Secrets = nil
	if _, err := s.Sync(ctx, true); !errors.As(err, &se) || !strings.Contains(err.Error(), "secrets are not available") {
		t.Errorf("sync without Secrets: %v", err)
	}
}

// TestRefused: revisions that are refused whole, each with its reason.
func TestRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		files map[string]string
		cfg   Config
		want  string
	}{
		{"unknown attribute", map[string]string{"a.stanza": "cn5:\n    objtype=node\n    colour=blue\n"}, Config{}, "a.stanza:1: 'colour' is not a valid attribute name"},
		{"yaml error", map[string]string{"d/x.yaml": "apiVersion: drover.dev/v1\nkind: Node\nmetadata: {name: cn5}\nspec: [\n"}, Config{}, "d/x.yaml:"},
		{"defined twice", map[string]string{"a.stanza": "cn1:\n    objtype=node\n", "b/c.stanza": "cn1:\n    objtype=node\n"}, Config{}, `b/c.stanza: node "cn1" is also defined in a.stanza`},
		{"kind not owned", map[string]string{"a.stanza": "p1:\n    objtype=policy\n    rule=allow\n"}, Config{}, "policy"},
		{"site not owned by default", map[string]string{"a.stanza": "clustersite:\n    objtype=site\n    domain=x\n"}, Config{}, "kind not managed by GitOps"},
		{"no definitions", map[string]string{"nodes.stanza": "", "README.md": "x"}, Config{}, "no *.yaml, *.yml or *.stanza files under the repository root"},
		{"missing path", map[string]string{}, Config{Path: "nowhere"}, "path nowhere"},
		{"missing branch", map[string]string{}, Config{Branch: "prod"}, "prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := newRepo(t)
			repo.commit("good", map[string]string{"nodes.stanza": nodesV1})
			st := openStore(t, t.TempDir())
			s, _ := newSyncer(t, st, repo.dir, Config{})
			if _, err := s.Sync(ctx, false); err != nil {
				t.Fatal(err)
			}
			before := inventoryOf(st.View())
			repo.commit("bad", tc.files)
			s.Path, s.Branch = tc.cfg.Path, tc.cfg.Branch
			_, err := s.Sync(ctx, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("sync error %v, want one containing %q", err, tc.want)
			}
			t.Logf("refused: %v", err)
			if diff := cmp.Diff(before, inventoryOf(st.View())); diff != "" {
				t.Errorf("inventory changed (-before +after):\n%s", diff)
			}
			if got := mustStatus(t, s).Error; got != err.Error() {
				t.Errorf("status error %q, want %q", got, err)
			}
		})
	}
}

// TestSiteOwnedWhenAsked: with site among the kinds the site object is
// applied (never pruned).
func TestSiteOwnedWhenAsked(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t)
	repo.commit("site", map[string]string{"site.stanza": "clustersite:\n    objtype=site\n    domain=cluster.test\n"})
	st := openStore(t, t.TempDir())
	s, _ := newSyncer(t, st, repo.dir, Config{Kinds: []inventory.Type{inventory.Site, inventory.Node}})
	if _, err := s.Sync(ctx, false); err != nil {
		t.Fatal(err)
	}
	if o, ok := st.Get(inventory.Site, inventory.SiteName); !ok || o.Get("domain") != "cluster.test" {
		t.Errorf("site = %+v", o)
	}
}

// TestFollowsBranchAndForcePush: a named branch is followed, a force-push
// is followed, and local edits to the clone directory are not trusted.
func TestFollowsBranchAndForcePush(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t)
	repo.commit("main", map[string]string{"nodes.stanza": nodesV1})
	repo.git("checkout", "-q", "-b", "prod")
	p1 := repo.commit("prod 1", map[string]string{"nodes.stanza": nodesV2})
	repo.git("checkout", "-q", "main")
	st := openStore(t, t.TempDir())
	s, _ := newSyncer(t, st, "file://"+repo.dir, Config{Branch: "prod"})
	if res, err := s.Sync(ctx, false); err != nil || res.Commit != p1 || res.Branch != "prod" {
		t.Fatalf("sync of prod: %+v, %v", res, err)
	}
	// Rewrite prod's history to main's tree plus a new node.
	repo.git("branch", "-f", "prod", "main")
	repo.git("checkout", "-q", "prod")
	p2 := repo.commit("prod rewritten", map[string]string{"extra.stanza": "cn8:\n    objtype=node\n"})
	if res, err := s.Sync(ctx, false); err != nil || res.Commit != p2 || !res.Applied {
		t.Fatalf("sync after force-push: %+v, %v", res, err)
	}
	if got := len(st.View().List(inventory.Node)); got != 4 {
		t.Errorf("%d nodes after force-push, want 4 (cn1, cn2, cn3, cn8)", got)
	}
	// A file dropped into the clone directory changes nothing.
	if err := os.WriteFile(filepath.Join(s.WorkDir, "evil.stanza"), []byte("x1:\n    objtype=node\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sync(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Get(inventory.Node, "x1"); ok {
		t.Error("a file in the clone directory was applied")
	}
}

// TestConcurrentSync: concurrent syncs are serialised (one applies, the
// others find the commit applied).
func TestConcurrentSync(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t)
	repo.commit("initial", map[string]string{"nodes.stanza": nodesV1})
	st := openStore(t, t.TempDir())
	s, events := newSyncer(t, st, repo.dir, Config{})
	var wg sync.WaitGroup
	errs := make([]error, 4)
	applied := make([]bool, 4)
	for i := range errs {
		wg.Go(func() {
			res, err := s.Sync(ctx, false)
			errs[i], applied[i] = err, res.Applied
		})
	}
	wg.Wait()
	n := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("sync %d: %v", i, err)
		}
		if applied[i] {
			n++
		}
	}
	if n != 1 || len(events.take()) != 1 {
		t.Errorf("%d syncs applied the commit, want 1", n)
	}
}

// TestServe: Serve syncs at start and returns when its context ends.
func TestServe(t *testing.T) {
	repo := newRepo(t)
	c1 := repo.commit("initial", map[string]string{"nodes.stanza": nodesV1})
	st := openStore(t, t.TempDir())
	s, _ := newSyncer(t, st, repo.dir, Config{})
	applied := make(chan struct{})
	s.Events = func(kind, _, _ string) {
		if kind == "gitops-applied" {
			close(applied)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Serve(ctx) }()
	<-applied
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Serve returned %v", err)
	}
	if got := mustStatus(t, s); got.Applied != c1 {
		t.Errorf("status: %+v", got)
	}
}

// TestAuth: the credentials each kind of URL gets, and the refusals.
func TestAuth(t *testing.T) {
	key, hostKey := testKey(t)
	for _, tc := range []struct {
		name    string
		cfg     Config
		want    string // the auth method's Name(), "" for none
		wantErr string
	}{
		{"https anonymous", Config{Repo: "https://git.example.test/c.git"}, "", ""},
		{"https token", Config{Repo: "https://git.example.test/c.git", Token: "t"}, "http-basic-auth", ""},
		{"http token refused", Config{Repo: "http://git.example.test/c.git", Token: "t"}, "", "plain http"},
		{"ssh without key", Config{Repo: "git@git.example.test:c.git"}, "", "deploy key"},
		{"ssh without known hosts", Config{Repo: "ssh://git@git.example.test/c.git", SSHKey: key}, "", ErrNoKnownHosts.Error()},
		{"ssh insecure", Config{Repo: "git@git.example.test:c.git", SSHKey: key, InsecureIgnoreHostKey: true}, "ssh-public-keys", ""},
		{"ssh known hosts", Config{Repo: "ssh://git@git.example.test:2222/c.git", SSHKey: key,
			SSHKnownHosts: []byte("[git.example.test]:2222 " + hostKey + "\n")}, "ssh-public-keys", ""},
		{"ssh bad key", Config{Repo: "git@git.example.test:c.git", SSHKey: []byte("nope"), InsecureIgnoreHostKey: true}, "", "deploy key"},
		{"file", Config{Repo: "file:///srv/c.git"}, "", ""},
		{"path", Config{Repo: "/srv/c.git"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Syncer{Config: tc.cfg}
			a, err := s.auth()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if a != nil {
				got = a.Name()
			}
			if got != tc.want {
				t.Errorf("auth %q, want %q", got, tc.want)
			}
		})
	}
}

// testKey returns a new ed25519 private key in PEM and its public key in
// authorized_keys form.
func testKey(t *testing.T) ([]byte, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
}

// TestHTTPSToken: an https repository served by git's own http-backend
// (on loopback, a test CA passed as CABundle) behind basic auth, reached
// with the token.
func TestHTTPSToken(t *testing.T) {
	repo := newRepo(t)
	c1 := repo.commit("initial", map[string]string{"nodes.stanza": nodesV1})
	const token = "glpat-test-token"
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: gitBin, Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + filepath.Dir(repo.dir), "GIT_HTTP_EXPORT_ALL=1", "HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1"},
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "x-access-token" || p != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-certificate case's handshake error
	srv.StartTLS()
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	url := srv.URL + "/" + filepath.Base(repo.dir) + "/.git"
	st := openStore(t, t.TempDir())
	ctx := context.Background()

	for _, tc := range []struct {
		name, token string
		ca          []byte
		wantErr     string
	}{
		{"untrusted certificate", token, nil, "certificate"},
		{"no token", "", ca, "authentication required"},
		{"wrong token", "nope", ca, "authentication"},
		{"token", token, ca, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newSyncer(t, st, url, Config{Token: tc.token, CABundle: tc.ca})
			res, err := s.Sync(ctx, false)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), token) {
					t.Errorf("error shows the token: %v", err)
				}
				return
			}
			if err != nil || res.Commit != c1 || res.Branch != "main" || !res.Applied {
				t.Fatalf("sync: %+v, %v", res, err)
			}
			if n := len(st.View().List(inventory.Node)); n != 3 {
				t.Errorf("%d nodes, want 3", n)
			}
		})
	}
}

// TestSSHDeployKey: an ssh repository served on loopback by a small
// x/crypto/ssh server running git upload-pack, reached with a deploy key
// and checked against known hosts.
func TestSSHDeployKey(t *testing.T) {
	repo := newRepo(t)
	c1 := repo.commit("initial", map[string]string{"nodes.stanza": nodesV1})
	deployKey, deployPub := testKey(t)
	otherKey, otherPub := testKey(t) // another key pair: a wrong deploy key and a wrong host key
	addr, sshHostPub := sshGitServer(t, deployPub, repo.env)
	host, port, _ := net.SplitHostPort(addr)
	url := "ssh://git@" + addr + repo.dir + "/.git"
	hostLine := func(pub string) []byte { return []byte("[" + host + "]:" + port + " " + pub + "\n") }
	st := openStore(t, t.TempDir())
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		key        []byte
		knownHosts []byte
		insecure   bool
		wantErr    string
	}{
		{"unknown host key", deployKey, hostLine(otherPub), false, "key mismatch"},
		{"wrong deploy key", otherKey, hostLine(sshHostPub), false, "unable to authenticate"},
		{"insecure host key", deployKey, nil, true, ""},
		{"known host", deployKey, hostLine(sshHostPub), false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newSyncer(t, st, url, Config{SSHKey: tc.key, SSHKnownHosts: tc.knownHosts, InsecureIgnoreHostKey: tc.insecure})
			res, err := s.Sync(ctx, true)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || res.Commit != c1 || res.Branch != "main" || !res.Applied {
				t.Fatalf("sync: %+v, %v", res, err)
			}
			if n := len(st.View().List(inventory.Node)); n != 3 {
				t.Errorf("%d nodes, want 3", n)
			}
		})
	}
}

// sshGitServer serves "git-upload-pack 'PATH'" over ssh on loopback to the
// user git with the public key authorized; it returns host:port and its
// public host key.
func sshGitServer(t *testing.T, authorized string, env []string) (string, string) {
	t.Helper()
	authKey, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorized))
	if err != nil {
		t.Fatal(err)
	}
	hostPEM, hostPub := testKey(t)
	signer, err := ssh.ParsePrivateKey(hostPEM)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if c.User() == "git" && bytes.Equal(k.Marshal(), authKey.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("denied")
	}}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serveSSH(conn, cfg, env) })
		}
	})
	return ln.Addr().String(), hostPub
}

func serveSSH(conn net.Conn, cfg *ssh.ServerConfig, env []string) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			defer ch.Close()
			for req := range creqs {
				var execReq struct{ Cmd string }
				if req.Type != "exec" || ssh.Unmarshal(req.Payload, &execReq) != nil {
					req.Reply(false, nil)
					continue
				}
				path, ok := strings.CutPrefix(execReq.Cmd, "git-upload-pack ")
				if !ok {
					req.Reply(false, nil)
					continue
				}
				req.Reply(true, nil)
				code := runUploadPack(ch, strings.Trim(path, "'"), env)
				ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Code uint32 }{code}))
				return
			}
		}()
	}
}

func runUploadPack(ch ssh.Channel, path string, env []string) uint32 {
	cmd := exec.Command("git", "upload-pack", path)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, ch, ch.Stderr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 1
	}
	if err := cmd.Start(); err != nil {
		return 1
	}
	go func() { io.Copy(stdin, ch); stdin.Close() }()
	if err := cmd.Wait(); err != nil {
		return 1
	}
	return 0
}

// The store satisfies both interfaces the syncer declares.
var (
	_ Store   = (*store.Store)(nil)
	_ Secrets = (*store.Store)(nil)
)
