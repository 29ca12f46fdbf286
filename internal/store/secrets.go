package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"drover.dev/drover/internal/inventory"
)

// SecretKeySize is the size of Config.SecretKey (AES-256).
const SecretKeySize = 32

// sealedPrefix marks an encrypted attribute value in the database.
const sealedPrefix = "enc:v1:"

// ErrSecretKey is wrapped when a sealed value cannot be opened: no key,
// or another key than the one it was sealed with.
var ErrSecretKey = errors.New("secret attribute cannot be decrypted")

// sealer encrypts secret attribute values (inventory.IsSecret) at rest
// with AES-256-GCM. The object's type, name and attribute are the
// additional data, so a sealed value copied to another attribute or
// object does not open. Memory always holds plain values.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) == 0 {
		return nil, nil
	}
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("store: secret key is %d bytes, want %d", len(key), SecretKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func aad(t inventory.Type, name, attr string) []byte {
	return []byte(string(t) + "\x00" + name + "\x00" + attr)
}

// seal returns the stored form of one attribute value.
func (s *sealer) seal(t inventory.Type, name, attr, v string) (string, error) {
	if s == nil || v == "" || !inventory.IsSecret(attr) {
		return v, nil
	}
	return s.sealRaw(v, aad(t, name, attr))
}

// open turns an object's stored secret values back into plain ones, in
// place, and reports whether a secret was stored in plain (to be sealed
// by rewriting the object).
func (s *sealer) open(o *inventory.Object) (plain bool, err error) {
	for attr, v := range o.Attrs {
		if !strings.HasPrefix(v, sealedPrefix) {
			if s != nil && v != "" && inventory.IsSecret(attr) {
				plain = true
			}
			continue
		}
		if s == nil {
			return false, fmt.Errorf("%w: %s %s %s is encrypted and no secret key was given", ErrSecretKey, o.Type, o.Name, attr)
		}
		pt, err := s.openRaw(v, aad(o.Type, o.Name, attr))
		if err != nil {
			return false, fmt.Errorf("%w: %s %s %s: %v", ErrSecretKey, o.Type, o.Name, attr, err)
		}
		o.Attrs[attr] = pt
	}
	return plain, nil
}

// openAll opens every object's secrets and lists those stored in plain.
func (s *sealer) openAll(objs []*inventory.Object) (plain []*inventory.Object, err error) {
	for _, o := range objs {
		p, err := s.open(o)
		if err != nil {
			return nil, err
		}
		if p {
			plain = append(plain, o)
		}
	}
	return plain, nil
}

// sealRaw seals any value under the given additional data.
func (s *sealer) sealRaw(v string, ad []byte) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := s.aead.Seal(nonce, nonce, []byte(v), ad)
	return sealedPrefix + base64.RawURLEncoding.EncodeToString(ct), nil
}

// openRaw opens a value sealRaw sealed under ad; its errors are
// errMalformed or errWrongKey.
func (s *sealer) openRaw(v string, ad []byte) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(v[len(sealedPrefix):])
	n := s.aead.NonceSize()
	if err != nil || len(raw) < n {
		return "", errMalformed
	}
	pt, err := s.aead.Open(nil, raw[:n], raw[n:], ad)
	if err != nil {
		return "", errWrongKey
	}
	return string(pt), nil
}

// Why a sealed value does not open (wrapped with ErrSecretKey by callers).
var (
	errMalformed = errors.New("malformed value")
	errWrongKey  = errors.New("wrong secret key")
)
