package apiserver

import (
	"context"
	"errors"

	"drover.dev/drover/internal/api"
)

// GitOps is the Git repository follower, for /v1/gitops.
type GitOps interface {
	Status(ctx context.Context) (api.GitOpsStatus, error)
	Sync(ctx context.Context, force bool) (api.GitOpsSyncResult, error)
}

// ErrGitOpsRefused is wrapped by GitOps.Sync when the revision was refused
// (the API answers 422 with the error).
var ErrGitOpsRefused = errors.New("revision refused")

type gitopsStatusOutput struct{ Body api.GitOpsStatus }

func (s *Server) gitopsStatus(ctx context.Context, _ *struct{}) (*gitopsStatusOutput, error) {
	if s.GitOps == nil {
		return &gitopsStatusOutput{Body: api.GitOpsStatus{}}, nil
	}
	st, err := s.GitOps.Status(ctx)
	if err != nil {
		return nil, s.problem(err)
	}
	st.Enabled = true
	return &gitopsStatusOutput{Body: st}, nil
}

type gitopsSyncInput struct{ Body api.GitOpsSyncRequest }

type gitopsSyncOutput struct{ Body api.GitOpsSyncResult }

func (s *Server) gitopsSync(ctx context.Context, in *gitopsSyncInput) (*gitopsSyncOutput, error) {
	if s.GitOps == nil {
		return nil, s.problem(newError(errInvalid, "GitOps is not configured (drover serve --gitops-repo URL)"))
	}
	res, err := s.GitOps.Sync(ctx, in.Body.Force)
	if err != nil {
		if errors.Is(err, ErrGitOpsRefused) {
			return nil, s.problem(newError(errInvalid, "%v", err))
		}
		return nil, s.problem(err)
	}
	s.log().Info("gitops sync", "commit", res.Commit, "applied", res.Applied, "changes", len(res.Changes),
		"force", in.Body.Force, "by", principalFrom(ctx).Name)
	return &gitopsSyncOutput{Body: res}, nil
}
