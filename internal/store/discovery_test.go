package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDiscoveryReports(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		ctx := t.Context()
		s := open()
		t0 := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
		r1, err := s.SaveDiscoveryReport(ctx, DiscoveryReport{MAC: "52-54-00-18-00-01", Serial: "SN1", Received: t0, Updated: t0,
			Count: 1, Hash: "h1", State: "queued", Facts: []byte(`{"a":1}`)})
		if err != nil {
			t.Fatalf("save: %v", err)
		}
		if r1.ID == 0 || r1.MAC != "52:54:00:18:00:01" || !r1.Received.Equal(t0.Truncate(time.Microsecond)) {
			t.Fatalf("saved %+v", r1)
		}
		r2, err := s.SaveDiscoveryReport(ctx, DiscoveryReport{MAC: "52:54:00:18:00:02", UUID: "u2", State: "flagged", Reason: "why"})
		if err != nil {
			t.Fatalf("save 2: %v", err)
		}
		// An update keeps ID and Received.
		upd := r1
		upd.Updated, upd.Count, upd.State, upd.Node, upd.Method = t0.Add(time.Minute), 2, "matched", "cn1", "mtms"
		upd.Received = t0.Add(time.Hour) // ignored
		got, err := s.SaveDiscoveryReport(ctx, upd)
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		want := upd
		want.Received = r1.Received
		want.Updated = upd.Updated.Truncate(time.Microsecond)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("update (-want +got):\n%s", diff)
		}
		all, err := s.DiscoveryReports(ctx)
		if err != nil || len(all) != 2 || all[0].ID != r1.ID || all[1].ID != r2.ID || all[0].State != "matched" {
			t.Fatalf("list: %v %+v", err, all)
		}
		if r, ok, err := s.DiscoveryReportByMAC(ctx, "52:54:00:18:00:02"); err != nil || !ok || r.Reason != "why" {
			t.Fatalf("by mac: %v %v %+v", err, ok, r)
		}
		if rs, err := s.DiscoveryReportsOfNode(ctx, "cn1"); err != nil || len(rs) != 1 || rs[0].ID != r1.ID {
			t.Fatalf("of node: %v %+v", err, rs)
		}
		if _, ok, err := s.DiscoveryReportByMAC(ctx, "52:54:00:18:00:03"); err != nil || ok {
			t.Fatalf("missing by mac: %v %v", err, ok)
		}
		if _, err := s.SaveDiscoveryReport(ctx, DiscoveryReport{MAC: "nope", State: "queued"}); err == nil {
			t.Fatal("bad MAC saved")
		}
		if n, err := s.DeleteDiscoveryReports(ctx, []int64{r2.ID, 999}); err != nil || n != 1 {
			t.Fatalf("delete: %d %v", n, err)
		}

		// Boot events of an unknown MAC are given to the node discovery named.
		mac := "52:54:00:18:00:01"
		if err := s.AddBootEvents(ctx, []BootEvent{
			{Time: t0, MAC: mac, Kind: "old"}, {Time: t0.Add(time.Second), MAC: mac, Kind: "dhcp"},
			{Time: t0.Add(2 * time.Second), Node: "other", MAC: mac, Kind: "kept"},
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.AssignBootEvents(ctx, mac, "cn1", t0.Add(time.Second)); err != nil || n != 1 {
			t.Fatalf("assign: %d %v", n, err)
		}
		evs, err := s.NodeBootEvents(ctx, "cn1", time.Time{}, 0)
		if err != nil || len(evs) != 1 || evs[0].Kind != "dhcp" {
			t.Fatalf("cn1 events: %v %+v", err, evs)
		}
	})
}
