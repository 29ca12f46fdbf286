package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// pgEnv names the environment variable holding a PostgreSQL DSN for the
// tests (scripts/pg-test.sh start prints one).
const pgEnv = "DROVER_TEST_POSTGRES"

// forEachBackend runs fn on SQLite in a temporary directory and on
// PostgreSQL in a fresh schema when DROVER_TEST_POSTGRES is set. open opens
// a Store on that subtest's database (call it again to reopen or to get a
// second server); each Store is closed when the subtest ends.
func forEachBackend(t *testing.T, fn func(t *testing.T, open func() *Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		cfg := Config{DataDir: t.TempDir()}
		fn(t, func() *Store { return openT(t, cfg) })
	})
	t.Run("postgres", func(t *testing.T) {
		cfg := Config{DSN: pgSchemaDSN(t)}
		fn(t, func() *Store { return openT(t, cfg) })
	})
}

func openT(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// pgSchemaDSN creates a uniquely named schema in the test database, drops
// it when the test ends and returns a DSN whose search_path is that schema.
// It skips the test when DROVER_TEST_POSTGRES is not set.
func pgSchemaDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(pgEnv)
	if dsn == "" {
		t.Skip(pgEnv + " not set: PostgreSQL backend not tested")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "drover_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", pgEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", pgEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
