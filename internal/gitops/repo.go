package gitops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"

	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/objfile"
)

const remoteName = "origin"

// ErrNoKnownHosts: an ssh repository without SSHKnownHosts or
// InsecureIgnoreHostKey.
var ErrNoKnownHosts = errors.New("ssh repository needs known hosts (or InsecureIgnoreHostKey)")

// open opens the local clone.
func (s *Syncer) open() (*git.Repository, error) {
	if s.WorkDir == "" {
		return nil, errors.New("gitops: no work directory")
	}
	repo, err := git.PlainOpen(s.WorkDir)
	if err != nil {
		return nil, fmt.Errorf("opening clone %s: %w", s.WorkDir, err)
	}
	return repo, nil
}

// fetch brings the local bare clone up to date with the branch and returns
// the branch name and its commit.
func (s *Syncer) fetch(ctx context.Context) (*git.Repository, string, string, error) {
	if s.Repo == "" {
		return nil, "", "", errors.New("gitops: no repository configured")
	}
	if s.WorkDir == "" {
		return nil, "", "", errors.New("gitops: no work directory")
	}
	auth, err := s.auth()
	if err != nil {
		return nil, "", "", err
	}
	repo, err := git.PlainOpen(s.WorkDir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		if err := os.MkdirAll(s.WorkDir, 0o700); err != nil {
			return nil, "", "", err
		}
		repo, err = git.PlainInit(s.WorkDir, true)
	}
	if err != nil {
		return nil, "", "", fmt.Errorf("opening clone %s: %w", s.WorkDir, err)
	}
	rem, err := repo.Remote(remoteName)
	if err == nil && !slices.Equal(rem.Config().URLs, []string{s.Repo}) {
		if err := repo.DeleteRemote(remoteName); err != nil {
			return nil, "", "", err
		}
		err = git.ErrRemoteNotFound
	}
	if errors.Is(err, git.ErrRemoteNotFound) {
		rem, err = repo.CreateRemote(&config.RemoteConfig{Name: remoteName, URLs: []string{s.Repo}})
	}
	if err != nil {
		return nil, "", "", fmt.Errorf("configuring remote: %w", err)
	}
	branch := s.Branch
	if branch == "" {
		if branch, err = defaultBranch(ctx, rem, auth, s.CABundle); err != nil {
			return nil, "", "", err
		}
	}
	if err := plumbing.NewBranchReferenceName(branch).Validate(); err != nil || strings.ContainsAny(branch, ":*") {
		return nil, "", "", fmt.Errorf("invalid branch name %q", branch)
	}
	spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:refs/remotes/%s/%s", branch, remoteName, branch))
	err = rem.FetchContext(ctx, &git.FetchOptions{
		CABundle:   s.CABundle,
		RemoteName: remoteName,
		RefSpecs:   []config.RefSpec{spec},
		Auth:       auth,
		Tags:       git.NoTags,
		Force:      true,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil, "", "", fmt.Errorf("fetching %s branch %s: %w", redact(s.Repo), branch, err)
	}
	ref, err := repo.Reference(plumbing.NewRemoteReferenceName(remoteName, branch), true)
	if err != nil {
		return nil, "", "", fmt.Errorf("branch %s: %w", branch, err)
	}
	return repo, branch, ref.Hash().String(), nil
}

// defaultBranch is the branch the remote's HEAD points at.
func defaultBranch(ctx context.Context, rem *git.Remote, auth transport.AuthMethod, caBundle []byte) (string, error) {
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: auth, CABundle: caBundle})
	if err != nil {
		return "", fmt.Errorf("listing %s: %w", redact(rem.Config().URLs[0]), err)
	}
	var head *plumbing.Reference
	for _, r := range refs {
		if r.Name() == plumbing.HEAD {
			head = r
		}
	}
	if head == nil {
		return "", errors.New("the remote has no HEAD: set the branch")
	}
	if head.Type() == plumbing.SymbolicReference && head.Target().IsBranch() {
		return head.Target().Short(), nil
	}
	var names []string
	for _, r := range refs {
		if r.Name().IsBranch() && r.Hash() == head.Hash() {
			names = append(names, r.Name().Short())
		}
	}
	if len(names) == 0 {
		return "", errors.New("cannot tell the remote's default branch: set the branch")
	}
	sort.Strings(names)
	return names[0], nil
}

// auth builds the transport credentials for Repo.
func (s *Syncer) auth() (transport.AuthMethod, error) {
	ep, err := transport.NewEndpoint(s.Repo)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", redact(s.Repo), err)
	}
	switch ep.Protocol {
	case "https", "http":
		if s.Token == "" {
			return nil, nil
		}
		if ep.Protocol == "http" {
			return nil, errors.New("refusing to send the token over plain http: use https")
		}
		user := s.TokenUser
		if user == "" {
			user = "x-access-token"
		}
		return &githttp.BasicAuth{Username: user, Password: s.Token}, nil
	case "ssh":
		if len(s.SSHKey) == 0 {
			return nil, errors.New("ssh repository needs a deploy key")
		}
		user := ep.User
		if user == "" {
			user = "git"
		}
		pk, err := gitssh.NewPublicKeys(user, s.SSHKey, "")
		if err != nil {
			return nil, fmt.Errorf("ssh deploy key: %w", err)
		}
		switch {
		case len(s.SSHKnownHosts) > 0:
			db, err := knownHosts(s.SSHKnownHosts)
			if err != nil {
				return nil, err
			}
			port := ep.Port
			if port == 0 {
				port = 22
			}
			pk.HostKeyCallback = db.HostKeyCallback()
			pk.HostKeyAlgorithms = db.HostKeyAlgorithms(net.JoinHostPort(ep.Host, strconv.Itoa(port)))
		case s.InsecureIgnoreHostKey:
			pk.HostKeyCallback = ssh.InsecureIgnoreHostKey()
		default:
			return nil, ErrNoKnownHosts
		}
		return pk, nil
	case "file":
		return nil, nil
	}
	return nil, fmt.Errorf("repository %q: unsupported protocol %q", redact(s.Repo), ep.Protocol)
}

// knownHostsDB is the part of go-git's known-hosts database used here.
type knownHostsDB interface {
	HostKeyCallback() ssh.HostKeyCallback
	HostKeyAlgorithms(hostWithPort string) []string
}

// knownHosts parses known_hosts lines (through a temporary file: the
// parsers read files; the file is read whole before it is removed).
func knownHosts(lines []byte) (knownHostsDB, error) {
	f, err := os.CreateTemp("", "drover-known-hosts-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(lines)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	db, err := gitssh.NewKnownHostsDb(f.Name())
	if err != nil {
		return nil, fmt.Errorf("ssh known hosts: %w", err)
	}
	return db, nil
}

// revision is the definitions of one commit under one path, secret
// references unresolved.
type revision struct {
	commit, path, kinds string // the cache key
	objs                []sourced
}

type sourced struct {
	obj    inventory.Object
	source string // file, relative to the repository root
}

// revision loads (or returns the cached) definitions of commit under p.
func (s *Syncer) revision(repo *git.Repository, commit, p string) (*revision, error) {
	s.cacheMu.Lock()
	c := s.cache
	s.cacheMu.Unlock()
	if c != nil && c.commit == commit && c.path == p && c.kinds == kindNames(s.kinds()) {
		return c, nil
	}
	rev, err := s.load(repo, commit, p)
	if err != nil {
		return nil, err
	}
	s.cacheMu.Lock()
	s.cache = rev
	s.cacheMu.Unlock()
	return rev, nil
}

// load reads every definition file under p in commit, in lexical order of
// their paths. Any error refuses the whole revision.
func (s *Syncer) load(repo *git.Repository, commit, p string) (*revision, error) {
	cm, err := repo.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", short(commit), err)
	}
	tree, err := cm.Tree()
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", short(commit), err)
	}
	where := "the repository root"
	if p != "" {
		where = p
		if tree, err = tree.Tree(p); err != nil {
			return nil, fmt.Errorf("commit %s: path %s: %w", short(commit), p, err)
		}
	}
	type file struct {
		name string
		f    *object.File
	}
	var files []file
	err = tree.Files().ForEach(func(f *object.File) error {
		if objfile.FormatOf(f.Name) == objfile.Auto || hiddenDir(f.Name) {
			return nil
		}
		if f.Mode == filemode.Symlink {
			return fmt.Errorf("%s: symbolic links are not followed", path.Join(p, f.Name))
		}
		files = append(files, file{f.Name, f})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("commit %s: %w under %s", short(commit), ErrNoDefinitions, where)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	rev := &revision{commit: commit, path: p, kinds: kindNames(s.kinds())}
	seen := map[string]string{}
	owned := s.kinds()
	for _, fl := range files {
		src := path.Join(p, fl.name)
		r, err := fl.f.Reader()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		objs, err := objfile.Parse(data, src, objfile.FormatOf(fl.name), s.schema())
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if !slices.Contains(owned, o.Type) {
				return nil, fmt.Errorf("%s: %s %q: %w (owned kinds: %s)", src, o.Type, o.Name, ErrKindNotOwned, kindNames(owned))
			}
			key := string(o.Type) + "/" + o.Name
			if prev, dup := seen[key]; dup {
				return nil, fmt.Errorf("%s: %s %q is also defined in %s", src, o.Type, o.Name, prev)
			}
			seen[key] = src
			rev.objs = append(rev.objs, sourced{obj: o, source: src})
		}
	}
	return rev, nil
}

// hiddenDir reports whether a file path lies in a directory whose name
// starts with "." (skipped, as objfile.Load skips them).
func hiddenDir(name string) bool {
	dirs := strings.Split(name, "/")
	for _, d := range dirs[:len(dirs)-1] {
		if strings.HasPrefix(d, ".") {
			return true
		}
	}
	return false
}
