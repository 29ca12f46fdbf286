package store

import (
	"bytes"
	"testing"

	"drover.dev/drover/internal/inventory"
)

// FuzzOpenSealed: any stored value opens, fails with ErrSecretKey, or is
// left alone — never a panic.
func FuzzOpenSealed(f *testing.F) {
	sl, err := newSealer(bytes.Repeat([]byte{3}, SecretKeySize))
	if err != nil {
		f.Fatal(err)
	}
	good, _ := sl.seal(inventory.Node, "cn1", "bmcpassword", "pw")
	f.Add(good)
	f.Add(sealedPrefix)
	f.Add(sealedPrefix + "AAAA")
	f.Add("plain")
	f.Fuzz(func(t *testing.T, v string) {
		o := &inventory.Object{Type: inventory.Node, Name: "cn1", Attrs: map[string]string{"bmcpassword": v}}
		_, _ = sl.open(o)
		var nilSealer *sealer
		o2 := &inventory.Object{Type: inventory.Node, Name: "cn1", Attrs: map[string]string{"bmcpassword": v}}
		_, _ = nilSealer.open(o2)
	})
}
