package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"drover.dev/drover/internal/inventory"
)

// Token is an API token. Its secret is not stored: only its SHA-256.
type Token struct {
	ID, Name, Role string
	Created        time.Time
}

// tokenPrefix starts every secret, so a leaked one is recognisable.
const tokenPrefix = "drover_"

// CreateToken creates a token with a new random secret. The secret is
// returned only here.
func (s *Store) CreateToken(ctx context.Context, name, role string) (secret string, tok Token, err error) {
	if role == "" {
		return "", Token{}, errors.New("create token: empty role")
	}
	var id [8]byte
	var key [32]byte
	rand.Read(id[:])
	rand.Read(key[:])
	secret = tokenPrefix + base64.RawURLEncoding.EncodeToString(key[:])
	tok = Token{
		ID:      hex.EncodeToString(id[:]),
		Name:    name,
		Role:    role,
		Created: time.Now().UTC().Truncate(time.Microsecond),
	}
	if err := s.db.insertToken(ctx, tok, hashSecret(secret)); err != nil {
		return "", Token{}, fmt.Errorf("create token: %w", err)
	}
	return secret, tok, nil
}

// ImportToken makes secret (chosen outside drover, e.g. a Kubernetes
// Secret) a token of role named name, unless it is one already. Other
// tokens with that name are revoked, so changing the secret rotates it.
// The secret must be at least 32 printable ASCII characters.
func (s *Store) ImportToken(ctx context.Context, name, role, secret string) (Token, error) {
	if len(secret) < 32 || len(secret) > 512 {
		return Token{}, fmt.Errorf("import token: the secret is %d characters, want 32 to 512", len(secret))
	}
	for _, c := range secret {
		if c <= ' ' || c > '~' {
			return Token{}, errors.New("import token: the secret has blanks or characters outside printable ASCII")
		}
	}
	if role == "" {
		return Token{}, errors.New("import token: empty role")
	}
	if tok, err := s.LookupToken(ctx, secret); err == nil {
		if tok.Role != role || tok.Name != name {
			return Token{}, fmt.Errorf("import token: that secret is already token %s (%s, role %s)", tok.ID, tok.Name, tok.Role)
		}
		return tok, nil
	}
	toks, err := s.ListTokens(ctx)
	if err != nil {
		return Token{}, err
	}
	for _, t := range toks {
		if t.Name == name {
			if err := s.DeleteToken(ctx, t.ID); err != nil {
				return Token{}, err
			}
		}
	}
	var id [8]byte
	rand.Read(id[:])
	tok := Token{ID: hex.EncodeToString(id[:]), Name: name, Role: role, Created: time.Now().UTC().Truncate(time.Microsecond)}
	if err := s.db.insertToken(ctx, tok, hashSecret(secret)); err != nil {
		return Token{}, fmt.Errorf("import token: %w", err)
	}
	return tok, nil
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// LookupToken returns the token whose secret this is, or an error wrapping
// inventory.ErrNotFound. Known tokens are cached in memory.
func (s *Store) LookupToken(ctx context.Context, secret string) (Token, error) {
	if secret == "" {
		return Token{}, fmt.Errorf("token: %w", inventory.ErrNotFound)
	}
	h := hashSecret(secret)
	s.tokMu.Lock()
	tok, ok := s.tokens[h]
	gen := s.tokGen
	s.tokMu.Unlock()
	if ok {
		return tok, nil
	}
	tok, err := s.db.tokenByHash(ctx, h)
	if err != nil {
		return Token{}, err
	}
	s.tokMu.Lock()
	if s.tokGen == gen { // no delete since the query: the row is current
		s.tokens[h] = tok
	}
	s.tokMu.Unlock()
	return tok, nil
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	toks, err := s.db.listTokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return toks, nil
}

// DeleteToken deletes a token by ID; an unknown ID gives an error wrapping
// inventory.ErrNotFound. On PostgreSQL other servers drop their cached
// tokens.
func (s *Store) DeleteToken(ctx context.Context, id string) error {
	ok, err := s.db.deleteToken(ctx, id)
	if err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	s.clearTokenCache()
	if !ok {
		return fmt.Errorf("token %q: %w", id, inventory.ErrNotFound)
	}
	return nil
}

func (s *Store) clearTokenCache() {
	s.tokMu.Lock()
	clear(s.tokens)
	s.tokGen++
	s.tokMu.Unlock()
}
