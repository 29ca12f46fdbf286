// Package gitops keeps drover's inventory in step with a Git repository: a
// Syncer fetches a branch (https with a token, ssh with a deploy key, or a
// local repository), reads the manifests (*.yaml, *.yml) and stanza files
// (*.stanza) under a path of the branch's commit, and applies the whole
// revision in one transaction with the semantics of `drover apply --prune`
// over the kinds GitOps owns. It records the applied commit in the store and
// reports drift: the changes a re-sync of the applied commit would make.
//
// Semantics:
//
//   - A revision is applied whole or not at all. If any file fails to parse
//     or validate, an object is defined twice, an object has a kind GitOps
//     does not own, or a secret:NAME reference cannot be resolved, nothing
//     is written: the previous objects stay, Status.Error holds the error
//     (file paths relative to the repository root, with the line where the
//     parser knows it) and an event is emitted. The revision is tried again
//     on every later sync (a missing secret may be set meanwhile), but the
//     event is only repeated when the error changes.
//   - A commit that has been applied is not applied again by an ordinary
//     sync: changes made through the CLI or API since then remain and are
//     reported as drift (Status.Drift). Sync with force re-applies the
//     commit and so reverts the drift. A new commit is applied whole, which
//     also reverts drift on every object it covers and deletes objects of
//     the owned kinds added outside Git.
//   - Objects of the owned kinds (Config.Kinds) that the revision does not
//     define are deleted (prune). The site object is never pruned. A
//     revision defining an object of a kind GitOps does not own is refused.
//   - A revision with no definition files at all under the path is refused,
//     so that a wrong path or branch never prunes the whole inventory. (An
//     empty definition file that defines nothing is accepted.)
//   - Attribute values "secret:NAME" are replaced by the named secret's
//     value (Syncer.Secrets) before planning, for sync and for drift alike,
//     so the repository never holds secret values.
//   - The clone in WorkDir is a bare repository: commits are read from its
//     object store by hash, never from a work tree, so files edited in
//     WorkDir are never trusted. Each fetch force-updates the remote
//     tracking branch (a force-push upstream is followed).
//
// Transports: https:// (and http:// without a token) with Config.Token sent
// as HTTP basic auth (user Config.TokenUser, default "x-access-token", which
// GitHub, GitLab personal/project tokens, Gitea and Forgejo accept; GitLab
// OAuth tokens need TokenUser "oauth2", Bitbucket "x-token-auth"); ssh://
// and scp-style user@host:path with Config.SSHKey (a PEM private key; the
// user defaults to "git") checked against Config.SSHKnownHosts, or against
// nothing when InsecureIgnoreHostKey is set (without either the sync is
// refused); file:// URLs and local paths, which go-git serves by running
// git-upload-pack, so the git command must be installed for them.
package gitops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"drover.dev/drover/internal/inventory"
)

// StateKey is the Store metadata key holding the sync state (JSON).
const StateKey = "gitops.state"

// Store is what the syncer needs from the inventory store (*store.Store
// satisfies it).
type Store interface {
	View() inventory.View
	Apply(ctx context.Context, changes []inventory.Change) error
	Meta(ctx context.Context, key string) (string, bool, error)
	SetMeta(ctx context.Context, key, value string) error
}

// Secrets resolves secret:NAME references (*store.Store satisfies it).
type Secrets interface {
	Secret(ctx context.Context, name string) (string, bool, error)
}

// DefaultKinds are the kinds GitOps owns when Config.Kinds is empty.
func DefaultKinds() []inventory.Type {
	return []inventory.Type{inventory.Node, inventory.Group, inventory.OSImage, inventory.Network, inventory.BootTarget}
}

// Config says which repository to follow and how.
type Config struct {
	// Repo is https://..., http://..., ssh://[user@]host[:port]/path,
	// user@host:path, file:///path or /path.
	Repo string
	// Branch to follow; empty: the remote's HEAD (its default branch).
	Branch string
	// Path is the directory, relative to the repository root, holding the
	// definition files (searched recursively, directories starting with
	// "." skipped); empty: the root.
	Path string
	// Interval between polls in Serve; 0: Serve syncs once at start and
	// then only on explicit Sync calls (webhook, CLI).
	Interval time.Duration
	// Token for https: sent as the password of HTTP basic auth.
	Token string
	// TokenUser is the basic-auth user name sent with Token; empty:
	// "x-access-token".
	TokenUser string
	// CABundle holds PEM certificates trusted for https besides the
	// system's (a private Git server's CA).
	CABundle []byte
	// SSHKey is a PEM private key (deploy key) for ssh repositories.
	SSHKey []byte
	// SSHKnownHosts holds known_hosts lines for the ssh server.
	SSHKnownHosts []byte
	// InsecureIgnoreHostKey accepts any ssh host key when SSHKnownHosts
	// is empty. Without either, ssh syncs are refused.
	InsecureIgnoreHostKey bool
	// Kinds are the kinds GitOps owns: pruned when absent from the
	// repository. Empty: DefaultKinds (never site unless listed).
	Kinds []inventory.Type
	// WorkDir is the directory of the local (bare) clone.
	WorkDir string
}

// Syncer follows one repository. Set the fields, then call Serve, Sync and
// Status from any goroutine; syncs are serialised. Do not copy a Syncer
// after first use.
type Syncer struct {
	Config
	Store   Store
	Secrets Secrets // nil: secret:NAME references are an error
	Log     *slog.Logger
	// Events, if set, receives an event for each applied revision and
	// each refused one (kind "gitops-applied"; "gitops-refused" for a
	// revision that fails to load, validate or resolve its secrets;
	// "gitops-failed" for fetch or store errors; detail a summary, reason
	// the error). A failure is reported again only when its message
	// changes.
	Events func(kind, detail, reason string)
	Schema *inventory.Schema // nil: inventory.DefaultSchema()

	mu sync.Mutex // serialises Sync

	cacheMu sync.Mutex
	cache   *revision // the last revision loaded
}

// Change is one change a sync made (or a re-sync would make), without
// attribute values (which may be secrets).
type Change struct {
	Op    string   `json:"op"` // "create", "put" or "delete"
	Kind  string   `json:"kind"`
	Name  string   `json:"name"`
	Attrs []string `json:"attrs,omitempty"` // attributes set, changed or removed
}

// Result is what one Sync did.
type Result struct {
	Commit string // the branch's commit
	Branch string
	// Applied is false when the commit was already applied and the sync
	// was not forced: nothing was written.
	Applied bool
	Changes []Change // the changes written, when Applied
}

// DriftItem is one object that differs from the applied commit.
type DriftItem struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Change is "modified", "added outside Git" or "deleted outside Git".
	Change string `json:"change"`
	// Attrs are the attribute names that differ (for "modified").
	Attrs []string `json:"attrs,omitempty"`
}

// The DriftItem.Change values.
const (
	DriftModified = "modified"
	DriftAdded    = "added outside Git"
	DriftDeleted  = "deleted outside Git"
)

// Status is the sync state with the current drift.
type Status struct {
	Repo, Branch, Path string
	Applied            string    // the last applied commit ("" for none)
	AppliedAt          time.Time // when it was applied
	Attempted          string    // the last commit fetched and tried
	AttemptedAt        time.Time // when the last sync ran
	Error              string    // the last sync's error ("" when it succeeded)
	Drift              []DriftItem
	// DriftError says why drift could not be computed ("" when it was).
	DriftError string
}

// state is what is persisted under StateKey.
type state struct {
	Repo        string    `json:"repo"`
	Branch      string    `json:"branch"`
	Path        string    `json:"path"`
	Applied     string    `json:"applied,omitempty"`
	AppliedAt   time.Time `json:"appliedAt,omitzero"`
	Attempted   string    `json:"attempted,omitempty"`
	AttemptedAt time.Time `json:"attemptedAt,omitzero"`
	Error       string    `json:"error,omitempty"`
}

func (s *Syncer) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Syncer) kinds() []inventory.Type {
	if len(s.Kinds) == 0 {
		return DefaultKinds()
	}
	return s.Kinds
}

func (s *Syncer) schema() *inventory.Schema {
	if s.Schema == nil {
		return inventory.DefaultSchema()
	}
	return s.Schema
}

// cleanPath is Config.Path without leading/trailing slashes or "." ("" for
// the root).
func (s *Syncer) cleanPath() string {
	p := strings.Trim(s.Path, "/")
	if p == "." {
		return ""
	}
	return p
}

func (s *Syncer) event(kind, detail, reason string) {
	if s.Events != nil {
		s.Events(kind, detail, reason)
	}
}

func (s *Syncer) loadState(ctx context.Context) (state, error) {
	var st state
	v, ok, err := s.Store.Meta(ctx, StateKey)
	if err != nil {
		return st, fmt.Errorf("reading gitops state: %w", err)
	}
	if !ok || v == "" {
		return st, nil
	}
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		return state{}, fmt.Errorf("reading gitops state: %w", err)
	}
	return st, nil
}

func (s *Syncer) saveState(ctx context.Context, st state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.Store.SetMeta(ctx, StateKey, string(b)); err != nil {
		return fmt.Errorf("recording gitops state: %w", err)
	}
	return nil
}

// Serve syncs once at start and then every Interval (only at start when
// Interval is 0) until ctx ends. Sync errors are logged and recorded in
// Status; Serve returns only ctx's error.
func (s *Syncer) Serve(ctx context.Context) error {
	s.syncLogged(ctx)
	if s.Interval <= 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			s.syncLogged(ctx)
		}
	}
}

func (s *Syncer) syncLogged(ctx context.Context) {
	res, err := s.Sync(ctx, false)
	switch {
	case err != nil && ctx.Err() != nil:
	case err != nil:
		s.log().Warn("gitops sync failed", "repo", redact(s.Repo), "err", err)
	case res.Applied:
		s.log().Info("gitops applied", "repo", redact(s.Repo), "branch", res.Branch, "commit", res.Commit, "changes", len(res.Changes))
	}
}

// Sync fetches the branch and, if its commit has not been applied yet (or
// force is set), loads it, resolves secrets, plans it against the current
// inventory with prune over the owned kinds and applies it in one
// transaction. The outcome is recorded in the store (see Status). A
// revision that fails is not applied at all; Sync returns its error.
func (s *Syncer) Sync(ctx context.Context, force bool) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.loadState(ctx)
	if err != nil {
		return Result{}, err
	}
	path := s.cleanPath()
	repoName := redact(s.Repo)
	if st.Repo != repoName || st.Path != path {
		// Another repository or path: its applied commit says nothing
		// about this one.
		st = state{Error: st.Error, AttemptedAt: st.AttemptedAt}
	}
	st.Repo, st.Path = repoName, path
	st.AttemptedAt = time.Now().UTC()

	fail := func(kind, detail string, err error) (Result, error) {
		if ctx.Err() != nil {
			return Result{}, err
		}
		if msg := err.Error(); msg != st.Error {
			s.event(kind, detail, msg)
		}
		st.Error = err.Error()
		if serr := s.saveState(context.WithoutCancel(ctx), st); serr != nil {
			s.log().Warn("gitops state not saved", "err", serr)
		}
		return Result{}, err
	}

	repo, branch, head, err := s.fetch(ctx)
	if err != nil {
		return fail("gitops-failed", "fetching "+repoName+" failed", err)
	}
	if branch != st.Branch {
		st.Applied, st.AppliedAt = "", time.Time{}
	}
	st.Branch = branch
	st.Attempted = head
	res := Result{Commit: head, Branch: branch}
	if head == st.Applied && !force {
		st.Error = ""
		return res, s.saveState(ctx, st)
	}

	rev, err := s.revision(repo, head, path)
	if err != nil {
		return fail("gitops-refused", "commit "+short(head)+" not applied", fmt.Errorf("%w: %w", ErrRefused, err))
	}
	desired, err := s.resolve(ctx, rev)
	if err != nil {
		return fail("gitops-refused", "commit "+short(head)+" not applied", fmt.Errorf("%w: %w", ErrRefused, err))
	}
	v := s.Store.View()
	changes := inventory.Plan(v, desired, true, s.kinds())
	res.Changes = describe(v, changes)
	if err := s.Store.Apply(ctx, changes); err != nil {
		return fail("gitops-failed", "commit "+short(head)+" not applied", fmt.Errorf("applying commit %s: %w", short(head), err))
	}
	res.Applied = true
	st.Applied, st.AppliedAt, st.Error = head, time.Now().UTC(), ""
	s.event("gitops-applied", fmt.Sprintf("commit %s of %s applied: %s", short(head), branch, summary(changes)), "")
	return res, s.saveState(context.WithoutCancel(ctx), st)
}

// ErrRefused is wrapped by Sync's error when the revision itself is
// refused (it does not load, validate or resolve): nothing was applied.
var ErrRefused = errors.New("revision refused")

// Status returns the recorded sync state and the current drift (computed
// from the applied commit in the local clone; no fetch).
func (s *Syncer) Status(ctx context.Context) (Status, error) {
	st, err := s.loadState(ctx)
	if err != nil {
		return Status{}, err
	}
	out := Status{
		Repo: redact(s.Repo), Branch: st.Branch, Path: s.cleanPath(),
		Applied: st.Applied, AppliedAt: st.AppliedAt,
		Attempted: st.Attempted, AttemptedAt: st.AttemptedAt,
		Error: st.Error,
	}
	if out.Branch == "" {
		out.Branch = s.Branch
	}
	if st.Applied == "" || st.Repo != out.Repo || st.Path != out.Path {
		return out, nil
	}
	drift, err := s.drift(ctx, st)
	if err != nil {
		out.DriftError = err.Error()
	}
	out.Drift = drift
	return out, nil
}

// drift is what a re-sync of the applied commit would change.
func (s *Syncer) drift(ctx context.Context, st state) ([]DriftItem, error) {
	repo, err := s.open()
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, errors.New("no local clone yet: drift is known after the next sync")
	}
	if err != nil {
		return nil, err
	}
	rev, err := s.revision(repo, st.Applied, st.Path)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("applied commit %s is not in the local clone: drift is known after the next sync", short(st.Applied))
	}
	if err != nil {
		return nil, fmt.Errorf("reading applied commit %s: %w", short(st.Applied), err)
	}
	desired, err := s.resolve(ctx, rev)
	if err != nil {
		return nil, err
	}
	v := s.Store.View()
	var items []DriftItem
	for _, c := range describe(v, inventory.Plan(v, desired, true, s.kinds())) {
		it := DriftItem{Kind: c.Kind, Name: c.Name}
		switch c.Op {
		case "create":
			it.Change = DriftDeleted
		case "delete":
			it.Change = DriftAdded
		default:
			it.Change, it.Attrs = DriftModified, c.Attrs
		}
		items = append(items, it)
	}
	return items, nil
}

// resolve replaces secret:NAME values and validates the result.
func (s *Syncer) resolve(ctx context.Context, rev *revision) ([]inventory.Object, error) {
	out := make([]inventory.Object, len(rev.objs))
	for i, so := range rev.objs {
		o := so.obj.Clone()
		var lookup func(string) (string, bool, error)
		if s.Secrets != nil {
			lookup = func(name string) (string, bool, error) { return s.Secrets.Secret(ctx, name) }
		}
		if err := inventory.ResolveSecretRefs(&o, lookup); err != nil {
			return nil, &SecretError{Source: so.source, Kind: o.Type, Object: o.Name, Err: err}
		}
		if err := inventory.Validate(s.schema(), &o); err != nil {
			return nil, fmt.Errorf("%s: %w", so.source, err)
		}
		out[i] = o
	}
	return out, nil
}

// SecretError is a secret:NAME reference that cannot be resolved.
type SecretError struct {
	Source string // file, relative to the repository root
	Kind   inventory.Type
	Object string
	Err    error // the *inventory.SecretRefError
}

func (e *SecretError) Error() string {
	return fmt.Sprintf("%s: %s %s: %v", e.Source, e.Kind, e.Object, e.Err)
}

// Unwrap returns the reference's error.
func (e *SecretError) Unwrap() error { return e.Err }

// describe lists changes with the names of the attributes they touch.
func describe(v inventory.View, changes []inventory.Change) []Change {
	diffs := inventory.DiffChanges(v, changes)
	out := make([]Change, len(diffs))
	for i, d := range diffs {
		c := Change{Op: d.Op.String(), Kind: string(d.Type), Name: d.Name}
		if d.Op != inventory.Delete {
			for _, a := range d.Attrs {
				c.Attrs = append(c.Attrs, a.Attr)
			}
		}
		out[i] = c
	}
	return out
}

func summary(changes []inventory.Change) string {
	var n [4]int
	for _, c := range changes {
		n[c.Op]++
	}
	if len(changes) == 0 {
		return "no changes"
	}
	var parts []string
	for _, p := range []struct {
		op   inventory.ChangeOp
		verb string
	}{{inventory.Create, "created"}, {inventory.Put, "changed"}, {inventory.Delete, "deleted"}} {
		if n[p.op] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[p.op], p.verb))
		}
	}
	return strings.Join(parts, ", ")
}

// redact hides a password in a repository URL (https://user:TOKEN@host/...).
func redact(repo string) string {
	u, err := url.Parse(repo)
	if err != nil || u.User == nil {
		return repo
	}
	if _, ok := u.User.Password(); !ok {
		return repo
	}
	return u.Redacted()
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// ErrNoDefinitions: the revision has no definition files under the path.
var ErrNoDefinitions = errors.New("no *.yaml, *.yml or *.stanza files")

// ErrKindNotOwned: the revision defines an object of a kind GitOps does not
// own.
var ErrKindNotOwned = errors.New("kind not managed by GitOps")

func kindNames(ts []inventory.Type) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = string(t)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
