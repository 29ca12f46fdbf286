package chartcheck

import (
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The chart's custom resources, as local structs holding the fields the
// chart may render (the operators' Go modules would bring their own
// Kubernetes versions). Decoded with unknown fields disallowed, so a field
// the chart renders must be declared here, checked against the CRDs:
// monitoring.coreos.com/v1 ServiceMonitor (prometheus-operator) and
// k8s.cni.cncf.io/v1 NetworkAttachmentDefinition (Multus).

// ServiceMonitor is monitoring.coreos.com/v1 ServiceMonitor.
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ServiceMonitorSpec `json:"spec"`
}

// ServiceMonitorSpec is the part of the spec the chart renders.
type ServiceMonitorSpec struct {
	JobLabel          string               `json:"jobLabel,omitempty"`
	Selector          metav1.LabelSelector `json:"selector"`
	NamespaceSelector NamespaceSelector    `json:"namespaceSelector,omitempty"`
	Endpoints         []Endpoint           `json:"endpoints"`
}

// NamespaceSelector picks the namespaces of the selected Services.
type NamespaceSelector struct {
	Any        bool     `json:"any,omitempty"`
	MatchNames []string `json:"matchNames,omitempty"`
}

// Endpoint is one scraped endpoint of a ServiceMonitor.
type Endpoint struct {
	Port          string `json:"port,omitempty"`
	Path          string `json:"path,omitempty"`
	Scheme        string `json:"scheme,omitempty"`
	Interval      string `json:"interval,omitempty"`
	ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
}

// NetworkAttachmentDefinition is k8s.cni.cncf.io/v1
// NetworkAttachmentDefinition; its spec.config is a CNI configuration in
// JSON.
type NetworkAttachmentDefinition struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Config string `json:"config"`
	} `json:"spec"`
}

// CNIConfig is the macvlan/ipvlan plugin configuration the chart renders.
type CNIConfig struct {
	CNIVersion string `json:"cniVersion"`
	Type       string `json:"type"`
	Master     string `json:"master"`
	Mode       string `json:"mode"`
	MTU        int    `json:"mtu,omitempty"`
	IPAM       struct {
		Type      string `json:"type"`
		Addresses []struct {
			Address string `json:"address"`
			Gateway string `json:"gateway,omitempty"`
		} `json:"addresses,omitempty"`
		Routes []struct {
			Dst string `json:"dst"`
			GW  string `json:"gw,omitempty"`
		} `json:"routes,omitempty"`
	} `json:"ipam"`
}

// CNIConfig decodes spec.config strictly.
func (n *NetworkAttachmentDefinition) CNIConfig() (CNIConfig, error) {
	var c CNIConfig
	dec := json.NewDecoder(strings.NewReader(n.Spec.Config))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("NetworkAttachmentDefinition %s config: %w", n.Name, err)
	}
	return c, nil
}
