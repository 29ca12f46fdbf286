package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"drover.dev/drover/internal/daemon"
)

// gitRepo is a Git repository on disk the test commits to with the git CLI.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("skipping the GitOps test: git not found (Debian package git; .ci/run installs it)")
	}
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (r *gitRepo) commit(msg string, files map[string]string) {
	r.t.Helper()
	for name, body := range files {
		p := filepath.Join(r.dir, name)
		if body == "" {
			r.git("rm", "-q", name)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			r.t.Fatal(err)
		}
		r.git("add", name)
	}
	r.git("commit", "-q", "-m", msg)
}

// TestGitOps is issue 6's acceptance 3 through the whole stack (server,
// API, CLI): a repository made with the git CLI is followed; a new commit
// changes and prunes; a CLI edit is drift; a bad stanza line is refused
// whole with file and line, and the previous objects stay.
func TestGitOps(t *testing.T) {
	repo := newGitRepo(t)
	repo.commit("initial", map[string]string{
		"cluster/groups.yaml": "apiVersion: drover.dev/v1\nkind: Group\nmetadata: {name: compute}\nspec:\n  mgt: ipmi\n  bmcpassword: secret:ipmi\n",
		"cluster/nodes.stanza": "cn1:\n    objtype=node\n    groups=compute,all\n    ip=198.18.0.11\n\n" +
			"cn2:\n    objtype=node\n    groups=compute,all\n    ip=198.18.0.12\n",
		"README.md": "not a definition\n",
	})
	s := startServerWith(t, daemon.Config{GitOps: daemon.GitOpsConfig{Repo: "file://" + repo.dir, Path: "cluster"}})
	mustRun := func(want int, stdin string, args ...string) result {
		t.Helper()
		r := s.run(t, stdin, map[string]string{"DROVER_SHOW_SECRETS": "1"}, append([]string{"drover"}, args...)...)
		if r.code != want {
			t.Fatalf("drover %s: rc %d, want %d\n%s%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
		}
		return r
	}
	// The server's own sync at start runs concurrently: wait until it has
	// tried, so it cannot apply the commit behind the test's back below.
	deadline := time.Now().Add(30 * time.Second)
	for strings.Contains(s.run(t, "", nil, "drover", "gitops", "status").stdout, "Attempted:  - (never)") {
		if time.Now().After(deadline) {
			t.Fatal("the server's start-up sync did not run within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The first sync is refused: the secret does not exist yet.
	mustRun(1, "", "gitops", "sync")
	r := mustRun(1, "", "gitops", "status")
	if !strings.Contains(r.stdout, `secret "ipmi"`) {
		t.Errorf("status before the secret:\n%s", r.stdout)
	}
	mustRun(0, "ipmi-pw\n", "secret", "set", "ipmi")
	r = mustRun(0, "", "gitops", "sync")
	if !strings.Contains(r.stdout, "create node/cn1") || !strings.Contains(r.stdout, "create group/compute") {
		t.Errorf("initial sync:\n%s", r.stdout)
	}
	if r := mustRun(0, "", "lsdef", "-t", "group", "compute", "-i", "bmcpassword"); !strings.Contains(r.stdout, "bmcpassword=ipmi-pw") {
		t.Errorf("secret:ipmi not resolved:\n%s", r.stdout)
	}
	mustRun(0, "", "gitops", "status")

	// A new commit changes cn1 and removes cn2: pruned.
	repo.commit("change", map[string]string{
		"cluster/nodes.stanza": "cn1:\n    objtype=node\n    groups=compute,all\n    ip=198.18.0.21\n",
	})
	r = mustRun(0, "", "gitops", "sync")
	if !strings.Contains(r.stdout, "put node/cn1 (ip)") || !strings.Contains(r.stdout, "delete node/cn2") {
		t.Errorf("second sync:\n%s", r.stdout)
	}
	mustRun(1, "", "lsdef", "cn2")

	// A CLI edit is drift; an ordinary sync keeps it, --force reverts it.
	mustRun(0, "", "chdef", "cn1", "ip=198.18.0.99")
	r = mustRun(1, "", "gitops", "status")
	if !strings.Contains(r.stdout, "node/cn1: modified (ip)") {
		t.Errorf("drift:\n%s", r.stdout)
	}
	mustRun(0, "", "gitops", "sync")
	if r := mustRun(0, "", "lsdef", "cn1", "-i", "ip"); !strings.Contains(r.stdout, "ip=198.18.0.99") {
		t.Errorf("an ordinary sync reverted drift:\n%s", r.stdout)
	}
	mustRun(0, "", "gitops", "sync", "--force")
	if r := mustRun(0, "", "lsdef", "cn1", "-i", "ip"); !strings.Contains(r.stdout, "ip=198.18.0.21") {
		t.Errorf("--force did not revert drift:\n%s", r.stdout)
	}

	// A bad stanza line: the whole commit is refused, with file and line.
	repo.commit("bad", map[string]string{
		"cluster/nodes.stanza": "cn1:\n    objtype=node\n    groups=compute,all\n    ip=198.18.0.31\n" +
			"cn3:\n    objtype=node\n    this line is bad\n",
	})
	r = mustRun(1, "", "gitops", "sync")
	if !strings.Contains(r.stderr, "cluster/nodes.stanza") || !strings.Contains(r.stderr, "line 7") {
		t.Errorf("bad commit: %s", r.stderr)
	}
	r = mustRun(1, "", "gitops", "status")
	if !strings.Contains(r.stdout, "Error:") || !strings.Contains(r.stdout, "cluster/nodes.stanza") {
		t.Errorf("status after the bad commit:\n%s", r.stdout)
	}
	if r := mustRun(0, "", "lsdef", "cn1", "-i", "ip"); !strings.Contains(r.stdout, "ip=198.18.0.21") {
		t.Errorf("the refused commit changed cn1:\n%s", r.stdout)
	}
	mustRun(1, "", "lsdef", "cn3")
	if r := mustRun(0, "", "events", "@gitops"); !strings.Contains(r.stdout, "gitops-refused") {
		t.Errorf("no refusal event:\n%s", r.stdout)
	}
}
