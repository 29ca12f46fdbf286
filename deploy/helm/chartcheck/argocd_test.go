package chartcheck

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/chartutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// applicationFile is the Argo CD Application example, relative to this
// module; repoRoot is the repository root.
const (
	applicationFile = "../../argocd/application.yaml"
	repoRoot        = "../../.."
)

// Application is the part of argoproj.io/v1alpha1 Application the example
// uses, with field names from Argo CD's types (pkg/apis/application/v1alpha1);
// decoded with unknown fields disallowed, so a misspelt field fails.
type Application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Project string `json:"project"`
		Source  struct {
			RepoURL        string `json:"repoURL"`
			TargetRevision string `json:"targetRevision,omitempty"`
			Path           string `json:"path,omitempty"`
			Chart          string `json:"chart,omitempty"`
			Helm           *struct {
				ReleaseName  string         `json:"releaseName,omitempty"`
				ValueFiles   []string       `json:"valueFiles,omitempty"`
				Values       string         `json:"values,omitempty"`
				ValuesObject map[string]any `json:"valuesObject,omitempty"`
				Namespace    string         `json:"namespace,omitempty"`
				SkipCrds     bool           `json:"skipCrds,omitempty"`
			} `json:"helm,omitempty"`
		} `json:"source"`
		Destination struct {
			Server    string `json:"server,omitempty"`
			Name      string `json:"name,omitempty"`
			Namespace string `json:"namespace,omitempty"`
		} `json:"destination"`
		SyncPolicy *struct {
			Automated *struct {
				Prune      bool `json:"prune,omitempty"`
				SelfHeal   bool `json:"selfHeal,omitempty"`
				AllowEmpty bool `json:"allowEmpty,omitempty"`
			} `json:"automated,omitempty"`
			SyncOptions []string `json:"syncOptions,omitempty"`
			Retry       *struct {
				Limit   int64 `json:"limit,omitempty"`
				Backoff *struct {
					Duration    string `json:"duration,omitempty"`
					Factor      *int64 `json:"factor,omitempty"`
					MaxDuration string `json:"maxDuration,omitempty"`
				} `json:"backoff,omitempty"`
			} `json:"retry,omitempty"`
		} `json:"syncPolicy,omitempty"`
		IgnoreDifferences []struct {
			Group        string   `json:"group,omitempty"`
			Kind         string   `json:"kind"`
			Name         string   `json:"name,omitempty"`
			Namespace    string   `json:"namespace,omitempty"`
			JSONPointers []string `json:"jsonPointers,omitempty"`
		} `json:"ignoreDifferences,omitempty"`
	} `json:"spec"`
}

// TestArgoCDApplication decodes the example strictly, checks that it points
// at this chart with automated prune and self-heal, and renders the chart
// with the values it gives (valueFiles, then valuesObject over them) through
// the same strict checks as the values combinations.
func TestArgoCDApplication(t *testing.T) {
	data, err := os.ReadFile(applicationFile)
	if err != nil {
		t.Fatal(err)
	}
	var app Application
	if err := yaml.UnmarshalStrict(data, &app); err != nil {
		t.Fatalf("strict decoding %s: %v", applicationFile, err)
	}
	if app.APIVersion != "argoproj.io/v1alpha1" || app.Kind != "Application" || app.Name == "" || app.Namespace != "argocd" {
		t.Errorf("%s %s %s/%s: want an argoproj.io/v1alpha1 Application in argocd", app.APIVersion, app.Kind, app.Namespace, app.Name)
	}
	src := app.Spec.Source
	if src.RepoURL == "" || src.TargetRevision == "" || src.Chart != "" {
		t.Errorf("source %+v: want a Git repository and revision", src)
	}
	chartPath := filepath.Join(repoRoot, filepath.FromSlash(src.Path))
	if abs, _ := filepath.Abs(chartPath); abs != mustAbs(t, chartDir) {
		t.Errorf("source.path %q is not this chart (%s)", src.Path, chartDir)
	}
	if src.Helm == nil {
		t.Fatal("no spec.source.helm")
	}
	if app.Spec.Destination.Namespace == "" || (app.Spec.Destination.Server == "") == (app.Spec.Destination.Name == "") {
		t.Errorf("destination %+v: want a namespace and one of server or name", app.Spec.Destination)
	}
	sp := app.Spec.SyncPolicy
	if sp == nil || sp.Automated == nil || !sp.Automated.Prune || !sp.Automated.SelfHeal {
		t.Errorf("syncPolicy %+v: want automated prune and selfHeal", sp)
	}

	// The values Argo CD would pass: the value files, then valuesObject.
	vals := chartutil.Values{}
	for _, f := range src.Helm.ValueFiles {
		v, err := chartutil.ReadValuesFile(filepath.Join(chartPath, f))
		if err != nil {
			t.Fatalf("valueFiles %s: %v", f, err)
		}
		vals = chartutil.CoalesceTables(v, vals)
	}
	vals = chartutil.CoalesceTables(src.Helm.ValuesObject, vals)
	valuesYAML, err := yaml.Marshal(vals)
	if err != nil {
		t.Fatal(err)
	}
	ch := loadChart(t)
	r := render(t, ch, string(valuesYAML))
	checkCommon(t, r)
	if r.serviceMonitor == nil {
		t.Error("the example enables the ServiceMonitor: none rendered")
	}
	flags, _ := r.args(t)
	if flags["--admin-token-file"] == "" || flags["--gitops-repo"] == "" {
		t.Errorf("flags %v: want the admin token file and gitops", flags)
	}
	if diff := cmp.Diff(src.Helm.ReleaseName, releaseName); diff != "" {
		t.Errorf("releaseName (-want +got):\n%s", diff)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
