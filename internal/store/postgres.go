package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"drover.dev/drover/internal/inventory"
)

const (
	// pgChunk is how many rows one array-parameter statement writes.
	pgChunk = 10000
	// pgLogMax is the largest transaction whose changes are listed in the
	// change log; listeners reload everything after a larger one.
	pgLogMax = 10000
	// pgLogKeep is how many revisions the change log keeps. A server that
	// falls further behind reloads everything.
	pgLogKeep = 1000
	// tokensPayload is the NOTIFY payload that invalidates token caches.
	tokensPayload = "tokens"
)

// postgresDB is the PostgreSQL backend.
type postgresDB struct {
	pool    *pgxpool.Pool
	channel string // NOTIFY channel, per schema
	schema  string
	log     *slog.Logger
}

func openPostgres(ctx context.Context, dsn string, log *slog.Logger) (*postgresDB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse postgres DSN: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect to postgres: %w", err)
	}
	p := &postgresDB{pool: pool, log: log}
	var schema *string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to postgres (host %s, database %s): %w",
			cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	if schema == nil {
		pool.Close()
		return nil, errors.New("store: postgres: no schema to use (search_path names no existing schema)")
	}
	p.schema = *schema
	p.channel = notifyChannel(p.schema)
	if _, err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return p, nil
}

// migrate runs the migrations under an advisory lock (per schema), so
// servers starting together migrate once.
// notifyChannel names the NOTIFY channel of a schema, within PostgreSQL's
// 63-byte identifier limit.
func notifyChannel(schema string) string {
	ch := "drover_changes_" + schema
	if len(ch) > 63 {
		h := fnv.New64a()
		h.Write([]byte(schema))
		ch = fmt.Sprintf("drover_changes_%016x", h.Sum64())
	}
	return ch
}

func (p *postgresDB) migrate(ctx context.Context) (int64, error) {
	h := fnv.New64a()
	h.Write([]byte("drover migrations " + p.schema))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64()>>1)),
		lock.WithLockTimeout(1, 300),
	)
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(p.pool)
	defer db.Close()
	return runMigrations(ctx, goose.DialectPostgres, db, "migrations/postgres", p.log, goose.WithSessionLocker(locker))
}

func (p *postgresDB) close() error {
	p.pool.Close()
	return nil
}

func (p *postgresDB) ping(ctx context.Context) error { return p.pool.Ping(ctx) }

func (p *postgresDB) checkIntegrity(ctx context.Context) error {
	var n int64
	if err := p.pool.QueryRow(ctx, "SELECT count(*) FROM objects").Scan(&n); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	var rev int64
	if err := p.pool.QueryRow(ctx, "SELECT rev FROM revision WHERE id = 1").Scan(&rev); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	return nil
}

func (p *postgresDB) load(ctx context.Context) (int64, []*inventory.Object, error) {
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	return p.loadTx(ctx, tx)
}

func (p *postgresDB) loadTx(ctx context.Context, tx pgx.Tx) (int64, []*inventory.Object, error) {
	var rev int64
	if err := tx.QueryRow(ctx, "SELECT rev FROM revision WHERE id = 1").Scan(&rev); err != nil {
		return 0, nil, err
	}
	objs, err := p.queryObjects(ctx, tx, "SELECT type, name, attrs FROM objects")
	return rev, objs, err
}

func (p *postgresDB) queryObjects(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]*inventory.Object, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var objs []*inventory.Object
	var t, name string
	var attrs []byte
	for rows.Next() {
		if err := rows.Scan(&t, &name, &attrs); err != nil {
			return nil, err
		}
		o, err := decodeObject(t, name, attrs)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return objs, rows.Err()
}

// logEntry is one change in the change log.
type logEntry struct {
	Op   inventory.ChangeOp `json:"o"`
	Type inventory.Type     `json:"t"`
	Name string             `json:"n"`
}

func (p *postgresDB) apply(ctx context.Context, batch []memChange) (int64, error) {
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The revision row lock serialises writers on every server until
	// commit, so revisions commit in order and the log has no gaps.
	var rev int64
	if err := tx.QueryRow(ctx, "UPDATE revision SET rev = rev + 1 WHERE id = 1 RETURNING rev").Scan(&rev); err != nil {
		return 0, fmt.Errorf("bump revision: %w", err)
	}
	if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = on"); err != nil {
		return 0, err
	}
	var log []logEntry
	for start := 0; start < len(batch); {
		end := start + 1
		for end < len(batch) && batch[end].op == batch[start].op {
			end++
		}
		run := batch[start:end]
		var err error
		switch run[0].op {
		case inventory.Put:
			err = p.putRun(ctx, tx, rev, run)
		case inventory.Create:
			err = p.createRun(ctx, tx, rev, run)
		case inventory.Delete:
			run, err = p.deleteRun(ctx, tx, run)
		}
		if err != nil {
			return 0, err
		}
		if len(batch) <= pgLogMax {
			for _, c := range run {
				log = append(log, logEntry{Op: c.op, Type: c.typ, Name: c.name})
			}
		}
		start = end
	}
	var entries *string
	if len(batch) <= pgLogMax {
		b, err := json.Marshal(log)
		if err != nil {
			return 0, err
		}
		e := string(b)
		entries = &e
	}
	b := &pgx.Batch{}
	b.Queue("INSERT INTO changes (rev, entries) VALUES ($1, $2)", rev, entries)
	b.Queue("DELETE FROM changes WHERE rev <= $1", rev-pgLogKeep)
	b.Queue("SELECT pg_notify($1, $2)", p.channel, strconv.FormatInt(rev, 10))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("log changes: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	return rev, nil
}

// putRun upserts a run of Puts; within the run the last Put of a name wins.
func (p *postgresDB) putRun(ctx context.Context, tx pgx.Tx, rev int64, run []memChange) error {
	last := make(map[objKey]int, len(run))
	for i, c := range run {
		last[objKey{c.typ, c.name}] = i
	}
	var types, names, attrs []string
	for i, c := range run {
		if last[objKey{c.typ, c.name}] != i {
			continue
		}
		types, names, attrs = append(types, string(c.typ)), append(names, c.name), append(attrs, c.attrs)
	}
	for i := 0; i < len(types); i += pgChunk {
		j := min(i+pgChunk, len(types))
		_, err := tx.Exec(ctx, `INSERT INTO objects (type, name, attrs, rev)
			SELECT t, n, a, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(t, n, a)
			ON CONFLICT (type, name) DO UPDATE SET attrs = EXCLUDED.attrs, rev = EXCLUDED.rev`,
			types[i:j], names[i:j], attrs[i:j], rev)
		if err != nil {
			return fmt.Errorf("put objects: %w", err)
		}
	}
	return nil
}

// createRun inserts a run of Creates, failing on the first that exists.
func (p *postgresDB) createRun(ctx context.Context, tx pgx.Tx, rev int64, run []memChange) error {
	seen := make(map[objKey]bool, len(run))
	for _, c := range run {
		k := objKey{c.typ, c.name}
		if seen[k] {
			return &ExistsError{Type: c.typ, Name: c.name}
		}
		seen[k] = true
	}
	for i := 0; i < len(run); i += pgChunk {
		chunk := run[i:min(i+pgChunk, len(run))]
		types, names, attrs := make([]string, len(chunk)), make([]string, len(chunk)), make([]string, len(chunk))
		for k, c := range chunk {
			types[k], names[k], attrs[k] = string(c.typ), c.name, c.attrs
		}
		rows, err := tx.Query(ctx, `INSERT INTO objects (type, name, attrs, rev)
			SELECT t, n, a, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(t, n, a)
			ON CONFLICT (type, name) DO NOTHING
			RETURNING type, name`,
			types, names, attrs, rev)
		if err != nil {
			return fmt.Errorf("create objects: %w", err)
		}
		inserted := make(map[objKey]bool, len(chunk))
		var t, n string
		_, err = pgx.ForEachRow(rows, []any{&t, &n}, func() error {
			inserted[objKey{inventory.Type(t), n}] = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("create objects: %w", err)
		}
		if len(inserted) < len(chunk) {
			for _, c := range chunk {
				if !inserted[objKey{c.typ, c.name}] {
					return &ExistsError{Type: c.typ, Name: c.name}
				}
			}
		}
	}
	return nil
}

// deleteRun deletes a run of Deletes and returns those that removed a row.
func (p *postgresDB) deleteRun(ctx context.Context, tx pgx.Tx, run []memChange) ([]memChange, error) {
	var done []memChange
	for i := 0; i < len(run); i += pgChunk {
		chunk := run[i:min(i+pgChunk, len(run))]
		types, names := make([]string, len(chunk)), make([]string, len(chunk))
		for k, c := range chunk {
			types[k], names[k] = string(c.typ), c.name
		}
		rows, err := tx.Query(ctx, `DELETE FROM objects o
			USING unnest($1::text[], $2::text[]) AS d(t, n)
			WHERE o.type = d.t AND o.name = d.n
			RETURNING o.type, o.name`, types, names)
		if err != nil {
			return nil, fmt.Errorf("delete objects: %w", err)
		}
		deleted := make(map[objKey]bool)
		var t, n string
		_, err = pgx.ForEachRow(rows, []any{&t, &n}, func() error {
			deleted[objKey{inventory.Type(t), n}] = true
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("delete objects: %w", err)
		}
		for _, c := range chunk {
			if k := (objKey{c.typ, c.name}); deleted[k] {
				done = append(done, c)
				delete(deleted, k)
			}
		}
	}
	return done, nil
}

type objKey struct {
	t    inventory.Type
	name string
}

// pgDelta is what changed after a revision: either the log entries (with
// the current state of every object they name; a missing object was
// deleted) or, when the log cannot say, every object.
type pgDelta struct {
	rev     int64
	full    bool
	all     []*inventory.Object // when full
	entries []revEntries
	objs    map[objKey]*inventory.Object
}

type revEntries struct {
	rev     int64
	entries []logEntry
}

// changesSince reads, in one snapshot, what was committed after rev.
func (p *postgresDB) changesSince(ctx context.Context, since int64) (*pgDelta, error) {
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	d := &pgDelta{}
	if err := tx.QueryRow(ctx, "SELECT rev FROM revision WHERE id = 1").Scan(&d.rev); err != nil {
		return nil, err
	}
	if d.rev <= since {
		return d, nil
	}
	rows, err := tx.Query(ctx, "SELECT rev, entries FROM changes WHERE rev > $1 ORDER BY rev", since)
	if err != nil {
		return nil, err
	}
	next := since + 1
	complete := true
	var rev int64
	var entries *string
	_, err = pgx.ForEachRow(rows, []any{&rev, &entries}, func() error {
		if !complete {
			return nil
		}
		if rev != next || entries == nil {
			complete = false
			return nil
		}
		next++
		var es []logEntry
		if err := json.Unmarshal([]byte(*entries), &es); err != nil {
			return fmt.Errorf("change log rev %d: %w", rev, err)
		}
		d.entries = append(d.entries, revEntries{rev: rev, entries: es})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !complete || next != d.rev+1 {
		d.full, d.entries = true, nil
		if d.rev, d.all, err = p.loadTx(ctx, tx); err != nil {
			return nil, err
		}
		return d, nil
	}
	objs, err := p.queryObjects(ctx, tx, "SELECT type, name, attrs FROM objects WHERE rev > $1", since)
	if err != nil {
		return nil, err
	}
	d.objs = make(map[objKey]*inventory.Object, len(objs))
	for _, o := range objs {
		d.objs[objKey{o.Type, o.Name}] = o
	}
	return d, nil
}

// listen opens the connection that LISTENs for change notifications.
func (p *postgresDB) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, p.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("store: listen for changes: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("store: listen for changes: %w", err)
	}
	return conn, nil
}

func (p *postgresDB) notifyTokens(ctx context.Context) error {
	_, err := p.pool.Exec(ctx, "SELECT pg_notify($1, $2)", p.channel, tokensPayload)
	return err
}

// follow keeps memory current with other servers' commits until ctx is
// done: it waits for notifications on conn (reconnecting when it breaks)
// and loads what changed.
func (s *Store) follow(ctx context.Context, conn *pgx.Conn) {
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	// Commits between Open's load and LISTEN sent notifications nobody heard.
	s.syncUntilDone(ctx)
	backoff := time.Second
	for ctx.Err() == nil {
		if conn == nil {
			c, err := s.pg.listen(ctx)
			if err != nil {
				s.log.Warn("change listener: reconnect failed", "err", err, "retry", backoff)
				if !sleep(ctx, backoff) {
					return
				}
				backoff = min(2*backoff, 30*time.Second)
				continue
			}
			conn, backoff = c, time.Second
			s.log.Info("change listener reconnected")
			s.syncUntilDone(ctx)
			continue
		}
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("change listener lost its connection", "err", err)
			conn.Close(context.Background())
			conn = nil
			continue
		}
		if n.Payload == tokensPayload {
			s.clearTokenCache()
			continue
		}
		if rev, err := strconv.ParseInt(n.Payload, 10, 64); err == nil && rev <= s.Rev() {
			continue // our own commit, or already loaded
		}
		s.syncUntilDone(ctx)
	}
}

// syncUntilDone loads other servers' commits, retrying until it succeeds
// or ctx is done.
func (s *Store) syncUntilDone(ctx context.Context) {
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		s.wmu.Lock()
		var err error
		if !s.closed() {
			err = s.syncLocked(ctx)
		}
		s.wmu.Unlock()
		if err == nil || ctx.Err() != nil {
			return
		}
		s.log.Warn("loading changes from the database failed", "err", err, "retry", wait)
		if !sleep(ctx, wait) {
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// syncLocked brings memory up to the database's revision and publishes the
// events. Callers hold wmu.
func (s *Store) syncLocked(ctx context.Context) error {
	s.mu.RLock()
	since := s.mem.rev
	s.mu.RUnlock()
	if s.pg == nil {
		rev, objs, err := s.db.load(ctx)
		if err != nil {
			return err
		}
		if _, err := s.secrets.openAll(objs); err != nil {
			return err
		}
		s.reload(rev, objs)
		return nil
	}
	d, err := s.pg.changesSince(ctx, since)
	if err != nil {
		return err
	}
	if _, err := s.secrets.openAll(d.all); err != nil {
		return err
	}
	for _, o := range d.objs {
		if _, err := s.secrets.open(o); err != nil {
			return err
		}
	}
	switch {
	case d.rev <= since:
		return nil
	case d.full:
		s.reload(d.rev, d.all)
		return nil
	}
	var batch []memChange
	seen := make(map[objKey]bool)
	var events []Event
	for _, re := range d.entries {
		for _, e := range re.entries {
			events = append(events, Event{Rev: re.rev, Type: e.Type, Name: e.Name, Op: e.Op})
			k := objKey{e.Type, e.Name}
			if seen[k] {
				continue
			}
			seen[k] = true
			c := memChange{op: inventory.Put, typ: e.Type, name: e.Name, obj: d.objs[k]}
			if c.obj == nil {
				c.op = inventory.Delete
			}
			batch = append(batch, c)
		}
	}
	s.mu.Lock()
	s.mem.apply(d.rev, batch)
	s.mem.rev = d.rev
	s.mu.Unlock()
	s.log.Debug("loaded changes from the database", "from", since, "to", d.rev, "changes", len(events))
	s.publish(events)
	return nil
}

// reload replaces memory with objs at rev and publishes the difference.
func (s *Store) reload(rev int64, objs []*inventory.Object) {
	m := newMemory()
	m.load(rev, objs)
	s.mu.Lock()
	old := s.mem
	s.mem = m
	s.mu.Unlock()
	events := diffEvents(rev, old, m)
	s.log.Info("reloaded every object from the database", "rev", rev, "objects", len(objs), "changes", len(events))
	s.publish(events)
}

var errNoRows = pgx.ErrNoRows

func isNoRows(err error) bool { return errors.Is(err, errNoRows) }

func (p *postgresDB) meta(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := p.pool.QueryRow(ctx, "SELECT value FROM meta WHERE key = $1", key).Scan(&v)
	if isNoRows(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read meta %q: %w", key, err)
	}
	return v, true, nil
}

func (p *postgresDB) setMeta(ctx context.Context, key, value string) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, key, value)
	if err != nil {
		return fmt.Errorf("write meta %q: %w", key, err)
	}
	return nil
}

func (p *postgresDB) insertToken(ctx context.Context, tok Token, hash string) error {
	_, err := p.pool.Exec(ctx, "INSERT INTO tokens (id, name, role, hash, created) VALUES ($1, $2, $3, $4, $5)",
		tok.ID, tok.Name, tok.Role, hash, tok.Created)
	return err
}

func (p *postgresDB) tokenByHash(ctx context.Context, hash string) (Token, error) {
	var tok Token
	err := p.pool.QueryRow(ctx, "SELECT id, name, role, created FROM tokens WHERE hash = $1", hash).
		Scan(&tok.ID, &tok.Name, &tok.Role, &tok.Created)
	if isNoRows(err) {
		return Token{}, fmt.Errorf("token: %w", inventory.ErrNotFound)
	}
	tok.Created = tok.Created.UTC()
	return tok, err
}

func (p *postgresDB) listTokens(ctx context.Context) ([]Token, error) {
	rows, err := p.pool.Query(ctx, "SELECT id, name, role, created FROM tokens ORDER BY created, id")
	if err != nil {
		return nil, err
	}
	var toks []Token
	var tok Token
	_, err = pgx.ForEachRow(rows, []any{&tok.ID, &tok.Name, &tok.Role, &tok.Created}, func() error {
		tok.Created = tok.Created.UTC()
		toks = append(toks, tok)
		return nil
	})
	return toks, err
}

func (p *postgresDB) deleteToken(ctx context.Context, id string) (bool, error) {
	tag, err := p.pool.Exec(ctx, "DELETE FROM tokens WHERE id = $1", id)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if err := p.notifyTokens(ctx); err != nil {
		p.log.Warn("could not tell other servers a token was deleted", "err", err)
	}
	return true, nil
}
