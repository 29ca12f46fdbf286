// Package store is drover's persistence: every inventory object, API tokens,
// DHCP leases, boot events and a few metadata keys, kept in SQLite (embedded, the default) or
// PostgreSQL (selected by a postgres:// DSN).
//
// Objects are also held in memory and every read (Get, List, View, the
// boot-path indexes NodeByMAC/IP/UUID/Serial) is served from there without a
// query. Apply writes a batch of changes in one database transaction, waits
// for the commit to be durable, then updates memory and notifies
// subscribers. On PostgreSQL several servers may share one database: each
// learns about the others' commits through LISTEN/NOTIFY and a change log,
// and reloads the changed objects. Leases and boot events are not on the
// per-request hot path and are read from the database.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"drover.dev/drover/internal/inventory"
)

// Config says which database to open.
type Config struct {
	// DSN selects the database: "" is the SQLite file DataDir/drover.db;
	// "postgres://..." or "postgresql://..." is PostgreSQL; "sqlite:PATH"
	// or "file:PATH" is SQLite at PATH.
	DSN string
	// DataDir holds the SQLite database when DSN is empty.
	DataDir string
	// Log receives the store's logs; nil discards them.
	Log *slog.Logger
	// SecretKey (SecretKeySize bytes) encrypts secret attribute values
	// (bmcpassword, passwd.*, ...) at rest; nil stores them in plain.
	// Objects whose secrets were stored in plain are sealed on Open.
	SecretKey []byte
}

// Backend names as Backend returns them.
const (
	BackendSQLite   = "sqlite"
	BackendPostgres = "postgres"
)

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store is closed")

// ExistsError is returned by Apply for a Create of an object that exists.
// It matches inventory.ErrExists with errors.Is.
type ExistsError struct {
	Type inventory.Type
	Name string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s %q: %v", e.Type, e.Name, inventory.ErrExists)
}

// Unwrap returns inventory.ErrExists.
func (e *ExistsError) Unwrap() error { return inventory.ErrExists }

// Event is one committed change.
type Event struct {
	Rev  int64
	Type inventory.Type
	Name string
	Op   inventory.ChangeOp
}

// Store is the inventory's persistence and in-memory copy. It is safe for
// concurrent use.
type Store struct {
	log     *slog.Logger
	backend string
	db      database
	pg      *postgresDB // the same as db on PostgreSQL, else nil
	secrets *sealer     // nil: secrets stored in plain

	// wmu serialises Apply and the loading of other servers' changes, so
	// memory moves through revisions in order.
	wmu sync.Mutex
	mu  sync.RWMutex // guards mem
	mem *memory

	subsMu sync.Mutex
	subs   map[*subscriber]struct{}

	tokMu  sync.Mutex
	tokens map[string]Token // by secret hash
	tokGen uint64           // bumped when the cache is cleared

	done      chan struct{}
	closeOnce sync.Once
	stop      context.CancelFunc // stops the PostgreSQL listener
	wg        sync.WaitGroup
}

// database is what each backend provides. Writes are serialised by Store.
type database interface {
	migrate(ctx context.Context) (version int64, err error)
	load(ctx context.Context) (rev int64, objs []*inventory.Object, err error)
	apply(ctx context.Context, batch []memChange) (rev int64, err error)
	ping(ctx context.Context) error
	checkIntegrity(ctx context.Context) error
	meta(ctx context.Context, key string) (string, bool, error)
	setMeta(ctx context.Context, key, value string) error
	insertToken(ctx context.Context, tok Token, hash string) error
	tokenByHash(ctx context.Context, hash string) (Token, error)
	listTokens(ctx context.Context) ([]Token, error)
	deleteToken(ctx context.Context, id string) (bool, error)
	leaseDB
	bootEventDB
	discoveryDB
	secretDB
	close() error
}

// Open opens (creating if needed) the database cfg names, runs its
// migrations and loads every object into memory.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sl, err := newSealer(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	s := &Store{
		log:     log,
		subs:    make(map[*subscriber]struct{}),
		tokens:  make(map[string]Token),
		done:    make(chan struct{}),
		secrets: sl,
	}
	switch {
	case strings.HasPrefix(cfg.DSN, "postgres://"), strings.HasPrefix(cfg.DSN, "postgresql://"):
		pg, err := openPostgres(ctx, cfg.DSN, log)
		if err != nil {
			return nil, err
		}
		s.backend, s.db, s.pg = BackendPostgres, pg, pg
	default:
		path, err := sqlitePath(cfg)
		if err != nil {
			return nil, err
		}
		db, err := openSQLite(ctx, path, log)
		if err != nil {
			return nil, err
		}
		s.backend, s.db = BackendSQLite, db
	}
	rev, objs, err := s.db.load(ctx)
	if err != nil {
		s.db.close()
		return nil, fmt.Errorf("store: load objects: %w", err)
	}
	plain, err := s.secrets.openAll(objs)
	if err != nil {
		s.db.close()
		return nil, fmt.Errorf("store: %w", err)
	}
	s.mem = newMemory()
	s.mem.load(rev, objs)
	if s.pg != nil {
		lctx, stop := context.WithCancel(context.Background())
		s.stop = stop
		l, err := s.pg.listen(ctx)
		if err != nil {
			stop()
			s.db.close()
			return nil, err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.follow(lctx, l)
		}()
	}
	log.Info("store open", "backend", s.backend, "objects", len(objs), "rev", rev)
	if len(plain) > 0 {
		changes := make([]inventory.Change, len(plain))
		for i, o := range plain {
			changes[i] = inventory.Change{Op: inventory.Put, Object: o.Clone()}
		}
		if err := s.Apply(ctx, changes); err != nil {
			s.Close()
			return nil, fmt.Errorf("store: encrypting secrets stored in plain: %w", err)
		}
		log.Info("encrypted secret attributes stored in plain", "objects", len(plain))
	}
	return s, nil
}

func sqlitePath(cfg Config) (string, error) {
	var path string
	switch {
	case cfg.DSN == "":
		if cfg.DataDir == "" {
			return "", errors.New("store: no data directory and no database DSN")
		}
		path = filepath.Join(cfg.DataDir, "drover.db")
	case strings.HasPrefix(cfg.DSN, "sqlite:"):
		path = strings.TrimPrefix(cfg.DSN, "sqlite:")
	case strings.HasPrefix(cfg.DSN, "file:"):
		// SQLite URI style: parameters after '?' are ignored, drover
		// sets its own.
		path, _, _ = strings.Cut(strings.TrimPrefix(cfg.DSN, "file:"), "?")
	default:
		return "", errors.New("store: unsupported database DSN (want postgres://, postgresql://, sqlite:PATH or file:PATH)")
	}
	if strings.HasPrefix(path, "///") {
		path = path[2:]
	}
	if path == "" {
		return "", errors.New("store: empty SQLite path in DSN")
	}
	return filepath.Abs(path)
}

// Close stops change notifications, closes every Subscribe channel and
// closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.wmu.Lock()
		close(s.done)
		s.wmu.Unlock()
		if s.stop != nil {
			s.stop()
		}
		s.wg.Wait()
		err = s.db.close()
	})
	return err
}

func (s *Store) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Backend returns "sqlite" or "postgres".
func (s *Store) Backend() string { return s.backend }

// View returns a live view of the inventory: each call reads the current
// objects. It is safe for concurrent use.
func (s *Store) View() inventory.View { return view{s} }

type view struct{ s *Store }

func (v view) Get(t inventory.Type, name string) (*inventory.Object, bool) { return v.s.Get(t, name) }
func (v view) List(t inventory.Type) []*inventory.Object                   { return v.s.List(t) }

// Get returns the object (shared: treat it as read-only), or false.
func (s *Store) Get(t inventory.Type, name string) (*inventory.Object, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mem.Get(t, name)
}

// List returns every object of type t sorted by name. The slice is the
// caller's; the objects are shared.
func (s *Store) List(t inventory.Type) []*inventory.Object {
	s.mu.RLock()
	l, ok := s.mem.listFresh(t)
	if ok {
		l = clonePtrs(l)
		s.mu.RUnlock()
		return l
	}
	s.mu.RUnlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	return clonePtrs(s.mem.List(t))
}

func clonePtrs(l []*inventory.Object) []*inventory.Object {
	if len(l) == 0 {
		return nil
	}
	return append([]*inventory.Object(nil), l...)
}

// Empty reports whether the store holds no objects at all.
func (s *Store) Empty() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mem.count() == 0
}

// Rev returns the revision of the last transaction applied to memory
// (0 for a new database).
func (s *Store) Rev() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mem.rev
}

// NodeByMAC returns the node one of whose resolved MACs is mac (any case;
// ':' or '-' separators, aabb.ccdd.eeff or bare hex digits).
func (s *Store) NodeByMAC(mac string) (*inventory.Object, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mem.byMAC.lookup(mac)
}

// NodeByIP returns the node whose resolved ip attribute is ip.
func (s *Store) NodeByIP(ip string) (*inventory.Object, bool) {
	return s.lookup(func(m *memory) keyIndex[string] { return m.byIP }, strings.TrimSpace(ip))
}

// NodeByUUID returns the node whose resolved uuid is uuid (any case).
func (s *Store) NodeByUUID(uuid string) (*inventory.Object, bool) {
	return s.lookup(func(m *memory) keyIndex[string] { return m.byUUID }, strings.ToLower(strings.TrimSpace(uuid)))
}

// NodeBySerial returns the node whose resolved serial is serial.
func (s *Store) NodeBySerial(serial string) (*inventory.Object, bool) {
	return s.lookup(func(m *memory) keyIndex[string] { return m.bySerial }, strings.TrimSpace(serial))
}

func (s *Store) lookup(ix func(*memory) keyIndex[string], key string) (*inventory.Object, bool) {
	if key == "" {
		return nil, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return ix(s.mem).first(key)
}

// Apply writes changes in one database transaction, or none of them: Put
// creates an object or replaces its attributes, Create fails with an
// *ExistsError (matching inventory.ErrExists) if the object exists, Delete
// removes an object if it is there. Apply returns after the commit is
// durable and memory reflects it; subscribers are then notified.
func (s *Store) Apply(ctx context.Context, changes []inventory.Change) error {
	if len(changes) == 0 {
		return nil
	}
	batch, err := settle(changes, s.secrets)
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed() {
		return ErrClosed
	}
	rev, err := s.db.apply(ctx, batch)
	if err != nil {
		return err
	}
	s.mu.RLock()
	inOrder := rev == s.mem.rev+1
	s.mu.RUnlock()
	if !inOrder {
		// Another server committed before us and the listener has not
		// loaded it yet: load everything after our last revision, which
		// includes this commit.
		if err := s.syncLocked(context.WithoutCancel(ctx)); err != nil {
			s.log.Warn("reload after apply failed; the listener will retry", "rev", rev, "err", err)
		}
		return nil
	}
	s.mu.Lock()
	events := s.mem.apply(rev, batch)
	s.mem.rev = rev
	s.mu.Unlock()
	s.publish(events)
	return nil
}

// settle validates changes and turns them into the objects memory will hold
// (attributes copied, empty values dropped) and the encoded attributes.
func settle(changes []inventory.Change, secrets *sealer) ([]memChange, error) {
	batch := make([]memChange, len(changes))
	for i, c := range changes {
		o := &c.Object
		if _, err := inventory.ParseType(string(o.Type)); err != nil {
			return nil, fmt.Errorf("change %d: %w", i+1, err)
		}
		if o.Name == "" {
			return nil, fmt.Errorf("change %d: %s with an empty name", i+1, o.Type)
		}
		mc := memChange{op: c.Op, typ: o.Type, name: o.Name}
		switch c.Op {
		case inventory.Put, inventory.Create:
			attrs := make(map[string]string, len(o.Attrs))
			for k, v := range o.Attrs {
				if v != "" {
					attrs[k] = v
				}
			}
			stored := attrs
			if secrets != nil {
				stored = make(map[string]string, len(attrs))
				for k, v := range attrs {
					sv, err := secrets.seal(o.Type, o.Name, k, v)
					if err != nil {
						return nil, fmt.Errorf("change %d: %w", i+1, err)
					}
					stored[k] = sv
				}
			}
			enc, err := json.Marshal(stored)
			if err != nil {
				return nil, fmt.Errorf("change %d: %w", i+1, err)
			}
			mc.obj = &inventory.Object{Type: o.Type, Name: o.Name, Attrs: attrs}
			mc.attrs = string(enc)
		case inventory.Delete:
		default:
			return nil, fmt.Errorf("change %d: unknown operation %d", i+1, c.Op)
		}
		batch[i] = mc
	}
	return batch, nil
}

func decodeObject(t, name string, attrs []byte) (*inventory.Object, error) {
	o := &inventory.Object{Type: inventory.Type(t), Name: name}
	if err := json.Unmarshal(attrs, &o.Attrs); err != nil {
		return nil, fmt.Errorf("%s %q: bad attrs: %w", t, name, err)
	}
	if o.Attrs == nil {
		o.Attrs = map[string]string{}
	}
	return o, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.ping(ctx) }

// CheckIntegrity checks the database: SQLite's integrity_check on SQLite, a
// query over the objects table on PostgreSQL.
func (s *Store) CheckIntegrity(ctx context.Context) error { return s.db.checkIntegrity(ctx) }

// Meta returns the value of a metadata key (e.g. "restored").
func (s *Store) Meta(ctx context.Context, key string) (value string, ok bool, err error) {
	return s.db.meta(ctx, key)
}

// SetMeta sets a metadata key.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	return s.db.setMeta(ctx, key, value)
}
