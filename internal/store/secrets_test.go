package store

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"drover.dev/drover/internal/inventory"
)

// TestSecretsAtRest: secret attributes are sealed in the database, plain
// in memory; the wrong key or no key refuses to open the store; secrets
// stored in plain before a key was given are sealed on Open.
func TestSecretsAtRest(t *testing.T) {
	key := bytes.Repeat([]byte{7}, SecretKeySize)
	other := bytes.Repeat([]byte{8}, SecretKeySize)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			cfg := Config{DataDir: t.TempDir()}
			if backend == "postgres" {
				cfg = Config{DSN: pgSchemaDSN(t)}
			}
			raw := func(cfg Config) map[string]string { // the stored attributes of cn1
				t.Helper()
				s := openT(t, cfg)
				_, objs, err := s.db.load(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range objs {
					if o.Name == "cn1" {
						return o.Attrs
					}
				}
				t.Fatal("cn1 not stored")
				return nil
			}

			// Stored in plain first (no key), then sealed by an Open with the key.
			s := openT(t, cfg)
			if err := s.Apply(t.Context(), []inventory.Change{{Op: inventory.Put, Object: inventory.Object{
				Type: inventory.Node, Name: "cn1", Attrs: map[string]string{"bmcpassword": "hunter2", "bmc": "10.0.0.1"}}}}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if got := raw(cfg)["bmcpassword"]; got != "hunter2" {
				t.Fatalf("without a key the secret is stored as %q", got)
			}
			keyed := cfg
			keyed.SecretKey = key
			s = openT(t, keyed)
			if o, _ := s.Get(inventory.Node, "cn1"); o.Get("bmcpassword") != "hunter2" {
				t.Errorf("memory holds %q", o.Get("bmcpassword"))
			}
			if err := s.Apply(t.Context(), []inventory.Change{{Op: inventory.Put, Object: inventory.Object{
				Type: inventory.Group, Name: "ipmi", Attrs: map[string]string{"bmcpassword": "grouppw", "mgt": "ipmi"}}}}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			attrs := raw(keyed)
			if !strings.HasPrefix(attrs["bmcpassword"], sealedPrefix) || strings.Contains(attrs["bmcpassword"], "hunter2") || attrs["bmc"] != "10.0.0.1" {
				t.Errorf("stored after sealing: %v", attrs)
			}

			// Without the key, or with another, the store does not open.
			for name, k := range map[string][]byte{"no key": nil, "wrong key": other} {
				c := cfg
				c.SecretKey = k
				if s, err := Open(t.Context(), c); !errors.Is(err, ErrSecretKey) {
					if s != nil {
						s.Close()
					}
					t.Errorf("%s: Open = %v, want ErrSecretKey", name, err)
				}
			}
			s = openT(t, keyed)
			if g, _ := s.Get(inventory.Group, "ipmi"); g.Get("bmcpassword") != "grouppw" {
				t.Errorf("group secret after reopen: %q", g.Get("bmcpassword"))
			}
		})
	}
}

func TestSealerBindsPlace(t *testing.T) {
	sl, err := newSealer(bytes.Repeat([]byte{1}, SecretKeySize))
	if err != nil {
		t.Fatal(err)
	}
	v, err := sl.seal(inventory.Node, "cn1", "bmcpassword", "pw")
	if err != nil {
		t.Fatal(err)
	}
	moved := &inventory.Object{Type: inventory.Node, Name: "cn2", Attrs: map[string]string{"bmcpassword": v}}
	if _, err := sl.open(moved); !errors.Is(err, ErrSecretKey) {
		t.Errorf("a sealed value copied to another node opened: %v", err)
	}
	if _, err := newSealer([]byte("short")); err == nil {
		t.Error("a 5-byte key was accepted")
	}
	if v, _ := sl.seal(inventory.Node, "cn1", "bmc", "10.0.0.1"); v != "10.0.0.1" {
		t.Errorf("a non-secret attribute was sealed: %q", v)
	}
}
