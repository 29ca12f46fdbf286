package xcatcmd

import (
	"fmt"
	"testing"

	"drover.dev/drover/internal/inventory"
)

// nodesetBenchInventory is 10,000 nodes in 100 groups (and the group all),
// the groups holding os, arch and profile, and two osimages.
func nodesetBenchInventory() *inventory.Memory {
	var objs []inventory.Object
	for g := range 100 {
		objs = append(objs, obj(inventory.Group, fmt.Sprintf("grp%02d", g),
			"os", "rhels9.4", "arch", "x86_64", "profile", "compute", "mgt", "ipmi"))
	}
	for i := 1; i <= 10_000; i++ {
		objs = append(objs, obj(inventory.Node, fmt.Sprintf("cn%05d", i),
			"groups", fmt.Sprintf("all,grp%02d", i%100), "mac", fmt.Sprintf("02:00:00:00:%02x:%02x", i>>8&255, i&255)))
	}
	objs = append(objs,
		obj(inventory.OSImage, "img-inst", "provmethod", "install", "osvers", "rhels9.4", "osarch", "x86_64", "profile", "compute"),
		obj(inventory.OSImage, "img-bt", "provmethod", "boottarget", "osvers", "rhels9.4", "osarch", "x86_64", "profile", "compute"),
	)
	return inventory.NewMemory(objs...)
}

// BenchmarkNodeset10k measures nodeset of 10,000 nodes (xCAT took 8.4 h for
// 2,500). Each operation changes every node (the state cycles), so every
// operation writes 10,000 nodes in one Apply to the in-memory backend.
func BenchmarkNodeset10k(b *testing.B) {
	for _, bc := range []struct{ name, rng string }{
		{"group", "all"},
		{"range", "cn[00001-10000]"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := nodesetBenchInventory()
			r := &Runner{Backend: m, Schema: inventory.DefaultSchema()}
			// Each state changes every node; boot keeps the install image
			// as the nodes' provmethod, which bare osimage then uses.
			states := []string{"osimage=img-inst", "boot", "osimage", "osimage=img-bt"}
			i := 0
			for b.Loop() {
				state := states[i%len(states)]
				i++
				resp := r.Run(b.Context(), Request{Command: "nodeset", Args: []string{bc.rng, state}})
				if resp.ExitCode != 0 {
					b.Fatalf("nodeset %s: %.300s", state, resp.Stderr)
				}
			}
		})
	}
}
