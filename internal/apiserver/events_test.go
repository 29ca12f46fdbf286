package apiserver

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"drover.dev/drover/internal/api"
	"drover.dev/drover/internal/store"
)

type fakeEvents struct{ evs []store.BootEvent }

func (f fakeEvents) query(match func(store.BootEvent) bool, since time.Time, limit int) []store.BootEvent {
	var out []store.BootEvent
	for _, e := range f.evs {
		if match(e) && !e.Time.Before(since) && (limit <= 0 || len(out) < limit) {
			out = append(out, e)
		}
	}
	return out
}

func (f fakeEvents) NodeBootEvents(_ context.Context, node string, since time.Time, limit int) ([]store.BootEvent, error) {
	return f.query(func(e store.BootEvent) bool { return e.Node == node }, since, limit), nil
}

func (f fakeEvents) MACBootEvents(_ context.Context, mac string, since time.Time, limit int) ([]store.BootEvent, error) {
	return f.query(func(e store.BootEvent) bool { return e.MAC == mac }, since, limit), nil
}

func TestEvents(t *testing.T) {
	e := newTestEnv(t, 0)
	t0 := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	evs := fakeEvents{[]store.BootEvent{
		{Time: t0, Node: "cn1", MAC: "52:54:00:18:00:11", Kind: "dhcp-discover"},
		{Time: t0.Add(time.Second), Node: "cn1", MAC: "52:54:00:18:00:11", Kind: "http-script", Reason: "wrong token", Remote: "198.18.0.11:4000"},
		{Time: t0.Add(2 * time.Second), MAC: "52:54:00:18:00:99", Kind: "dhcp-discover"},
	}}
	s := &Server{Store: e.store, Runner: e.runner, Log: slog.New(slog.DiscardHandler), BootEvents: evs}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	cl := api.NewClient(srv.URL, e.secret[api.RoleViewer], srv.Client())

	got, err := cl.Events(t.Context(), "cn1", time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []api.BootEvent{
		{Time: t0, Node: "cn1", MAC: "52:54:00:18:00:11", Kind: "dhcp-discover"},
		{Time: t0.Add(time.Second), Node: "cn1", MAC: "52:54:00:18:00:11", Kind: "http-script", Reason: "wrong token", Remote: "198.18.0.11:4000"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events of cn1 (-want +got):\n%s", diff)
	}
	if got, err := cl.Events(t.Context(), "cn1", t0.Add(time.Second), 0); err != nil || len(got) != 1 {
		t.Errorf("since: %d events, %v", len(got), err)
	}
	if got, err := cl.Events(t.Context(), "52:54:00:18:00:99", time.Time{}, 0); err != nil || len(got) != 1 || got[0].Node != "" {
		t.Errorf("by MAC: %+v, %v", got, err)
	}
	if got, err := cl.Events(t.Context(), "nobody", time.Time{}, 0); err != nil || len(got) != 0 {
		t.Errorf("unknown node: %+v, %v", got, err)
	}
	if _, err := api.NewClient(srv.URL, "", srv.Client()).Events(t.Context(), "cn1", time.Time{}, 0); err == nil {
		t.Error("events without a token answered")
	}
}
