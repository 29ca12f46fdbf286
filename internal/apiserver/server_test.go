package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/inventory"
	"drover.dev/drover/internal/store"
	"drover.dev/drover/internal/xcatcmd"
)

// fakeStore is an inventory.Memory with tokens and a switchable Ping.
type fakeStore struct {
	*inventory.Memory

	mu      sync.Mutex
	pingErr error
	tokens  map[string]store.Token // by secret
	next    int
}

func newFakeStore(objs ...inventory.Object) *fakeStore {
	return &fakeStore{Memory: inventory.NewMemory(objs...), tokens: map[string]store.Token{}}
}

func (f *fakeStore) Ping(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pingErr
}

func (f *fakeStore) setPingErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pingErr = err
}

func (f *fakeStore) LookupToken(_ context.Context, secret string) (store.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok, ok := f.tokens[secret]
	if !ok {
		return store.Token{}, fmt.Errorf("token: %w", inventory.ErrNotFound)
	}
	return tok, nil
}

func (f *fakeStore) CreateToken(_ context.Context, name, role string) (string, store.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	tok := store.Token{ID: fmt.Sprintf("id%d", f.next), Name: name, Role: role,
		Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	secret := fmt.Sprintf("secret-%d-%s", f.next, name)
	f.tokens[secret] = tok
	return secret, tok, nil
}

func (f *fakeStore) ListTokens(context.Context) ([]store.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Token
	for _, t := range f.tokens {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b store.Token) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (f *fakeStore) DeleteToken(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s, t := range f.tokens {
		if t.ID == id {
			delete(f.tokens, s)
			return nil
		}
	}
	return fmt.Errorf("token %s: %w", id, inventory.ErrNotFound)
}

// fakeRunner records the requests it gets.
type fakeRunner struct {
	mu   sync.Mutex
	reqs []xcatcmd.Request
}

func (r *fakeRunner) Run(_ context.Context, req xcatcmd.Request) xcatcmd.Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	return xcatcmd.Response{Stdout: "ran " + req.Command + "\n", Stderr: "", ExitCode: 0}
}

func (r *fakeRunner) last() xcatcmd.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		return xcatcmd.Request{}
	}
	return r.reqs[len(r.reqs)-1]
}

func obj(t inventory.Type, name string, kv ...string) inventory.Object {
	o := inventory.Object{Type: t, Name: name, Attrs: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Attrs[kv[i]] = kv[i+1]
	}
	return o
}

// fixture is a small cluster: five nodes in group compute (cn05 also in
// gpu), an osimage and the site.
func fixture() []inventory.Object {
	objs := []inventory.Object{
		obj(inventory.Group, "compute", "mgt", "ipmi", "bmcusername", "ADMIN", "bmcpassword", "grouppw"),
		obj(inventory.Group, "gpu", "arch", "x86_64"),
		obj(inventory.OSImage, "rhels8-x86_64-install-compute", "osvers", "rhels8", "osarch", "x86_64"),
		obj(inventory.OSImage, "alma9-netboot", "osvers", "alma9", "osarch", "x86_64"),
		obj(inventory.Site, inventory.SiteName, "domain", "cluster.example"),
	}
	for i := 1; i <= 5; i++ {
		groups := "compute,all"
		if i == 5 {
			groups = "compute,gpu"
		}
		objs = append(objs, obj(inventory.Node, fmt.Sprintf("cn%02d", i), "groups", groups,
			"mac", fmt.Sprintf("52:54:00:00:00:%02x", i), "ip", fmt.Sprintf("10.0.0.%d", i)))
	}
	objs[len(objs)-1].Attrs["bmcpassword"] = "nodepw"
	return objs
}

type testEnv struct {
	t      *testing.T
	srv    *httptest.Server
	store  *fakeStore
	runner *fakeRunner
	reg    *prometheus.Registry
	secret map[string]string // role -> token secret
}

func newTestEnv(t *testing.T, maxBody int64, objs ...inventory.Object) *testEnv {
	t.Helper()
	st := newFakeStore(objs...)
	e := &testEnv{t: t, store: st, runner: &fakeRunner{}, reg: prometheus.NewRegistry(), secret: map[string]string{}}
	for _, role := range api.Roles() {
		secret, _, err := st.CreateToken(context.Background(), role+"-token", role)
		if err != nil {
			t.Fatal(err)
		}
		e.secret[role] = secret
	}
	s := &Server{
		Store:        st,
		Runner:       e.runner,
		Log:          slog.New(slog.DiscardHandler),
		Registry:     e.reg,
		MaxBodyBytes: maxBody,
		Version:      "test",
	}
	e.srv = httptest.NewServer(s.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *testEnv) client(role string) *api.Client {
	return api.NewClient(e.srv.URL, e.secret[role], e.srv.Client())
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) problem(t *testing.T) api.Error {
	t.Helper()
	var p api.Error
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body %q: %v", r.body, err)
	}
	return p
}

// do sends a raw request; role "" sends no token, any other unknown role is
// sent as the token itself.
func (e *testEnv) do(role, method, path string, body any) response {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		secret, ok := e.secret[role]
		if !ok {
			secret = role
		}
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func TestHealth(t *testing.T) {
	e := newTestEnv(t, 0, fixture()...)
	if r := e.do("", "GET", "/healthz", nil); r.status != 200 || string(r.body) != "ok\n" {
		t.Errorf("healthz: %d %q", r.status, r.body)
	}
	if r := e.do("", "GET", "/readyz", nil); r.status != 200 {
		t.Errorf("readyz: %d %q", r.status, r.body)
	}
	e.store.setPingErr(errors.New("database is locked"))
	r := e.do("", "GET", "/readyz", nil)
	if r.status != 503 || !strings.Contains(string(r.body), "database is locked") {
		t.Errorf("readyz with failing store: %d %q", r.status, r.body)
	}
	if err := e.client(api.RoleViewer).Readyz(context.Background()); api.StatusCode(err) != 503 {
		t.Errorf("client Readyz = %v, want status 503", err)
	}
	if r := e.do("", "GET", "/healthz", nil); r.status != 200 {
		t.Errorf("healthz with failing store: %d", r.status)
	}
}

func TestAuthentication(t *testing.T) {
	e := newTestEnv(t, 0, fixture()...)
	for _, tc := range []struct {
		name, header string
	}{
		{"no header", ""},
		{"bad token", "Bearer nope"},
		{"wrong scheme", "Basic " + e.secret[api.RoleAdmin]},
		{"empty bearer", "Bearer "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.srv.URL+"/v1/objects/node", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
	// The bearer scheme is case-insensitive.
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/whoami", nil)
	req.Header.Set("Authorization", "bearer "+e.secret[api.RoleViewer])
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("lower-case bearer: status %d", resp.StatusCode)
	}
	// The public endpoints need no token.
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/v1/openapi.json", "/v1/openapi.yaml", "/v1/docs"} {
		if r := e.do("", "GET", path, nil); r.status != 200 {
			t.Errorf("GET %s without token: %d", path, r.status)
		}
	}
	// The client reports 401 as an *api.Error.
	_, err = api.NewClient(e.srv.URL, "wrong", e.srv.Client()).Whoami(context.Background())
	var ae *api.Error
	if !errors.As(err, &ae) || ae.StatusCode != 401 {
		t.Errorf("client with bad token: %v", err)
	}
}

func TestRoles(t *testing.T) {
	newNode := map[string]any{"name": "cn99", "attrs": map[string]string{"groups": "compute"}}
	put := map[string]any{"attrs": map[string]string{"groups": "compute", "mac": "52:54:00:00:00:63"}}
	patch := map[string]any{"attrs": map[string]string{"os": "rhels8"}}
	apply := api.ApplyRequest{Objects: []api.Object{{Type: "node", Name: "cn98", Attrs: map[string]string{"groups": "compute"}}}}
	prune := api.ApplyRequest{Objects: apply.Objects, Prune: true, DryRun: true}
	run := func(cmd string, secrets bool) api.RunRequest {
		return api.RunRequest{Command: cmd, Args: []string{"-t", "node"}, ShowSecrets: secrets}
	}
	type want struct{ admin, operator, viewer int }
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               want
	}{
		{"list", "GET", "/v1/objects/node", nil, want{200, 200, 200}},
		{"list secrets", "GET", "/v1/objects/node?secrets=true", nil, want{200, 200, 403}},
		{"get", "GET", "/v1/objects/node/cn01", nil, want{200, 200, 200}},
		{"get secrets", "GET", "/v1/objects/node/cn01?secrets=true", nil, want{200, 200, 403}},
		// The operator creates cn99 before the admin tries: 409 for the admin.
		{"create", "POST", "/v1/objects/node", newNode, want{409, 201, 403}},
		{"put", "PUT", "/v1/objects/node/cn01", put, want{200, 200, 403}},
		{"patch", "PATCH", "/v1/objects/node/cn02", patch, want{200, 200, 403}},
		{"delete", "DELETE", "/v1/objects/node/cn03", nil, want{204, 403, 403}},
		{"apply", "POST", "/v1/apply", apply, want{200, 200, 403}},
		{"apply prune", "POST", "/v1/apply", prune, want{200, 403, 403}},
		{"run read-only", "POST", "/v1/run", run("lsdef", false), want{200, 200, 200}},
		{"run read-only secrets", "POST", "/v1/run", run("lsdef", true), want{200, 200, 403}},
		{"run write", "POST", "/v1/run", run("chdef", false), want{200, 200, 403}},
		{"run rmdef", "POST", "/v1/run", run("rmdef", false), want{200, 403, 403}},
		{"run noderm", "POST", "/v1/run", run("noderm", false), want{200, 403, 403}},
		{"run tabprune", "POST", "/v1/run", run("tabprune", false), want{200, 403, 403}},
		{"run unknown", "POST", "/v1/run", run("rm", false), want{404, 404, 404}},
		{"whoami", "GET", "/v1/whoami", nil, want{200, 200, 200}},
		{"list tokens", "GET", "/v1/tokens", nil, want{200, 403, 403}},
		{"create token", "POST", "/v1/tokens", api.CreateTokenRequest{Name: "x", Role: "viewer"}, want{201, 403, 403}},
		{"delete token", "DELETE", "/v1/tokens/nope", nil, want{404, 403, 403}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh server per case: admin's writes must not change the
			// operator's and viewer's outcomes. Roles run weakest first.
			e := newTestEnv(t, 0, fixture()...)
			got := want{
				viewer:   e.do(api.RoleViewer, tc.method, tc.path, tc.body).status,
				operator: e.do(api.RoleOperator, tc.method, tc.path, tc.body).status,
				admin:    e.do(api.RoleAdmin, tc.method, tc.path, tc.body).status,
			}
			if got != tc.want {
				t.Errorf("%s %s: got %+v, want %+v", tc.method, tc.path, got, tc.want)
			}
		})
	}
	// A 403 names the role needed.
	e := newTestEnv(t, 0, fixture()...)
	r := e.do(api.RoleOperator, "DELETE", "/v1/objects/node/cn01", nil)
	if p := r.problem(t); !strings.Contains(p.Detail, "admin") {
		t.Errorf("403 detail %q does not name the admin role", p.Detail)
	}
	if _, ok := e.store.Get(inventory.Node, "cn01"); !ok {
		t.Error("a forbidden delete deleted cn01")
	}
}

func TestObjectCRUD(t *testing.T) {
	e := newTestEnv(t, 0, fixture()...)
	ctx := context.Background()
	c := e.client(api.RoleAdmin)

	created, err := c.Create(ctx, api.Object{Type: "osimage", Name: "img1", Attrs: map[string]string{"osvers": "rhels9", "osarch": "x86_64"}})
	if err != nil {
		t.Fatal(err)
	}
	want := api.Object{Type: "osimage", Name: "img1", Attrs: map[string]string{"osvers": "rhels9", "osarch": "x86_64"}}
	if d := cmp.Diff(want, created); d != "" {
		t.Errorf("create (-want +got):\n%s", d)
	}
	got, err := c.Get(ctx, "osimage", "img1", api.ListOptions{})
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("get = %+v, %v", got, err)
	}

	// Create again: 409.
	_, err = c.Create(ctx, want)
	if api.StatusCode(err) != 409 {
		t.Errorf("second create: %v, want 409", err)
	}

	// PUT replaces all attributes.
	got, err = c.Put(ctx, api.Object{Type: "osimage", Name: "img1", Attrs: map[string]string{"osvers": "rhels9.4"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"osvers": "rhels9.4"}, got.Attrs); d != "" {
		t.Errorf("put (-want +got):\n%s", d)
	}
	// PUT creates a missing object.
	if _, err := c.Put(ctx, api.Object{Type: "osimage", Name: "img2", Attrs: map[string]string{"osvers": "x"}}); err != nil {
		t.Errorf("put of a new object: %v", err)
	}

	// PATCH merges; an empty value removes.
	got, err = c.Patch(ctx, api.Object{Type: "osimage", Name: "img1", Attrs: map[string]string{"osarch": "ppc64le", "osvers": ""}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"osarch": "ppc64le"}, got.Attrs); d != "" {
		t.Errorf("patch (-want +got):\n%s", d)
	}
	if _, err := c.Patch(ctx, api.Object{Type: "osimage", Name: "nope", Attrs: map[string]string{"osarch": "x"}}); api.StatusCode(err) != 404 {
		t.Errorf("patch of a missing object: %v, want 404", err)
	}

	// List of a non-node type: sorted, comma list of names.
	list, err := c.List(ctx, "osimage", "", api.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range list {
		names = append(names, o.Name)
	}
	if d := cmp.Diff([]string{"alma9-netboot", "img1", "img2", "rhels8-x86_64-install-compute"}, names); d != "" {
		t.Errorf("list osimage (-want +got):\n%s", d)
	}
	list, err = c.List(ctx, "osimage", "img2,img1", api.ListOptions{})
	if err != nil || len(list) != 2 || list[0].Name != "img1" || list[1].Name != "img2" {
		t.Errorf("list img2,img1 = %+v, %v", list, err)
	}
	_, err = c.List(ctx, "osimage", "img1,ghost", api.ListOptions{})
	if api.StatusCode(err) != 404 || !strings.Contains(err.Error(), "Could not find an object named 'ghost' of type 'osimage'.") {
		t.Errorf("list with a missing name: %v", err)
	}

	// DELETE, then 404.
	if err := c.Delete(ctx, "osimage", "img1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.store.Get(inventory.OSImage, "img1"); ok {
		t.Error("img1 still stored after delete")
	}
	err = c.Delete(ctx, "osimage", "img1")
	if api.StatusCode(err) != 404 {
		t.Errorf("second delete: %v, want 404", err)
	}
	_, err = c.Get(ctx, "osimage", "img1", api.ListOptions{})
	if api.StatusCode(err) != 404 || err.Error() != "Could not find an object named 'img1' of type 'osimage'." {
		t.Errorf("get deleted: %v", err)
	}

	// Unknown type.
	_, err = c.List(ctx, "widget", "", api.ListOptions{})
	if api.StatusCode(err) != 422 || err.Error() != "Type 'widget' is not a valid xCAT object type." {
		t.Errorf("unknown type: %v", err)
	}
	// Body and path disagree.
	_, err = c.Put(ctx, api.Object{Type: "osimage", Name: "img2"})
	if err != nil {
		t.Errorf("put without attrs: %v", err)
	}
	r := e.do(api.RoleAdmin, "PUT", "/v1/objects/osimage/img2", api.Object{Type: "node", Name: "img2"})
	if r.status != 400 {
		t.Errorf("type mismatch: %d %s", r.status, r.body)
	}
	// Strict decoding: unknown fields are rejected.
	r = e.do(api.RoleAdmin, "POST", "/v1/objects/osimage", `{"name":"x","atrs":{"osvers":"1"}}`)
	if r.status != 422 {
		t.Errorf("unknown field: %d %s", r.status, r.body)
	}
}

func TestUnknownAttribute(t *testing.T) {
	e := newTestEnv(t, 0, fixture()...)
	ctx := context.Background()
	c := e.client(api.RoleOperator)
	const msg = "'bogus' is not a valid attribute name for an object type of 'node'."
	_, err := c.Create(ctx, api.Object{Type: "node", Name: "cn50", Attrs: map[string]string{"groups": "compute", "bogus": "1"}})
	if api.StatusCode(err) != 422 || !strings.Contains(err.Error(), msg) {
		t.Errorf("create: %v", err)
	}
	_, err = c.Put(ctx, api.Object{Type: "node", Name: "cn01", Attrs: map[string]string{"bogus": "1"}})
	if api.StatusCode(err) != 422 || !strings.Contains(err.Error(), msg) {
		t.Errorf("put: %v", err)
	}
	_, err = c.Patch(ctx, api.Object{Type: "node", Name: "cn01", Attrs: map[string]string{"bogus": ""}})
	if api.StatusCode(err) != 422 || !strings.Contains(err.Error(), msg) {
		t.Errorf("patch removing an unknown attribute: %v", err)
	}
	if _, ok := e.store.Get(inventory.Node, "cn50"); ok {
		t.Error("invalid node was stored")
	}
	if o, _ := e.store.Get(inventory.Node, "cn01"); o.Attrs["mac"] == "" {
		t.Error("invalid put changed cn01")
	}
}

func TestNodeRangeList(t *testing.T) {
	e := newTestEnv(t, 0, fixture()...)
	ctx := context.Background()
	c := e.client(api.RoleViewer)
	raw := false
	for _, tc := range []struct {
		rng  string
		want []string
	}{
		{"", []string{"cn01", "cn02", "cn03", "cn04", "cn05"}},
		{"cn[02-04]", []string{"cn02", "cn03", "cn04"}},
		{"cn04,cn02", []string{"cn02", "cn04"}},
		{"gpu", []string{"cn05"}},
		{"compute,-cn01", []string{"cn02", "cn03", "cn04", "cn05"}},
	} {
		t.Run(tc.rng, func(t *testing.T) {
			list, err := c.List(ctx, "node", tc.rng, api.ListOptions{Resolved: &raw})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, o := range list {
				names = append(names, o.Name)
			}
			if d := cmp.Diff(tc.want, names); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	_, err := c.List(ctx, "node", "cn01,cn77,nosuch", api.ListOptions{})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Detail != "Invalid nodes and/or groups in noderange: cn77,nosuch" {
		t.Errorf("unknown names: %v", err)
	}
}

func TestResolvedAndMembers(t *testing.T) {
	e := newTestEnv(t, 0, fixture()...)
	ctx := context.Background()
	c := e.client(api.RoleAdmin)
	// Resolved (the default): cn01 inherits from compute.
	got, err := c.Get(ctx, "node", "cn01", api.ListOptions{Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"groups": "compute,all", "mac": "52:54:00:00:00:01", "ip": "10.0.0.1",
		"mgt": "ipmi", "bmcusername": "ADMIN", "bmcpassword": "grouppw"}
	if d := cmp.Diff(want, got.Attrs); d != "" {
		t.Errorf("resolved cn01 (-want +got):\n%s", d)
	}
	raw := false
	got, err = c.Get(ctx, "node", "cn01", api.ListOptions{Resolved: &raw})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]string{"groups": "compute,all", "mac": "52:54:00:00:00:01", "ip": "10.0.0.1"}, got.Attrs); d != "" {
		t.Errorf("raw cn01 (-want +got):\n%s", d)
	}
	// Groups show their members, computed.
	g, err := c.Get(ctx, "group", "gpu", api.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Attrs["members"] != "cn05" {
		t.Errorf("gpu members = %q, want cn05", g.Attrs["members"])
	}
	g, err = c.Get(ctx, "group", "gpu", api.ListOptions{Resolved: &raw})
	if err != nil || g.Attrs["members"] != "" {
		t.Errorf("raw gpu = %+v, %v; want no members attribute", g, err)
	}
}

func TestSecrets(t *testing.T) {
	e := newTestEnv(t, 0, fixture()...)
	ctx := context.Background()
	for _, tc := range []struct {
		role    string
		secrets bool
		want    string
	}{
		{api.RoleAdmin, false, inventory.Masked},
		{api.RoleAdmin, true, "nodepw"},
		{api.RoleOperator, false, inventory.Masked},
		{api.RoleOperator, true, "nodepw"},
		{api.RoleViewer, false, inventory.Masked},
	} {
		t.Run(fmt.Sprintf("%s secrets=%v", tc.role, tc.secrets), func(t *testing.T) {
			c := e.client(tc.role)
			got, err := c.Get(ctx, "node", "cn05", api.ListOptions{Secrets: tc.secrets})
			if err != nil {
				t.Fatal(err)
			}
			if got.Attrs["bmcpassword"] != tc.want {
				t.Errorf("cn05 bmcpassword = %q, want %q", got.Attrs["bmcpassword"], tc.want)
			}
			list, err := c.List(ctx, "group", "compute", api.ListOptions{Secrets: tc.secrets})
			if err != nil {
				t.Fatal(err)
			}
			wantGroup := inventory.Masked
			if tc.secrets {
				wantGroup = "grouppw"
			}
			if got := list[0].Attrs["bmcpassword"]; got != wantGroup {
				t.Errorf("compute bmcpassword = %q, want %q", got, wantGroup)
			}
			// Inherited secrets are masked too.
			cn01, err := c.Get(ctx, "node", "cn01", api.ListOptions{Secrets: tc.secrets})
			if err != nil {
				t.Fatal(err)
			}
			if cn01.Attrs["bmcpassword"] != wantGroup {
				t.Errorf("cn01 inherited bmcpassword = %q, want %q", cn01.Attrs["bmcpassword"], wantGroup)
			}
		})
	}
	if _, err := e.client(api.RoleViewer).Get(ctx, "node", "cn05", api.ListOptions{Secrets: true}); api.StatusCode(err) != 403 {
		t.Errorf("viewer asking for secrets: %v, want 403", err)
	}

	// Writing the masked value back keeps the stored secret: PUT, PATCH, apply.
	c := e.client(api.RoleOperator)
	raw := false
	cn05, err := c.Get(ctx, "node", "cn05", api.ListOptions{Resolved: &raw})
	if err != nil {
		t.Fatal(err)
	}
	if cn05.Attrs["bmcpassword"] != inventory.Masked {
		t.Fatalf("cn05 not masked: %+v", cn05)
	}
	cn05.Attrs["ip"] = "10.0.0.55"
	if _, err := c.Put(ctx, cn05); err != nil {
		t.Fatal(err)
	}
	stored := func(t inventory.Type, name string) map[string]string {
		o, _ := e.store.Get(t, name)
		return o.Attrs
	}
	if got := stored(inventory.Node, "cn05"); got["bmcpassword"] != "nodepw" || got["ip"] != "10.0.0.55" {
		t.Errorf("after PUT with masked secret: %v", got)
	}
	if _, err := c.Patch(ctx, api.Object{Type: "node", Name: "cn05", Attrs: map[string]string{"bmcpassword": inventory.Masked, "os": "rhels8"}}); err != nil {
		t.Fatal(err)
	}
	if got := stored(inventory.Node, "cn05"); got["bmcpassword"] != "nodepw" || got["os"] != "rhels8" {
		t.Errorf("after PATCH with masked secret: %v", got)
	}
	groups, err := c.List(ctx, "group", "", api.ListOptions{Resolved: &raw})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Apply(ctx, api.ApplyRequest{Objects: groups})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 0 {
		t.Errorf("re-applying a masked dump changes %+v", res.Changes)
	}
	if got := stored(inventory.Group, "compute"); got["bmcpassword"] != "grouppw" {
		t.Errorf("after apply of masked group: %v", got)
	}
	// A masked value for a secret that is not stored is dropped, not stored.
	if _, err := c.Create(ctx, api.Object{Type: "node", Name: "cn60", Attrs: map[string]string{"groups": "compute", "bmcpassword": inventory.Masked}}); err != nil {
		t.Fatal(err)
	}
	if got := stored(inventory.Node, "cn60"); got["bmcpassword"] != "" {
		t.Errorf("masked value stored as a password: %v", got)
	}
	// A new secret is stored, and masked in the answer.
	got, err := c.Patch(ctx, api.Object{Type: "node", Name: "cn60", Attrs: map[string]string{"bmcpassword": "newpw"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Attrs["bmcpassword"] != inventory.Masked || stored(inventory.Node, "cn60")["bmcpassword"] != "newpw" {
		t.Errorf("new secret: answer %v, stored %v", got.Attrs, stored(inventory.Node, "cn60"))
	}
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	node := func(name string, kv ...string) api.Object {
		o := api.Object{Type: "node", Name: name, Attrs: map[string]string{}}
		for i := 0; i+1 < len(kv); i += 2 {
			o.Attrs[kv[i]] = kv[i+1]
		}
		return o
	}

	t.Run("all or nothing", func(t *testing.T) {
		e := newTestEnv(t, 0, fixture()...)
		c := e.client(api.RoleOperator)
		_, err := c.Apply(ctx, api.ApplyRequest{Objects: []api.Object{
			node("cn10", "groups", "compute"),
			node("cn11", "groups", "compute", "colour", "blue"),
			node("cn01", "groups", "compute", "ip", "10.9.9.9"),
		}})
		var ae *api.Error
		if !errors.As(err, &ae) || ae.StatusCode != 422 {
			t.Fatalf("apply with an invalid object: %v", err)
		}
		if !strings.Contains(ae.Detail, "cn11") || !strings.Contains(ae.Detail, "'colour' is not a valid attribute name for an object type of 'node'.") {
			t.Errorf("detail %q does not name the object and attribute", ae.Detail)
		}
		if _, ok := e.store.Get(inventory.Node, "cn10"); ok {
			t.Error("cn10 written although the apply failed")
		}
		if o, _ := e.store.Get(inventory.Node, "cn01"); o.Attrs["ip"] != "10.0.0.1" {
			t.Error("cn01 changed although the apply failed")
		}
		// Duplicates and unknown types are invalid too.
		_, err = c.Apply(ctx, api.ApplyRequest{Objects: []api.Object{node("cn10"), node("cn10")}})
		if api.StatusCode(err) != 422 {
			t.Errorf("duplicate: %v", err)
		}
		_, err = c.Apply(ctx, api.ApplyRequest{Objects: []api.Object{{Type: "widget", Name: "w"}}})
		if api.StatusCode(err) != 422 || !strings.Contains(err.Error(), "Type 'widget' is not a valid xCAT object type.") {
			t.Errorf("unknown type: %v", err)
		}
	})

	t.Run("dry run and apply", func(t *testing.T) {
		e := newTestEnv(t, 0, fixture()...)
		c := e.client(api.RoleOperator)
		req := api.ApplyRequest{Objects: []api.Object{
			node("cn01", "groups", "compute,all", "mac", "52:54:00:00:00:01", "ip", "10.0.0.101"),
			node("cn20", "groups", "compute", "bmcpassword", "pw20"),
		}, DryRun: true}
		res, err := c.Apply(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		want := api.ApplyResult{Changes: []api.ObjectChange{
			{Op: "put", Type: "node", Name: "cn01", Attrs: []api.AttrChange{{Attr: "ip", Old: "10.0.0.1", New: "10.0.0.101"}}},
			{Op: "create", Type: "node", Name: "cn20", Attrs: []api.AttrChange{
				{Attr: "bmcpassword", New: inventory.Masked}, {Attr: "groups", New: "compute"}}},
		}}
		if d := cmp.Diff(want, res); d != "" {
			t.Errorf("dry run (-want +got):\n%s", d)
		}
		if _, ok := e.store.Get(inventory.Node, "cn20"); ok {
			t.Error("dry run wrote cn20")
		}
		req.DryRun = false
		res, err = c.Apply(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, res); d != "" {
			t.Errorf("apply (-want +got):\n%s", d)
		}
		if o, ok := e.store.Get(inventory.Node, "cn20"); !ok || o.Attrs["bmcpassword"] != "pw20" {
			t.Errorf("cn20 after apply: %+v", o)
		}
		// Applying again changes nothing.
		res, err = c.Apply(ctx, req)
		if err != nil || len(res.Changes) != 0 {
			t.Errorf("second apply: %+v, %v", res, err)
		}
	})

	t.Run("prune", func(t *testing.T) {
		e := newTestEnv(t, 0, fixture()...)
		c := e.client(api.RoleAdmin)
		req := api.ApplyRequest{Objects: []api.Object{
			node("cn01", "groups", "compute,all", "mac", "52:54:00:00:00:01", "ip", "10.0.0.1"),
			node("cn02", "groups", "compute,all", "mac", "52:54:00:00:00:02", "ip", "10.0.0.2"),
		}, Prune: true, DryRun: true}
		res, err := c.Apply(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ch := range res.Changes {
			got = append(got, ch.Op+" "+ch.Type+"/"+ch.Name)
		}
		wantOps := []string{"delete node/cn03", "delete node/cn04", "delete node/cn05"}
		if d := cmp.Diff(wantOps, got); d != "" {
			t.Errorf("prune dry run (-want +got):\n%s", d)
		}
		for _, ch := range res.Changes {
			for _, a := range ch.Attrs {
				if a.Attr == "bmcpassword" && a.Old != inventory.Masked {
					t.Errorf("secret in a delete diff: %+v", a)
				}
			}
		}
		if len(e.store.List(inventory.Node)) != 5 {
			t.Error("prune dry run deleted nodes")
		}
		req.DryRun = false
		if _, err := c.Apply(ctx, req); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range e.store.List(inventory.Node) {
			names = append(names, o.Name)
		}
		if d := cmp.Diff([]string{"cn01", "cn02"}, names); d != "" {
			t.Errorf("nodes after prune (-want +got):\n%s", d)
		}
		// Prune touches only the applied types.
		if len(e.store.List(inventory.OSImage)) != 2 || len(e.store.List(inventory.Group)) != 2 {
			t.Error("prune of nodes deleted other types")
		}
		// Explicit prune types.
		res, err = c.Apply(ctx, api.ApplyRequest{Prune: true, PruneTypes: []string{"osimage"}, DryRun: true})
		if err != nil || len(res.Changes) != 2 {
			t.Errorf("prune osimage: %+v, %v", res, err)
		}
	})
}

func TestBodyLimit(t *testing.T) {
	const limit = 1024
	e := newTestEnv(t, limit, fixture()...)
	// A valid body of exactly the limit passes.
	body := `{"name":"big","attrs":{"osvers":"` + strings.Repeat("x", limit-len(`{"name":"big","attrs":{"osvers":""}}`)) + `"}}`
	if len(body) != limit {
		t.Fatalf("body is %d bytes", len(body))
	}
	if r := e.do(api.RoleAdmin, "POST", "/v1/objects/osimage", body); r.status != 201 {
		t.Errorf("body of exactly the limit: %d %s", r.status, r.body)
	}
	big := `{"name":"big2","attrs":{"osvers":"` + strings.Repeat("x", limit) + `"}}`
	r := e.do(api.RoleAdmin, "POST", "/v1/objects/osimage", big)
	if r.status != 413 {
		t.Errorf("oversized body with Content-Length: %d %s", r.status, r.body)
	}
	if p := r.problem(t); !strings.Contains(p.Detail, "1024") {
		t.Errorf("413 detail %q does not give the limit", p.Detail)
	}
	// Without Content-Length (chunked), huma's limit answers.
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/apply", io.MultiReader(strings.NewReader(`{"objects":[`), strings.NewReader(strings.Repeat(`{"type":"node","name":"a"},`, 100)+`{"type":"node","name":"b"}]}`)))
	req.Header.Set("Authorization", "Bearer "+e.secret[api.RoleAdmin])
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(b), "1024") {
		t.Errorf("oversized chunked body: %d %s", resp.StatusCode, b)
	}
	if _, ok := e.store.Get(inventory.OSImage, "big2"); ok {
		t.Error("oversized object stored")
	}
	// The client sees the 413 as an *api.Error.
	_, err = e.client(api.RoleAdmin).Create(context.Background(), api.Object{Type: "osimage", Name: "big3", Attrs: map[string]string{"osvers": strings.Repeat("y", 2*limit)}})
	if api.StatusCode(err) != 413 {
		t.Errorf("client: %v, want 413", err)
	}
}

func TestRun(t *testing.T) {
	e := newTestEnv(t, 0, fixture()...)
	ctx := context.Background()
	req := api.RunRequest{Command: "lsdef", Args: []string{"-t", "node", "-z"}, Stdin: "in", Files: map[string]string{"/tmp/f": "cn01\n"}}
	resp, err := e.client(api.RoleViewer).Run(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(api.RunResponse{Stdout: "ran lsdef\n"}, resp); d != "" {
		t.Errorf("response (-want +got):\n%s", d)
	}
	want := xcatcmd.Request{Command: "lsdef", Args: []string{"-t", "node", "-z"}, Stdin: "in", Files: map[string]string{"/tmp/f": "cn01\n"}}
	if d := cmp.Diff(want, e.runner.last()); d != "" {
		t.Errorf("runner got (-want +got):\n%s", d)
	}
	req.ShowSecrets = true
	if _, err := e.client(api.RoleOperator).Run(ctx, req); err != nil {
		t.Fatal(err)
	}
	if !e.runner.last().ShowSecrets {
		t.Error("operator's showSecrets not passed on")
	}
	_, err = e.client(api.RoleAdmin).Run(ctx, api.RunRequest{Command: "sh", Args: []string{"-c", "id"}})
	if api.StatusCode(err) != 404 || !strings.Contains(err.Error(), `unknown command "sh"`) {
		t.Errorf("unknown command: %v", err)
	}
}

func TestTokens(t *testing.T) {
	e := newTestEnv(t, 0, fixture()...)
	ctx := context.Background()
	admin := e.client(api.RoleAdmin)
	tok, err := admin.CreateToken(ctx, "ci-bot", api.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Token == "" || tok.ID == "" || tok.Name != "ci-bot" || tok.Role != api.RoleViewer {
		t.Errorf("created token = %+v", tok)
	}
	id, err := api.NewClient(e.srv.URL, tok.Token, e.srv.Client()).Whoami(ctx)
	if err != nil || id != (api.Identity{Name: "ci-bot", Role: api.RoleViewer}) {
		t.Errorf("whoami with the new token = %+v, %v", id, err)
	}
	toks, err := admin.ListTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 4 {
		t.Errorf("tokens = %+v, want 4", toks)
	}
	if _, err := admin.CreateToken(ctx, "x", "superuser"); api.StatusCode(err) != 422 {
		t.Errorf("unknown role: %v, want 422", err)
	}
	if _, err := admin.CreateToken(ctx, "", "viewer"); api.StatusCode(err) != 422 {
		t.Errorf("empty name: %v, want 422", err)
	}
	if err := admin.DeleteToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := api.NewClient(e.srv.URL, tok.Token, e.srv.Client()).Whoami(ctx); api.StatusCode(err) != 401 {
		t.Errorf("revoked token: %v, want 401", err)
	}
	if err := admin.DeleteToken(ctx, tok.ID); api.StatusCode(err) != 404 {
		t.Errorf("second delete: %v, want 404", err)
	}
}

func TestOpenAPI(t *testing.T) {
	e := newTestEnv(t, 0)
	r := e.do("", "GET", "/v1/openapi.json", nil)
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Info    struct{ Title, Version string }       `json:"info"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
		Comps   struct {
			SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info.Title != "drover" || doc.Info.Version != "test" {
		t.Errorf("header: %q %+v", doc.OpenAPI, doc.Info)
	}
	want := map[string][]string{
		"/v1/objects/{type}":        {"get", "post"},
		"/v1/objects/{type}/{name}": {"delete", "get", "patch", "put"},
		"/v1/apply":                 {"post"},
		"/v1/events/{node}":         {"get"},
		"/v1/gitops/status":         {"get"},
		"/v1/gitops/sync":           {"post"},
		"/v1/run":                   {"post"},
		"/v1/secrets":               {"get"},
		"/v1/secrets/{name}":        {"delete", "put"},
		"/v1/tokens":                {"get", "post"},
		"/v1/tokens/{id}":           {"delete"},
		"/v1/whoami":                {"get"},
	}
	got := map[string][]string{}
	for p, ops := range doc.Paths {
		for m := range ops {
			got[p] = append(got[p], m)
		}
		slices.Sort(got[p])
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("paths (-want +got):\n%s", d)
	}
	if _, ok := doc.Comps.SecuritySchemes["bearer"]; !ok {
		t.Error("no bearer security scheme")
	}
	if r := e.do("", "GET", "/v1/openapi.yaml", nil); r.status != 200 || !bytes.Contains(r.body, []byte("openapi: 3.1.0")) {
		t.Errorf("openapi.yaml: %d", r.status)
	}
	if r := e.do("", "GET", "/v1/docs", nil); r.status != 200 || !bytes.Contains(r.body, []byte("/v1/openapi")) {
		t.Errorf("docs: %d %s", r.status, r.body)
	}
}

func TestMetrics(t *testing.T) {
	e := newTestEnv(t, 0, fixture()...)
	e.do(api.RoleViewer, "GET", "/v1/objects/node", nil)
	e.do(api.RoleViewer, "GET", "/v1/objects/node/cn01", nil)
	e.do("", "GET", "/v1/objects/node", nil)
	e.do("", "GET", "/nowhere", nil)
	r := e.do("", "GET", "/metrics", nil)
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	for _, line := range []string{
		`drover_http_requests_total{code="200",method="GET",route="/v1/objects/{type}"} 1`,
		`drover_http_requests_total{code="401",method="GET",route="/v1/objects/{type}"} 1`,
		`drover_http_requests_total{code="200",method="GET",route="/v1/objects/{type}/{name}"} 1`,
		`drover_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`drover_http_request_duration_seconds_count{code="200",method="GET",route="/v1/objects/{type}"} 1`,
		`drover_inventory_objects{type="node"} 5`,
		`drover_inventory_objects{type="osimage"} 2`,
		`drover_inventory_objects{type="boottarget"} 0`,
	} {
		if !bytes.Contains(r.body, []byte(line+"\n")) {
			t.Errorf("metrics lack %q", line)
		}
	}
	// The metrics are on the given registry.
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	for _, n := range []string{"drover_http_requests_total", "drover_http_request_duration_seconds", "drover_inventory_objects"} {
		if !slices.Contains(names, n) {
			t.Errorf("registry lacks %s", n)
		}
	}
}

func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("x: %w", inventory.ErrNotFound), 404},
		{fmt.Errorf("x: %w", inventory.ErrExists), 409},
		{&inventory.UnknownAttrError{Type: inventory.Node, Attr: "x"}, 422},
		{fmt.Errorf("wrapped: %w", &inventory.UnknownTypeError{Type: "x"}), 422},
		{&http.MaxBytesError{Limit: 1}, 413},
		{newError(errUnauthorized, "no"), 401},
		{&kindError{kind: errUnauthorized, msg: "invalid token", cause: inventory.ErrNotFound}, 401},
		{newError(errForbidden, "no"), 403},
		{newError(errBadRequest, "no"), 400},
		{newError(errUnknownCommand, "no"), 404},
		{errors.New("disk on fire"), 500},
	} {
		if got := statusOf(tc.err); got != tc.want {
			t.Errorf("statusOf(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestHandlerBuiltOnce(t *testing.T) {
	s := &Server{Store: newFakeStore(), Runner: &fakeRunner{}, Registry: prometheus.NewRegistry()}
	if s.Handler() != s.Handler() {
		t.Error("Handler built twice")
	}
	// A second server on the same registry shares the HTTP metrics.
	s2 := &Server{Store: newFakeStore(), Runner: &fakeRunner{}, Registry: s.Registry, Log: slog.New(slog.DiscardHandler)}
	s2.Handler()
}

// TestRunXCATCommands runs the real xCAT commands through the API.
func TestRunXCATCommands(t *testing.T) {
	st := newFakeStore(fixture()...)
	secret, _, _ := st.CreateToken(context.Background(), "v", api.RoleViewer)
	admin, _, _ := st.CreateToken(context.Background(), "a", api.RoleAdmin)
	s := &Server{Store: st, Runner: &xcatcmd.Runner{Backend: st}, Registry: prometheus.NewRegistry()}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ctx := context.Background()
	viewer := api.NewClient(srv.URL, secret, srv.Client())
	req := api.RunRequest{Command: "lsdef", Args: []string{"-t", "node", "-o", "cn05", "-i", "bmcpassword,mgt"}}
	resp, err := viewer.Run(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	want := "Object name: cn05\n    bmcpassword=" + inventory.Masked + "\n    mgt=ipmi\n"
	if resp.Stdout != want || resp.ExitCode != 0 {
		t.Errorf("viewer lsdef: %+v, want stdout %q", resp, want)
	}
	req.ShowSecrets = true
	resp, err = api.NewClient(srv.URL, admin, srv.Client()).Run(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Object name: cn05\n    bmcpassword=nodepw\n    mgt=ipmi\n"; resp.Stdout != want {
		t.Errorf("admin lsdef with secrets: %+v, want stdout %q", resp, want)
	}
	resp, err = viewer.Run(ctx, api.RunRequest{Command: "lsdef", Args: []string{"-t", "node", "-o", "cn77"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ExitCode != 1 || !strings.HasPrefix(resp.Stderr, "Error: ") {
		t.Errorf("lsdef of a missing node: %+v", resp)
	}
}

// BenchmarkListNodes lists 10,000 resolved nodes in 100 groups through the
// API and the client.
func BenchmarkListNodes(b *testing.B) {
	var objs []inventory.Object
	for g := range 100 {
		objs = append(objs, obj(inventory.Group, fmt.Sprintf("rack%03d", g), "mgt", "ipmi", "bmcpassword", "pw",
			"bmc", `|\D+(\d+)|10.1.0.($1%250+1)|`))
	}
	for i := range 10_000 {
		objs = append(objs, obj(inventory.Node, fmt.Sprintf("cn%05d", i), "groups", fmt.Sprintf("rack%03d,all", i%100),
			"mac", fmt.Sprintf("52:54:00:00:%02x:%02x", i/256, i%256)))
	}
	st := newFakeStore(objs...)
	secret, _, _ := st.CreateToken(context.Background(), "a", api.RoleAdmin)
	srv := httptest.NewServer((&Server{Store: st, Runner: &fakeRunner{}}).Handler())
	defer srv.Close()
	c := api.NewClient(srv.URL, secret, srv.Client())
	b.ResetTimer()
	for b.Loop() {
		items, err := c.List(context.Background(), "node", "cn[00000-09999]", api.ListOptions{})
		if err != nil || len(items) != 10_000 {
			b.Fatalf("%d items, %v", len(items), err)
		}
	}
}
