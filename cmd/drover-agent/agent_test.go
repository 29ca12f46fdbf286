package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/facts"
)

const fakeRoot = "../../internal/facts/testdata/root"

var testTime = time.Date(2026, 11, 22, 2, 30, 0, 0, time.UTC)

// fakeMachine records actions instead of rebooting the test host.
type fakeMachine struct {
	mu   sync.Mutex
	done []string
	fail error
}

func (f *fakeMachine) record(a string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = append(f.done, a)
	return f.fail
}
func (f *fakeMachine) Reboot() error   { return f.record("reboot") }
func (f *fakeMachine) PowerOff() error { return f.record("poweroff") }
func (f *fakeMachine) Shell() error    { return f.record("shell") }

// server answers each registration with the next of answers (status, body)
// and keeps the bodies it accepted.
type server struct {
	mu      sync.Mutex
	answers []answer
	n       int
	bodies  [][]byte
	queries []string
}

type answer struct {
	status int
	body   string
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _ := io.ReadAll(r.Body)
	a := s.answers[min(s.n, len(s.answers)-1)]
	s.n++
	s.queries = append(s.queries, r.URL.RawQuery)
	if a.status/100 == 2 {
		s.bodies = append(s.bodies, b)
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func newAgent(t *testing.T, url string, m Machine, slept *[]time.Duration) *Agent {
	t.Helper()
	return &Agent{
		URL:    url,
		Client: &http.Client{Timeout: 10 * time.Second},
		Collect: func(ctx context.Context) (*facts.Report, error) {
			return facts.Collect(ctx, facts.Options{Root: fakeRoot, Version: "test", Now: func() time.Time { return testTime }})
		},
		Machine: m,
		Log:     slog.New(slog.DiscardHandler),
		Sleep: func(ctx context.Context, d time.Duration) error {
			*slept = append(*slept, d)
			return ctx.Err()
		},
		Jitter: func(time.Duration) time.Duration { return 0 },
	}
}

func TestRegisterRetriesThenReboots(t *testing.T) {
	s := &server{answers: []answer{
		{http.StatusServiceUnavailable, "busy"},
		{http.StatusServiceUnavailable, "busy"},
		{http.StatusBadGateway, ""},
		{http.StatusServiceUnavailable, ""},
		{http.StatusServiceUnavailable, ""},
		{http.StatusServiceUnavailable, ""},
		{http.StatusServiceUnavailable, ""},
		{http.StatusOK, `{"action":"reboot","after":5}`},
	}}
	ts := httptest.NewServer(s)
	defer ts.Close()
	m := &fakeMachine{}
	var slept []time.Duration
	a := newAgent(t, ts.URL+"/discovery/register?token=T1", m, &slept)
	if err := a.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Backoff 1,2,4,8,16,30,30 s with zero jitter is half of each; then after=5 s.
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 15 * time.Second, 15 * time.Second, 5 * time.Second}
	if d := cmp.Diff(want, slept); d != "" {
		t.Errorf("sleeps (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"reboot"}, m.done); d != "" {
		t.Errorf("machine actions (-want +got):\n%s", d)
	}
	if s.n != 8 || len(s.bodies) != 1 {
		t.Fatalf("server saw %d requests, accepted %d; want 8 and 1", s.n, len(s.bodies))
	}
	if s.queries[0] != "token=T1" {
		t.Errorf("query = %q, want token=T1", s.queries[0])
	}
	r, err := facts.ParseReport(s.bodies[0])
	if err != nil {
		t.Fatalf("server-side ParseReport: %v", err)
	}
	if r.System.Serial != "SN-LAB-0001" || r.NICs[0].MAC != "52:54:00:18:a0:01" {
		t.Errorf("report serial %q mac %q", r.System.Serial, r.NICs[0].MAC)
	}
}

func TestJitterBounds(t *testing.T) {
	// With the largest jitter the delay stays below the backoff step.
	s := &server{answers: []answer{{http.StatusServiceUnavailable, ""}, {http.StatusOK, `{"action":"poweroff"}`}}}
	ts := httptest.NewServer(s)
	defer ts.Close()
	var slept []time.Duration
	a := newAgent(t, ts.URL, &fakeMachine{}, &slept)
	a.Jitter = func(d time.Duration) time.Duration { return d - 1 }
	if _, err := a.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 1 || slept[0] < 500*time.Millisecond || slept[0] > time.Second {
		t.Errorf("sleeps = %v, want one in [0.5s, 1s]", slept)
	}
}

func TestRunFollowsActions(t *testing.T) {
	tests := []struct {
		name      string
		answers   []answer
		fail      error
		wantDone  []string
		wantSleep []time.Duration
		wantPosts int
	}{
		{
			name:      "wait then poweroff",
			answers:   []answer{{200, `{"action":"wait","after":10}`}, {200, `{"action":"poweroff","after":0}`}},
			wantDone:  []string{"poweroff"},
			wantSleep: []time.Duration{10 * time.Second, 0},
			wantPosts: 2,
		},
		{
			name:      "empty body waits the default",
			answers:   []answer{{204, ``}, {200, `{"action":"shell"}`}},
			wantDone:  []string{"shell"},
			wantSleep: []time.Duration{defaultWait, 0},
			wantPosts: 2,
		},
		{
			name:      "failed shell waits and registers again",
			answers:   []answer{{200, `{"action":"shell"}`}},
			fail:      errNoShell,
			wantDone:  []string{"shell", "shell"},
			wantSleep: []time.Duration{0, defaultWait, 0, defaultWait},
			wantPosts: 2,
		},
		{
			name:      "bad answer is retried",
			answers:   []answer{{200, `{"action":"dance"}`}, {200, `{"action":"reboot"}`}},
			wantDone:  []string{"reboot"},
			wantSleep: []time.Duration{500 * time.Millisecond, 0},
			wantPosts: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &server{answers: tc.answers}
			ts := httptest.NewServer(s)
			defer ts.Close()
			m := &fakeMachine{fail: tc.fail}
			var slept []time.Duration
			a := newAgent(t, ts.URL, m, &slept)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.fail != nil {
				// Stop after the second registration's action.
				a.Machine = stopAfter{m, 2, cancel}
			}
			err := a.Run(ctx)
			if tc.fail == nil && err != nil || tc.fail != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("Run() = %v", err)
			}
			if d := cmp.Diff(tc.wantDone, m.done); d != "" {
				t.Errorf("actions (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantSleep, slept); d != "" {
				t.Errorf("sleeps (-want +got):\n%s", d)
			}
			if s.n != tc.wantPosts {
				t.Errorf("posts = %d, want %d", s.n, tc.wantPosts)
			}
		})
	}
}

// stopAfter cancels the context once the machine was asked n times.
type stopAfter struct {
	m      *fakeMachine
	n      int
	cancel func()
}

func (s stopAfter) Reboot() error   { return s.do(s.m.Reboot) }
func (s stopAfter) PowerOff() error { return s.do(s.m.PowerOff) }
func (s stopAfter) Shell() error    { return s.do(s.m.Shell) }
func (s stopAfter) do(f func() error) error {
	err := f()
	if len(s.m.done) >= s.n {
		s.cancel()
	}
	return err
}

func TestParseAnswer(t *testing.T) {
	tests := []struct {
		body    string
		want    Answer
		wantErr bool
	}{
		{``, Answer{Action: ActionWait}, false},
		{`{}`, Answer{Action: ActionWait}, false},
		{`{"action":"reboot","after":3}`, Answer{Action: ActionReboot, After: 3}, false},
		{`{"action":"poweroff"}`, Answer{Action: ActionPowerOff}, false},
		{`{"action":"shell"}`, Answer{Action: ActionShell}, false},
		{`{"action":"explode"}`, Answer{}, true},
		{`{"action":"wait","after":-1}`, Answer{}, true},
		{`not json`, Answer{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.body, func(t *testing.T) {
			got, err := parseAnswer([]byte(tc.body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseAnswer() error = %v, wantErr %v", err, tc.wantErr)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		name    string
		cmdline string
		want    bootArgs
		wantErr bool
	}{
		{"report url", "console=ttyS0 drover.report=http://198.18.0.1/boot/report/52-54-00-18-a0-01?token=abc quiet",
			bootArgs{URL: "http://198.18.0.1/boot/report/52-54-00-18-a0-01?token=abc"}, false},
		{"discover wins", "drover.discover=http://198.18.0.1/d drover.report=http://198.18.0.1/r drover.token=T drover.lldp=30s",
			bootArgs{URL: "http://198.18.0.1/d", Token: "T", LLDPWait: 30 * time.Second}, false},
		{"quoted, last wins", `drover.report=http://a/1 drover.report="http://a/2"`, bootArgs{URL: "http://a/2"}, false},
		{"none", "root=/dev/sda1 ro", bootArgs{}, false},
		{"bad lldp", "drover.lldp=soon", bootArgs{}, true},
		{"sshkey standard base64", "drover.sshkey=" + testKeyB64, bootArgs{SSHKey: testKeyLine}, false},
		{"sshkey url base64 unpadded", "drover.sshkey=" + strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(testKeyB64), "="), bootArgs{SSHKey: testKeyLine}, false},
		{"sshkey not base64", "drover.sshkey=***", bootArgs{}, true},
		{"sshkey not a key", "drover.sshkey=aGVsbG8gd29ybGQ=", bootArgs{}, true},
		{"sshpw", "drover.sshpw=" + testHash + " drover.discover=http://198.18.0.1/d", bootArgs{URL: "http://198.18.0.1/d", SSHPw: testHash}, false},
		{"sshpw not bcrypt", "drover.sshpw=secret", bootArgs{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCmdline(tc.cmdline)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil || tc.want != (bootArgs{}) {
				if d := cmp.Diff(tc.want, got); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
			}
		})
	}
}

// An error in one key leaves the others read: PID 1 goes on with them.
func TestParseCmdlineKeepsGoodKeys(t *testing.T) {
	got, err := parseCmdline("drover.lldp=soon drover.discover=http://198.18.0.1/d drover.sshpw=nope drover.sshkey=" + testKeyB64)
	if err == nil {
		t.Fatal("no error")
	}
	want := bootArgs{URL: "http://198.18.0.1/d", SSHKey: testKeyLine}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func FuzzParseCmdline(f *testing.F) {
	for _, s := range []string{"console=ttyS0 drover.report=http://198.18.0.1/r?token=abc quiet",
		"drover.discover=http://a/d drover.token=T drover.lldp=30s", "drover.lldp=soon",
		"drover.sshkey=" + testKeyB64, "drover.sshpw=" + testHash, `drover.report="http://a/2"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, _ := parseCmdline(s)
		if b.LLDPWait < 0 {
			t.Errorf("negative lldp wait %v", b.LLDPWait)
		}
		if b.SSHKey != "" && strings.ContainsAny(b.SSHKey, "\r\n") {
			t.Errorf("multi-line key %q", b.SSHKey)
		}
	})
}

func TestRegistrationURL(t *testing.T) {
	tests := []struct {
		raw, token, want string
		wantErr          error
	}{
		{"http://198.18.0.1/boot/report/x?token=abc", "other", "http://198.18.0.1/boot/report/x?token=abc", nil},
		{"http://198.18.0.1/discovery", "T 1", "http://198.18.0.1/discovery?token=T+1", nil},
		{"https://drover:8443/discovery", "", "https://drover:8443/discovery", nil},
		{"", "T", "", ErrNoURL},
		{"ftp://x/y", "", "", nil},
		{"/relative", "", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := registrationURL(tc.raw, tc.token)
			if tc.want == "" {
				if err == nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Fatalf("error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("registrationURL() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestRunCommand(t *testing.T) {
	s := &server{answers: []answer{{503, ""}, {200, `{"action":"reboot","after":1}`}}}
	ts := httptest.NewServer(s)
	defer ts.Close()
	dir := t.TempDir()
	cmdline := filepath.Join(dir, "cmdline")
	if err := os.WriteFile(cmdline, []byte("quiet drover.discover="+ts.URL+"/discovery drover.token=tok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &fakeMachine{}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // substring of stdout
	}{
		{"version", []string{"--version"}, 0, "dev\n"},
		{"print", []string{"--print", "--cmdline", "/nonexistent", "--root", fakeRoot}, 0, `"serial": "SN-LAB-0001"`},
		{"once", []string{"--once", "--cmdline", cmdline, "--root", fakeRoot}, 0, `{"action":"reboot","after":1}`},
		{"no url", []string{"--cmdline", "/dev/null", "--root", fakeRoot}, 2, ""},
		{"bad flag", []string{"--frobnicate"}, 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr, m)
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantOut) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tc.wantOut)
			}
		})
	}
	if len(m.done) != 0 {
		t.Errorf("--once carried out %v", m.done)
	}
	if len(s.queries) != 2 || s.queries[1] != "token=tok" {
		t.Errorf("queries = %q, want two with token=tok", s.queries)
	}
	var r facts.Report
	if err := json.Unmarshal(s.bodies[0], &r); err != nil || r.Version != "dev" {
		t.Errorf("posted report version %q, err %v", r.Version, err)
	}
}
