package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxErrorBody bounds how much of an error response the client reads.
const maxErrorBody = 1 << 20

// Client calls a drover server's REST API. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// NewClient returns a client for the server at baseURL (e.g.
// "http://127.0.0.1:7420") that authenticates with token. A nil hc means
// http.DefaultClient.
func NewClient(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, hc: hc}
}

// ListOptions tune what List and Get return.
type ListOptions struct {
	// Resolved asks for node attributes resolved through their groups; nil
	// means the server's default (resolved for nodes).
	Resolved *bool
	// Secrets asks for secret values in clear (admin and operator only).
	Secrets bool
}

func (o ListOptions) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if o.Resolved != nil {
		q.Set("resolved", strconv.FormatBool(*o.Resolved))
	}
	if o.Secrets {
		q.Set("secrets", "true")
	}
	return q
}

func objectsPath(typ string) string { return "/v1/objects/" + url.PathEscape(typ) }

func objectPath(typ, name string) string {
	return objectsPath(typ) + "/" + url.PathEscape(name)
}

// List returns the objects of a type sorted by name. rng selects them: a
// noderange for nodes, a comma-separated list of names for other types;
// empty means all.
func (c *Client) List(ctx context.Context, typ, rng string, opts ListOptions) ([]Object, error) {
	q := url.Values{}
	if rng != "" {
		q.Set("range", rng)
	}
	var out ObjectList
	if err := c.do(ctx, http.MethodGet, objectsPath(typ), opts.query(q), nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// Get returns one object.
func (c *Client) Get(ctx context.Context, typ, name string, opts ListOptions) (Object, error) {
	var out Object
	err := c.do(ctx, http.MethodGet, objectPath(typ, name), opts.query(nil), nil, &out)
	return out, err
}

// Create creates obj; it fails with status 409 if it exists. Create, Put and
// Patch return the object as stored (unresolved, secrets masked).
func (c *Client) Create(ctx context.Context, obj Object) (Object, error) {
	var out Object
	err := c.do(ctx, http.MethodPost, objectsPath(obj.Type), nil, obj, &out)
	return out, err
}

// Put creates obj or replaces all its attributes.
func (c *Client) Put(ctx context.Context, obj Object) (Object, error) {
	var out Object
	err := c.do(ctx, http.MethodPut, objectPath(obj.Type, obj.Name), nil, obj, &out)
	return out, err
}

// Patch merges obj's attributes into the existing object: an empty value
// removes the attribute. It fails with status 404 if the object is missing.
func (c *Client) Patch(ctx context.Context, obj Object) (Object, error) {
	var out Object
	err := c.do(ctx, http.MethodPatch, objectPath(obj.Type, obj.Name), nil, obj, &out)
	return out, err
}

// Delete removes an object; it fails with status 404 if it is missing.
func (c *Client) Delete(ctx context.Context, typ, name string) error {
	return c.do(ctx, http.MethodDelete, objectPath(typ, name), nil, nil, nil)
}

// Apply creates, updates (and with Prune deletes) objects in one
// transaction, or reports what it would do on a dry run.
func (c *Client) Apply(ctx context.Context, req ApplyRequest) (ApplyResult, error) {
	var out ApplyResult
	err := c.do(ctx, http.MethodPost, "/v1/apply", nil, req, &out)
	return out, err
}

// Run runs an xCAT command on the server. A command that fails the xCAT
// way (non-zero ExitCode) is not an error.
func (c *Client) Run(ctx context.Context, req RunRequest) (RunResponse, error) {
	var out RunResponse
	err := c.do(ctx, http.MethodPost, "/v1/run", nil, req, &out)
	return out, err
}

// Whoami returns the name and role of the client's token.
func (c *Client) Whoami(ctx context.Context) (Identity, error) {
	var out Identity
	err := c.do(ctx, http.MethodGet, "/v1/whoami", nil, nil, &out)
	return out, err
}

// CreateToken creates a token (admin only). The secret is in the result's
// Token field and cannot be read again.
func (c *Client) CreateToken(ctx context.Context, name, role string) (CreatedToken, error) {
	var out CreatedToken
	err := c.do(ctx, http.MethodPost, "/v1/tokens", nil, CreateTokenRequest{Name: name, Role: role}, &out)
	return out, err
}

// ListTokens lists the tokens (admin only).
func (c *Client) ListTokens(ctx context.Context) ([]Token, error) {
	var out TokenList
	if err := c.do(ctx, http.MethodGet, "/v1/tokens", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// DeleteToken revokes a token (admin only).
func (c *Client) DeleteToken(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/tokens/"+url.PathEscape(id), nil, nil, nil)
}

// Events returns a node's boot timeline, oldest first: the events at or
// after since (zero: all), at most limit of them (0: the server's default).
func (c *Client) Events(ctx context.Context, node string, since time.Time, limit int) ([]BootEvent, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339Nano))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out BootEventList
	if err := c.do(ctx, http.MethodGet, "/v1/events/"+url.PathEscape(node), q, nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// Healthz reports whether the server process answers.
func (c *Client) Healthz(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil, nil)
}

// Readyz reports whether the server can serve requests (its store answers).
func (c *Client) Readyz(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/readyz", nil, nil, nil)
}

// do sends one request. in (if not nil) is sent as JSON; a 2xx answer is
// decoded into out (if not nil); any other answer becomes an *Error.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	resp, err := c.send(ctx, method, u, body, in != nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// decodeError turns a non-2xx response into an *Error: the problem details
// document when the body holds one, else the status text and the body.
func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{}
	if err := json.Unmarshal(b, e); err != nil || (e.Title == "" && e.Detail == "") {
		e = &Error{Title: http.StatusText(resp.StatusCode), Detail: strings.TrimSpace(string(b))}
	}
	e.StatusCode = resp.StatusCode
	if e.Status == 0 {
		e.Status = resp.StatusCode
	}
	return e
}

// send makes one authenticated request to the full URL u; jsonBody marks
// body as JSON.
func (c *Client) send(ctx context.Context, method, u string, body io.Reader, jsonBody bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if jsonBody {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return c.hc.Do(req)
}

// SetSecret stores value under name (operator or admin).
func (c *Client) SetSecret(ctx context.Context, name, value string) error {
	return c.do(ctx, http.MethodPut, "/v1/secrets/"+url.PathEscape(name), nil, SetSecretRequest{Value: value}, nil)
}

// ListSecrets lists the named secrets, without values.
func (c *Client) ListSecrets(ctx context.Context) ([]Secret, error) {
	var out SecretList
	if err := c.do(ctx, http.MethodGet, "/v1/secrets", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// DeleteSecret removes a named secret (admin).
func (c *Client) DeleteSecret(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/v1/secrets/"+url.PathEscape(name), nil, nil, nil)
}

// GitOpsStatus returns the GitOps state, drift included.
func (c *Client) GitOpsStatus(ctx context.Context) (GitOpsStatus, error) {
	var out GitOpsStatus
	err := c.do(ctx, http.MethodGet, "/v1/gitops/status", nil, nil, &out)
	return out, err
}

// GitOpsSync fetches the repository and applies a new commit (or, with
// force, the applied one again).
func (c *Client) GitOpsSync(ctx context.Context, force bool) (GitOpsSyncResult, error) {
	var out GitOpsSyncResult
	err := c.do(ctx, http.MethodPost, "/v1/gitops/sync", nil, GitOpsSyncRequest{Force: force}, &out)
	return out, err
}
