package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// MaxSecretSize bounds a named secret's value.
const MaxSecretSize = 64 << 10

// ErrNoSecret: no secret has that name.
var ErrNoSecret = errors.New("no such secret")

// ErrSecretName: a secret name is not 1–128 of [A-Za-z0-9._-].
var ErrSecretName = errors.New("invalid secret name")

// SecretInfo describes a named secret without its value.
type SecretInfo struct {
	Name    string
	Updated time.Time
}

// ValidSecretName reports whether name may name a secret: 1 to 128
// letters, digits, '.', '_' or '-', not starting with '.' or '-'.
func ValidSecretName(name string) bool {
	if name == "" || len(name) > 128 || name[0] == '.' || name[0] == '-' {
		return false
	}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

func secretAAD(name string) []byte { return []byte("secret\x00" + name) }

func (s *Store) sealSecret(name, v string) (string, error) {
	if s.secrets == nil {
		return v, nil
	}
	return s.secrets.sealRaw(v, secretAAD(name))
}

func (s *Store) openSecret(name, v string) (string, error) {
	if !strings.HasPrefix(v, sealedPrefix) {
		return v, nil
	}
	if s.secrets == nil {
		return "", fmt.Errorf("%w: secret %s is encrypted and no secret key was given", ErrSecretKey, name)
	}
	plain, err := s.secrets.openRaw(v, secretAAD(name))
	if err != nil {
		return "", fmt.Errorf("%w: secret %s: %v", ErrSecretKey, name, err)
	}
	return plain, nil
}

// SetSecret stores value under name (sealed at rest), replacing any value.
func (s *Store) SetSecret(ctx context.Context, name, value string) error {
	if !ValidSecretName(name) {
		return fmt.Errorf("%w: %q (use 1-128 of A-Z a-z 0-9 . _ -)", ErrSecretName, name)
	}
	if len(value) > MaxSecretSize {
		return fmt.Errorf("secret %s: %d bytes, limit %d", name, len(value), MaxSecretSize)
	}
	sealed, err := s.sealSecret(name, value)
	if err != nil {
		return err
	}
	if err := s.db.setSecret(ctx, name, sealed, time.Now().UTC().Truncate(time.Microsecond)); err != nil {
		return fmt.Errorf("set secret %s: %w", name, err)
	}
	return nil
}

// Secret returns the value of name; ok is false when there is none.
func (s *Store) Secret(ctx context.Context, name string) (string, bool, error) {
	v, ok, err := s.db.secret(ctx, name)
	if err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("secret %s: %w", name, err)
		}
		return "", false, err
	}
	plain, err := s.openSecret(name, v)
	if err != nil {
		return "", false, err
	}
	return plain, true, nil
}

// Secrets lists the named secrets, by name, without values.
func (s *Store) Secrets(ctx context.Context) ([]SecretInfo, error) {
	out, err := s.db.secretNames(ctx)
	if err != nil {
		return nil, fmt.Errorf("list secrets: %w", err)
	}
	return out, nil
}

// DeleteSecret removes name; ErrNoSecret when there is none.
func (s *Store) DeleteSecret(ctx context.Context, name string) error {
	ok, err := s.db.deleteSecret(ctx, name)
	if err != nil {
		return fmt.Errorf("delete secret %s: %w", name, err)
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoSecret, name)
	}
	return nil
}

// secretDB is what each backend provides for named secrets.
type secretDB interface {
	setSecret(ctx context.Context, name, value string, updated time.Time) error
	secret(ctx context.Context, name string) (string, bool, error)
	secretNames(ctx context.Context) ([]SecretInfo, error)
	deleteSecret(ctx context.Context, name string) (bool, error)
}

func (s *sqliteDB) setSecret(ctx context.Context, name, value string, updated time.Time) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.db.ExecContext(ctx, `INSERT INTO secrets (name, value, updated) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated = excluded.updated`,
		name, value, updated.Format(sqliteTimeFormat))
	return err
}

func (s *sqliteDB) secret(ctx context.Context, name string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM secrets WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

func (s *sqliteDB) secretNames(ctx context.Context) ([]SecretInfo, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name, updated FROM secrets ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SecretInfo
	for rows.Next() {
		var i SecretInfo
		var t string
		if err := rows.Scan(&i.Name, &t); err != nil {
			return nil, err
		}
		if i.Updated, err = time.Parse(sqliteTimeFormat, t); err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

func (s *sqliteDB) deleteSecret(ctx context.Context, name string) (bool, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	res, err := s.db.ExecContext(ctx, "DELETE FROM secrets WHERE name = ?", name)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

func (p *postgresDB) setSecret(ctx context.Context, name, value string, updated time.Time) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO secrets (name, value, updated) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated = excluded.updated`, name, value, updated)
	return err
}

func (p *postgresDB) secret(ctx context.Context, name string) (string, bool, error) {
	var v string
	err := p.pool.QueryRow(ctx, "SELECT value FROM secrets WHERE name = $1", name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

func (p *postgresDB) secretNames(ctx context.Context) ([]SecretInfo, error) {
	rows, err := p.pool.Query(ctx, "SELECT name, updated FROM secrets ORDER BY name")
	if err != nil {
		return nil, err
	}
	var out []SecretInfo
	var i SecretInfo
	_, err = pgx.ForEachRow(rows, []any{&i.Name, &i.Updated}, func() error {
		i.Updated = i.Updated.UTC()
		out = append(out, i)
		return nil
	})
	return out, err
}

func (p *postgresDB) deleteSecret(ctx context.Context, name string) (bool, error) {
	tag, err := p.pool.Exec(ctx, "DELETE FROM secrets WHERE name = $1", name)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}
