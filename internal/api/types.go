// Package api holds the wire types of drover's REST API and a Go client for
// it. The CLI talks to the server only through this package; it imports
// nothing else of drover's, so it can be used from any Go program.
package api

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Object is one inventory object as the API carries it. Attrs holds the
// attribute values by xCAT attribute name; in a PATCH an empty value removes
// the attribute. A secret value reads as Masked unless the caller asked for
// secrets and may see them; writing Masked back keeps the stored secret.
type Object struct {
	Type  string            `json:"type,omitempty" doc:"Object type: node, group, osimage, network, site, policy or boottarget"`
	Name  string            `json:"name,omitempty" doc:"Object name"`
	Attrs map[string]string `json:"attrs,omitempty" doc:"Attribute values by xCAT attribute name"`
}

// ObjectList is the answer of a list request.
type ObjectList struct {
	Items []Object `json:"items"`
}

// Masked is what a masked secret value reads as (the same as the inventory's).
const Masked = "******"

// The change operations of an ApplyResult.
const (
	OpCreate = "create"
	OpPut    = "put" // an existing object's attributes change
	OpDelete = "delete"
)

// ApplyRequest creates or updates many objects at once, all or nothing.
type ApplyRequest struct {
	Objects []Object `json:"objects,omitempty" doc:"The desired objects"`
	// Prune deletes objects of the pruned types that Objects does not hold.
	Prune bool `json:"prune,omitempty" doc:"Delete objects of the applied types that are not in objects (admin only)"`
	// PruneTypes are the types Prune deletes from; empty means the types of
	// the objects in Objects.
	PruneTypes []string `json:"pruneTypes,omitempty" doc:"Types to prune; default: the types present in objects"`
	DryRun     bool     `json:"dryRun,omitempty" doc:"Compute the changes without writing them"`
}

// ApplyResult lists the changes an apply made (or would make, on a dry run).
type ApplyResult struct {
	Changes []ObjectChange `json:"changes"`
}

// ObjectChange is one object an apply creates, changes or deletes.
type ObjectChange struct {
	Op    string       `json:"op" enum:"create,put,delete" doc:"create, put (update) or delete"`
	Type  string       `json:"type"`
	Name  string       `json:"name"`
	Attrs []AttrChange `json:"attrs,omitempty" doc:"Changed attributes, sorted by name; secret values are masked"`
}

// AttrChange is one attribute's old and new value ("" = unset).
type AttrChange struct {
	Attr string `json:"attr"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// RunRequest runs one xCAT command (lsdef, mkdef, tabdump, ...) on the server.
type RunRequest struct {
	Command string   `json:"command" doc:"xCAT command name, e.g. lsdef"`
	Args    []string `json:"args,omitempty" doc:"Arguments after the command name"`
	Stdin   string   `json:"stdin,omitempty" doc:"Standard input (stanza for -z, CSV for tabrestore)"`
	// Files holds files the client read for the command (^file noderanges),
	// keyed by absolute path.
	Files       map[string]string `json:"files,omitempty" doc:"Contents of files named in the arguments, by absolute path"`
	ShowSecrets bool              `json:"showSecrets,omitempty" doc:"Show secret values (admin and operator only)"`
}

// RunResponse is what the command printed and its exit code.
type RunResponse struct {
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	ExitCode int    `json:"exitCode"`
}

// The roles a token can have.
const (
	RoleAdmin    = "admin"    // everything
	RoleOperator = "operator" // reads, creates and changes; no deletes
	RoleViewer   = "viewer"   // reads; secrets always masked
)

// Roles returns every role, most powerful first.
func Roles() []string { return []string{RoleAdmin, RoleOperator, RoleViewer} }

// Token describes an API token (never its secret).
type Token struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Role    string    `json:"role" enum:"admin,operator,viewer"`
	Created time.Time `json:"created"`
}

// TokenList is the answer of a token list request.
type TokenList struct {
	Items []Token `json:"items"`
}

// CreateTokenRequest asks for a new token.
type CreateTokenRequest struct {
	Name string `json:"name" minLength:"1" doc:"What the token is for"`
	Role string `json:"role" enum:"admin,operator,viewer"`
}

// CreatedToken is a new token with its secret, which is shown only once.
type CreatedToken struct {
	Token   string    `json:"token" doc:"The secret; send it as 'Authorization: Bearer <token>'. Shown only once."`
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
}

// Identity is who the caller's token says it is.
type Identity struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Error is an API error: an RFC 9457 problem details document, as every
// non-2xx response carries one.
type Error struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int `json:"-"`

	Type     string        `json:"type,omitempty"`
	Title    string        `json:"title,omitempty"`
	Status   int           `json:"status,omitempty"`
	Detail   string        `json:"detail,omitempty"`
	Instance string        `json:"instance,omitempty"`
	Errors   []ErrorDetail `json:"errors,omitempty"`
}

// ErrorDetail is one item of a problem's error list (huma's validation
// errors name the offending location).
type ErrorDetail struct {
	Message  string `json:"message,omitempty"`
	Location string `json:"location,omitempty"`
	Value    any    `json:"value,omitempty"`
}

// Error returns the problem's detail, or its title when it has none,
// followed by the individual errors, if any.
func (e *Error) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = fmt.Sprintf("HTTP status %d", e.StatusCode)
	}
	if len(e.Errors) == 0 {
		return msg
	}
	parts := make([]string, len(e.Errors))
	for i, d := range e.Errors {
		parts[i] = d.Message
		if d.Location != "" {
			parts[i] += " (" + d.Location + ")"
		}
	}
	return msg + ": " + strings.Join(parts, "; ")
}

// StatusCode returns the HTTP status of an API error anywhere in err's
// chain, or 0 when err is not an API error.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// BootEvent is one step of a node's boot timeline: a DHCP message, a TFTP
// or HTTP boot request, a report, or a refusal (Reason set).
type BootEvent struct {
	Time   time.Time `json:"time"`
	Node   string    `json:"node,omitempty"`
	MAC    string    `json:"mac,omitempty"`
	Kind   string    `json:"kind" doc:"dhcp-discover, dhcp-offer, dhcp-request, dhcp-ack, tftp-read, http-script, http-file, http-report, ..."`
	Detail string    `json:"detail,omitempty"`
	Reason string    `json:"reason,omitempty" doc:"Why the step was refused or failed; empty when it was served."`
	Remote string    `json:"remote,omitempty" doc:"Client or relay address."`
}

// BootEventList is the answer of an events request, oldest first.
type BootEventList struct {
	Items []BootEvent `json:"items"`
}

// RunEvent is one line of POST /v1/run/progress: progress while the
// command runs, then its result.
type RunEvent struct {
	Progress *Progress    `json:"progress,omitempty"`
	Result   *RunResponse `json:"result,omitempty"`
}

// Progress counts the nodes a hardware command has finished.
type Progress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

// Secret describes a named secret (never its value). Manifests and
// GitOps repositories refer to one as "secret:NAME".
type Secret struct {
	Name    string    `json:"name"`
	Updated time.Time `json:"updated"`
}

// SecretList is the answer of a secret list request.
type SecretList struct {
	Items []Secret `json:"items"`
}

// SetSecretRequest sets a secret's value.
type SetSecretRequest struct {
	Value string `json:"value" maxLength:"65536"`
}

// GitOpsStatus is the state of the Git repository drover follows.
type GitOpsStatus struct {
	Enabled     bool          `json:"enabled"`
	Repo        string        `json:"repo,omitempty"`
	Branch      string        `json:"branch,omitempty"`
	Path        string        `json:"path,omitempty"`
	Applied     string        `json:"applied,omitempty" doc:"the commit last applied"`
	AppliedAt   time.Time     `json:"appliedAt,omitzero"`
	Attempted   string        `json:"attempted,omitempty" doc:"the commit last fetched and tried"`
	AttemptedAt time.Time     `json:"attemptedAt,omitzero"`
	Error       string        `json:"error,omitempty" doc:"why the last sync failed or the revision was refused (file and line)"`
	Drift       []GitOpsDrift `json:"drift,omitempty" doc:"objects changed outside Git since the applied commit"`
	DriftError  string        `json:"driftError,omitempty"`
}

// GitOpsDrift is one object changed outside Git.
type GitOpsDrift struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	Change string   `json:"change"`
	Attrs  []string `json:"attrs,omitempty"`
}

// GitOpsSyncRequest asks for a sync; Force re-applies the applied commit,
// reverting drift.
type GitOpsSyncRequest struct {
	Force bool `json:"force,omitempty"`
}

// GitOpsSyncResult is what a sync did.
type GitOpsSyncResult struct {
	Commit  string         `json:"commit"`
	Branch  string         `json:"branch"`
	Applied bool           `json:"applied" doc:"false when the commit was already applied (and not forced)"`
	Changes []GitOpsChange `json:"changes,omitempty"`
}

// GitOpsChange is one object a sync wrote.
type GitOpsChange struct {
	Op    string   `json:"op"`
	Kind  string   `json:"kind"`
	Name  string   `json:"name"`
	Attrs []string `json:"attrs,omitempty"`
}
