// Package chartcheck validates drover's Helm chart (deploy/helm/drover): its
// tests render the chart with Helm's own Go packages for every documented
// values combination and decode each rendered object strictly into the
// Kubernetes API types. It is a separate module so that Helm and the
// Kubernetes libraries never enter drover's own go.mod or binary.
package chartcheck
