package apiserver

import (
	"context"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/store"
	"drover.dev/drover/internal/xcatcmd"
)

// deletingCommands are the write commands that delete objects or table
// rows: an operator may not run them (tabrestore replaces a whole table).
var deletingCommands = map[string]bool{
	"rmdef": true, "noderm": true, "tabprune": true, "tabrestore": true,
}

type runInput struct{ Body api.RunRequest }

type runOutput struct{ Body api.RunResponse }

func (s *Server) run(ctx context.Context, in *runInput) (*runOutput, error) {
	p := principalFrom(ctx)
	if err := authorizeRun(p, in.Body); err != nil {
		return nil, s.problem(err)
	}
	return &runOutput{Body: s.runCommand(ctx, p, in.Body, nil)}, nil
}

// authorizeRun checks that p may run req.
func authorizeRun(p principal, req api.RunRequest) error {
	if !xcatcmd.Known(req.Command) {
		return newError(errUnknownCommand, "unknown command %q", req.Command)
	}
	switch {
	case !xcatcmd.ReadOnlyRequest(req.Command, req.Args) && !p.atLeast(api.RoleOperator):
		return p.forbid(req.Command+" (it changes the inventory)", api.RoleOperator)
	case deletingCommands[req.Command] && !p.atLeast(api.RoleAdmin):
		return p.forbid(req.Command+" (it deletes objects)", api.RoleAdmin)
	}
	return checkSecrets(p, req.ShowSecrets)
}

func (s *Server) runCommand(ctx context.Context, p principal, req api.RunRequest, progress func(done, total int)) api.RunResponse {
	resp := s.Runner.Run(ctx, xcatcmd.Request{
		Command:     req.Command,
		Args:        req.Args,
		Stdin:       req.Stdin,
		Files:       req.Files,
		ShowSecrets: req.ShowSecrets,
		Progress:    progress,
	})
	if resp.ExitCode != 0 {
		s.log().Debug("command failed", "command", req.Command, "exit", resp.ExitCode, "token", p.Name)
	}
	return api.RunResponse{Stdout: resp.Stdout, Stderr: resp.Stderr, ExitCode: resp.ExitCode}
}

type whoamiOutput struct{ Body api.Identity }

func (s *Server) whoami(ctx context.Context, _ *struct{}) (*whoamiOutput, error) {
	p := principalFrom(ctx)
	return &whoamiOutput{Body: api.Identity{Name: p.Name, Role: p.Role}}, nil
}

func apiToken(t store.Token) api.Token {
	return api.Token{ID: t.ID, Name: t.Name, Role: t.Role, Created: t.Created}
}

type tokenListOutput struct{ Body api.TokenList }

func (s *Server) listTokens(ctx context.Context, _ *struct{}) (*tokenListOutput, error) {
	toks, err := s.Store.ListTokens(ctx)
	if err != nil {
		return nil, s.problem(err)
	}
	out := api.TokenList{Items: make([]api.Token, len(toks))}
	for i, t := range toks {
		out.Items[i] = apiToken(t)
	}
	return &tokenListOutput{Body: out}, nil
}

type createTokenInput struct{ Body api.CreateTokenRequest }

type createdTokenOutput struct{ Body api.CreatedToken }

func (s *Server) createToken(ctx context.Context, in *createTokenInput) (*createdTokenOutput, error) {
	if rank(in.Body.Role) == 0 {
		return nil, s.problem(newError(errInvalid, "unknown role %q: use admin, operator or viewer", in.Body.Role))
	}
	if in.Body.Name == "" {
		return nil, s.problem(newError(errInvalid, "missing token name"))
	}
	secret, tok, err := s.Store.CreateToken(ctx, in.Body.Name, in.Body.Role)
	if err != nil {
		return nil, s.problem(err)
	}
	s.log().Info("token created", "id", tok.ID, "name", tok.Name, "role", tok.Role, "by", principalFrom(ctx).Name)
	return &createdTokenOutput{Body: api.CreatedToken{
		Token: secret, ID: tok.ID, Name: tok.Name, Role: tok.Role, Created: tok.Created,
	}}, nil
}

type deleteTokenInput struct {
	ID string `path:"id" doc:"Token ID"`
}

func (s *Server) deleteToken(ctx context.Context, in *deleteTokenInput) (*struct{}, error) {
	if err := s.Store.DeleteToken(ctx, in.ID); err != nil {
		return nil, s.problem(err)
	}
	s.log().Info("token deleted", "id", in.ID, "by", principalFrom(ctx).Name)
	return nil, nil
}
