// Package httpboot is drover's HTTP boot server: the iPXE entry script,
// per-node iPXE scripts (rendered by boot.Decide), iPXE loaders for UEFI
// HTTP Boot, kernel/initrd/image files with Range requests and sendfile,
// and the endpoint where a booted node reports its stage.
//
// Paths (prefixes from package boot):
//
//	GET  /boot/entry.ipxe                fallback entry script (no token; see EntryScript)
//	GET  /boot/script/<mac>?token=T      the node's iPXE script
//	GET  /boot/loader/<name>             an iPXE loader from LoaderDir
//	GET  /boot/files/<absolute path>     a kernel/initrd/image below an allowed root
//	POST /boot/report/<mac>?token=T      a booted node reports its stage (JSON, 204)
//	POST /boot/discover/<mac>?token=D    the discovery agent registers its facts (JSON);
//	                                     D is the discovery token (Tokens.SignDiscover)
//
// HEAD works wherever GET does. Node-specific URLs carry a token signed
// with Tokens; a missing or wrong token is refused with 403. Every request,
// served or refused, is passed to Server.Events.
package httpboot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"drover.dev/drover/internal/boot"
	"drover.dev/drover/internal/inventory"
)

// Defaults.
const (
	DefaultAddr      = ":80"
	DefaultLoaderDir = "/usr/lib/ipxe" // where Debian's ipxe package puts the loaders
	// EntryPath is the entry script's path.
	EntryPath = "/boot/entry.ipxe"
	// MaxReportSize is the largest report body accepted (413 above it).
	MaxReportSize = 64 << 10
	// MaxDiscoverSize is the largest discovery report accepted (413 above it).
	MaxDiscoverSize = 1 << 20
)

// EntryScript is served at EntryPath. drover's DHCP server hands iPXE the
// per-node script URL with its token (boot.Plan.ScriptURL) directly, so a
// machine only lands here if something else (another DHCP server, a
// hand-typed "chain" command, an embedded script) sent it. The token is
// secret to the DHCP stage, so the entry script cannot chain to the
// per-node script itself: it says so on the console and exits, letting the
// firmware try its next boot device.
const EntryScript = `#!ipxe
# drover entry script: fallback only
echo drover: no per-node boot script for ${net0/mac}
echo drover: per-node scripts need the signed URL drover's DHCP server hands out
echo drover: let drover answer DHCP for this machine, or chain its script URL with the token
sleep 10
exit 1
`

// Nodes is what httpboot needs from the inventory. Implementations must be
// safe for concurrent use.
type Nodes interface {
	// NodeByMAC returns the node with mac, its resolved attributes and
	// its currstate; ok is false for an unknown MAC.
	NodeByMAC(mac net.HardwareAddr) (name string, node inventory.Resolved, state string, ok bool)
	// OSImage returns the resolved osimage name.
	OSImage(name string) (inventory.Resolved, bool)
	// BootTarget returns the resolved boottarget name.
	BootTarget(name string) (inventory.Resolved, bool)
}

// Kind is the endpoint an Event comes from.
type Kind string

// Event kinds.
const (
	KindEntry    Kind = "entry"    // entry script
	KindScript   Kind = "script"   // per-node script
	KindLoader   Kind = "loader"   // iPXE loader
	KindFile     Kind = "file"     // kernel/initrd/image file
	KindReport   Kind = "report"   // stage report
	KindDiscover Kind = "discover" // discovery agent registration
	KindOther    Kind = "other"    // any other path
)

// Event records one HTTP request: what was served, or the refusal and its
// reason.
type Event struct {
	Time   time.Time        // when the request arrived
	Kind   Kind             // endpoint
	Node   string           // node name, when the request names a known MAC
	MAC    net.HardwareAddr // the MAC in the URL (script, report)
	Remote netip.AddrPort   // client address
	Method string
	Path   string // URL path as requested
	File   string // server file served (loader, file)
	Status int    // HTTP status sent
	Bytes  int64  // body bytes sent
	// Detail says what was served: the boot state for a script, the
	// stage for a report.
	Detail string
	// Reason is empty when the request was served; otherwise why it was
	// refused or failed ("missing token", "wrong token", ...).
	Reason string
	Report *Report // the report, for an accepted KindReport
}

// Refused reports whether the request was refused or failed.
func (e Event) Refused() bool { return e.Reason != "" }

// Server serves HTTP boot. Set the fields, then use it as an http.Handler
// or call Serve. Fields must not change while it serves; Settings is
// called on every request so configuration changes apply at once.
type Server struct {
	Addr string // TCP address for Serve; DefaultAddr when empty
	// Nodes looks nodes up; nil means every MAC is unknown.
	Nodes Nodes
	// Tokens verifies node-specific URLs; nil refuses every one.
	Tokens *Tokens
	// Settings returns the boot settings for a request. A Server that is
	// not valid is replaced by the address the request arrived on, and a
	// zero HTTPPort by its port. nil means the zero Settings.
	Settings func() boot.Settings
	// LoaderDir holds the iPXE loaders; DefaultLoaderDir when empty.
	LoaderDir string
	// FileRoots are the absolute directories, besides Settings().DataDir,
	// that files may be served from (e.g. the directories of configured
	// kernels). Nothing outside them is ever served.
	FileRoots []string
	Log       *slog.Logger // nil discards
	// Events, when set, is called once per request after the response is
	// written, from the request's goroutine (calls may be concurrent).
	Events func(Event)
	// Listening, when set, is called by Serve with the bound address once
	// the server accepts connections.
	Listening func(net.Addr)
	// Discoverer takes the discovery agents' registrations; nil refuses
	// them with 503.
	Discoverer Discoverer
}

// Discoverer handles a discovery agent's registration: mac is the MAC the
// machine booted the discovery environment from (its URL was signed for
// it), body the report. It returns the JSON answer for the agent and a
// one-line summary for the event. An error wrapping ErrBadReport is the
// agent's fault (400); any other error is the server's (503, the agent
// retries).
type Discoverer interface {
	Discover(ctx context.Context, mac net.HardwareAddr, remote netip.AddrPort, body []byte) (answer []byte, detail string, err error)
}

// Serve listens on s.Addr and serves until ctx ends, then shuts down
// (waiting up to 5 s for running requests) and returns nil. It returns the
// error that kept it from listening or serving.
func (s *Server) Serve(ctx context.Context) error {
	addr := s.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("httpboot listen %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log().Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log().Info("httpboot serving", "addr", ln.Addr().String())
	if s.Listening != nil {
		s.Listening(ln.Addr())
	}
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		<-errc
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("httpboot serve: %w", err)
	}
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log.With("svc", "httpboot")
}

// ServeHTTP dispatches by path prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := &countingWriter{ResponseWriter: w}
	ev := Event{Time: time.Now(), Kind: KindOther, Method: r.Method, Path: r.URL.Path}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		ev.Remote = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	p := r.URL.Path
	switch {
	case p == EntryPath:
		ev.Kind = KindEntry
		if s.methods(cw, r, &ev, http.MethodGet, http.MethodHead) {
			s.entry(cw, r)
		}
	case strings.HasPrefix(p, boot.ScriptPathPrefix):
		ev.Kind = KindScript
		if s.methods(cw, r, &ev, http.MethodGet, http.MethodHead) {
			s.script(cw, r, &ev)
		}
	case strings.HasPrefix(p, boot.LoaderPathPrefix):
		ev.Kind = KindLoader
		if s.methods(cw, r, &ev, http.MethodGet, http.MethodHead) {
			s.loader(cw, r, &ev)
		}
	case strings.HasPrefix(p, boot.FilesPathPrefix+"/"):
		ev.Kind = KindFile
		if s.methods(cw, r, &ev, http.MethodGet, http.MethodHead) {
			s.file(cw, r, &ev)
		}
	case strings.HasPrefix(p, boot.ReportPathPrefix):
		ev.Kind = KindReport
		if s.methods(cw, r, &ev, http.MethodPost) {
			s.report(cw, r, &ev)
		}
	case strings.HasPrefix(p, boot.DiscoverPathPrefix):
		ev.Kind = KindDiscover
		if s.methods(cw, r, &ev, http.MethodPost) {
			s.discover(cw, r, &ev)
		}
	default:
		s.refuse(cw, &ev, http.StatusNotFound, "unknown path")
	}
	ev.Status = cw.status
	if ev.Status == 0 {
		ev.Status = http.StatusOK
	}
	ev.Bytes = cw.n
	lvl := slog.LevelDebug
	if ev.Refused() {
		lvl = slog.LevelInfo
	}
	s.log().Log(r.Context(), lvl, "http request", "kind", ev.Kind, "method", ev.Method, "path", ev.Path,
		"remote", ev.Remote.String(), "node", ev.Node, "status", ev.Status, "bytes", ev.Bytes, "reason", ev.Reason)
	if s.Events != nil {
		s.Events(ev)
	}
}

// methods answers 405 unless r.Method is one of allowed.
func (s *Server) methods(w http.ResponseWriter, r *http.Request, ev *Event, allowed ...string) bool {
	for _, m := range allowed {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	s.refuse(w, ev, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
	return false
}

// refuse answers code with a short text body and records reason.
func (s *Server) refuse(w http.ResponseWriter, ev *Event, code int, reason string) {
	ev.Reason = reason
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, http.StatusText(code)+": "+reason)
}

func (s *Server) entry(w http.ResponseWriter, r *http.Request) {
	writeText(w, r, EntryScript)
}

func writeText(w http.ResponseWriter, r *http.Request, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.WriteString(w, body)
	}
}

// settings returns the boot settings for r, filling the server address
// and port from the connection when they are not configured.
func (s *Server) settings(r *http.Request) boot.Settings {
	var st boot.Settings
	if s.Settings != nil {
		st = s.Settings()
	}
	if st.Server.IsValid() && st.HTTPPort != 0 {
		return st
	}
	la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return st
	}
	ap, err := netip.ParseAddrPort(la.String())
	if err != nil {
		return st
	}
	if !st.Server.IsValid() {
		st.Server = ap.Addr().Unmap()
		if st.HTTPPort == 0 {
			st.HTTPPort = ap.Port()
		}
	}
	return st
}

// nodeRef is a node-specific request's MAC and what Nodes knows about it.
type nodeRef struct {
	mac   net.HardwareAddr
	name  string
	node  inventory.Resolved // nil for an unknown MAC
	state string
}

// nodeMAC parses the MAC after prefix in the URL path, looks the node up and
// checks the token. It answers and returns false when the request is refused.
func (s *Server) nodeMAC(w http.ResponseWriter, r *http.Request, ev *Event, prefix string) (nodeRef, bool) {
	return s.macRef(w, r, ev, prefix, false)
}

// macRef is nodeMAC; discover checks the discovery token instead of the
// node token.
func (s *Server) macRef(w http.ResponseWriter, r *http.Request, ev *Event, prefix string, discover bool) (nodeRef, bool) {
	rest := strings.TrimPrefix(r.URL.Path, prefix)
	mac, err := net.ParseMAC(rest)
	if err != nil || strings.ContainsAny(rest, "/.") {
		s.refuse(w, ev, http.StatusNotFound, fmt.Sprintf("invalid mac %q in path", rest))
		return nodeRef{}, false
	}
	ev.MAC = mac
	ref := nodeRef{mac: mac}
	if s.Nodes != nil {
		if name, node, state, ok := s.Nodes.NodeByMAC(mac); ok {
			if node == nil {
				node = inventory.Resolved{} // known, without attributes
			}
			ref.name, ref.node, ref.state = name, node, state
			ev.Node = name
		}
	}
	tokens := r.URL.Query()[boot.TokenQueryParam]
	switch {
	case s.Tokens == nil:
		s.refuse(w, ev, http.StatusForbidden, "no token key configured")
		return nodeRef{}, false
	case len(tokens) == 0 || tokens[0] == "":
		s.refuse(w, ev, http.StatusForbidden, "missing token")
		return nodeRef{}, false
	case len(tokens) > 1 || !discover && !s.Tokens.Verify(mac, tokens[0]) || discover && !s.Tokens.VerifyDiscover(mac, tokens[0]):
		s.refuse(w, ev, http.StatusForbidden, "wrong token")
		return nodeRef{}, false
	}
	return ref, true
}

func (s *Server) script(w http.ResponseWriter, r *http.Request, ev *Event) {
	ref, ok := s.nodeMAC(w, r, ev, boot.ScriptPathPrefix)
	if !ok {
		return
	}
	in := boot.Input{
		Request:       boot.Request{MAC: ref.mac, UserClass: boot.UserClassIPXE, Stage: boot.StageScript},
		NodeName:      ref.name,
		Node:          ref.node,
		State:         ref.state,
		Token:         s.Tokens.Sign(ref.mac),
		DiscoverToken: s.Tokens.SignDiscover(ref.mac),
		Settings:      s.settings(r),
	}
	if st, err := boot.ParseState(ref.state); ref.node != nil && err == nil && st.Kind == boot.StateOSImage {
		if img, ok := s.Nodes.OSImage(st.OSImage); ok {
			in.OSImage = img
			if bt := boot.BootTargetName(img); bt != "" {
				if t, ok := s.Nodes.BootTarget(bt); ok {
					in.BootTarget = t
				}
			}
		}
	}
	plan, err := boot.Decide(in)
	if err != nil {
		s.refuse(w, ev, http.StatusInternalServerError, "boot decision: "+err.Error())
		return
	}
	ev.Node = plan.Node
	if plan.Action == boot.ActionIgnore {
		s.refuse(w, ev, http.StatusNotFound, plan.Reason)
		return
	}
	ev.Detail = plan.State.String()
	writeText(w, r, plan.Script)
}

// Refusal reasons for loader and file requests.
const (
	reasonBadPath    = "invalid path"
	reasonOutside    = "path outside root"
	reasonNotAllowed = "path outside the allowed roots"
	reasonNotFound   = "file not found"
	reasonNotRegular = "not a regular file"
)

// checkRel vets a path relative to a root: not empty, no NUL or backslash,
// no "..", "." or empty elements, not absolute.
func checkRel(rel string) (string, bool) {
	if rel == "" || strings.ContainsAny(rel, "\x00\\") {
		return reasonBadPath, false
	}
	if strings.HasPrefix(rel, "/") {
		return reasonOutside, false
	}
	for _, e := range strings.Split(rel, "/") {
		switch e {
		case "..":
			return reasonOutside, false
		case "", ".":
			return reasonBadPath, false
		}
	}
	return "", true
}

func (s *Server) loader(w http.ResponseWriter, r *http.Request, ev *Event) {
	rel := strings.TrimPrefix(r.URL.Path, boot.LoaderPathPrefix)
	if reason, ok := checkRel(rel); !ok {
		s.refuse(w, ev, http.StatusForbidden, reason)
		return
	}
	dir := s.LoaderDir
	if dir == "" {
		dir = DefaultLoaderDir
	}
	s.serveUnder(w, r, ev, dir, rel)
}

func (s *Server) file(w http.ResponseWriter, r *http.Request, ev *Event) {
	rest := strings.TrimPrefix(r.URL.Path, boot.FilesPathPrefix)
	if reason, ok := checkRel(strings.TrimPrefix(rest, "/")); !ok {
		code := http.StatusForbidden
		if reason == reasonBadPath {
			code = http.StatusNotFound
		}
		s.refuse(w, ev, code, reason)
		return
	}
	abs, ok := boot.FilePath(r.URL.Path)
	if !ok {
		s.refuse(w, ev, http.StatusNotFound, reasonBadPath)
		return
	}
	roots := append([]string{s.settings(r).DataDir}, s.FileRoots...)
	for _, root := range roots {
		if root == "" || !path.IsAbs(root) {
			continue
		}
		rel, err := filepath.Rel(filepath.Clean(root), filepath.FromSlash(abs))
		if err != nil || !filepath.IsLocal(rel) {
			continue
		}
		s.serveUnder(w, r, ev, root, filepath.ToSlash(rel))
		return
	}
	s.refuse(w, ev, http.StatusForbidden, reasonNotAllowed)
}

// serveUnder serves the regular file rel below dir through os.Root, so
// neither ".." nor a symbolic link can leave dir, with http.ServeContent
// (Range, If-Modified-Since, HEAD; sendfile through countingWriter.ReadFrom).
func (s *Server) serveUnder(w http.ResponseWriter, r *http.Request, ev *Event, dir, rel string) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		s.refuse(w, ev, http.StatusNotFound, fmt.Sprintf("root %s: %v", dir, err))
		return
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			s.refuse(w, ev, http.StatusNotFound, reasonNotFound)
		case errors.Is(err, fs.ErrPermission):
			s.refuse(w, ev, http.StatusForbidden, "permission denied")
		default:
			// os.Root's refusal of an escaping path or link.
			s.refuse(w, ev, http.StatusForbidden, reasonOutside+": "+err.Error())
		}
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.refuse(w, ev, http.StatusInternalServerError, err.Error())
		return
	}
	if !fi.Mode().IsRegular() {
		s.refuse(w, ev, http.StatusNotFound, reasonNotRegular)
		return
	}
	ev.File = filepath.Join(dir, filepath.FromSlash(rel))
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

// countingWriter records the status and body bytes of a response. It
// passes ReadFrom through so http.ServeContent's copy from an *os.File
// still reaches the connection's sendfile path.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (c *countingWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) ReadFrom(src io.Reader) (int64, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := c.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(struct{ io.Writer }{c.ResponseWriter}, src)
	}
	c.n += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Report is what a booted node POSTs to its report URL.
type Report struct {
	MAC    string  `json:"mac,omitempty"`
	UUID   string  `json:"uuid,omitempty"`
	Serial string  `json:"serial,omitempty"`
	IP     string  `json:"ip,omitempty"`
	Uptime float64 `json:"uptime,omitempty"` // seconds since the node's kernel started
	Stage  string  `json:"stage"`
}

// ErrBadReport is wrapped by ParseReport's errors.
var ErrBadReport = errors.New("invalid report")

// wireReport is the JSON as sent: uptime may be a number or a numeric
// string (the lab initramfs sends "2.53").
type wireReport struct {
	MAC    string          `json:"mac"`
	UUID   string          `json:"uuid"`
	Serial string          `json:"serial"`
	IP     string          `json:"ip"`
	Uptime json.RawMessage `json:"uptime"`
	Stage  string          `json:"stage"`
}

// ParseReport decodes and validates a report body sent for mac: one JSON
// object; stage required (1–64 of [A-Za-z0-9._:-]); mac, if present, equal
// to mac; ip, if present, an IP address; uptime, if present, a
// non-negative number or numeric string; uuid and serial at most 128
// printable characters. Unknown fields are ignored.
func ParseReport(body []byte, mac net.HardwareAddr) (Report, error) {
	var w wireReport
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&w); err != nil {
		return Report{}, fmt.Errorf("%w: %v", ErrBadReport, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Report{}, fmt.Errorf("%w: trailing data after the object", ErrBadReport)
	}
	rep := Report{UUID: w.UUID, Serial: w.Serial, IP: w.IP, Stage: w.Stage}
	if !validStage(w.Stage) {
		return Report{}, fmt.Errorf("%w: stage %q", ErrBadReport, w.Stage)
	}
	if w.MAC != "" {
		m, err := net.ParseMAC(w.MAC)
		if err != nil {
			return Report{}, fmt.Errorf("%w: mac %q", ErrBadReport, w.MAC)
		}
		if mac != nil && boot.MACPath(m) != boot.MACPath(mac) {
			return Report{}, fmt.Errorf("%w: mac %s does not match the url's %s", ErrBadReport, m, mac)
		}
		rep.MAC = m.String()
	}
	if w.IP != "" {
		a, err := netip.ParseAddr(w.IP)
		if err != nil {
			return Report{}, fmt.Errorf("%w: ip %q", ErrBadReport, w.IP)
		}
		rep.IP = a.String()
	}
	for name, v := range map[string]string{"uuid": w.UUID, "serial": w.Serial} {
		if !printable(v, 128) {
			return Report{}, fmt.Errorf("%w: %s %q", ErrBadReport, name, v)
		}
	}
	if len(w.Uptime) > 0 && string(w.Uptime) != "null" {
		s := string(w.Uptime)
		if strings.HasPrefix(s, `"`) {
			if err := json.Unmarshal(w.Uptime, &s); err != nil {
				return Report{}, fmt.Errorf("%w: uptime %s", ErrBadReport, w.Uptime)
			}
		}
		if s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || f < 0 || math.IsNaN(f) || f > 1e12 {
				return Report{}, fmt.Errorf("%w: uptime %s", ErrBadReport, w.Uptime)
			}
			rep.Uptime = f
		}
	}
	return rep, nil
}

func validStage(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-', c == ':':
		default:
			return false
		}
	}
	return true
}

func printable(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f || c == '\uFFFD' {
			return false
		}
	}
	return true
}

func (s *Server) report(w http.ResponseWriter, r *http.Request, ev *Event) {
	ref, ok := s.nodeMAC(w, r, ev, boot.ReportPathPrefix)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxReportSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.refuse(w, ev, http.StatusRequestEntityTooLarge, fmt.Sprintf("report larger than %d bytes", MaxReportSize))
			return
		}
		s.refuse(w, ev, http.StatusBadRequest, "reading report: "+err.Error())
		return
	}
	rep, err := ParseReport(body, ref.mac)
	if err != nil {
		s.refuse(w, ev, http.StatusBadRequest, err.Error())
		return
	}
	ev.Report = &rep
	ev.Detail = "stage " + rep.Stage
	if rep.IP != "" {
		ev.Detail += " ip " + rep.IP
	}
	if rep.Uptime > 0 {
		ev.Detail += " uptime " + strconv.FormatFloat(rep.Uptime, 'f', -1, 64) + "s"
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) discover(w http.ResponseWriter, r *http.Request, ev *Event) {
	ref, ok := s.macRef(w, r, ev, boot.DiscoverPathPrefix, true)
	if !ok {
		return
	}
	if s.Discoverer == nil {
		s.refuse(w, ev, http.StatusServiceUnavailable, "discovery is not enabled")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxDiscoverSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.refuse(w, ev, http.StatusRequestEntityTooLarge, fmt.Sprintf("discovery report larger than %d bytes", MaxDiscoverSize))
			return
		}
		s.refuse(w, ev, http.StatusBadRequest, "reading discovery report: "+err.Error())
		return
	}
	ans, detail, err := s.Discoverer.Discover(r.Context(), ref.mac, ev.Remote, body)
	ev.Detail = detail
	if err != nil {
		code := http.StatusServiceUnavailable
		if errors.Is(err, ErrBadReport) {
			code = http.StatusBadRequest
		}
		s.refuse(w, ev, code, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(ans)
}
