package redfish

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// mockBMC is a Redfish service backed by the DMTF mockup in
// testdata/public-rackmount1: it serves the resources (GET), logs sessions
// in and out, runs ComputerSystem.Reset on the stored PowerState and merges
// PATCHes of Boot into the stored system, recording what it was sent.
type mockBMC struct {
	srv *httptest.Server

	// Set before the first request.
	user, pass   string
	noSessions   bool     // POST to Sessions answers 405
	rootAuth     bool     // the service root demands credentials
	rejectResets []string // reset types answered 400 whatever the system lists
	// hideBootTargets leaves BootSourceOverrideTarget@Redfish.AllowableValues
	// out of GETs (the server still enforces it).
	hideBootTargets bool
	// offDelay is how many GETs of the system show PoweringOff after a
	// ForceOff or GracefulShutdown before it shows Off.
	offDelay int

	pendingOff int

	mu       sync.Mutex
	res      map[string]map[string]any // path without trailing slash → resource
	etags    map[string]int            // path → version, sent as ETag
	tokens   map[string]string         // X-Auth-Token → session path
	nextID   int
	logins   int
	logouts  []string // session paths deleted
	resets   []string // ResetType values accepted, in order
	patches  []string // PATCH bodies, verbatim
	basicReq int      // requests authorised by basic auth
	tokenReq int      // requests authorised by X-Auth-Token
}

const (
	mockSystem   = "/redfish/v1/Systems/437XR1138R2"
	mockSessions = "/redfish/v1/SessionService/Sessions"
)

// newMockBMC loads the mockup and applies opts (which may edit the
// resources through m.res) before starting a TLS server.
func newMockBMC(t *testing.T, opts ...func(*mockBMC)) *mockBMC {
	t.Helper()
	m := &mockBMC{
		user:   "Administrator",
		pass:   "s3cret",
		res:    map[string]map[string]any{},
		etags:  map[string]int{},
		tokens: map[string]string{},
	}
	root := filepath.Join("testdata", "public-rackmount1")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "index.json" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var r map[string]any
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		key := "/redfish/v1"
		if rel != "." {
			key = path.Join(key, filepath.ToSlash(rel))
		}
		m.res[key] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(m)
	}
	m.srv = httptest.NewUnstartedServer(m)
	m.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the tests fail on purpose
	m.srv.StartTLS()
	t.Cleanup(m.srv.Close)
	return m
}

// addr is the server's host:port, as a node's bmc attribute would be.
func (m *mockBMC) addr() string { return m.srv.Listener.Addr().String() }

func (m *mockBMC) system() map[string]any { return m.res[mockSystem] }

// withResetTypes replaces the system's ResetType@Redfish.AllowableValues;
// nil removes the annotation.
func withResetTypes(types ...string) func(*mockBMC) {
	return func(m *mockBMC) {
		reset := m.system()["Actions"].(map[string]any)["#ComputerSystem.Reset"].(map[string]any)
		if types == nil {
			delete(reset, "ResetType@Redfish.AllowableValues")
			return
		}
		reset["ResetType@Redfish.AllowableValues"] = toAny(types)
	}
}

// withPowerState sets the stored PowerState.
func withPowerState(s string) func(*mockBMC) {
	return func(m *mockBMC) { m.system()["PowerState"] = s }
}

// withBootTargets replaces BootSourceOverrideTarget@Redfish.AllowableValues.
func withBootTargets(targets ...string) func(*mockBMC) {
	return func(m *mockBMC) {
		m.system()["Boot"].(map[string]any)["BootSourceOverrideTarget@Redfish.AllowableValues"] = toAny(targets)
	}
}

// withSecondSystem adds a copy of the system as Id id with uuid.
func withSecondSystem(id, uuid string) func(*mockBMC) {
	return func(m *mockBMC) {
		var cp map[string]any
		b, _ := json.Marshal(m.system())
		_ = json.Unmarshal(b, &cp)
		p := "/redfish/v1/Systems/" + id
		cp["Id"], cp["UUID"], cp["SerialNumber"], cp["@odata.id"] = id, uuid, id, p
		cp["Actions"].(map[string]any)["#ComputerSystem.Reset"].(map[string]any)["target"] = p + "/Actions/ComputerSystem.Reset"
		m.res[p] = cp
		coll := m.res["/redfish/v1/Systems"]
		coll["Members"] = append(coll["Members"].([]any), map[string]any{"@odata.id": p})
		coll["Members@odata.count"] = len(coll["Members"].([]any))
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// redfishError writes a Redfish error body with one extended message.
func redfishError(w http.ResponseWriter, status int, id, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code":    "Base.1.15.GeneralError",
		"message": "A general error has occurred. See ExtendedInfo for more information.",
		"@Message.ExtendedInfo": []any{map[string]any{
			"@odata.type": "#Message.v1_1_1.Message",
			"MessageId":   "Base.1.15." + id,
			"Message":     msg,
			"Severity":    "Warning",
		}},
	}})
}

func (m *mockBMC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case r.Method == http.MethodGet && p == "/redfish/v1" && !m.rootAuth:
		m.serve(w, p)
		return
	case r.Method == http.MethodPost && p == mockSessions:
		m.login(w, r)
		return
	}
	if !m.authorised(r) {
		redfishError(w, http.StatusUnauthorized, "InsufficientPrivilege", "There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.")
		return
	}
	switch {
	case r.Method == http.MethodGet:
		m.serve(w, p)
	case r.Method == http.MethodDelete && strings.HasPrefix(p, mockSessions+"/"):
		m.logout(w, r, p)
	case r.Method == http.MethodPost && strings.HasSuffix(p, "/Actions/ComputerSystem.Reset"):
		m.reset(w, r, strings.TrimSuffix(p, "/Actions/ComputerSystem.Reset"))
	case r.Method == http.MethodPatch && strings.HasPrefix(p, "/redfish/v1/Systems/") && m.res[p] != nil:
		m.patch(w, r, p)
	case m.res[p] != nil:
		redfishError(w, http.StatusMethodNotAllowed, "OperationNotAllowed", "The HTTP method is not allowed on this resource.")
	default:
		redfishError(w, http.StatusNotFound, "ResourceMissingAtURI", "The resource at the URI "+p+" was not found.")
	}
}

func (m *mockBMC) serve(w http.ResponseWriter, p string) {
	res, ok := m.res[p]
	if !ok {
		redfishError(w, http.StatusNotFound, "ResourceMissingAtURI", "The resource at the URI "+p+" was not found.")
		return
	}
	if m.hideBootTargets && p == mockSystem {
		var cp map[string]any
		b, _ := json.Marshal(res)
		_ = json.Unmarshal(b, &cp)
		delete(cp["Boot"].(map[string]any), "BootSourceOverrideTarget@Redfish.AllowableValues")
		res = cp
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", fmt.Sprintf(`W/"%d"`, m.etags[p]))
	_ = json.NewEncoder(w).Encode(res)
	if p == mockSystem && m.pendingOff > 0 {
		m.pendingOff--
		if m.pendingOff == 0 {
			res["PowerState"] = "Off"
			m.etags[p]++
		}
	}
}

func (m *mockBMC) authorised(r *http.Request) bool {
	if tok := r.Header.Get("X-Auth-Token"); tok != "" {
		if _, ok := m.tokens[tok]; ok {
			m.tokenReq++
			return true
		}
		return false
	}
	if u, p, ok := r.BasicAuth(); ok && u == m.user && p == m.pass {
		m.basicReq++
		return true
	}
	return false
}

func (m *mockBMC) login(w http.ResponseWriter, r *http.Request) {
	if m.noSessions {
		redfishError(w, http.StatusMethodNotAllowed, "OperationNotAllowed", "The HTTP method is not allowed on this resource.")
		return
	}
	var body struct{ UserName, Password string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		redfishError(w, http.StatusBadRequest, "MalformedJSON", "The request body submitted was malformed JSON.")
		return
	}
	if body.UserName != m.user || body.Password != m.pass {
		redfishError(w, http.StatusUnauthorized, "NoValidSession", "There is no valid session established with the implementation.")
		return
	}
	m.nextID++
	m.logins++
	id := fmt.Sprintf("%016X", m.nextID)
	p := mockSessions + "/" + id
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	m.tokens[tok] = p
	m.res[p] = map[string]any{
		"@odata.type": "#Session.v1_6_0.Session", "@odata.id": p,
		"Id": id, "Name": "User Session", "UserName": body.UserName,
	}
	coll := m.res[mockSessions]
	coll["Members"] = append(coll["Members"].([]any), map[string]any{"@odata.id": p})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Auth-Token", tok)
	w.Header().Set("Location", p)
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(m.res[p])
}

func (m *mockBMC) logout(w http.ResponseWriter, r *http.Request, p string) {
	if _, ok := m.res[p]; !ok {
		redfishError(w, http.StatusNotFound, "ResourceMissingAtURI", "The resource at the URI "+p+" was not found.")
		return
	}
	delete(m.res, p)
	for tok, sp := range m.tokens {
		if sp == p {
			delete(m.tokens, tok)
		}
	}
	coll := m.res[mockSessions]
	coll["Members"] = slices.DeleteFunc(coll["Members"].([]any), func(v any) bool {
		return v.(map[string]any)["@odata.id"] == p
	})
	m.logouts = append(m.logouts, p)
	w.WriteHeader(http.StatusNoContent)
}

// reset applies a ComputerSystem.Reset to the stored PowerState the way a
// BMC does once the action completes.
func (m *mockBMC) reset(w http.ResponseWriter, r *http.Request, sysPath string) {
	sys := m.res[sysPath]
	if sys == nil {
		redfishError(w, http.StatusNotFound, "ResourceMissingAtURI", "The resource at the URI "+sysPath+" was not found.")
		return
	}
	var body struct{ ResetType string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		redfishError(w, http.StatusBadRequest, "MalformedJSON", "The request body submitted was malformed JSON.")
		return
	}
	action := sys["Actions"].(map[string]any)["#ComputerSystem.Reset"].(map[string]any)
	allowed, listed := action["ResetType@Redfish.AllowableValues"].([]any)
	if body.ResetType == "" {
		redfishError(w, http.StatusBadRequest, "ActionParameterMissing", "The action ComputerSystem.Reset requires the parameter ResetType to be present in the request body.")
		return
	}
	if (listed && !slices.Contains(allowed, any(body.ResetType))) || slices.Contains(m.rejectResets, body.ResetType) {
		redfishError(w, http.StatusBadRequest, "ActionParameterNotSupported", "The parameter ResetType for the action ComputerSystem.Reset is not supported on the target resource.")
		return
	}
	state := sys["PowerState"]
	switch body.ResetType {
	case "On", "ForceOn", "ForceRestart", "GracefulRestart", "PowerCycle":
		state = "On"
	case "ForceOff", "GracefulShutdown":
		state = "Off"
	case "PushPowerButton":
		if state == "On" {
			state = "Off"
		} else {
			state = "On"
		}
	}
	if state == "Off" && m.offDelay > 0 && sys["PowerState"] != "Off" {
		state, m.pendingOff = "PoweringOff", m.offDelay
	}
	sys["PowerState"] = state
	m.etags[sysPath]++
	m.resets = append(m.resets, body.ResetType)
	w.WriteHeader(http.StatusNoContent)
}

// patch merges a PATCH of the system's Boot, checking the values against
// the annotations as a BMC does, and the If-Match ETag when sent.
func (m *mockBMC) patch(w http.ResponseWriter, r *http.Request, p string) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		redfishError(w, http.StatusBadRequest, "MalformedJSON", err.Error())
		return
	}
	m.patches = append(m.patches, string(raw))
	if im := r.Header.Get("If-Match"); im != "" && im != fmt.Sprintf(`W/"%d"`, m.etags[p]) {
		redfishError(w, http.StatusPreconditionFailed, "PreconditionFailed", "The ETag supplied did not match the ETag required to change this resource.")
		return
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		redfishError(w, http.StatusBadRequest, "MalformedJSON", "The request body submitted was malformed JSON.")
		return
	}
	sys := m.res[p]
	boot := sys["Boot"].(map[string]any)
	valid := map[string][]any{
		"BootSourceOverrideTarget":  boot["BootSourceOverrideTarget@Redfish.AllowableValues"].([]any),
		"BootSourceOverrideEnabled": {"Disabled", "Once", "Continuous"},
		"BootSourceOverrideMode":    {"UEFI", "Legacy"},
	}
	for k, v := range body {
		if k != "Boot" {
			redfishError(w, http.StatusBadRequest, "PropertyNotWritable", "The property "+k+" is a read only property and cannot be assigned a value.")
			return
		}
		for bk, bv := range v {
			allowed, ok := valid[bk]
			if !ok {
				redfishError(w, http.StatusBadRequest, "PropertyUnknown", "The property "+bk+" is not in the list of valid properties for the resource.")
				return
			}
			if !slices.Contains(allowed, bv) {
				redfishError(w, http.StatusBadRequest, "PropertyValueNotInList", fmt.Sprintf("The value %v for the property %s is not in the list of acceptable values.", bv, bk))
				return
			}
		}
	}
	for bk, bv := range body["Boot"] {
		boot[bk] = bv
	}
	m.etags[p]++
	w.WriteHeader(http.StatusNoContent)
}

// snapshot copies what the server recorded, for assertions.
func (m *mockBMC) snapshot() mockRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	boot := m.system()["Boot"].(map[string]any)
	str := func(k string) string { s, _ := boot[k].(string); return s }
	return mockRecord{
		Logins:   m.logins,
		Logouts:  len(m.logouts),
		Sessions: len(m.tokens),
		Resets:   slices.Clone(m.resets),
		Patches:  slices.Clone(m.patches),
		Power:    m.system()["PowerState"].(string),
		Boot:     [3]string{str("BootSourceOverrideTarget"), str("BootSourceOverrideEnabled"), str("BootSourceOverrideMode")},
		BasicReq: m.basicReq,
		TokenReq: m.tokenReq,
	}
}

type mockRecord struct {
	Logins, Logouts, Sessions int
	Resets, Patches           []string
	Power                     string
	Boot                      [3]string // target, enabled, mode
	BasicReq, TokenReq        int
}
