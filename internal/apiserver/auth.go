package apiserver

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/inventory"
)

// principal is the caller, as its token says.
type principal struct {
	ID, Name, Role string
}

// rank orders the roles; an unknown role may do nothing.
func rank(role string) int {
	switch role {
	case api.RoleAdmin:
		return 3
	case api.RoleOperator:
		return 2
	case api.RoleViewer:
		return 1
	}
	return 0
}

func (p principal) atLeast(role string) bool { return rank(p.Role) >= rank(role) && rank(p.Role) > 0 }

// maySeeSecrets reports whether the caller may ask for secret values.
func (p principal) maySeeSecrets() bool { return p.atLeast(api.RoleOperator) }

// forbid returns the 403 error for an action that needs role.
func (p principal) forbid(action, role string) error {
	return newError(errForbidden, "%s needs the %s role; token %q has role %s", action, role, p.Name, p.Role)
}

type principalKey struct{}

func principalFrom(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// roleKey is the Operation.Metadata key holding the least role an
// operation needs.
const roleKey = "drover.role"

// authenticate is the huma middleware that checks the bearer token of
// every operation and the role the operation needs.
func (s *Server) authenticate(hapi huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		p, err := s.principal(ctx.Context(), ctx.Header("Authorization"))
		if err == nil {
			need, _ := ctx.Operation().Metadata[roleKey].(string)
			if need == "" {
				need = api.RoleAdmin
			}
			if !p.atLeast(need) {
				err = p.forbid(ctx.Operation().Method+" "+ctx.Operation().Path, need)
			}
		}
		if err != nil {
			status := statusOf(err)
			if status == http.StatusUnauthorized {
				ctx.SetHeader("WWW-Authenticate", wwwAuthenticate(err))
			}
			if status >= 500 {
				s.log().Error("token lookup failed", "err", err)
			}
			_ = huma.WriteErr(hapi, ctx, status, err.Error())
			return
		}
		next(huma.WithValue(ctx, principalKey{}, p))
	}
}

// principal finds the caller from an Authorization header.
func (s *Server) principal(ctx context.Context, header string) (principal, error) {
	scheme, secret, _ := strings.Cut(strings.TrimSpace(header), " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "bearer") || secret == "" {
		return principal{}, newError(errUnauthorized, "missing bearer token: send 'Authorization: Bearer <token>'")
	}
	tok, err := s.Store.LookupToken(ctx, secret)
	if errors.Is(err, inventory.ErrNotFound) {
		return principal{}, &kindError{kind: errUnauthorized, msg: "invalid token", cause: err}
	}
	if err != nil {
		return principal{}, err
	}
	return principal{ID: tok.ID, Name: tok.Name, Role: tok.Role}, nil
}
