package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recorded is one request the stub server saw.
type recorded struct {
	Method, URI, Auth, ContentType, Body string
}

// stub answers every request with status and body, recording the request.
func stub(t *testing.T, status int, contentType, body string) (*httptest.Server, *[]recorded) {
	t.Helper()
	var seen []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = append(seen, recorded{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)})
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestClientRequests(t *testing.T) {
	ctx := context.Background()
	yes, no := true, false
	obj := Object{Type: "node", Name: "cn 1", Attrs: map[string]string{"groups": "compute"}}
	for _, tc := range []struct {
		name string
		call func(c *Client) error
		want recorded
	}{
		{"list", func(c *Client) error { _, err := c.List(ctx, "node", "cn[01-02],gpu", ListOptions{}); return err },
			recorded{Method: "GET", URI: "/v1/objects/node?range=cn%5B01-02%5D%2Cgpu"}},
		{"list options", func(c *Client) error {
			_, err := c.List(ctx, "group", "", ListOptions{Resolved: &no, Secrets: true})
			return err
		}, recorded{Method: "GET", URI: "/v1/objects/group?resolved=false&secrets=true"}},
		{"get", func(c *Client) error { _, err := c.Get(ctx, "node", "cn 1", ListOptions{Resolved: &yes}); return err },
			recorded{Method: "GET", URI: "/v1/objects/node/cn%201?resolved=true"}},
		{"create", func(c *Client) error { _, err := c.Create(ctx, obj); return err },
			recorded{Method: "POST", URI: "/v1/objects/node", ContentType: "application/json",
				Body: `{"type":"node","name":"cn 1","attrs":{"groups":"compute"}}`}},
		{"put", func(c *Client) error { _, err := c.Put(ctx, obj); return err },
			recorded{Method: "PUT", URI: "/v1/objects/node/cn%201", ContentType: "application/json",
				Body: `{"type":"node","name":"cn 1","attrs":{"groups":"compute"}}`}},
		{"patch", func(c *Client) error {
			_, err := c.Patch(ctx, Object{Type: "node", Name: "cn1", Attrs: map[string]string{"mac": ""}})
			return err
		}, recorded{Method: "PATCH", URI: "/v1/objects/node/cn1", ContentType: "application/json",
			Body: `{"type":"node","name":"cn1","attrs":{"mac":""}}`}},
		{"delete", func(c *Client) error { return c.Delete(ctx, "osimage", "img") },
			recorded{Method: "DELETE", URI: "/v1/objects/osimage/img"}},
		{"apply", func(c *Client) error {
			_, err := c.Apply(ctx, ApplyRequest{Objects: []Object{{Type: "site", Name: "clustersite"}}, Prune: true, DryRun: true})
			return err
		}, recorded{Method: "POST", URI: "/v1/apply", ContentType: "application/json",
			Body: `{"objects":[{"type":"site","name":"clustersite"}],"prune":true,"dryRun":true}`}},
		{"run", func(c *Client) error {
			_, err := c.Run(ctx, RunRequest{Command: "lsdef", Args: []string{"-z"}, ShowSecrets: true})
			return err
		}, recorded{Method: "POST", URI: "/v1/run", ContentType: "application/json",
			Body: `{"command":"lsdef","args":["-z"],"showSecrets":true}`}},
		{"whoami", func(c *Client) error { _, err := c.Whoami(ctx); return err },
			recorded{Method: "GET", URI: "/v1/whoami"}},
		{"create token", func(c *Client) error { _, err := c.CreateToken(ctx, "ci", "viewer"); return err },
			recorded{Method: "POST", URI: "/v1/tokens", ContentType: "application/json", Body: `{"name":"ci","role":"viewer"}`}},
		{"list tokens", func(c *Client) error { _, err := c.ListTokens(ctx); return err },
			recorded{Method: "GET", URI: "/v1/tokens"}},
		{"delete token", func(c *Client) error { return c.DeleteToken(ctx, "ab12") },
			recorded{Method: "DELETE", URI: "/v1/tokens/ab12"}},
		{"healthz", func(c *Client) error { return c.Healthz(ctx) }, recorded{Method: "GET", URI: "/healthz"}},
		{"readyz", func(c *Client) error { return c.Readyz(ctx) }, recorded{Method: "GET", URI: "/readyz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, seen := stub(t, 200, "application/json", "{}")
			if err := tc.call(NewClient(srv.URL+"/", "s3cret", srv.Client())); err != nil {
				t.Fatal(err)
			}
			tc.want.Auth = "Bearer s3cret"
			if d := cmp.Diff([]recorded{tc.want}, *seen); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestClientDecodes(t *testing.T) {
	srv, _ := stub(t, 200, "application/json", `{"items":[{"type":"node","name":"cn1","attrs":{"mac":"aa"}},{"type":"node","name":"cn2"}]}`)
	got, err := NewClient(srv.URL, "", nil).List(context.Background(), "node", "", ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Object{{Type: "node", Name: "cn1", Attrs: map[string]string{"mac": "aa"}}, {Type: "node", Name: "cn2"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestClientErrors(t *testing.T) {
	for _, tc := range []struct {
		name, ct, body string
		status         int
		want           Error
		msg            string
	}{
		{"problem", "application/problem+json", `{"title":"Not Found","status":404,"detail":"Could not find an object named 'x' of type 'node'."}`, 404,
			Error{StatusCode: 404, Title: "Not Found", Status: 404, Detail: "Could not find an object named 'x' of type 'node'."},
			"Could not find an object named 'x' of type 'node'."},
		{"validation", "application/problem+json", `{"title":"Unprocessable Entity","status":422,"detail":"validation failed","errors":[{"message":"expected string","location":"body.name","value":3}]}`, 422,
			Error{StatusCode: 422, Title: "Unprocessable Entity", Status: 422, Detail: "validation failed",
				Errors: []ErrorDetail{{Message: "expected string", Location: "body.name", Value: float64(3)}}},
			"validation failed: expected string (body.name)"},
		{"title only", "application/problem+json", `{"title":"Unauthorized","status":401}`, 401,
			Error{StatusCode: 401, Title: "Unauthorized", Status: 401}, "Unauthorized"},
		{"plain text", "text/plain", "not ready: database is locked\n", 503,
			Error{StatusCode: 503, Title: "Service Unavailable", Status: 503, Detail: "not ready: database is locked"},
			"not ready: database is locked"},
		{"empty", "", "", 502, Error{StatusCode: 502, Title: "Bad Gateway", Status: 502}, "Bad Gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := stub(t, tc.status, tc.ct, tc.body)
			_, err := NewClient(srv.URL, "t", srv.Client()).Get(context.Background(), "node", "x", ListOptions{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if d := cmp.Diff(tc.want, *e); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if err.Error() != tc.msg {
				t.Errorf("Error() = %q, want %q", err.Error(), tc.msg)
			}
			if StatusCode(err) != tc.status {
				t.Errorf("StatusCode = %d", StatusCode(err))
			}
		})
	}
	if StatusCode(errors.New("x")) != 0 {
		t.Error("StatusCode of a non-API error is not 0")
	}
}

func TestWireNames(t *testing.T) {
	b, err := json.Marshal(ApplyResult{Changes: []ObjectChange{{Op: OpPut, Type: "node", Name: "cn1",
		Attrs: []AttrChange{{Attr: "ip", Old: "1", New: "2"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"changes":[{"op":"put","type":"node","name":"cn1","attrs":[{"attr":"ip","old":"1","new":"2"}]}]}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(RunResponse{Stdout: "a", ExitCode: 1})
	if string(b) != `{"stdout":"a","stderr":"","exitCode":1}` {
		t.Errorf("RunResponse: %s", b)
	}
}
