package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestBootEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		ctx := t.Context()
		s := open()
		t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
		ev := func(node string, sec int, kind string) BootEvent {
			return BootEvent{
				Time: t0.Add(time.Duration(sec) * time.Second), Node: node, MAC: "aa:bb:cc:dd:ee:01",
				Kind: kind, Detail: "d-" + kind, Reason: "r", Remote: "10.0.0.1:68",
			}
		}
		// Inserted out of time order, in two transactions; two at one time.
		if err := s.AddBootEvents(ctx, []BootEvent{
			ev("n1", 5, "tftp"), ev("n1", 1, "discover"), ev("n2", 2, "discover"),
			ev("n1", 2, "offer"), ev("n1", 2, "request"),
		}); err != nil {
			t.Fatalf("AddBootEvents: %v", err)
		}
		if err := s.AddBootEvents(ctx, []BootEvent{ev("n1", 3, "ack"), ev("n1", 9, "http")}); err != nil {
			t.Fatalf("AddBootEvents: %v", err)
		}
		if err := s.AddBootEvents(ctx, nil); err != nil {
			t.Fatalf("AddBootEvents(nil): %v", err)
		}
		kinds := func(evs []BootEvent) []string {
			var out []string
			for _, e := range evs {
				out = append(out, e.Kind)
			}
			return out
		}
		for _, tc := range []struct {
			node  string
			since time.Time
			limit int
			want  []string
		}{
			{"n1", time.Time{}, 0, []string{"discover", "offer", "request", "ack", "tftp", "http"}},
			{"n1", time.Time{}, 3, []string{"discover", "offer", "request"}},
			{"n1", t0.Add(2 * time.Second), 0, []string{"offer", "request", "ack", "tftp", "http"}},
			{"n1", t0.Add(3 * time.Second), 2, []string{"ack", "tftp"}},
			{"n1", t0.Add(time.Minute), 0, nil},
			{"n2", time.Time{}, 0, []string{"discover"}},
			{"n3", time.Time{}, 0, nil},
		} {
			t.Run(fmt.Sprintf("%s/%s/%d", tc.node, tc.since.Format("150405"), tc.limit), func(t *testing.T) {
				got, err := s.NodeBootEvents(ctx, tc.node, tc.since, tc.limit)
				if err != nil {
					t.Fatalf("NodeBootEvents: %v", err)
				}
				if diff := cmp.Diff(tc.want, kinds(got)); diff != "" {
					t.Errorf("kinds (-want +got):\n%s", diff)
				}
			})
		}

		// Every field round-trips; IDs increase in time order here.
		got, err := s.NodeBootEvents(ctx, "n1", t0.Add(3*time.Second), 1)
		if err != nil {
			t.Fatalf("NodeBootEvents: %v", err)
		}
		if diff := cmp.Diff([]BootEvent{ev("n1", 3, "ack")}, got, cmpopts.IgnoreFields(BootEvent{}, "ID")); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		byMAC, err := s.MACBootEvents(ctx, "AA-BB-CC-DD-EE-01", t0.Add(2*time.Second), 3)
		if err != nil {
			t.Fatalf("MACBootEvents: %v", err)
		}
		if diff := cmp.Diff([]string{"discover", "offer", "request"}, kinds(byMAC)); diff != "" {
			t.Errorf("MACBootEvents (-want +got):\n%s", diff)
		}
		if _, err := s.MACBootEvents(ctx, "not-a-mac", time.Time{}, 0); err == nil {
			t.Error("MACBootEvents accepted a bad MAC")
		}
		all, err := s.NodeBootEvents(ctx, "n1", time.Time{}, 0)
		if err != nil {
			t.Fatalf("NodeBootEvents: %v", err)
		}
		if all[1].ID >= all[2].ID { // offer and request share a time
			t.Errorf("IDs of events at one time: %d, %d; want increasing", all[1].ID, all[2].ID)
		}

		// Prune deletes strictly before the cut, for every node; events
		// survive a restart.
		n, err := s.PruneBootEvents(ctx, t0.Add(3*time.Second))
		if err != nil || n != 4 {
			t.Fatalf("PruneBootEvents = %d, %v; want 4", n, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s = open()
		got, err = s.NodeBootEvents(ctx, "n1", time.Time{}, 0)
		if err != nil {
			t.Fatalf("NodeBootEvents: %v", err)
		}
		if diff := cmp.Diff([]string{"ack", "tftp", "http"}, kinds(got)); diff != "" {
			t.Errorf("after prune and reopen (-want +got):\n%s", diff)
		}
		if got, err := s.NodeBootEvents(ctx, "n2", time.Time{}, 0); err != nil || len(got) != 0 {
			t.Errorf("n2 after prune = %v, %v; want none", got, err)
		}
	})
}
