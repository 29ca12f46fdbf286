package store

import (
	"context"

	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DiscoveryReport is the latest discovery report of one machine, keyed by
// the MAC it booted the discovery environment from, and what became of it.
// Times are kept to the microsecond and read back in UTC.
type DiscoveryReport struct {
	ID                int64 // assigned by the database on first save
	MAC               string
	UUID, Serial, MTM string
	Received          time.Time // first report from this MAC
	Updated           time.Time // latest report
	Count             int       // reports received
	Hash              string    // of the facts, to tell a repeated report from a new one
	// State is "queued", "flagged", "matched", "approved" or "rejected".
	State  string
	Node   string
	Method string
	Reason string
	Facts  []byte // the report as the agent sent it
}

// ErrNoDiscoveryReport: no report has that ID or MAC.
var ErrNoDiscoveryReport = errors.New("no such discovery report")

// SaveDiscoveryReport stores r as its MAC's report: a new row (ID assigned)
// or, when the MAC has one, an update of every column but ID and Received.
// It returns the stored report.
func (s *Store) SaveDiscoveryReport(ctx context.Context, r DiscoveryReport) (DiscoveryReport, error) {
	bits, ok := parseMAC(r.MAC)
	if !ok {
		return DiscoveryReport{}, fmt.Errorf("discovery report: bad MAC %q", r.MAC)
	}
	r.MAC = formatMAC(bits)
	now := time.Now()
	if r.Updated.IsZero() {
		r.Updated = now
	}
	if r.Received.IsZero() {
		r.Received = r.Updated
	}
	r.Received = r.Received.UTC().Truncate(time.Microsecond)
	r.Updated = r.Updated.UTC().Truncate(time.Microsecond)
	if r.Facts == nil {
		r.Facts = []byte{}
	}
	out, err := s.db.saveDiscoveryReport(ctx, r)
	if err != nil {
		return DiscoveryReport{}, fmt.Errorf("save discovery report of %s: %w", r.MAC, err)
	}
	return out, nil
}

// DiscoveryReports returns every report, oldest first (by ID).
func (s *Store) DiscoveryReports(ctx context.Context) ([]DiscoveryReport, error) {
	rs, err := s.db.discoveryReports(ctx, "", nil)
	if err != nil {
		return nil, fmt.Errorf("discovery reports: %w", err)
	}
	return rs, nil
}

// DiscoveryReportByMAC returns the report of mac (any spelling ParseMAC
// takes); ok is false when there is none.
func (s *Store) DiscoveryReportByMAC(ctx context.Context, mac string) (DiscoveryReport, bool, error) {
	bits, ok := parseMAC(mac)
	if !ok {
		return DiscoveryReport{}, false, fmt.Errorf("discovery report: bad MAC %q", mac)
	}
	rs, err := s.db.discoveryReports(ctx, "mac", formatMAC(bits))
	if err != nil {
		return DiscoveryReport{}, false, fmt.Errorf("discovery report of %s: %w", mac, err)
	}
	if len(rs) == 0 {
		return DiscoveryReport{}, false, nil
	}
	return rs[0], true, nil
}

// DiscoveryReportsOfNode returns the reports matched or approved to node,
// oldest first.
func (s *Store) DiscoveryReportsOfNode(ctx context.Context, node string) ([]DiscoveryReport, error) {
	rs, err := s.db.discoveryReports(ctx, "node", node)
	if err != nil {
		return nil, fmt.Errorf("discovery reports of %s: %w", node, err)
	}
	return rs, nil
}

// DeleteDiscoveryReports removes the reports with these IDs and says how
// many there were.
func (s *Store) DeleteDiscoveryReports(ctx context.Context, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	n, err := s.db.deleteDiscoveryReports(ctx, ids)
	if err != nil {
		return 0, fmt.Errorf("delete discovery reports: %w", err)
	}
	return n, nil
}

// AssignBootEvents gives node the boot events of mac recorded at or after
// since without a node: a machine's timeline from before discovery named it.
func (s *Store) AssignBootEvents(ctx context.Context, mac, node string, since time.Time) (int64, error) {
	bits, ok := parseMAC(mac)
	if !ok {
		return 0, fmt.Errorf("assign boot events: bad MAC %q", mac)
	}
	n, err := s.db.assignBootEvents(ctx, formatMAC(bits), node, since.UTC().Truncate(time.Microsecond))
	if err != nil {
		return 0, fmt.Errorf("assign boot events of %s to %s: %w", mac, node, err)
	}
	return n, nil
}

// discoveryDB is what each backend provides for discovery reports.
type discoveryDB interface {
	saveDiscoveryReport(ctx context.Context, r DiscoveryReport) (DiscoveryReport, error)
	// discoveryReports selects all (col "") or by column "mac" or "node".
	discoveryReports(ctx context.Context, col string, key any) ([]DiscoveryReport, error)
	deleteDiscoveryReports(ctx context.Context, ids []int64) (int, error)
	assignBootEvents(ctx context.Context, mac, node string, since time.Time) (int64, error)
}

const discoveryColumns = "id, mac, uuid, serial, mtm, received, updated, count, hash, state, node, method, reason, facts"

// SQLite.

func (s *sqliteDB) saveDiscoveryReport(ctx context.Context, r DiscoveryReport) (DiscoveryReport, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	row := s.db.QueryRowContext(ctx, `INSERT INTO discovery_reports
		(mac, uuid, serial, mtm, received, updated, count, hash, state, node, method, reason, facts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (mac) DO UPDATE SET uuid = excluded.uuid, serial = excluded.serial, mtm = excluded.mtm,
			updated = excluded.updated, count = excluded.count, hash = excluded.hash, state = excluded.state,
			node = excluded.node, method = excluded.method, reason = excluded.reason, facts = excluded.facts
		RETURNING `+discoveryColumns,
		r.MAC, r.UUID, r.Serial, r.MTM, r.Received.Format(sqliteTimeFormat), r.Updated.Format(sqliteTimeFormat),
		r.Count, r.Hash, r.State, r.Node, r.Method, r.Reason, r.Facts)
	return scanSQLiteReport(row)
}

type rowScanner interface{ Scan(dest ...any) error }

func scanSQLiteReport(row rowScanner) (DiscoveryReport, error) {
	var r DiscoveryReport
	var recv, upd string
	if err := row.Scan(&r.ID, &r.MAC, &r.UUID, &r.Serial, &r.MTM, &recv, &upd, &r.Count, &r.Hash,
		&r.State, &r.Node, &r.Method, &r.Reason, &r.Facts); err != nil {
		return DiscoveryReport{}, err
	}
	var err error
	if r.Received, err = time.Parse(sqliteTimeFormat, recv); err != nil {
		return DiscoveryReport{}, err
	}
	if r.Updated, err = time.Parse(sqliteTimeFormat, upd); err != nil {
		return DiscoveryReport{}, err
	}
	return r, nil
}

func (s *sqliteDB) discoveryReports(ctx context.Context, col string, key any) ([]DiscoveryReport, error) {
	q := "SELECT " + discoveryColumns + " FROM discovery_reports"
	var args []any
	switch col {
	case "":
	case "mac", "node":
		q += " WHERE " + col + " = ?"
		args = append(args, key)
	default:
		return nil, fmt.Errorf("discovery reports by %q", col)
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DiscoveryReport
	for rows.Next() {
		r, err := scanSQLiteReport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *sqliteDB) deleteDiscoveryReports(ctx context.Context, ids []int64) (n int, err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	for _, id := range ids {
		res, err := tx.ExecContext(ctx, "DELETE FROM discovery_reports WHERE id = ?", id)
		if err != nil {
			return 0, err
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, tx.Commit()
}

func (s *sqliteDB) assignBootEvents(ctx context.Context, mac, node string, since time.Time) (int64, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	res, err := s.evdb.ExecContext(ctx, "UPDATE boot_events SET node = ? WHERE mac = ? AND node = '' AND time >= ?",
		node, mac, since.Format(sqliteTimeFormat))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// PostgreSQL.

func (p *postgresDB) saveDiscoveryReport(ctx context.Context, r DiscoveryReport) (DiscoveryReport, error) {
	rows, err := p.pool.Query(ctx, `INSERT INTO discovery_reports
		(mac, uuid, serial, mtm, received, updated, count, hash, state, node, method, reason, facts)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (mac) DO UPDATE SET uuid = excluded.uuid, serial = excluded.serial, mtm = excluded.mtm,
			updated = excluded.updated, count = excluded.count, hash = excluded.hash, state = excluded.state,
			node = excluded.node, method = excluded.method, reason = excluded.reason, facts = excluded.facts
		RETURNING `+discoveryColumns,
		r.MAC, r.UUID, r.Serial, r.MTM, r.Received, r.Updated, r.Count, r.Hash, r.State, r.Node, r.Method, r.Reason, r.Facts)
	if err != nil {
		return DiscoveryReport{}, err
	}
	out, err := collectPGReports(rows)
	if err != nil {
		return DiscoveryReport{}, err
	}
	if len(out) != 1 {
		return DiscoveryReport{}, fmt.Errorf("upsert returned %d rows", len(out))
	}
	return out[0], nil
}

func collectPGReports(rows pgx.Rows) ([]DiscoveryReport, error) {
	var out []DiscoveryReport
	var r DiscoveryReport
	_, err := pgx.ForEachRow(rows, []any{&r.ID, &r.MAC, &r.UUID, &r.Serial, &r.MTM, &r.Received, &r.Updated,
		&r.Count, &r.Hash, &r.State, &r.Node, &r.Method, &r.Reason, &r.Facts}, func() error {
		c := r
		c.Received, c.Updated = c.Received.UTC(), c.Updated.UTC()
		c.Facts = append([]byte(nil), r.Facts...)
		out = append(out, c)
		return nil
	})
	return out, err
}

func (p *postgresDB) discoveryReports(ctx context.Context, col string, key any) ([]DiscoveryReport, error) {
	q := "SELECT " + discoveryColumns + " FROM discovery_reports"
	var args []any
	switch col {
	case "":
	case "mac", "node":
		q += " WHERE " + col + " = $1"
		args = append(args, key)
	default:
		return nil, fmt.Errorf("discovery reports by %q", col)
	}
	rows, err := p.pool.Query(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	return collectPGReports(rows)
}

func (p *postgresDB) deleteDiscoveryReports(ctx context.Context, ids []int64) (int, error) {
	tag, err := p.pool.Exec(ctx, "DELETE FROM discovery_reports WHERE id = ANY($1)", ids)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func (p *postgresDB) assignBootEvents(ctx context.Context, mac, node string, since time.Time) (int64, error) {
	tag, err := p.pool.Exec(ctx, "UPDATE boot_events SET node = $1 WHERE mac = $2 AND node = '' AND time >= $3", node, mac, since)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
