package inventory

import (
	"fmt"
	"strings"
)

// SecretRefPrefix starts an attribute value that names a secret stored in
// drover ("secret:NAME"), so manifests and Git repositories never hold it.
const SecretRefPrefix = "secret:"

// SecretRefError is a "secret:NAME" reference ResolveSecretRefs could not
// resolve.
type SecretRefError struct {
	Attr, Secret string
	Msg          string // completes "... refers to secret NAME, which ..."
	Err          error  // the lookup's error, if any
}

func (e *SecretRefError) Error() string {
	return fmt.Sprintf("attribute %s refers to secret %q, which %s", e.Attr, e.Secret, e.Msg)
}

// Unwrap returns the lookup's error, if any.
func (e *SecretRefError) Unwrap() error { return e.Err }

// ResolveSecretRefs replaces, in attribute order, every value "secret:NAME"
// of o by lookup(NAME). The first reference that fails is returned as a
// *SecretRefError; a nil lookup fails every reference.
func ResolveSecretRefs(o *Object, lookup func(name string) (string, bool, error)) error {
	for _, attr := range o.AttrNames() {
		name, ok := strings.CutPrefix(o.Attrs[attr], SecretRefPrefix)
		if !ok {
			continue
		}
		if lookup == nil {
			return &SecretRefError{Attr: attr, Secret: name, Msg: "secrets are not available"}
		}
		val, found, err := lookup(name)
		if err != nil {
			return &SecretRefError{Attr: attr, Secret: name, Msg: err.Error(), Err: err}
		}
		if !found {
			return &SecretRefError{Attr: attr, Secret: name, Msg: fmt.Sprintf("does not exist (drover secret set %s)", name)}
		}
		o.Attrs[attr] = val
	}
	return nil
}
