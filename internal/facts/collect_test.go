package facts

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var testTime = time.Date(2026, 11, 22, 2, 30, 0, 0, time.UTC)

// TestCollectFakeRoot collects from testdata/root, a small fake /sys and
// /proc tree of a QEMU q35 machine (2 sockets × 2 cores, 4 × 128 MiB
// memory blocks, one e1000e NIC, one virtio disk), and compares the report
// with testdata/collect.golden.json.
func TestCollectFakeRoot(t *testing.T) {
	r, err := Collect(context.Background(), Options{
		Root:    "testdata/root",
		Version: "v0.5.0-3-gabcdef0",
		Now:     func() time.Time { return testTime },
		ReadBMC: func(context.Context) (*BMC, error) {
			return &BMC{IP: "198.18.0.10", MAC: "52:54:00:18:b0:01"}, nil
		},
		LLDPWait: time.Hour, // the fake listener returns at once
		ListenLLDP: func(_ context.Context, nic string) ([]LLDP, error) {
			return []LLDP{{NIC: nic, ChassisID: "52:54:00:18:ff:00", PortID: "tap-cn1", SysName: "lab"}}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("collected report does not validate: %v", err)
	}
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "collect.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("report differs from %s (-want +got):\n%s", golden, d)
	}
	// The golden report is also a valid server-side body.
	if _, err := ParseReport(got); err != nil {
		t.Errorf("ParseReport(collected) = %v", err)
	}
}

func TestCollectNoBMCNoLLDP(t *testing.T) {
	r, err := Collect(context.Background(), Options{Root: "testdata/root", Now: func() time.Time { return testTime }})
	if err != nil {
		t.Fatal(err)
	}
	if r.BMC != nil || len(r.LLDP) != 0 {
		t.Errorf("BMC = %v, LLDP = %v; want neither without /dev/ipmi0 reader and LLDPWait", r.BMC, r.LLDP)
	}
	if r.Version != "dev" {
		t.Errorf("Version = %q, want dev", r.Version)
	}
}

func TestCollectWarnings(t *testing.T) {
	r, err := Collect(context.Background(), Options{
		Root:    t.TempDir(), // nothing to read
		Now:     func() time.Time { return testTime },
		ReadBMC: func(context.Context) (*BMC, error) { return nil, errors.New("no response") },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) == 0 {
		t.Error("no warnings from an empty root")
	}
	if err := r.Validate(); err != nil {
		t.Errorf("report from an empty root does not validate: %v", err)
	}
}

func TestCollectCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Collect(ctx, Options{Root: "testdata/root"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Collect(canceled) = %v, want context.Canceled", err)
	}
}
