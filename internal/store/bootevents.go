package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// BootEvent is one step of a node's boot timeline (DHCP, TFTP, HTTP boot
// and the like), as `drover events NODE` prints it. (Event, in this
// package, is a committed inventory change.)
type BootEvent struct {
	// ID is assigned by the database, increasing in insertion order; it is
	// ignored by AddBootEvents.
	ID int64
	// Time is kept to the microsecond and read back in UTC; AddBootEvents
	// sets a zero Time to the current time.
	Time   time.Time
	Node   string // empty for an unknown client
	MAC    string
	Kind   string
	Detail string
	Reason string
	Remote string
}

// bootEventDB is what each backend provides for boot events.
type bootEventDB interface {
	addBootEvents(ctx context.Context, evs []BootEvent) error
	// bootEvents selects by column "node" or "mac".
	bootEvents(ctx context.Context, col, key string, since time.Time, limit int) ([]BootEvent, error)
	pruneBootEvents(ctx context.Context, before time.Time) (int64, error)
}

// AddBootEvents records evs in one transaction.
func (s *Store) AddBootEvents(ctx context.Context, evs []BootEvent) error {
	if len(evs) == 0 {
		return nil
	}
	now := time.Now()
	norm := make([]BootEvent, len(evs))
	for i, e := range evs {
		if e.Time.IsZero() {
			e.Time = now
		}
		e.Time = e.Time.UTC().Truncate(time.Microsecond)
		e.ID = 0
		norm[i] = e
	}
	if err := s.db.addBootEvents(ctx, norm); err != nil {
		return fmt.Errorf("add boot events: %w", err)
	}
	return nil
}

// NodeBootEvents returns node's events at or after since, ordered by time
// then ID: the oldest limit of them, or all when limit <= 0.
func (s *Store) NodeBootEvents(ctx context.Context, node string, since time.Time, limit int) ([]BootEvent, error) {
	evs, err := s.db.bootEvents(ctx, "node", node, since.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("boot events of %q: %w", node, err)
	}
	return evs, nil
}

// MACBootEvents is NodeBootEvents for the events of one MAC (any spelling
// ParseMAC accepts), known node or not: the timeline of an unknown machine.
func (s *Store) MACBootEvents(ctx context.Context, mac string, since time.Time, limit int) ([]BootEvent, error) {
	bits, ok := parseMAC(mac)
	if !ok {
		return nil, fmt.Errorf("boot events: bad MAC %q", mac)
	}
	evs, err := s.db.bootEvents(ctx, "mac", formatMAC(bits), since.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("boot events of %s: %w", mac, err)
	}
	return evs, nil
}

// PruneBootEvents deletes every event before before and returns how many
// it deleted.
func (s *Store) PruneBootEvents(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.db.pruneBootEvents(ctx, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("prune boot events: %w", err)
	}
	return n, nil
}

// nodeIndexHint repeats the node index's condition (it only holds events
// that have a node) so both databases may use it for a query by node.
func nodeIndexHint(col string) string {
	if col == "node" {
		return " AND node <> ''"
	}
	return ""
}

// SQLite.

// eventRowsPerInsert is how many events one INSERT statement carries
// (7 parameters each, well under SQLite's limit of 32766).
const eventRowsPerInsert = 64

func (s *sqliteDB) addBootEvents(ctx context.Context, evs []BootEvent) (err error) {
	// Rows go in eventRowsPerInsert at a time (one statement step per row
	// costs more than the row itself), the rest one by one; both
	// statements are prepared once (evdb has one connection: before the
	// transaction takes it).
	s.eventStmtsOnce.Do(func() {
		const row = "(?, ?, ?, ?, ?, ?, ?)"
		q := "INSERT INTO boot_events (time, node, mac, kind, detail, reason, remote) VALUES "
		if s.eventMany, s.eventStmtsErr = s.evdb.PrepareContext(context.WithoutCancel(ctx),
			q+strings.TrimSuffix(strings.Repeat(row+",", eventRowsPerInsert), ",")); s.eventStmtsErr != nil {
			return
		}
		s.eventOne, s.eventStmtsErr = s.evdb.PrepareContext(context.WithoutCancel(ctx), q+row)
	})
	if s.eventStmtsErr != nil {
		return s.eventStmtsErr
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.evdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	many, one := tx.StmtContext(ctx, s.eventMany), tx.StmtContext(ctx, s.eventOne)
	args := make([]any, 0, 7*eventRowsPerInsert)
	for len(evs) > 0 {
		n, st := eventRowsPerInsert, many
		if len(evs) < eventRowsPerInsert {
			n, st = 1, one
		}
		args = args[:0]
		for _, e := range evs[:n] {
			args = append(args, e.Time.Format(sqliteTimeFormat), e.Node, e.MAC, e.Kind, e.Detail, e.Reason, e.Remote)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
		evs = evs[n:]
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (s *sqliteDB) bootEvents(ctx context.Context, col, key string, since time.Time, limit int) ([]BootEvent, error) {
	if col != "node" && col != "mac" {
		return nil, fmt.Errorf("boot events by %q", col)
	}
	if limit <= 0 {
		limit = -1 // no limit
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, time, node, mac, kind, detail, reason, remote
		FROM boot_events WHERE `+col+` = ? AND time >= ?`+nodeIndexHint(col)+` ORDER BY time, id LIMIT ?`,
		key, since.Format(sqliteTimeFormat), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []BootEvent
	for rows.Next() {
		var e BootEvent
		var t string
		if err := rows.Scan(&e.ID, &t, &e.Node, &e.MAC, &e.Kind, &e.Detail, &e.Reason, &e.Remote); err != nil {
			return nil, err
		}
		if e.Time, err = time.Parse(sqliteTimeFormat, t); err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

func (s *sqliteDB) pruneBootEvents(ctx context.Context, before time.Time) (int64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	res, err := s.db.ExecContext(ctx, "DELETE FROM boot_events WHERE time < ?", before.Format(sqliteTimeFormat))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// PostgreSQL.

func (p *postgresDB) addBootEvents(ctx context.Context, evs []BootEvent) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for i := 0; i < len(evs); i += pgChunk {
		chunk := evs[i:min(i+pgChunk, len(evs))]
		times := make([]time.Time, len(chunk))
		cols := make([][]string, 6)
		for k := range cols {
			cols[k] = make([]string, len(chunk))
		}
		for k, e := range chunk {
			times[k] = e.Time
			cols[0][k], cols[1][k], cols[2][k], cols[3][k], cols[4][k], cols[5][k] = e.Node, e.MAC, e.Kind, e.Detail, e.Reason, e.Remote
		}
		_, err := tx.Exec(ctx, `INSERT INTO boot_events (time, node, mac, kind, detail, reason, remote)
			SELECT t, n, m, k, d, r, x
			FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
				WITH ORDINALITY AS u(t, n, m, k, d, r, x, ord)
			ORDER BY ord`,
			times, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5])
		if err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (p *postgresDB) bootEvents(ctx context.Context, col, key string, since time.Time, limit int) ([]BootEvent, error) {
	if col != "node" && col != "mac" {
		return nil, fmt.Errorf("boot events by %q", col)
	}
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := p.pool.Query(ctx, `SELECT id, time, node, mac, kind, detail, reason, remote
		FROM boot_events WHERE `+col+` = $1 AND time >= $2`+nodeIndexHint(col)+` ORDER BY time, id LIMIT $3`,
		key, since, lim)
	if err != nil {
		return nil, err
	}
	var evs []BootEvent
	var e BootEvent
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.Time, &e.Node, &e.MAC, &e.Kind, &e.Detail, &e.Reason, &e.Remote}, func() error {
		e.Time = e.Time.UTC()
		evs = append(evs, e)
		return nil
	})
	return evs, err
}

func (p *postgresDB) pruneBootEvents(ctx context.Context, before time.Time) (int64, error) {
	tag, err := p.pool.Exec(ctx, "DELETE FROM boot_events WHERE time < $1", before)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
