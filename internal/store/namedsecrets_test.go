package store

import (
	"errors"
	"strings"
	"testing"
)

func TestNamedSecrets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func() *Store) {
		ctx := t.Context()
		s := open()
		if err := s.SetSecret(ctx, "ipmi-admin", "s3cret"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetSecret(ctx, "a.b_c", "x"); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"", "-x", ".x", "a/b", "a b", strings.Repeat("a", 129)} {
			if err := s.SetSecret(ctx, bad, "v"); !errors.Is(err, ErrSecretName) {
				t.Errorf("name %q: %v", bad, err)
			}
		}
		if err := s.SetSecret(ctx, "big", strings.Repeat("x", MaxSecretSize+1)); err == nil {
			t.Error("oversized secret stored")
		}
		if err := s.SetSecret(ctx, "ipmi-admin", "n3w"); err != nil {
			t.Fatal(err)
		}
		if v, ok, err := s.Secret(ctx, "ipmi-admin"); err != nil || !ok || v != "n3w" {
			t.Errorf("Secret = %q %v %v", v, ok, err)
		}
		if _, ok, err := s.Secret(ctx, "nope"); err != nil || ok {
			t.Errorf("missing: %v %v", ok, err)
		}
		list, err := s.Secrets(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "a.b_c" || list[1].Name != "ipmi-admin" {
			t.Errorf("list %+v %v", list, err)
		}
		if err := s.DeleteSecret(ctx, "a.b_c"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSecret(ctx, "a.b_c"); !errors.Is(err, ErrNoSecret) {
			t.Errorf("second delete: %v", err)
		}
	})
}

// TestNamedSecretSealed: with a key the database holds the value sealed,
// bound to the secret's name.
func TestNamedSecretSealed(t *testing.T) {
	dir := t.TempDir()
	key := make([]byte, SecretKeySize)
	key[0] = 1
	s := openT(t, Config{DataDir: dir, SecretKey: key})
	if err := s.SetSecret(t.Context(), "k", "plain-value"); err != nil {
		t.Fatal(err)
	}
	raw, ok, err := s.db.secret(t.Context(), "k")
	if err != nil || !ok || !strings.HasPrefix(raw, sealedPrefix) || strings.Contains(raw, "plain-value") {
		t.Fatalf("stored %q %v %v", raw, ok, err)
	}
	if _, err := s.openSecret("other", raw); !errors.Is(err, ErrSecretKey) {
		t.Errorf("a value moved to another name opened: %v", err)
	}
}

func TestImportToken(t *testing.T) {
	s := openT(t, Config{DataDir: t.TempDir()})
	ctx := t.Context()
	secretA := strings.Repeat("a", 40)
	tok, err := s.ImportToken(ctx, "admin (from file)", "admin", secretA)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.ImportToken(ctx, "admin (from file)", "admin", secretA); err != nil || again.ID != tok.ID {
		t.Errorf("re-import: %+v %v", again, err)
	}
	if got, err := s.LookupToken(ctx, secretA); err != nil || got.Role != "admin" {
		t.Errorf("lookup: %+v %v", got, err)
	}
	// A new secret under the same name rotates: the old one stops working.
	secretB := strings.Repeat("b", 40)
	if _, err := s.ImportToken(ctx, "admin (from file)", "admin", secretB); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupToken(ctx, secretA); err == nil {
		t.Error("the rotated-out secret still authenticates")
	}
	for _, bad := range []string{"short", strings.Repeat("x", 31), strings.Repeat("x", 39) + " ", strings.Repeat("é", 40)} {
		if _, err := s.ImportToken(ctx, "n", "admin", bad); err == nil {
			t.Errorf("secret %q accepted", bad)
		}
	}
}
