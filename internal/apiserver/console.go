package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/inventory"
)

// ConsoleLogs opens nodes' console logs (*consoles.Hub).
type ConsoleLogs interface {
	// OpenLog opens node's log; the error wraps fs.ErrNotExist when there
	// is none, and is a non-*fs.PathError error for a bad node name.
	OpenLog(node string) (*os.File, error)
}

// isPathError reports whether err comes from the file system.
func isPathError(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe)
}

// Consoles attaches to nodes' consoles (IPMI SOL, a container's TTY).
type Consoles interface {
	// Console opens node's console; the stream carries it both ways until
	// it is closed or ctx ends.
	Console(ctx context.Context, node string) (io.ReadWriteCloser, error)
}

// ConsoleUpgrade is the Upgrade protocol of GET /v1/console/{node}: after
// "101 Switching Protocols" the connection carries the console's bytes
// both ways.
const ConsoleUpgrade = api.ConsoleUpgrade

// console serves GET /v1/console/{node} (operator role): it opens the
// node's console first, so failures are ordinary HTTP errors, then
// upgrades the connection and copies bytes both ways.
func (s *Server) console(w http.ResponseWriter, r *http.Request) {
	p, ok := s.authorizeHTTP(w, r, "rcons", api.RoleOperator)
	if !ok {
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), ConsoleUpgrade) {
		writeProblem(w, http.StatusBadRequest, "send 'Connection: Upgrade' and 'Upgrade: "+ConsoleUpgrade+"'")
		return
	}
	node := r.PathValue("node")
	if s.Consoles == nil {
		writeProblem(w, http.StatusNotImplemented, "consoles are not available on this server")
		return
	}
	// The console outlives the request's context, which ends with the hijack.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	// (The console lives as long as ctx: the drivers bound their own
	// connection set-up.)
	stream, err := s.Consoles.Console(ctx, node)
	if err != nil {
		status := http.StatusBadGateway
		if errors.Is(err, inventory.ErrNotFound) {
			status = http.StatusNotFound
		}
		writeProblem(w, status, fmt.Sprintf("console of %s: %v", node, err))
		return
	}
	defer stream.Close()
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "cannot take over the connection: "+err.Error())
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Time{})
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n\r\n", ConsoleUpgrade)
	if err := brw.Flush(); err != nil {
		return
	}
	s.log().Info("console attached", "node", node, "token", p.Name)
	var once sync.Once
	done := make(chan struct{})
	stop := func() { once.Do(func() { close(done) }) }
	go func() { io.Copy(stream, brw); stop() }() // brw holds bytes the client sent early
	go func() { io.Copy(conn, stream); stop() }()
	<-done
	s.log().Info("console detached", "node", node, "token", p.Name)
}

// consoleLog serves GET /v1/console/{node}/log[?follow=true]: the node's
// console log (operator role; consoles show what was typed at them). With
// follow the response stays open and carries what is appended, until the
// client goes away.
func (s *Server) consoleLog(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.authorizeHTTP(w, r, "console log", api.RoleOperator); !ok {
		return
	}
	node := r.PathValue("node")
	if s.ConsoleLogs == nil {
		writeProblem(w, http.StatusNotImplemented, "console logs are not kept on this server")
		return
	}
	f, err := s.ConsoleLogs.OpenLog(node)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		writeProblem(w, http.StatusNotFound, "no console log for "+node+" (its console is logged when the node has a cons attribute)")
		return
	case isPathError(err):
		writeProblem(w, http.StatusInternalServerError, err.Error())
		return
	case err != nil: // a node name that is no file name
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if _, err := io.Copy(w, f); err != nil {
		return
	}
	if r.URL.Query().Get("follow") != "true" {
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.Flush()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
			n, err := io.Copy(w, f)
			if err != nil {
				return
			}
			if n > 0 {
				if rc.Flush() != nil {
					return
				}
			}
		}
	}
}

// authorizeHTTP authenticates a plain (non-huma) handler's request and
// checks its role, answering 401/403 itself; ok is false then.
func (s *Server) authorizeHTTP(w http.ResponseWriter, r *http.Request, action, role string) (principal, bool) {
	p, err := s.principal(r.Context(), r.Header.Get("Authorization"))
	if err == nil && !p.atLeast(role) {
		err = p.forbid(action, role)
	}
	if err != nil {
		s.writeAuthError(w, err)
		return principal{}, false
	}
	return p, true
}

// writeAuthError answers an authentication or authorization failure.
func (s *Server) writeAuthError(w http.ResponseWriter, err error) {
	status := statusOf(err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", wwwAuthenticate(err))
	}
	writeProblem(w, status, err.Error())
}
