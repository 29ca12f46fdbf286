package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/apiserver"
	"drover.dev/drover/internal/gitops"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/store"
)

// GitOpsConfig is `drover serve --gitops-*`: the repository drover follows.
type GitOpsConfig struct {
	Repo          string        // empty: GitOps off
	Branch        string        // default: the remote HEAD
	Path          string        // subdirectory with manifests and stanza files
	Interval      time.Duration // polling; 0: at start and on POST /v1/gitops/sync only
	TokenFile     string        // https token
	TokenUser     string        // basic-auth user sent with the token
	SSHKeyFile    string        // ssh deploy key
	KnownHosts    string        // ssh known_hosts file
	InsecureHosts bool          // accept any ssh host key
	CAFile        string        // PEM CA for https
	Kinds         []string      // owned kinds; default gitops.DefaultKinds
}

// gitopsEventNode is the pseudo node GitOps events are recorded under:
// `drover events @gitops` (no node name starts with @).
const gitopsEventNode = "@gitops"

func newSyncer(cfg GitOpsConfig, dataDir string, st *store.Store) (*gitops.Syncer, error) {
	c := gitops.Config{Repo: cfg.Repo, Branch: cfg.Branch, Path: cfg.Path, Interval: cfg.Interval,
		TokenUser: cfg.TokenUser, InsecureIgnoreHostKey: cfg.InsecureHosts, WorkDir: filepath.Join(dataDir, "gitops", "repo")}
	read := func(name, file string) ([]byte, error) {
		if file == "" {
			return nil, nil
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--gitops-%s: %w", name, err)
		}
		return b, nil
	}
	tok, err := read("token-file", cfg.TokenFile)
	if err != nil {
		return nil, err
	}
	c.Token = strings.TrimSpace(string(tok))
	if c.SSHKey, err = read("ssh-key", cfg.SSHKeyFile); err != nil {
		return nil, err
	}
	if c.SSHKnownHosts, err = read("known-hosts", cfg.KnownHosts); err != nil {
		return nil, err
	}
	if c.CABundle, err = read("ca", cfg.CAFile); err != nil {
		return nil, err
	}
	for _, k := range cfg.Kinds {
		t, err := inventory.ParseType(strings.TrimSpace(k))
		if err != nil {
			return nil, fmt.Errorf("--gitops-kinds: %w", err)
		}
		c.Kinds = append(c.Kinds, t)
	}
	s := &gitops.Syncer{Config: c, Store: st, Secrets: st}
	s.Events = func(kind, detail, reason string) {
		_ = st.AddBootEvents(context.Background(), []store.BootEvent{{Node: gitopsEventNode, Kind: kind, Detail: detail, Reason: reason}})
	}
	return s, nil
}

// gitopsAPI adapts the syncer to the API's types.
type gitopsAPI struct{ s *gitops.Syncer }

func (g gitopsAPI) Status(ctx context.Context) (api.GitOpsStatus, error) {
	st, err := g.s.Status(ctx)
	if err != nil {
		return api.GitOpsStatus{}, err
	}
	out := api.GitOpsStatus{Repo: st.Repo, Branch: st.Branch, Path: st.Path, Applied: st.Applied, AppliedAt: st.AppliedAt,
		Attempted: st.Attempted, AttemptedAt: st.AttemptedAt, Error: st.Error, DriftError: st.DriftError}
	for _, d := range st.Drift {
		out.Drift = append(out.Drift, api.GitOpsDrift{Kind: d.Kind, Name: d.Name, Change: d.Change, Attrs: d.Attrs})
	}
	return out, nil
}

func (g gitopsAPI) Sync(ctx context.Context, force bool) (api.GitOpsSyncResult, error) {
	res, err := g.s.Sync(ctx, force)
	if err != nil {
		if errors.Is(err, gitops.ErrRefused) {
			return api.GitOpsSyncResult{}, fmt.Errorf("%w: %w", apiserver.ErrGitOpsRefused, err)
		}
		return api.GitOpsSyncResult{}, err
	}
	out := api.GitOpsSyncResult{Commit: res.Commit, Branch: res.Branch, Applied: res.Applied}
	for _, c := range res.Changes {
		out.Changes = append(out.Changes, api.GitOpsChange{Op: c.Op, Kind: c.Kind, Name: c.Name, Attrs: c.Attrs})
	}
	return out, nil
}
