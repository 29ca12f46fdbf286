package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrAddressInUse is wrapped by PutLease's error when another MAC holds an
// active lease on the address.
var ErrAddressInUse = errors.New("address in use")

// Lease is a DHCP lease. Times are kept to the microsecond and read back in
// UTC; an empty RelayInfo reads back as nil.
type Lease struct {
	// MAC is the client's hardware address, normalised aa:bb:cc:dd:ee:ff.
	MAC     string
	IP      netip.Addr
	Node    string
	Network string
	Expires time.Time
	// Updated is when the lease was written; PutLease compares other MACs'
	// leases with it to decide whether they are still active.
	Updated   time.Time
	RelayInfo []byte
}

// Active reports whether l holds its address at t.
func (l Lease) Active(t time.Time) bool { return l.IP.IsValid() && t.Before(l.Expires) }

// leaseDB is what each backend provides for leases. Keys are normalised.
type leaseDB interface {
	writeLeases(ctx context.Context, ws []LeaseWrite) error
	leaseBy(ctx context.Context, byIP bool, key string) (Lease, bool, error)
	leases(ctx context.Context) ([]Lease, error)
}

// PutLease stores l as its MAC's only lease, replacing any previous one, in
// one transaction. It fails with an error wrapping ErrAddressInUse if a
// different MAC holds a lease on l.IP that is active at l.Updated (expires
// after it); an expired lease of another MAC on l.IP is removed.
func (s *Store) PutLease(ctx context.Context, l Lease) error {
	return s.WriteLeases(ctx, []LeaseWrite{{Lease: l}})
}

// LeaseWrite is one step of WriteLeases: store Lease (as PutLease does), or
// with Release remove the lease of Lease.MAC.
type LeaseWrite struct {
	Lease   Lease
	Release bool
}

// WriteLeases carries out ws in order in one transaction: all of them or,
// on error, none. A DHCP server batches the leases of many requests into
// one call (group commit). The error of a put that finds the address held
// by another MAC wraps ErrAddressInUse.
func (s *Store) WriteLeases(ctx context.Context, ws []LeaseWrite) error {
	if len(ws) == 0 {
		return nil
	}
	norm := make([]LeaseWrite, len(ws))
	for i, w := range ws {
		if w.Release {
			bits, ok := parseMAC(w.Lease.MAC)
			if !ok {
				return fmt.Errorf("release lease: bad MAC %q", w.Lease.MAC)
			}
			norm[i] = LeaseWrite{Lease: Lease{MAC: formatMAC(bits)}, Release: true}
			continue
		}
		l, err := normLease(w.Lease)
		if err != nil {
			return fmt.Errorf("put lease: %w", err)
		}
		norm[i] = LeaseWrite{Lease: l}
	}
	if err := s.db.writeLeases(ctx, norm); err != nil {
		if len(norm) == 1 && !norm[0].Release {
			return fmt.Errorf("put lease %s %s: %w", norm[0].Lease.MAC, norm[0].Lease.IP, err)
		}
		return fmt.Errorf("write %d leases: %w", len(norm), err)
	}
	return nil
}

func normLease(l Lease) (Lease, error) {
	bits, ok := parseMAC(l.MAC)
	if !ok {
		return l, fmt.Errorf("bad MAC %q", l.MAC)
	}
	l.MAC = formatMAC(bits)
	if !l.IP.IsValid() {
		return l, fmt.Errorf("lease of %s without an address", l.MAC)
	}
	l.IP = l.IP.Unmap().WithZone("")
	l.Expires = l.Expires.UTC().Truncate(time.Microsecond)
	l.Updated = l.Updated.UTC().Truncate(time.Microsecond)
	if len(l.RelayInfo) == 0 {
		l.RelayInfo = nil
	}
	return l, nil
}

// LeaseByMAC returns mac's lease (active or not), or false.
func (s *Store) LeaseByMAC(ctx context.Context, mac string) (Lease, bool, error) {
	bits, ok := parseMAC(mac)
	if !ok {
		return Lease{}, false, nil
	}
	l, ok, err := s.db.leaseBy(ctx, false, formatMAC(bits))
	if err != nil {
		return Lease{}, false, fmt.Errorf("lease of %s: %w", mac, err)
	}
	return l, ok, nil
}

// LeaseByIP returns the lease (active or not) on ip, or false.
func (s *Store) LeaseByIP(ctx context.Context, ip netip.Addr) (Lease, bool, error) {
	if !ip.IsValid() {
		return Lease{}, false, nil
	}
	l, ok, err := s.db.leaseBy(ctx, true, ip.Unmap().WithZone("").String())
	if err != nil {
		return Lease{}, false, fmt.Errorf("lease on %s: %w", ip, err)
	}
	return l, ok, nil
}

// ReleaseLease removes mac's lease; releasing a MAC without one does
// nothing.
func (s *Store) ReleaseLease(ctx context.Context, mac string) error {
	if err := s.WriteLeases(ctx, []LeaseWrite{{Lease: Lease{MAC: mac}, Release: true}}); err != nil {
		return fmt.Errorf("release lease of %s: %w", mac, err)
	}
	return nil
}

// Leases returns every stored lease (expired ones too) sorted by MAC, for
// loading at start.
func (s *Store) Leases(ctx context.Context) ([]Lease, error) {
	ls, err := s.db.leases(ctx)
	if err != nil {
		return nil, fmt.Errorf("list leases: %w", err)
	}
	return ls, nil
}

func inUseError(ip netip.Addr, mac string, expires time.Time) error {
	return fmt.Errorf("%w: %s held by %s until %s", ErrAddressInUse, ip, mac, expires.UTC().Format(time.RFC3339))
}

// finishLease checks and completes a lease read from the database.
func finishLease(l *Lease, ip string) error {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return fmt.Errorf("lease of %s: bad address %q: %w", l.MAC, ip, err)
	}
	l.IP = a
	l.Expires, l.Updated = l.Expires.UTC(), l.Updated.UTC()
	if len(l.RelayInfo) == 0 {
		l.RelayInfo = nil
	}
	return nil
}

// SQLite.

const sqliteLeaseCols = "mac, ip, node, network, expires, updated, relay_info"

func (s *sqliteDB) writeLeases(ctx context.Context, ws []LeaseWrite) (err error) {
	// Prepared once (parsing SQL per lease costs more than the write), and
	// before the transaction takes evdb's one connection.
	prepared, err := s.prepareLeaseStmts(ctx)
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.evdb.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	st := &leaseStmts{
		other:     tx.StmtContext(ctx, prepared.other),
		dropOther: tx.StmtContext(ctx, prepared.dropOther),
		upsert:    tx.StmtContext(ctx, prepared.upsert),
		release:   tx.StmtContext(ctx, prepared.release),
	}
	for _, w := range ws {
		if w.Release {
			if _, err := st.release.ExecContext(ctx, w.Lease.MAC); err != nil {
				return err
			}
			continue
		}
		if err := st.put(ctx, w.Lease); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// leaseStmts are the statements of a SQLite lease batch.
type leaseStmts struct {
	other, dropOther, upsert, release *sql.Stmt
}

// prepareLeaseStmts prepares the lease statements on evdb the first time.
func (s *sqliteDB) prepareLeaseStmts(ctx context.Context) (*leaseStmts, error) {
	s.stmtsOnce.Do(func() {
		st := &leaseStmts{}
		for _, p := range []struct {
			dst **sql.Stmt
			sql string
		}{
			{&st.other, "SELECT mac, expires FROM leases WHERE ip = ? AND mac <> ?"},
			{&st.dropOther, "DELETE FROM leases WHERE ip = ? AND mac <> ?"},
			{&st.upsert, `INSERT INTO leases (` + sqliteLeaseCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (mac) DO UPDATE SET ip = excluded.ip, node = excluded.node, network = excluded.network,
			expires = excluded.expires, updated = excluded.updated, relay_info = excluded.relay_info`},
			{&st.release, "DELETE FROM leases WHERE mac = ?"},
		} {
			stmt, err := s.evdb.PrepareContext(context.WithoutCancel(ctx), p.sql)
			if err != nil {
				s.stmtsErr = err
				return
			}
			*p.dst = stmt
		}
		s.stmts = st
	})
	return s.stmts, s.stmtsErr
}

func (st *leaseStmts) put(ctx context.Context, l Lease) error {
	ip := l.IP.String()
	updated := l.Updated.Format(sqliteTimeFormat)
	upsert := func() error {
		_, err := st.upsert.ExecContext(ctx, l.MAC, ip, l.Node, l.Network, l.Expires.Format(sqliteTimeFormat), updated, l.RelayInfo)
		return err
	}
	// Usually no other MAC has a row on the address: write straight away,
	// and look at the other row only when the unique index says there is one.
	err := upsert()
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return err
	}
	var other, expires string
	err = st.other.QueryRowContext(ctx, ip, l.MAC).Scan(&other, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	case expires > updated: // the format sorts in time order
		t, _ := time.Parse(sqliteTimeFormat, expires)
		return inUseError(l.IP, other, t)
	default:
		if _, err := st.dropOther.ExecContext(ctx, ip, l.MAC); err != nil {
			return err
		}
	}
	return upsert()
}

func scanSQLiteLease(sc interface{ Scan(...any) error }) (Lease, error) {
	var l Lease
	var ip, expires, updated string
	if err := sc.Scan(&l.MAC, &ip, &l.Node, &l.Network, &expires, &updated, &l.RelayInfo); err != nil {
		return Lease{}, err
	}
	var err error
	if l.Expires, err = time.Parse(sqliteTimeFormat, expires); err != nil {
		return Lease{}, err
	}
	if l.Updated, err = time.Parse(sqliteTimeFormat, updated); err != nil {
		return Lease{}, err
	}
	return l, finishLease(&l, ip)
}

func (s *sqliteDB) leaseBy(ctx context.Context, byIP bool, key string) (Lease, bool, error) {
	q := "SELECT " + sqliteLeaseCols + " FROM leases WHERE mac = ?"
	if byIP {
		q = "SELECT " + sqliteLeaseCols + " FROM leases WHERE ip = ?"
	}
	l, err := scanSQLiteLease(s.db.QueryRowContext(ctx, q, key))
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, false, nil
	}
	if err != nil {
		return Lease{}, false, err
	}
	return l, true, nil
}

func (s *sqliteDB) leases(ctx context.Context) ([]Lease, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+sqliteLeaseCols+" FROM leases ORDER BY mac")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ls []Lease
	for rows.Next() {
		l, err := scanSQLiteLease(rows)
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, rows.Err()
}

// PostgreSQL.

const pgLeaseCols = "mac, ip, node, network, expires, updated, relay_info"

func (p *postgresDB) writeLeases(ctx context.Context, ws []LeaseWrite) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, w := range ws {
		if w.Release {
			if _, err := tx.Exec(ctx, "DELETE FROM leases WHERE mac = $1", w.Lease.MAC); err != nil {
				return err
			}
			continue
		}
		if err := pgPutLease(ctx, tx, w.Lease); err != nil {
			return err
		}
	}
	err = tx.Commit(ctx)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "leases_ip_idx" {
		// Another server leased an address concurrently.
		return fmt.Errorf("%w: leased concurrently by another MAC", ErrAddressInUse)
	}
	return err
}

func pgPutLease(ctx context.Context, tx pgx.Tx, l Lease) error {
	ip := l.IP.String()
	var other string
	var expires time.Time
	err := tx.QueryRow(ctx, "SELECT mac, expires FROM leases WHERE ip = $1 AND mac <> $2 FOR UPDATE", ip, l.MAC).Scan(&other, &expires)
	switch {
	case isNoRows(err):
	case err != nil:
		return err
	case expires.After(l.Updated):
		return inUseError(l.IP, other, expires)
	default:
		if _, err := tx.Exec(ctx, "DELETE FROM leases WHERE ip = $1 AND mac <> $2", ip, l.MAC); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO leases (`+pgLeaseCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (mac) DO UPDATE SET ip = EXCLUDED.ip, node = EXCLUDED.node, network = EXCLUDED.network,
			expires = EXCLUDED.expires, updated = EXCLUDED.updated, relay_info = EXCLUDED.relay_info`,
		l.MAC, ip, l.Node, l.Network, l.Expires, l.Updated, l.RelayInfo)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "leases_ip_idx" {
		return fmt.Errorf("%w: %s leased concurrently by another MAC", ErrAddressInUse, l.IP)
	}
	return err
}

func scanPGLease(row pgx.Row) (Lease, error) {
	var l Lease
	var ip string
	if err := row.Scan(&l.MAC, &ip, &l.Node, &l.Network, &l.Expires, &l.Updated, &l.RelayInfo); err != nil {
		return Lease{}, err
	}
	return l, finishLease(&l, ip)
}

func (p *postgresDB) leaseBy(ctx context.Context, byIP bool, key string) (Lease, bool, error) {
	q := "SELECT " + pgLeaseCols + " FROM leases WHERE mac = $1"
	if byIP {
		q = "SELECT " + pgLeaseCols + " FROM leases WHERE ip = $1"
	}
	l, err := scanPGLease(p.pool.QueryRow(ctx, q, key))
	if isNoRows(err) {
		return Lease{}, false, nil
	}
	if err != nil {
		return Lease{}, false, err
	}
	return l, true, nil
}

func (p *postgresDB) leases(ctx context.Context) ([]Lease, error) {
	rows, err := p.pool.Query(ctx, "SELECT "+pgLeaseCols+" FROM leases ORDER BY mac")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ls []Lease
	for rows.Next() {
		l, err := scanPGLease(rows)
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, rows.Err()
}
