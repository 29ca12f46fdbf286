package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
)

// migrations holds one directory of goose SQL migrations per dialect.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// runMigrations brings db's schema to the newest version in dir and
// returns that version. Running it on an up-to-date database does nothing.
func runMigrations(ctx context.Context, dialect goose.Dialect, db *sql.DB, dir string, log *slog.Logger, opts ...goose.ProviderOption) (int64, error) {
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range results {
		log.Info("schema migrated", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// SchemaVersion runs any pending migrations (there are none after Open)
// and returns the database's schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) { return s.db.migrate(ctx) }
