package discoveryimage

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestResolveOrder(t *testing.T) {
	deps := map[string][]string{
		"virtio_net":   {"virtio_ring", "virtio", "net_failover"},
		"net_failover": {"failover"},
		"failover":     nil,
		"virtio_ring":  nil,
		"virtio":       {"virtio_ring"},
		"virtio_pci":   {"virtio_ring", "virtio"},
		"igb":          {"dca", "i2c_algo_bit"},
		"dca":          nil,
		"ixgbe":        {"mdio", "dca"},
		"broken":       {"gone"},
		"cyc_a":        {"cyc_b"},
		"cyc_b":        {"cyc_a"},
		"uses_builtin": {"af_packet"},
	}
	builtin := map[string]bool{"af_packet": true, "i2c_algo_bit": true}
	tests := []struct {
		name     string
		wanted   []string
		explicit []string
		want     resolution
		wantErr  error
		anyErr   bool
	}{
		{
			name:   "virtio_pci kept before virtio_net",
			wanted: []string{"virtio_net", "virtio_pci"},
			want:   resolution{Order: []string{"virtio_ring", "virtio", "virtio_pci", "failover", "net_failover", "virtio_net"}},
		},
		{
			name:   "builtin dependency and builtin wanted",
			wanted: []string{"igb", "af_packet", "uses_builtin"},
			want:   resolution{Order: []string{"dca", "igb", "uses_builtin"}, Builtin: []string{"af_packet"}},
		},
		{
			name:   "shared dependency once, dashes accepted",
			wanted: []string{"igb", "virtio-ring", "ixgbe", "igb"},
			want: resolution{
				Order:   []string{"dca", "igb", "virtio_ring"},
				Skipped: []Skip{{Module: "ixgbe", Reason: "module mdio (needed by ixgbe) not found in kernel K"}},
			},
		},
		{
			name:   "missing default skipped",
			wanted: []string{"e1000", "virtio_ring"},
			want:   resolution{Order: []string{"virtio_ring"}, Skipped: []Skip{{Module: "e1000", Reason: "not in kernel K"}}},
		},
		{
			name:     "missing explicit is an error",
			wanted:   []string{"virtio_ring", "e1000"},
			explicit: []string{"e1000"},
			wantErr:  ErrModuleNotFound,
		},
		{
			name:     "missing dependency of explicit is an error",
			wanted:   []string{"broken"},
			explicit: []string{"broken"},
			wantErr:  ErrModuleNotFound,
		},
		{
			name:    "cycle",
			wanted:  []string{"cyc_a"},
			anyErr:  true,
			wantErr: nil,
		},
		{
			name:   "empty",
			wanted: nil,
			want:   resolution{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			explicit := map[string]bool{}
			for _, e := range tc.explicit {
				explicit[e] = true
			}
			got, err := resolveOrder(tc.wanted, explicit, deps, builtin, "K")
			if tc.anyErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("resolution (-want +got):\n%s", diff)
			}
			checkOrder(t, got.Order, deps, builtin)
		})
	}
}

// checkOrder fails unless every module comes after its dependencies.
func checkOrder(t *testing.T, order []string, deps map[string][]string, builtin map[string]bool) {
	t.Helper()
	pos := map[string]int{}
	for i, m := range order {
		pos[m] = i
	}
	for i, m := range order {
		for _, d := range deps[m] {
			if builtin[d] {
				continue
			}
			if j, ok := pos[d]; !ok || j > i {
				t.Errorf("%s (position %d) loads before its dependency %s", m, i, d)
			}
		}
	}
}
