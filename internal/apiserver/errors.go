package apiserver

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"drover.dev/drover/internal/inventory"
)

// Error kinds of the server's own; inventory.ErrNotFound and ErrExists and
// the inventory's typed errors are the others. statusOf maps all of them.
var (
	errUnauthorized = errors.New("unauthorized")
	errForbidden    = errors.New("forbidden")
	errInvalid      = errors.New("invalid")
	errBadRequest   = errors.New("bad request")
	// errUnknownCommand is a command the Runner does not carry out (404).
	errUnknownCommand = errors.New("unknown command")
)

// kindError is an error of a kind (one of the sentinels above or the
// inventory's) whose message goes to the client as it is, so that xCAT's
// exact messages survive.
type kindError struct {
	kind  error
	msg   string
	cause error
}

func (e *kindError) Error() string { return e.msg }

func (e *kindError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// newError returns an error of kind with a formatted message.
func newError(kind error, format string, a ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, a...)}
}

// asKind marks err as being of kind, keeping its message and chain.
func asKind(kind error, err error) error {
	return &kindError{kind: kind, msg: err.Error(), cause: err}
}

// statusOf is the one mapping from errors to HTTP status.
func statusOf(err error) int {
	var (
		tooLarge    *http.MaxBytesError
		unknownAttr *inventory.UnknownAttrError
		unknownType *inventory.UnknownTypeError
		statusErr   huma.StatusError
	)
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, errForbidden):
		return http.StatusForbidden
	case errors.Is(err, inventory.ErrNotFound), errors.Is(err, errUnknownCommand):
		return http.StatusNotFound
	case errors.Is(err, inventory.ErrExists):
		return http.StatusConflict
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errInvalid), errors.As(err, &unknownAttr), errors.As(err, &unknownType):
		return http.StatusUnprocessableEntity
	case errors.As(err, &statusErr):
		return statusErr.GetStatus()
	}
	return http.StatusInternalServerError
}

// problem turns an error into huma's problem details answer with the
// status statusOf gives. Internal errors are logged.
func (s *Server) problem(err error) error {
	if err == nil {
		return nil
	}
	status := statusOf(err)
	msg := err.Error()
	if status == http.StatusRequestEntityTooLarge {
		msg = tooLargeDetail(s.maxBody())
	}
	if status >= 500 {
		s.log().Error("request failed", "err", err)
	}
	herr := huma.NewError(status, msg)
	if status == http.StatusUnauthorized {
		return huma.ErrorWithHeaders(herr, http.Header{"WWW-Authenticate": {wwwAuthenticate(err)}})
	}
	return herr
}

func wwwAuthenticate(err error) string {
	if errors.Is(err, inventory.ErrNotFound) {
		return `Bearer realm="drover", error="invalid_token"`
	}
	return `Bearer realm="drover"`
}
