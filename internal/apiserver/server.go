// Package apiserver is drover's REST API: the inventory objects, bulk apply,
// the xCAT commands, tokens, health and metrics, described by OpenAPI 3.1 at
// /v1/openapi.json. Every request under /v1 needs a bearer token; its role
// (admin, operator, viewer) decides what it may do and whether it sees
// secret attribute values.
package apiserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/store"
	"drover.dev/drover/internal/xcatcmd"
)

// DefaultMaxBodyBytes is the request body limit when Server.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 64 << 20

// Inventory is the part of the store the object endpoints use.
type Inventory interface {
	View() inventory.View
	// Apply writes all changes in one transaction, or none; a Create of an
	// existing object fails with an error wrapping inventory.ErrExists.
	Apply(ctx context.Context, changes []inventory.Change) error
	// Ping reports whether the store can serve requests (readyz).
	Ping(ctx context.Context) error
}

// Tokens keeps the API tokens.
type Tokens interface {
	// LookupToken finds the token with this secret; an unknown secret gives
	// an error wrapping inventory.ErrNotFound.
	LookupToken(ctx context.Context, secret string) (store.Token, error)
	CreateToken(ctx context.Context, name, role string) (secret string, tok store.Token, err error)
	ListTokens(ctx context.Context) ([]store.Token, error)
	DeleteToken(ctx context.Context, id string) error
}

// Store is what the server needs from the store (*store.Store has it all).
type Store interface {
	Inventory
	Tokens
}

// Runner runs xCAT commands (*xcatcmd.Runner).
type Runner interface {
	Run(ctx context.Context, req xcatcmd.Request) xcatcmd.Response
}

// Server serves the API. Set its fields, then call Handler once; the caller
// owns the listener.
type Server struct {
	Store Store
	// Secrets serves /v1/secrets; nil answers 404 there.
	Secrets Secrets
	// GitOps serves /v1/gitops; nil: not configured.
	GitOps GitOps
	Runner Runner
	Schema *inventory.Schema // nil means inventory.DefaultSchema()
	Log    *slog.Logger      // nil discards
	// Registry receives the server's metrics and is served at /metrics;
	// nil means a private registry.
	Registry *prometheus.Registry
	// MaxBodyBytes limits request bodies (413 beyond it); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Version is reported in the OpenAPI document.
	Version string
	// BootEvents serves /v1/events; nil answers every node with no events.
	BootEvents BootEvents
	// Consoles serves /v1/console/{node} (rcons); nil answers 501.
	Consoles Consoles
	// ConsoleLogs serves /v1/console/{node}/log; nil answers 501.
	ConsoleLogs ConsoleLogs

	once    sync.Once
	handler http.Handler
	metrics *httpMetrics
}

// Handler returns the server's HTTP handler, building it on first use.
func (s *Server) Handler() http.Handler {
	s.once.Do(func() { s.handler = s.build() })
	return s.handler
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s.Log
}

func (s *Server) schema() *inventory.Schema {
	if s.Schema == nil {
		return inventory.DefaultSchema()
	}
	return s.Schema
}

func (s *Server) maxBody() int64 {
	if s.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return s.MaxBodyBytes
}

func (s *Server) build() http.Handler {
	reg := s.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metrics = newHTTPMetrics(reg, s.log())
	registerObjectCounts(reg, s.Store, s.log())

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /v1/console/{node}", s.console)
	mux.HandleFunc("POST /v1/run/progress", s.runProgress)
	mux.HandleFunc("GET /v1/console/{node}/log", s.consoleLog)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	api := humago.New(mux, s.humaConfig())
	api.UseMiddleware(s.authenticate(api))
	s.register(api)

	return s.instrument(s.limitBody(mux))
}

func (s *Server) humaConfig() huma.Config {
	version := s.Version
	if version == "" {
		version = "dev"
	}
	cfg := huma.DefaultConfig("drover", version)
	cfg.Info.Description = "drover's cluster inventory (xCAT objects), bulk apply and xCAT commands. " +
		"Every /v1 operation needs 'Authorization: Bearer <token>'. Errors are RFC 9457 problem details."
	cfg.OpenAPIPath = "/v1/openapi"
	cfg.DocsPath = "/v1/docs"
	cfg.SchemasPath = "/v1/schemas"
	// No $schema links in response bodies: clients decode plain objects.
	cfg.CreateHooks = nil
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "An API token (drover token create)."},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	cfg.Transformers = append(cfg.Transformers, s.tooLargeMessage)
	return cfg
}

// tooLargeMessage states the configured limit in huma's 413 answers (huma
// reads one byte past the limit to detect an oversized body).
func (s *Server) tooLargeMessage(_ huma.Context, status string, v any) (any, error) {
	if em, ok := v.(*huma.ErrorModel); ok && status == "413" {
		em.Detail = tooLargeDetail(s.maxBody())
	}
	return v, nil
}

func tooLargeDetail(limit int64) string {
	return fmt.Sprintf("request body is larger than the limit of %d bytes", limit)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.Store.Ping(ctx); err != nil {
		s.log().Warn("not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %v\n", err)
		return
	}
	io.WriteString(w, "ok\n")
}

// limitBody rejects bodies over the limit: at once when Content-Length says
// so, and through http.MaxBytesReader otherwise. huma's own limit (one byte
// more, see operation) answers 413 before the reader would fail.
func (s *Server) limitBody(next http.Handler) http.Handler {
	limit := s.maxBody()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			writeProblem(w, http.StatusRequestEntityTooLarge, tooLargeDetail(limit))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit+1)
		}
		next.ServeHTTP(w, r)
	})
}

// writeProblem writes a problem details answer outside huma.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"title\":%q,\"status\":%d,\"detail\":%q}\n", http.StatusText(status), status, detail)
}

// instrument counts and times every request by route and status, and logs it.
func (s *Server) instrument(next http.Handler) http.Handler {
	return &instrumented{next: next, metrics: s.metrics, log: s.log()}
}

type instrumented struct {
	next    http.Handler
	metrics *httpMetrics
	log     *slog.Logger
}

func (h *instrumented) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	h.next.ServeHTTP(rec, r)
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	// The mux has set r.Pattern ("GET /v1/objects/{type}"); "" when no
	// route matched.
	route := "unmatched"
	if _, path, ok := strings.Cut(r.Pattern, " "); ok {
		route = path
	} else if r.Pattern != "" {
		route = r.Pattern
	}
	elapsed := time.Since(start)
	h.metrics.observe(route, metricMethod(r.Method), status, elapsed)
	h.log.Debug("request", "method", r.Method, "path", r.URL.Path, "route", route,
		"status", status, "duration", elapsed, "remote", r.RemoteAddr)
}

// metricMethod bounds the method label: clients may send any token.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (huma sets read
// deadlines through it).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
