// Package manifest reads and writes drover's kubectl-style YAML manifests:
// multi-document streams of
//
//	apiVersion: drover.dev/v1
//	kind: Node
//	metadata:
//	  name: n1
//	spec:
//	  groups: [all, compute]
//	  nicips: {eth0: 10.0.0.1}
//
// one document per inventory object, spec holding its attributes.
package manifest

import (
	"fmt"

	"drover.dev/drover/internal/inventory"
)

// APIVersion is the only apiVersion drover reads and writes.
const APIVersion = "drover.dev/v1"

var kinds = []struct {
	t    inventory.Type
	kind string
}{
	{inventory.Node, "Node"},
	{inventory.Group, "Group"},
	{inventory.OSImage, "OSImage"},
	{inventory.Network, "Network"},
	{inventory.Site, "Site"},
	{inventory.Policy, "Policy"},
	{inventory.BootTarget, "BootTarget"},
}

// KindOf returns the manifest kind of an object type ("" for an unknown
// type).
func KindOf(t inventory.Type) string {
	for _, k := range kinds {
		if k.t == t {
			return k.kind
		}
	}
	return ""
}

// TypeOfKind returns the object type of a manifest kind.
func TypeOfKind(kind string) (inventory.Type, bool) {
	for _, k := range kinds {
		if k.kind == kind {
			return k.t, true
		}
	}
	return "", false
}

// Error is a decode error with its place.
type Error struct {
	Source string
	Line   int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg) }
