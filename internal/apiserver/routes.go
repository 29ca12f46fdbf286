package apiserver

import (
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"drover.dev/drover/internal/api"
)

// operation describes one API operation; role is the least role it needs.
func (s *Server) operation(id, method, path, tag, summary, role string, status int, errs ...int) huma.Operation {
	return huma.Operation{
		OperationID:     id,
		Method:          method,
		Path:            path,
		Tags:            []string{tag},
		Summary:         summary,
		DefaultStatus:   status,
		Errors:          append([]int{http.StatusUnauthorized, http.StatusForbidden}, errs...),
		MaxBodyBytes:    s.maxBody() + 1, // huma answers 413 when it reads this many
		BodyReadTimeout: 5 * time.Minute,
		Metadata:        map[string]any{roleKey: role},
	}
}

func (s *Server) register(hapi huma.API) {
	const (
		objects = "objects"
		cmds    = "commands"
		auth    = "tokens"
	)
	viewer, operator, admin := api.RoleViewer, api.RoleOperator, api.RoleAdmin
	ok, created, noContent := http.StatusOK, http.StatusCreated, http.StatusNoContent
	notFound, conflict, invalid, badReq, tooLarge := http.StatusNotFound, http.StatusConflict,
		http.StatusUnprocessableEntity, http.StatusBadRequest, http.StatusRequestEntityTooLarge

	huma.Register(hapi, s.operation("list-objects", http.MethodGet, "/v1/objects/{type}", objects,
		"List objects of a type", viewer, ok, badReq, notFound, invalid), s.listObjects)
	huma.Register(hapi, s.operation("get-object", http.MethodGet, "/v1/objects/{type}/{name}", objects,
		"Get one object", viewer, ok, notFound, invalid), s.getObject)
	huma.Register(hapi, s.operation("create-object", http.MethodPost, "/v1/objects/{type}", objects,
		"Create an object", operator, created, conflict, invalid, tooLarge), s.createObject)
	huma.Register(hapi, s.operation("put-object", http.MethodPut, "/v1/objects/{type}/{name}", objects,
		"Create an object or replace its attributes", operator, ok, invalid, tooLarge), s.putObject)
	huma.Register(hapi, s.operation("patch-object", http.MethodPatch, "/v1/objects/{type}/{name}", objects,
		"Merge attributes into an object (an empty value removes the attribute)", operator, ok,
		notFound, invalid, tooLarge), s.patchObject)
	huma.Register(hapi, s.operation("delete-object", http.MethodDelete, "/v1/objects/{type}/{name}", objects,
		"Delete an object", admin, noContent, notFound, invalid), s.deleteObject)
	huma.Register(hapi, s.operation("apply", http.MethodPost, "/v1/apply", objects,
		"Create, update and (with prune) delete objects in one transaction", operator, ok,
		invalid, tooLarge), s.apply)
	huma.Register(hapi, s.operation("run", http.MethodPost, "/v1/run", cmds,
		"Run an xCAT command (lsdef, mkdef, chdef, rmdef, nodels, tabdump, ...)", viewer, ok,
		notFound, tooLarge), s.run)
	huma.Register(hapi, s.operation("whoami", http.MethodGet, "/v1/whoami", auth,
		"Name and role of the caller's token", viewer, ok), s.whoami)
	huma.Register(hapi, s.operation("list-tokens", http.MethodGet, "/v1/tokens", auth,
		"List API tokens", admin, ok), s.listTokens)
	huma.Register(hapi, s.operation("create-token", http.MethodPost, "/v1/tokens", auth,
		"Create an API token; its secret is shown once", admin, created, invalid), s.createToken)
	huma.Register(hapi, s.operation("delete-token", http.MethodDelete, "/v1/tokens/{id}", auth,
		"Revoke an API token", admin, noContent, notFound), s.deleteToken)
	huma.Register(hapi, s.operation("list-secrets", http.MethodGet, "/v1/secrets", "secrets",
		"List named secrets (names only; manifests refer to them as secret:NAME)", viewer, ok, notFound), s.listSecrets)
	huma.Register(hapi, s.operation("set-secret", http.MethodPut, "/v1/secrets/{name}", "secrets",
		"Set a named secret's value (sealed at rest, never shown again)", operator, noContent, notFound, invalid, tooLarge), s.setSecret)
	huma.Register(hapi, s.operation("delete-secret", http.MethodDelete, "/v1/secrets/{name}", "secrets",
		"Delete a named secret", admin, noContent, notFound), s.deleteSecret)
	huma.Register(hapi, s.operation("gitops-status", http.MethodGet, "/v1/gitops/status", "gitops",
		"The followed Git repository: applied commit, last error (file and line) and drift", viewer, ok), s.gitopsStatus)
	huma.Register(hapi, s.operation("gitops-sync", http.MethodPost, "/v1/gitops/sync", "gitops",
		"Fetch the repository and apply a new commit in one transaction (webhook target); force re-applies the applied commit, reverting drift",
		operator, ok, invalid), s.gitopsSync)
	huma.Register(hapi, s.operation("node-events", http.MethodGet, "/v1/events/{node}", "events",
		"A node's boot timeline (DHCP, TFTP, HTTP boot, reports), oldest first", viewer, ok, invalid), s.events)
}
