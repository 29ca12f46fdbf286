package apiserver

import (
	"context"
	"errors"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/store"
)

// Secrets is what the secret endpoints need (*store.Store has it).
type Secrets interface {
	SetSecret(ctx context.Context, name, value string) error
	Secret(ctx context.Context, name string) (string, bool, error)
	Secrets(ctx context.Context) ([]store.SecretInfo, error)
	DeleteSecret(ctx context.Context, name string) error
}

type secretListOutput struct{ Body api.SecretList }

func (s *Server) listSecrets(ctx context.Context, _ *struct{}) (*secretListOutput, error) {
	if s.Secrets == nil {
		return nil, s.problem(newError(inventory.ErrNotFound, "secrets are not available"))
	}
	list, err := s.Secrets.Secrets(ctx)
	if err != nil {
		return nil, s.problem(err)
	}
	out := api.SecretList{Items: make([]api.Secret, len(list))}
	for i, x := range list {
		out.Items[i] = api.Secret{Name: x.Name, Updated: x.Updated}
	}
	return &secretListOutput{Body: out}, nil
}

type setSecretInput struct {
	Name string `path:"name" doc:"Secret name: 1-128 of A-Z a-z 0-9 . _ -"`
	Body api.SetSecretRequest
}

func (s *Server) setSecret(ctx context.Context, in *setSecretInput) (*struct{}, error) {
	if s.Secrets == nil {
		return nil, s.problem(newError(inventory.ErrNotFound, "secrets are not available"))
	}
	if err := s.Secrets.SetSecret(ctx, in.Name, in.Body.Value); err != nil {
		if errors.Is(err, store.ErrSecretName) {
			return nil, s.problem(newError(errInvalid, "%v", err))
		}
		return nil, s.problem(err)
	}
	s.log().Info("secret set", "name", in.Name, "by", principalFrom(ctx).Name)
	return nil, nil
}

type deleteSecretInput struct {
	Name string `path:"name" doc:"Secret name"`
}

func (s *Server) deleteSecret(ctx context.Context, in *deleteSecretInput) (*struct{}, error) {
	if s.Secrets == nil {
		return nil, s.problem(newError(inventory.ErrNotFound, "secrets are not available"))
	}
	if err := s.Secrets.DeleteSecret(ctx, in.Name); err != nil {
		if errors.Is(err, store.ErrNoSecret) {
			return nil, s.problem(newError(inventory.ErrNotFound, "%v", err))
		}
		return nil, s.problem(err)
	}
	s.log().Info("secret deleted", "name", in.Name, "by", principalFrom(ctx).Name)
	return nil, nil
}

// resolveSecretRefs replaces every attribute value "secret:NAME" of o by
// the named secret's value; a missing secret is an error naming it.
func (s *Server) resolveSecretRefs(ctx context.Context, o *inventory.Object) error {
	var lookup func(string) (string, bool, error)
	if s.Secrets != nil {
		lookup = func(name string) (string, bool, error) { return s.Secrets.Secret(ctx, name) }
	}
	return inventory.ResolveSecretRefs(o, lookup)
}
