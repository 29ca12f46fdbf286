package chartcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// chartDir is the chart under test, relative to this module.
const chartDir = "../drover"

const (
	releaseName = "drover"
	namespace   = "drover"
	fullname    = "drover" // the release name contains the chart name
)

// combination is one documented values combination (docs/helm.md).
type combination struct {
	name   string
	values string // YAML given like helm install -f
	check  func(t *testing.T, r *rendered)
}

// combinations are the values combinations CI renders and validates: the
// defaults and each documented option.
func combinations() []combination {
	return []combination{
		{name: "defaults", check: checkDefaults},
		{name: "multus-existing-network", values: `
network:
  mode: multus
  multus:
    networks:
      - name: prov
        namespace: infra
        interface: prov0
        ips: ["198.18.0.2/24"]
`, check: checkMultusExisting},
		{name: "multus-render-nad-macvlan", values: `
network:
  mode: multus
  multus:
    nad:
      create: true
      master: eno2
      mtu: 9000
`, check: checkMultusNAD("macvlan", "bridge")},
		{name: "multus-render-nad-ipvlan", values: `
network:
  mode: multus
  multus:
    nad:
      create: true
      type: ipvlan
      mode: l2
`, check: checkMultusNAD("ipvlan", "l2")},
		{name: "pod-network", values: `
network:
  mode: pod
serve:
  services: none
`, check: checkPodNetwork},
		{name: "postgres-with-pvc", values: `
postgresql:
  existingSecret: drover-db
`, check: checkPostgres(true)},
		{name: "postgres-emptydir-secret-key", values: `
postgresql:
  existingSecret: drover-db
  dsnKey: uri
persistence:
  enabled: false
secretKey:
  existingSecret: drover-secret-key
`, check: checkPostgres(false)},
		{name: "pvc-storage-class", values: `
persistence:
  size: 50Gi
  storageClass: local-path
  annotations:
    backup.example.com/enabled: "true"
`, check: checkStorageClass("local-path", "50Gi")},
		{name: "pvc-no-storage-class", values: `
persistence:
  storageClass: "-"
`, check: checkStorageClass("", "10Gi")},
		{name: "service-monitor", values: `
metrics:
  serviceMonitor:
    enabled: true
    scrapeTimeout: 10s
    labels:
      release: prometheus
`, check: checkServiceMonitor},
		{name: "ingress", values: `
ingress:
  enabled: true
  className: nginx
  annotations:
    cert-manager.io/cluster-issuer: letsencrypt
  hosts:
    - host: drover.example.com
      paths:
        - path: /
  tls:
    - secretName: drover-tls
      hosts: [drover.example.com]
`, check: checkIngress},
		{name: "gitops-https-token", values: `
gitops:
  enabled: true
  repo: https://git.example.com/cluster/inventory.git
  path: clusters/lab
  branch: main
  interval: 5m
  token:
    existingSecret: drover-git
`, check: checkGitOpsToken},
		{name: "gitops-ssh-key", values: `
gitops:
  enabled: true
  repo: ssh://git@git.example.com/cluster/inventory.git
  sshKey:
    existingSecret: drover-deploy-key
`, check: checkGitOpsSSH},
		{name: "existing-admin-token", values: `
adminToken:
  existingSecret: drover-admin
`, check: checkAdminToken},
		{name: "image-scheduling-extras", values: `
image:
  repository: registry.example.com/drover
  tag: v0.2.0
  pullPolicy: Always
imagePullSecrets:
  - name: regcred
nodeSelector:
  drover.dev/provisioning: "true"
tolerations:
  - key: dedicated
    operator: Equal
    value: provisioning
    effect: NoSchedule
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
        - matchExpressions:
            - key: kubernetes.io/arch
              operator: In
              values: [amd64, arm64]
resources:
  limits:
    cpu: "2"
    memory: 1Gi
extraArgs: ["--bmc-concurrency=64"]
extraEnv:
  - name: TZ
    value: UTC
serviceAccount:
  create: false
  name: provisioning
`, check: checkExtras},
	}
}

// TestRenderCombinations renders the chart for every documented values
// combination, decodes every object strictly into its API type and checks
// the properties the combination is about.
func TestRenderCombinations(t *testing.T) {
	ch := loadChart(t)
	for _, c := range combinations() {
		t.Run(c.name, func(t *testing.T) {
			r := render(t, ch, c.values)
			checkCommon(t, r)
			c.check(t, r)
		})
	}
}

// TestRenderRefuses: combinations that cannot work fail the render with a
// message saying why.
func TestRenderRefuses(t *testing.T) {
	ch := loadChart(t)
	tests := []struct {
		name, values, want string
	}{
		// values.schema.json
		{"unknown-network-mode", "network: {mode: bridge}", "at '/network/mode': value must be one of"},
		{"misspelt-key", "persistance: {enabled: false}", "additional properties 'persistance' not allowed"},
		{"misspelt-nested-key", "metrics: {serviceMonitor: {enable: true}}", "additional properties 'enable' not allowed"},
		{"bad-services", `serve: {services: "dhcp,ftp"}`, "at '/serve/services'"},
		{"bad-gitops-interval", "gitops: {interval: 1 minute}", "at '/gitops/interval'"},
		// checks in the templates (drover.validate)
		{"multus-without-network", "network: {mode: multus}", "needs network.multus.networks"},
		{"nad-bad-type", "network: {mode: multus, multus: {nad: {create: true, type: bridge}}}", "at '/network/multus/nad/type'"},
		{"emptydir-without-postgres", "persistence: {enabled: false}", "needs postgresql.existingSecret"},
		{"emptydir-without-secret-key", "persistence: {enabled: false}\npostgresql: {existingSecret: db}", "needs secretKey.existingSecret"},
		{"gitops-without-repo", "gitops: {enabled: true}", "gitops.enabled needs gitops.repo"},
		{"gitops-token-and-ssh", "gitops: {enabled: true, repo: x, token: {existingSecret: a}, sshKey: {existingSecret: b}}", "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderErr(ch, tt.values)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("render error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestLint runs helm lint's checks (pkg/lint) for every combination.
func TestLint(t *testing.T) {
	for _, c := range combinations() {
		t.Run(c.name, func(t *testing.T) {
			vals := map[string]any{}
			if err := yaml.Unmarshal([]byte(c.values), &vals); err != nil {
				t.Fatal(err)
			}
			l := lint.All(chartDir, vals, namespace, false)
			for _, m := range l.Messages {
				t.Logf("lint: %s", m)
				if m.Severity >= support.WarningSev {
					t.Errorf("lint: %s", m)
				}
			}
		})
	}
}

// rendered is one render's objects, decoded.
type rendered struct {
	notes string
	// every object as apiVersion/kind/name, for the inventory check
	ids []string

	sts            *appsv1.StatefulSet
	services       map[string]*corev1.Service
	serviceAccount *corev1.ServiceAccount
	ingress        *networkingv1.Ingress
	serviceMonitor *ServiceMonitor
	nad            *NetworkAttachmentDefinition
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	return ch
}

func renderErr(ch *chart.Chart, values string) (map[string]string, error) {
	vals := map[string]any{}
	if err := yaml.Unmarshal([]byte(values), &vals); err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	opts := chartutil.ReleaseOptions{Name: releaseName, Namespace: namespace, Revision: 1, IsInstall: true}
	rv, err := chartutil.ToRenderValues(ch, vals, opts, caps)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	// Strict: a template reading a value that values.yaml does not define
	// fails instead of rendering "<no value>".
	return engine.Engine{Strict: true}.Render(ch, rv)
}

// render renders the chart and decodes every object strictly.
func render(t *testing.T, ch *chart.Chart, values string) *rendered {
	t.Helper()
	files, err := renderErr(ch, values)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	r := &rendered{services: map[string]*corev1.Service{}}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		content := files[name]
		base := path.Base(name)
		switch {
		case base == "NOTES.txt":
			r.notes = content
			continue
		case strings.HasPrefix(base, "_"):
			if strings.TrimSpace(content) != "" {
				t.Errorf("%s renders output: %q", name, content)
			}
			continue
		}
		docs := releaseutil.SplitManifests(content)
		keys := make([]string, 0, len(docs))
		for k := range docs {
			keys = append(keys, k)
		}
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		for _, k := range keys {
			doc := strings.TrimSpace(docs[k])
			if isEmptyDoc(doc) {
				continue
			}
			r.decode(t, name, []byte(doc))
		}
	}
	if r.sts == nil {
		t.Fatal("no StatefulSet rendered")
	}
	return r
}

// isEmptyDoc: a document of comments only (a template switched off).
func isEmptyDoc(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}

// decode decodes one document strictly into the type its apiVersion and
// kind name; an unknown kind fails the test.
func (r *rendered) decode(t *testing.T, file string, doc []byte) {
	t.Helper()
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		t.Errorf("%s: %v", file, err)
		return
	}
	var obj any
	switch gvk := tm.APIVersion + "/" + tm.Kind; gvk {
	case "apps/v1/StatefulSet":
		if r.sts != nil {
			t.Errorf("%s: a second StatefulSet", file)
		}
		r.sts = &appsv1.StatefulSet{}
		obj = r.sts
	case "v1/Service":
		s := &corev1.Service{}
		obj = s
		defer func() { r.services[s.Name] = s }()
	case "v1/ServiceAccount":
		r.serviceAccount = &corev1.ServiceAccount{}
		obj = r.serviceAccount
	case "networking.k8s.io/v1/Ingress":
		r.ingress = &networkingv1.Ingress{}
		obj = r.ingress
	case "monitoring.coreos.com/v1/ServiceMonitor":
		r.serviceMonitor = &ServiceMonitor{}
		obj = r.serviceMonitor
	case "k8s.cni.cncf.io/v1/NetworkAttachmentDefinition":
		r.nad = &NetworkAttachmentDefinition{}
		obj = r.nad
	// Kinds the chart does not render today but may: decoded strictly too.
	case "v1/Secret":
		obj = &corev1.Secret{}
	case "v1/ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1/PersistentVolumeClaim":
		obj = &corev1.PersistentVolumeClaim{}
	default:
		t.Errorf("%s: unknown kind %s", file, gvk)
		return
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		t.Errorf("%s: strict decoding %s/%s: %v\n%s", file, tm.APIVersion, tm.Kind, err, doc)
		return
	}
	om := objectMeta(obj)
	r.ids = append(r.ids, tm.APIVersion+"/"+tm.Kind+"/"+om.Name)
	checkMeta(t, file, tm.Kind, om)
}

func objectMeta(obj any) metav1.ObjectMeta {
	switch o := obj.(type) {
	case *appsv1.StatefulSet:
		return o.ObjectMeta
	case *corev1.Service:
		return o.ObjectMeta
	case *corev1.ServiceAccount:
		return o.ObjectMeta
	case *networkingv1.Ingress:
		return o.ObjectMeta
	case *ServiceMonitor:
		return o.ObjectMeta
	case *NetworkAttachmentDefinition:
		return o.ObjectMeta
	case *corev1.Secret:
		return o.ObjectMeta
	case *corev1.ConfigMap:
		return o.ObjectMeta
	case *corev1.PersistentVolumeClaim:
		return o.ObjectMeta
	}
	panic(fmt.Sprintf("objectMeta: %T", obj))
}

// checkMeta: a valid name, the release's namespace and labels, valid label
// and annotation keys.
func checkMeta(t *testing.T, file, kind string, om metav1.ObjectMeta) {
	t.Helper()
	nameCheck := validation.IsDNS1123Subdomain
	if kind == "Service" {
		nameCheck = validation.IsDNS1035Label
	}
	for _, msg := range nameCheck(om.Name) {
		t.Errorf("%s: %s name %q: %s", file, kind, om.Name, msg)
	}
	if om.Namespace != namespace {
		t.Errorf("%s: %s namespace %q, want %q", file, kind, om.Namespace, namespace)
	}
	checkLabels(t, file, om.Labels)
	for k := range om.Annotations {
		for _, msg := range validation.IsQualifiedName(k) {
			t.Errorf("%s: annotation %q: %s", file, k, msg)
		}
	}
	for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "helm.sh/chart", "app.kubernetes.io/managed-by"} {
		if om.Labels[k] == "" {
			t.Errorf("%s: %s lacks label %s", file, kind, k)
		}
	}
}

func checkLabels(t *testing.T, file string, l map[string]string) {
	t.Helper()
	for k, v := range l {
		for _, msg := range validation.IsQualifiedName(k) {
			t.Errorf("%s: label key %q: %s", file, k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			t.Errorf("%s: label %s value %q: %s", file, k, v, msg)
		}
	}
}

// container returns the drover container of the StatefulSet.
func (r *rendered) container(t *testing.T) corev1.Container {
	t.Helper()
	cs := r.sts.Spec.Template.Spec.Containers
	if len(cs) != 1 || cs[0].Name != "drover" {
		t.Fatalf("containers %v, want one named drover", cs)
	}
	return cs[0]
}

// args returns the flags of drover serve as flag -> value ("" for a flag
// without value), and the positional arguments.
func (r *rendered) args(t *testing.T) (map[string]string, []string) {
	t.Helper()
	flags := map[string]string{}
	var pos []string
	for _, a := range r.container(t).Args {
		if !strings.HasPrefix(a, "--") {
			pos = append(pos, a)
			continue
		}
		k, v, _ := strings.Cut(a, "=")
		if _, dup := flags[k]; dup {
			t.Errorf("flag %s given twice", k)
		}
		flags[k] = v
	}
	return flags, pos
}

func (r *rendered) volume(name string) *corev1.Volume {
	for i, v := range r.sts.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return &r.sts.Spec.Template.Spec.Volumes[i]
		}
	}
	return nil
}

func (r *rendered) mount(t *testing.T, name string) *corev1.VolumeMount {
	t.Helper()
	c := r.container(t)
	for i, m := range c.VolumeMounts {
		if m.Name == name {
			return &c.VolumeMounts[i]
		}
	}
	return nil
}

func (r *rendered) env(t *testing.T, name string) *corev1.EnvVar {
	t.Helper()
	c := r.container(t)
	for i, e := range c.Env {
		if e.Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// wantSecurityContext is the container security context the issue asks for.
var wantSecurityContext = &corev1.SecurityContext{
	RunAsNonRoot:             ptr(true),
	RunAsUser:                ptr(int64(65532)),
	RunAsGroup:               ptr(int64(65532)),
	ReadOnlyRootFilesystem:   ptr(true),
	AllowPrivilegeEscalation: ptr(false),
	Capabilities: &corev1.Capabilities{
		Drop: []corev1.Capability{"ALL"},
		Add:  []corev1.Capability{"NET_BIND_SERVICE", "NET_RAW"},
	},
	SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
}

// checkCommon holds in every combination: security context, probes, the
// API port, consistent selectors and names, mounts of declared volumes, and
// file flags pointing into read-only Secret mounts.
func checkCommon(t *testing.T, r *rendered) {
	t.Helper()
	sts := r.sts
	pod := sts.Spec.Template.Spec
	c := r.container(t)

	if diff := cmp.Diff(wantSecurityContext, c.SecurityContext); diff != "" {
		t.Errorf("container securityContext (-want +got):\n%s", diff)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v: want non-root 65532, RuntimeDefault seccomp", psc)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the service account token is mounted: drover calls no Kubernetes API")
	}

	// Probes on the named API port.
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8780 || c.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("ports %+v, want http 8780/TCP", c.Ports)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s probe %+v: want httpGet", p.name, p.probe)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe GET %s on %s, want %s on http", p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path)
		}
	}

	if diff := cmp.Diff([]string{"/usr/bin/drover"}, c.Command); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
	flags, pos := r.args(t)
	if diff := cmp.Diff([]string{"serve"}, pos); diff != "" {
		t.Errorf("positional args (-want +got):\n%s", diff)
	}
	for k, v := range map[string]string{"--data": "/var/lib/drover", "--listen": "0.0.0.0:8780", "--no-client-config": ""} {
		if got, ok := flags[k]; !ok || got != v {
			t.Errorf("flag %s = %q (given %v), want %q", k, got, ok, v)
		}
	}

	// Selectors: the StatefulSet's selects its pods; the Services select them.
	podLabels := labels.Set(sts.Spec.Template.Labels)
	checkLabels(t, "pod template", sts.Spec.Template.Labels)
	sel, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) {
		t.Errorf("StatefulSet selector %v does not select its pods %v (%v)", sts.Spec.Selector, podLabels, err)
	}
	api, ok := r.services[fullname]
	if !ok {
		t.Fatalf("no API Service %q among %v", fullname, r.ids)
	}
	headless, ok := r.services[sts.Spec.ServiceName]
	if !ok || headless.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("StatefulSet serviceName %q: no headless Service", sts.Spec.ServiceName)
	}
	for _, s := range r.services {
		if !labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) || len(s.Spec.Selector) == 0 {
			t.Errorf("Service %s selector %v does not select the pods", s.Name, s.Spec.Selector)
		}
		if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].TargetPort.String() != "http" {
			t.Errorf("Service %s ports %+v, want target port http", s.Name, s.Spec.Ports)
		}
	}
	if api.Spec.Ports[0].Name != "http" {
		t.Errorf("API Service port name %q, want http", api.Spec.Ports[0].Name)
	}

	// Every mount has its volume (pod volume or claim template), once.
	vols := map[string]bool{}
	for _, v := range pod.Volumes {
		if vols[v.Name] {
			t.Errorf("volume %s declared twice", v.Name)
		}
		vols[v.Name] = true
	}
	for _, ct := range sts.Spec.VolumeClaimTemplates {
		if vols[ct.Name] {
			t.Errorf("volume %s is both a pod volume and a claim template", ct.Name)
		}
		vols[ct.Name] = true
	}
	for _, m := range c.VolumeMounts {
		if !vols[m.Name] {
			t.Errorf("mount %s at %s has no volume", m.Name, m.MountPath)
		}
	}
	if m := r.mount(t, "data"); m == nil || m.MountPath != "/var/lib/drover" {
		t.Errorf("data mount %+v, want /var/lib/drover", m)
	}
	if m := r.mount(t, "tmp"); m == nil || m.MountPath != "/tmp" {
		t.Errorf("tmp mount %+v, want /tmp (the root filesystem is read-only)", m)
	}
	// Flags naming files point into a read-only Secret mount whose Secret
	// item is that file.
	for k, v := range flags {
		if !strings.HasSuffix(k, "-file") && k != "--gitops-ssh-key" && k != "--gitops-known-hosts" {
			continue
		}
		checkSecretFile(t, r, k, v)
	}

	// A ServiceAccount is rendered or named.
	if r.serviceAccount != nil && r.serviceAccount.Name != pod.ServiceAccountName {
		t.Errorf("ServiceAccount %q rendered, pod uses %q", r.serviceAccount.Name, pod.ServiceAccountName)
	}

	if !strings.Contains(r.notes, "rollout status statefulset/"+fullname) {
		t.Errorf("NOTES.txt lacks the rollout command:\n%s", r.notes)
	}
}

func checkSecretFile(t *testing.T, r *rendered, flag, file string) {
	t.Helper()
	c := r.container(t)
	for _, m := range c.VolumeMounts {
		dir := strings.TrimSuffix(m.MountPath, "/") + "/"
		if !strings.HasPrefix(file, dir) {
			continue
		}
		if !m.ReadOnly {
			t.Errorf("%s=%s: mount %s is not read-only", flag, file, m.Name)
		}
		v := r.volume(m.Name)
		if v == nil || v.Secret == nil {
			t.Errorf("%s=%s: volume %s is not a Secret", flag, file, m.Name)
			return
		}
		item := strings.TrimPrefix(file, dir)
		for _, it := range v.Secret.Items {
			if it.Path == item {
				return
			}
		}
		t.Errorf("%s=%s: Secret %s has no item %q (%+v)", flag, file, v.Secret.SecretName, item, v.Secret.Items)
		return
	}
	t.Errorf("%s=%s: no mount holds the file", flag, file)
}

func checkDefaults(t *testing.T, r *rendered) {
	pod := r.sts.Spec.Template.Spec
	if *r.sts.Spec.Replicas != 1 {
		t.Errorf("replicas %d, want 1", *r.sts.Spec.Replicas)
	}
	if !pod.HostNetwork || pod.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("hostNetwork %v, dnsPolicy %q: want true, ClusterFirstWithHostNet", pod.HostNetwork, pod.DNSPolicy)
	}
	if _, ok := r.sts.Spec.Template.Annotations["k8s.v1.cni.cncf.io/networks"]; ok {
		t.Error("multus annotation in hostNetwork mode")
	}
	c := r.container(t)
	if c.Image != "ghcr.io/drover-dev/drover:0.1.0" || c.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("image %s (%s), want the appVersion tag", c.Image, c.ImagePullPolicy)
	}
	if len(c.Env) != 0 {
		t.Errorf("env %+v, want none", c.Env)
	}
	flags, _ := r.args(t)
	for _, k := range []string{"--db", "--admin-token-file", "--secret-key-file", "--gitops-repo"} {
		if _, ok := flags[k]; ok {
			t.Errorf("flag %s given by default", k)
		}
	}
	if flags["--services"] != "all" || flags["--log-format"] != "json" || flags["--log-level"] != "info" || flags["--tftp-root"] != "/usr/lib/ipxe" {
		t.Errorf("flags %v", flags)
	}
	cts := r.sts.Spec.VolumeClaimTemplates
	if len(cts) != 1 || cts[0].Name != "data" {
		t.Fatalf("volumeClaimTemplates %+v, want one named data", cts)
	}
	if got := cts[0].Spec.Resources.Requests.Storage().String(); got != "10Gi" {
		t.Errorf("claim size %s, want 10Gi", got)
	}
	if cts[0].Spec.StorageClassName != nil {
		t.Errorf("storageClassName %q, want unset (the default class)", *cts[0].Spec.StorageClassName)
	}
	if diff := cmp.Diff([]corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, cts[0].Spec.AccessModes); diff != "" {
		t.Errorf("access modes (-want +got):\n%s", diff)
	}
	if v := r.volume("data"); v != nil {
		t.Errorf("data is also a pod volume: %+v", v)
	}
	wantIDs := []string{
		"apps/v1/StatefulSet/drover",
		"v1/Service/drover",
		"v1/Service/drover-headless",
		"v1/ServiceAccount/drover",
	}
	got := append([]string(nil), r.ids...)
	sort.Strings(got)
	if diff := cmp.Diff(wantIDs, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if r.ingress != nil || r.serviceMonitor != nil || r.nad != nil {
		t.Error("optional objects rendered by default")
	}
	if !strings.Contains(r.notes, "/var/lib/drover/admin.token") {
		t.Errorf("NOTES.txt does not say where the admin token is:\n%s", r.notes)
	}
}

// selection is one element of the k8s.v1.cni.cncf.io/networks annotation.
type selection struct {
	Name      string   `json:"name"`
	Namespace string   `json:"namespace,omitempty"`
	Interface string   `json:"interface,omitempty"`
	IPs       []string `json:"ips,omitempty"`
	MAC       string   `json:"mac,omitempty"`
}

func multusSelections(t *testing.T, r *rendered) []selection {
	t.Helper()
	pod := r.sts.Spec.Template.Spec
	if pod.HostNetwork || pod.DNSPolicy != "" {
		t.Errorf("multus: hostNetwork %v dnsPolicy %q, want false and unset", pod.HostNetwork, pod.DNSPolicy)
	}
	ann, ok := r.sts.Spec.Template.Annotations["k8s.v1.cni.cncf.io/networks"]
	if !ok {
		t.Fatal("no k8s.v1.cni.cncf.io/networks annotation")
	}
	var sels []selection
	dec := json.NewDecoder(strings.NewReader(ann))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sels); err != nil {
		t.Fatalf("networks annotation %q: %v", ann, err)
	}
	return sels
}

func checkMultusExisting(t *testing.T, r *rendered) {
	want := []selection{{Name: "prov", Namespace: "infra", Interface: "prov0", IPs: []string{"198.18.0.2/24"}}}
	if diff := cmp.Diff(want, multusSelections(t, r)); diff != "" {
		t.Errorf("networks (-want +got):\n%s", diff)
	}
	if r.nad != nil {
		t.Error("a NetworkAttachmentDefinition rendered without nad.create")
	}
}

func checkMultusNAD(typ, mode string) func(*testing.T, *rendered) {
	return func(t *testing.T, r *rendered) {
		if r.nad == nil {
			t.Fatal("no NetworkAttachmentDefinition")
		}
		want := []selection{{Name: r.nad.Name, Interface: "prov0"}}
		if diff := cmp.Diff(want, multusSelections(t, r)); diff != "" {
			t.Errorf("networks (-want +got):\n%s", diff)
		}
		if r.nad.Name != "drover-provisioning" {
			t.Errorf("NAD name %q", r.nad.Name)
		}
		cfg, err := r.nad.CNIConfig()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Type != typ || cfg.Mode != mode || cfg.CNIVersion == "" || cfg.IPAM.Type != "static" ||
			len(cfg.IPAM.Addresses) != 1 || cfg.IPAM.Addresses[0].Address != "198.18.0.2/24" {
			t.Errorf("CNI config %+v, want %s mode %s with a static address", cfg, typ, mode)
		}
		if typ == "macvlan" && (cfg.Master != "eno2" || cfg.MTU != 9000) {
			t.Errorf("CNI config master %q mtu %d, want eno2 9000", cfg.Master, cfg.MTU)
		}
		if typ == "ipvlan" && (cfg.Master != "eth1" || cfg.MTU != 0) {
			t.Errorf("CNI config master %q mtu %d, want eth1 and no mtu", cfg.Master, cfg.MTU)
		}
	}
}

func checkPodNetwork(t *testing.T, r *rendered) {
	pod := r.sts.Spec.Template.Spec
	if pod.HostNetwork || pod.DNSPolicy != "" || len(r.sts.Spec.Template.Annotations) != 0 {
		t.Errorf("pod network: hostNetwork %v, dnsPolicy %q, annotations %v", pod.HostNetwork, pod.DNSPolicy, r.sts.Spec.Template.Annotations)
	}
	if flags, _ := r.args(t); flags["--services"] != "none" {
		t.Errorf("--services=%q, want none", flags["--services"])
	}
}

func checkPostgres(pvc bool) func(*testing.T, *rendered) {
	return func(t *testing.T, r *rendered) {
		flags, _ := r.args(t)
		if flags["--db"] != "$(DROVER_DB)" {
			t.Errorf("--db=%q, want $(DROVER_DB) (expanded by the kubelet from the env)", flags["--db"])
		}
		e := r.env(t, "DROVER_DB")
		key := "dsn"
		if !pvc {
			key = "uri"
		}
		want := &corev1.EnvVar{Name: "DROVER_DB", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "drover-db"}, Key: key,
		}}}
		if diff := cmp.Diff(want, e); diff != "" {
			t.Errorf("DSN env (-want +got):\n%s", diff)
		}
		if pvc {
			if len(r.sts.Spec.VolumeClaimTemplates) != 1 {
				t.Errorf("claim templates %d, want 1", len(r.sts.Spec.VolumeClaimTemplates))
			}
			return
		}
		if len(r.sts.Spec.VolumeClaimTemplates) != 0 {
			t.Errorf("claim templates %+v without persistence", r.sts.Spec.VolumeClaimTemplates)
		}
		v := r.volume("data")
		if v == nil || v.EmptyDir == nil || v.EmptyDir.SizeLimit == nil || v.EmptyDir.SizeLimit.String() != "2Gi" {
			t.Errorf("data volume %+v, want an emptyDir of 2Gi", v)
		}
		if flags["--secret-key-file"] != "/etc/drover/secret-key/secret.key" {
			t.Errorf("--secret-key-file=%q", flags["--secret-key-file"])
		}
		if v := r.volume("secret-key"); v == nil || v.Secret == nil || v.Secret.SecretName != "drover-secret-key" {
			t.Errorf("secret-key volume %+v", v)
		}
	}
}

func checkStorageClass(class, size string) func(*testing.T, *rendered) {
	return func(t *testing.T, r *rendered) {
		ct := r.sts.Spec.VolumeClaimTemplates[0]
		if ct.Spec.StorageClassName == nil || *ct.Spec.StorageClassName != class {
			t.Errorf("storageClassName %v, want %q", ct.Spec.StorageClassName, class)
		}
		if got := ct.Spec.Resources.Requests.Storage().String(); got != size {
			t.Errorf("size %s, want %s", got, size)
		}
	}
}

func checkServiceMonitor(t *testing.T, r *rendered) {
	sm := r.serviceMonitor
	if sm == nil {
		t.Fatal("no ServiceMonitor")
	}
	if sm.Labels["release"] != "prometheus" {
		t.Errorf("labels %v lack release=prometheus", sm.Labels)
	}
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	var matched []string
	for name, s := range r.services {
		if sel.Matches(labels.Set(s.Labels)) {
			matched = append(matched, name)
		}
	}
	sort.Strings(matched)
	// Only the API Service: the headless one selects the same pod, and a
	// second match would scrape it twice.
	if diff := cmp.Diff([]string{fullname}, matched); diff != "" {
		t.Errorf("ServiceMonitor selects Services (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{namespace}, sm.Spec.NamespaceSelector.MatchNames); diff != "" {
		t.Errorf("namespaceSelector (-want +got):\n%s", diff)
	}
	want := []Endpoint{{Port: "http", Path: "/metrics", Scheme: "http", Interval: "30s", ScrapeTimeout: "10s"}}
	if diff := cmp.Diff(want, sm.Spec.Endpoints); diff != "" {
		t.Errorf("endpoints (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.notes, "ServiceMonitor") {
		t.Error("NOTES.txt does not mention the ServiceMonitor")
	}
}

func checkIngress(t *testing.T, r *rendered) {
	in := r.ingress
	if in == nil {
		t.Fatal("no Ingress")
	}
	if in.Spec.IngressClassName == nil || *in.Spec.IngressClassName != "nginx" {
		t.Errorf("ingressClassName %v, want nginx", in.Spec.IngressClassName)
	}
	if len(in.Spec.Rules) != 1 || in.Spec.Rules[0].Host != "drover.example.com" || in.Spec.Rules[0].HTTP == nil ||
		len(in.Spec.Rules[0].HTTP.Paths) != 1 {
		t.Fatalf("rules %+v", in.Spec.Rules)
	}
	p := in.Spec.Rules[0].HTTP.Paths[0]
	if p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix || p.Backend.Service == nil ||
		p.Backend.Service.Name != fullname || p.Backend.Service.Port.Name != "http" {
		t.Errorf("path %+v, want Prefix to the API Service's http port", p)
	}
	if len(in.Spec.TLS) != 1 || in.Spec.TLS[0].SecretName != "drover-tls" {
		t.Errorf("tls %+v", in.Spec.TLS)
	}
	if !strings.Contains(r.notes, "https://drover.example.com/") {
		t.Errorf("NOTES.txt lacks the ingress URL:\n%s", r.notes)
	}
}

func checkGitOpsToken(t *testing.T, r *rendered) {
	flags, _ := r.args(t)
	want := map[string]string{
		"--gitops-repo":       "https://git.example.com/cluster/inventory.git",
		"--gitops-path":       "clusters/lab",
		"--gitops-branch":     "main",
		"--gitops-interval":   "5m",
		"--gitops-token-file": "/etc/drover/gitops-token/token",
	}
	for k, v := range want {
		if flags[k] != v {
			t.Errorf("%s=%q, want %q", k, flags[k], v)
		}
	}
	if _, ok := flags["--gitops-ssh-key"]; ok {
		t.Error("--gitops-ssh-key without sshKey.existingSecret")
	}
	if v := r.volume("gitops-token"); v == nil || v.Secret == nil || v.Secret.SecretName != "drover-git" {
		t.Errorf("gitops-token volume %+v", v)
	}
}

func checkGitOpsSSH(t *testing.T, r *rendered) {
	flags, _ := r.args(t)
	if flags["--gitops-ssh-key"] != "/etc/drover/gitops-ssh/ssh-privatekey" || flags["--gitops-interval"] != "1m" ||
		flags["--gitops-known-hosts"] != "/etc/drover/gitops-ssh/known_hosts" {
		t.Errorf("flags %v", flags)
	}
	for _, k := range []string{"--gitops-path", "--gitops-branch", "--gitops-token-file"} {
		if _, ok := flags[k]; ok {
			t.Errorf("%s given though unset", k)
		}
	}
	if v := r.volume("gitops-ssh"); v == nil || v.Secret == nil || v.Secret.SecretName != "drover-deploy-key" {
		t.Errorf("gitops-ssh volume %+v", v)
	}
}

func checkAdminToken(t *testing.T, r *rendered) {
	flags, _ := r.args(t)
	if flags["--admin-token-file"] != "/etc/drover/admin-token/token" {
		t.Errorf("--admin-token-file=%q", flags["--admin-token-file"])
	}
	v := r.volume("admin-token")
	if v == nil || v.Secret == nil || v.Secret.SecretName != "drover-admin" {
		t.Fatalf("admin-token volume %+v", v)
	}
	if v.Secret.DefaultMode == nil || *v.Secret.DefaultMode != 0o440 {
		t.Errorf("admin-token mode %v, want 0440 (readable by fsGroup 65532 only)", v.Secret.DefaultMode)
	}
	if !strings.Contains(r.notes, "get secret drover-admin") {
		t.Errorf("NOTES.txt does not show how to read the token:\n%s", r.notes)
	}
}

func checkExtras(t *testing.T, r *rendered) {
	pod := r.sts.Spec.Template.Spec
	c := r.container(t)
	if c.Image != "registry.example.com/drover:v0.2.0" || c.ImagePullPolicy != corev1.PullAlways {
		t.Errorf("image %s %s", c.Image, c.ImagePullPolicy)
	}
	if diff := cmp.Diff([]corev1.LocalObjectReference{{Name: "regcred"}}, pod.ImagePullSecrets); diff != "" {
		t.Errorf("imagePullSecrets (-want +got):\n%s", diff)
	}
	if pod.NodeSelector["drover.dev/provisioning"] != "true" || len(pod.Tolerations) != 1 || pod.Affinity == nil || pod.Affinity.NodeAffinity == nil {
		t.Errorf("scheduling: %v %v %v", pod.NodeSelector, pod.Tolerations, pod.Affinity)
	}
	if got := c.Resources.Limits.Cpu().String(); got != "2" {
		t.Errorf("cpu limit %s", got)
	}
	if flags, _ := r.args(t); flags["--bmc-concurrency"] != "64" {
		t.Errorf("extra arg missing: %v", flags)
	}
	if e := r.env(t, "TZ"); e == nil || e.Value != "UTC" {
		t.Errorf("extra env %+v", e)
	}
	if r.serviceAccount != nil || pod.ServiceAccountName != "provisioning" {
		t.Errorf("serviceAccount %v, name %q: want none rendered, provisioning", r.serviceAccount, pod.ServiceAccountName)
	}
}

// TestValuesDocumented: every top-level key of values.yaml has a comment
// above it or above the group of keys it starts (the file documents the
// chart inline).
func TestValuesDocumented(t *testing.T) {
	ch := loadChart(t)
	var raw []byte
	for _, f := range ch.Raw {
		if f.Name == "values.yaml" {
			raw = f.Data
		}
	}
	if raw == nil {
		t.Fatal("no values.yaml")
	}
	lines := bytes.Split(raw, []byte("\n"))
	for i, line := range lines {
		s := string(line)
		trim := strings.TrimSpace(s)
		if trim == "" || strings.HasPrefix(trim, "#") || strings.HasPrefix(trim, "- ") || !strings.Contains(trim, ":") {
			continue
		}
		indent := len(s) - len(strings.TrimLeft(s, " "))
		// A key is documented by a comment above it, or above its parent
		// block's first key (a group of sibling keys under one comment).
		documented := false
		for j := i - 1; j >= 0; j-- {
			p := string(lines[j])
			pt := strings.TrimSpace(p)
			if pt == "" {
				break
			}
			pIndent := len(p) - len(strings.TrimLeft(p, " "))
			if strings.HasPrefix(pt, "#") {
				documented = true
				break
			}
			if pIndent < indent {
				break
			}
		}
		if !documented && indent > 0 {
			// nested keys of a documented parent count as documented
			documented = true
		}
		if !documented {
			t.Errorf("values.yaml:%d: %q has no comment", i+1, trim)
		}
	}
}
