package inventory

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlan(t *testing.T) {
	current := NewMemory(
		site(map[string]string{"master": "10.0.0.1"}),
		group("compute", map[string]string{"mgt": "ipmi"}),
		group("old", map[string]string{"os": "x"}),
		node("n1", map[string]string{"groups": "compute", "ip": "10.0.0.11"}),
		node("n2", map[string]string{"groups": "compute", "ip": "10.0.0.12"}),
		node("n3", map[string]string{"groups": "compute"}),
		Object{Type: OSImage, Name: "img", Attrs: map[string]string{"osvers": "rhels9"}},
	)
	desired := []Object{
		node("n2", map[string]string{"groups": "compute", "ip": "10.0.0.22"}),           // changed
		node("n1", map[string]string{"groups": "compute", "ip": "10.0.0.11", "os": ""}), // equal: empty values do not count
		node("n4", map[string]string{"groups": "compute", "node": "n4"}),                // new; key attribute dropped
		group("compute", map[string]string{"mgt": "ipmi"}),                              // equal
		node("n5", map[string]string{"groups": "x"}),
		node("n5", map[string]string{"groups": "compute"}), // the last one wins
	}
	for _, tc := range []struct {
		name       string
		prune      bool
		pruneTypes []Type
		want       []Change
	}{
		{
			name: "apply",
			want: []Change{
				{Op: Put, Object: node("n2", map[string]string{"groups": "compute", "ip": "10.0.0.22"})},
				{Op: Create, Object: node("n4", map[string]string{"groups": "compute"})},
				{Op: Create, Object: node("n5", map[string]string{"groups": "compute"})},
			},
		},
		{
			name:  "prune types in desired",
			prune: true,
			want: []Change{
				{Op: Put, Object: node("n2", map[string]string{"groups": "compute", "ip": "10.0.0.22"})},
				{Op: Delete, Object: Object{Type: Node, Name: "n3"}},
				{Op: Create, Object: node("n4", map[string]string{"groups": "compute"})},
				{Op: Create, Object: node("n5", map[string]string{"groups": "compute"})},
				{Op: Delete, Object: Object{Type: Group, Name: "old"}},
			},
		},
		{
			name:       "prune extra types, never the site",
			prune:      true,
			pruneTypes: []Type{OSImage, Site},
			want: []Change{
				{Op: Put, Object: node("n2", map[string]string{"groups": "compute", "ip": "10.0.0.22"})},
				{Op: Delete, Object: Object{Type: Node, Name: "n3"}},
				{Op: Create, Object: node("n4", map[string]string{"groups": "compute"})},
				{Op: Create, Object: node("n5", map[string]string{"groups": "compute"})},
				{Op: Delete, Object: Object{Type: Group, Name: "old"}},
				{Op: Delete, Object: Object{Type: OSImage, Name: "img"}},
			},
		},
		{
			name:       "prune types without prune does nothing",
			pruneTypes: []Type{OSImage},
			want: []Change{
				{Op: Put, Object: node("n2", map[string]string{"groups": "compute", "ip": "10.0.0.22"})},
				{Op: Create, Object: node("n4", map[string]string{"groups": "compute"})},
				{Op: Create, Object: node("n5", map[string]string{"groups": "compute"})},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Plan(current, desired, tc.prune, tc.pruneTypes)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanIsIdempotent(t *testing.T) {
	m := NewMemory(node("n1", map[string]string{"groups": "a"}))
	desired := []Object{node("n1", map[string]string{"groups": "a,b"}), node("n2", map[string]string{"groups": "b"})}
	changes := Plan(m, desired, true, nil)
	if err := m.Apply(t.Context(), changes); err != nil {
		t.Fatal(err)
	}
	if again := Plan(m, desired, true, nil); len(again) != 0 {
		t.Errorf("second Plan = %+v, want no changes", again)
	}
}

func TestPlanDoesNotAliasDesired(t *testing.T) {
	desired := []Object{node("n1", map[string]string{"groups": "a"})}
	changes := Plan(NewMemory(), desired, false, nil)
	changes[0].Object.Attrs["groups"] = "changed"
	if desired[0].Attrs["groups"] != "a" {
		t.Errorf("Plan shares the attribute map of desired objects")
	}
}

func TestDiffChanges(t *testing.T) {
	current := NewMemory(
		node("n1", map[string]string{"groups": "compute", "ip": "10.0.0.11", "os": "rhels8"}),
		node("n3", map[string]string{"groups": "compute", "bmcpassword": "secret"}),
	)
	changes := []Change{
		{Op: Put, Object: node("n1", map[string]string{"groups": "compute", "ip": "10.0.0.21", "arch": "x86_64"})},
		{Op: Create, Object: node("n2", map[string]string{"groups": "compute"})},
		{Op: Delete, Object: Object{Type: Node, Name: "n3"}},
	}
	want := []ObjectDiff{
		{Op: Put, Type: Node, Name: "n1", Attrs: []AttrDiff{
			{Attr: "arch", New: "x86_64"},
			{Attr: "ip", Old: "10.0.0.11", New: "10.0.0.21"},
			{Attr: "os", Old: "rhels8"},
		}},
		{Op: Create, Type: Node, Name: "n2", Attrs: []AttrDiff{{Attr: "groups", New: "compute"}}},
		{Op: Delete, Type: Node, Name: "n3", Attrs: []AttrDiff{
			{Attr: "bmcpassword", Old: "secret"},
			{Attr: "groups", Old: "compute"},
		}},
	}
	if diff := cmp.Diff(want, DiffChanges(current, changes)); diff != "" {
		t.Errorf("DiffChanges (-want +got):\n%s", diff)
	}
}
