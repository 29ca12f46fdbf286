package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"drover.dev/drover/internal/inventory"
)

// sqliteDB is the SQLite backend: one file in WAL mode. Every connection
// runs with synchronous=FULL, so a commit is on disk (WAL fsynced) when
// Commit returns, and begins its transactions with BEGIN IMMEDIATE, so a
// transaction never fails upgrading from reading to writing.
type sqliteDB struct {
	db   *sql.DB
	path string
	log  *slog.Logger
	// wmu queues this process's write transactions in Go. SQLite allows
	// one writer at a time, and a writer that finds the database locked
	// polls with sleeps (busy_timeout), which stalls a DHCP reply waiting
	// for its lease behind a batch of boot events for milliseconds.
	wmu sync.Mutex

	stmtsOnce sync.Once
	stmts     *leaseStmts // prepared lease statements (leaseStmts)
	stmtsErr  error

	// evdb is the connection for the boot services' high-rate writes —
	// DHCP leases and boot events — with synchronous=NORMAL: a commit
	// survives a crash of the process (kill -9, a restart) as soon as it
	// returns, without waiting for the disk; only a power loss may take the
	// last of them (Kea's persistent memfile gives the same). The inventory,
	// tokens and metadata keep synchronous=FULL on db.
	evdb *sql.DB

	eventStmtsOnce      sync.Once
	eventMany, eventOne *sql.Stmt // boot event inserts (addBootEvents)
	eventStmtsErr       error
}

// sqliteDSN returns the modernc.org/sqlite DSN for the file at path (which
// must be absolute).
func sqliteDSN(path string) string { return sqliteDSNSync(path, "FULL") }

// sqliteDSNSync is sqliteDSN with another synchronous level.
func sqliteDSNSync(path, sync string) string {
	u := url.URL{Path: path}
	return "file:" + u.EscapedPath() +
		"?_pragma=journal_mode(WAL)" +
		"&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(" + sync + ")" +
		// Statement journals (multi-row inserts) in memory, not temp files.
		"&_pragma=temp_store(MEMORY)" +
		"&_txlock=immediate"
}

// sqliteTimeFormat stores UTC times as text that sorts in time order.
const sqliteTimeFormat = "2006-01-02T15:04:05.000000Z"

func openSQLite(ctx context.Context, path string, log *slog.Logger) (*sqliteDB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// Writes are serialised by Store; a few connections let meta and token
	// reads run beside a long Apply.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(0)
	s := &sqliteDB{db: db, path: path, log: log}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		db.Close()
		return nil, fmt.Errorf("store: open %s: journal mode is %q, not wal", path, mode)
	}
	if _, err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if s.evdb, err = sql.Open("sqlite", sqliteDSNSync(path, "NORMAL")); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.evdb.SetMaxOpenConns(1)
	return s, nil
}

func (s *sqliteDB) migrate(ctx context.Context) (int64, error) {
	return runMigrations(ctx, goose.DialectSQLite3, s.db, "migrations/sqlite", s.log)
}

func (s *sqliteDB) close() error {
	err := s.evdb.Close()
	return errors.Join(s.db.Close(), err)
}

func (s *sqliteDB) ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *sqliteDB) checkIntegrity(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return fmt.Errorf("integrity check: %w", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("integrity check of %s failed: %s", s.path, strings.Join(msgs, "; "))
	}
	return nil
}

func (s *sqliteDB) load(ctx context.Context) (int64, []*inventory.Object, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	// A deferred read transaction: one snapshot for both queries.
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		return 0, nil, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	var rev int64
	if err := conn.QueryRowContext(ctx, "SELECT rev FROM revision WHERE id = 1").Scan(&rev); err != nil {
		return 0, nil, err
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM objects").Scan(&n); err != nil {
		return 0, nil, err
	}
	rows, err := conn.QueryContext(ctx, "SELECT type, name, attrs FROM objects")
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	objs := make([]*inventory.Object, 0, n)
	var t, name string
	var attrs []byte
	for rows.Next() {
		if err := rows.Scan(&t, &name, &attrs); err != nil {
			return 0, nil, err
		}
		o, err := decodeObject(t, name, attrs)
		if err != nil {
			return 0, nil, err
		}
		objs = append(objs, o)
	}
	return rev, objs, rows.Err()
}

func (s *sqliteDB) apply(ctx context.Context, batch []memChange) (rev int64, err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := tx.QueryRowContext(ctx, "UPDATE revision SET rev = rev + 1 WHERE id = 1 RETURNING rev").Scan(&rev); err != nil {
		return 0, fmt.Errorf("bump revision: %w", err)
	}
	var put, create, del *sql.Stmt
	prepare := func(stmt **sql.Stmt, query string) error {
		if *stmt != nil {
			return nil
		}
		var err error
		*stmt, err = tx.PrepareContext(ctx, query)
		return err
	}
	defer func() {
		for _, st := range []*sql.Stmt{put, create, del} {
			if st != nil {
				st.Close()
			}
		}
	}()
	for _, c := range batch {
		switch c.op {
		case inventory.Put:
			if err := prepare(&put, `INSERT INTO objects (type, name, attrs, rev) VALUES (?, ?, ?, ?)
				ON CONFLICT (type, name) DO UPDATE SET attrs = excluded.attrs, rev = excluded.rev`); err != nil {
				return 0, err
			}
			if _, err := put.ExecContext(ctx, string(c.typ), c.name, c.attrs, rev); err != nil {
				return 0, fmt.Errorf("put %s %q: %w", c.typ, c.name, err)
			}
		case inventory.Create:
			if err := prepare(&create, `INSERT INTO objects (type, name, attrs, rev) VALUES (?, ?, ?, ?)
				ON CONFLICT (type, name) DO NOTHING`); err != nil {
				return 0, err
			}
			res, err := create.ExecContext(ctx, string(c.typ), c.name, c.attrs, rev)
			if err != nil {
				return 0, fmt.Errorf("create %s %q: %w", c.typ, c.name, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return 0, err
			} else if n == 0 {
				return 0, &ExistsError{Type: c.typ, Name: c.name}
			}
		case inventory.Delete:
			if err := prepare(&del, "DELETE FROM objects WHERE type = ? AND name = ?"); err != nil {
				return 0, err
			}
			if _, err := del.ExecContext(ctx, string(c.typ), c.name); err != nil {
				return 0, fmt.Errorf("delete %s %q: %w", c.typ, c.name, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return rev, nil
}

func (s *sqliteDB) meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read meta %q: %w", key, err)
	}
	return v, true, nil
}

func (s *sqliteDB) setMeta(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("write meta %q: %w", key, err)
	}
	return nil
}

func (s *sqliteDB) insertToken(ctx context.Context, tok Token, hash string) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO tokens (id, name, role, hash, created) VALUES (?, ?, ?, ?, ?)",
		tok.ID, tok.Name, tok.Role, hash, tok.Created.UTC().Format(sqliteTimeFormat))
	return err
}

func (s *sqliteDB) tokenByHash(ctx context.Context, hash string) (Token, error) {
	var tok Token
	var created string
	err := s.db.QueryRowContext(ctx, "SELECT id, name, role, created FROM tokens WHERE hash = ?", hash).
		Scan(&tok.ID, &tok.Name, &tok.Role, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("token: %w", inventory.ErrNotFound)
	}
	if err != nil {
		return Token{}, err
	}
	tok.Created, err = time.Parse(sqliteTimeFormat, created)
	return tok, err
}

func (s *sqliteDB) listTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, name, role, created FROM tokens ORDER BY created, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var toks []Token
	for rows.Next() {
		var tok Token
		var created string
		if err := rows.Scan(&tok.ID, &tok.Name, &tok.Role, &created); err != nil {
			return nil, err
		}
		if tok.Created, err = time.Parse(sqliteTimeFormat, created); err != nil {
			return nil, err
		}
		toks = append(toks, tok)
	}
	return toks, rows.Err()
}

func (s *sqliteDB) deleteToken(ctx context.Context, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM tokens WHERE id = ?", id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
