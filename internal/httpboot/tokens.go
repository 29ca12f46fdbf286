package httpboot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"

	"drover.dev/drover/internal/boot"
)

// KeySize is the length of the key NewTokens wants: 32 random bytes.
const KeySize = 32

// ErrShortKey is returned by NewTokens for a key shorter than KeySize.
var ErrShortKey = errors.New("token key too short")

// tokenContext separates these MACs from any other use of the key;
// discoverContext separates discovery tokens from node tokens.
const (
	tokenContext    = "drover boot token v1\x00"
	discoverContext = "drover discovery token v1\x00"
)

// Tokens signs and verifies the per-node token carried in every
// node-specific URL (boot.TokenQueryParam), so one machine cannot fetch
// another's script or report for it. A token is the unpadded URL-safe
// base64 of HMAC-SHA256(key, context || MAC in boot.MACPath form): it needs
// no escaping in a URL and is the same for every spelling of a MAC.
// A Tokens is safe for concurrent use.
type Tokens struct {
	key []byte
}

// NewTokens returns Tokens using key, which must be at least KeySize random
// bytes (the caller keeps it, e.g. in the store, so tokens survive a
// restart). key is copied.
func NewTokens(key []byte) (*Tokens, error) {
	if len(key) < KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrShortKey, len(key), KeySize)
	}
	return &Tokens{key: append([]byte(nil), key...)}, nil
}

// Sign returns the token for mac.
func (t *Tokens) Sign(mac net.HardwareAddr) string {
	return base64.RawURLEncoding.EncodeToString(t.sum(mac))
}

// Verify reports whether token is mac's token, in constant time.
func (t *Tokens) Verify(mac net.HardwareAddr, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return false
	}
	return hmac.Equal(got, t.sum(mac))
}

// SignDiscover returns mac's discovery token: the one only the discovery
// environment's boot script carries, which lets a discovery report in. A
// node token does not pass VerifyDiscover, nor a discovery token Verify.
func (t *Tokens) SignDiscover(mac net.HardwareAddr) string {
	return base64.RawURLEncoding.EncodeToString(t.sumCtx(discoverContext, mac))
}

// VerifyDiscover reports whether token is mac's discovery token, in
// constant time.
func (t *Tokens) VerifyDiscover(mac net.HardwareAddr, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return false
	}
	return hmac.Equal(got, t.sumCtx(discoverContext, mac))
}

func (t *Tokens) sum(mac net.HardwareAddr) []byte { return t.sumCtx(tokenContext, mac) }

func (t *Tokens) sumCtx(ctx string, mac net.HardwareAddr) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(ctx))
	m.Write([]byte(boot.MACPath(mac)))
	return m.Sum(nil)
}
