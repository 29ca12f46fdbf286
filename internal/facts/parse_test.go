package facts

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const minimalReport = `{"schema":1,"version":"dev","time":"2026-11-22T02:30:00Z","system":{},"board":{},"chassis":{},` +
	`"cpus":{"sockets":1,"cores":1,"threads":1},"memoryBytes":1,"disks":[],"nics":[],"pci":[],"lldp":[]}`

func withField(old, new string) string { return strings.Replace(minimalReport, old, new, 1) }

func parseCases() []struct {
	name    string
	body    string
	wantErr error
} {
	return []struct {
		name    string
		body    string
		wantErr error
	}{
		{"minimal", minimalReport, nil},
		{"nic and lldp", withField(`"nics":[]`, `"nics":[{"name":"eth0","mac":"52:54:00:18:A0:01","link":true}]`), nil},
		{"lldp nic known", withField(`"nics":[],"pci":[],"lldp":[]`, `"nics":[{"name":"eth0","mac":"52:54:00:18:a0:01","link":true}],"pci":[],"lldp":[{"nic":"eth0","chassisID":"c","portID":"p"}]`), nil},
		{"uuid upper", withField(`"system":{}`, `"system":{"uuid":"8A2F1C3E-0D4B-4E55-9A1B-52540018A001"}`), nil},
		{"bmc", withField(`"lldp":[]`, `"lldp":[],"bmc":{"ip":"198.18.0.10","mac":"52:54:00:18:b0:01"}`), nil},
		{"pci", withField(`"pci":[]`, `"pci":[{"address":"0000:00:02.0","vendor":"8086","product":"10d3","class":"020000"}]`), nil},
		{"empty", ``, ErrInvalid},
		{"not an object", `[]`, ErrInvalid},
		{"trailing data", minimalReport + `{}`, ErrInvalid},
		{"unknown field", withField(`"schema":1`, `"schema":1,"extra":true`), ErrInvalid},
		{"unknown nested field", withField(`"system":{}`, `"system":{"colour":"red"}`), ErrInvalid},
		{"wrong schema", withField(`"schema":1`, `"schema":2`), ErrInvalid},
		{"no version", withField(`"version":"dev"`, `"version":""`), ErrInvalid},
		{"no time", withField(`"time":"2026-11-22T02:30:00Z",`, ``), ErrInvalid},
		{"bad uuid", withField(`"system":{}`, `"system":{"uuid":"8a2f1c3e0d4b4e559a1b52540018a001"}`), ErrInvalid},
		{"bad mac", withField(`"nics":[]`, `"nics":[{"name":"eth0","mac":"52-54-00-18-a0-01"}]`), ErrInvalid},
		{"long mac", withField(`"nics":[]`, `"nics":[{"name":"eth0","mac":"00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01"}]`), ErrInvalid},
		{"missing mac", withField(`"nics":[]`, `"nics":[{"name":"eth0"}]`), ErrInvalid},
		{"duplicate nic", withField(`"nics":[]`, `"nics":[{"name":"eth0","mac":"52:54:00:18:a0:01"},{"name":"eth0","mac":"52:54:00:18:a0:02"}]`), ErrInvalid},
		{"lldp unknown nic", withField(`"lldp":[]`, `"lldp":[{"nic":"eth9","chassisID":"c","portID":"p"}]`), ErrInvalid},
		{"bad bmc ip", withField(`"lldp":[]`, `"lldp":[],"bmc":{"ip":"198.18.0.300"}`), ErrInvalid},
		{"bad pci address", withField(`"pci":[]`, `"pci":[{"address":"00:02.0","vendor":"8086","product":"10d3","class":"020000"}]`), ErrInvalid},
		{"bad pci class", withField(`"pci":[]`, `"pci":[{"address":"0000:00:02.0","vendor":"8086","product":"10d3","class":"0200"}]`), ErrInvalid},
		{"control char", withField(`"system":{}`, `"system":{"serial":"a\u0007b"}`), ErrInvalid},
		{"long string", withField(`"system":{}`, `"system":{"serial":"`+strings.Repeat("x", MaxString+1)+`"}`), ErrInvalid},
		{"negative cores", withField(`"cores":1`, `"cores":-1`), ErrInvalid},
		{"too large", minimalReport + strings.Repeat(" ", MaxReportBytes), ErrTooLarge},
	}
}

func TestParseReport(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseReport([]byte(tc.body))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("ParseReport() error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestParseReportNormalises(t *testing.T) {
	body := withField(`"system":{},"board":{},"chassis":{},`, `"system":{"uuid":"8A2F1C3E-0D4B-4E55-9A1B-52540018A001"},"board":{},"chassis":{},`)
	body = strings.Replace(body, `"nics":[]`, `"nics":[{"name":"eth0","mac":"52:54:00:18:A0:01"}]`, 1)
	r, err := ParseReport([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{r.System.UUID, r.NICs[0].MAC}
	want := []string{"8a2f1c3e-0d4b-4e55-9a1b-52540018a001", "52:54:00:18:a0:01"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("normalised values (-want +got):\n%s", d)
	}
}

func FuzzParseReport(f *testing.F) {
	for _, tc := range parseCases() {
		if len(tc.body) < 4096 {
			f.Add([]byte(tc.body))
		}
	}
	if b, err := os.ReadFile("testdata/collect.golden.json"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseReport(body)
		if err != nil {
			if r != nil {
				t.Fatal("report returned with an error")
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v is neither ErrInvalid nor ErrTooLarge", err)
			}
			return
		}
		// An accepted report validates again unchanged (normalisation is idempotent).
		again := *r
		if err := again.Validate(); err != nil {
			t.Fatalf("accepted report fails Validate: %v", err)
		}
		if d := cmp.Diff(r, &again); d != "" {
			t.Fatalf("Validate changed an accepted report:\n%s", d)
		}
	})
}
