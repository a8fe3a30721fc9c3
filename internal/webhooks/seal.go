package webhooks

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// SealedPrefix starts a subscription secret sealed at rest:
// "backlot-sealed:v1:<key id>:<base64 of nonce and ciphertext>". A stored
// secret without it is an old one kept in clear, read as it is.
const SealedPrefix = "backlot-sealed:v1:"

// Sealer seals a subscription's HMAC secret before it is stored, and opens
// it when it is read. The subscription's id is bound to the sealed text, so
// it opens only for that subscription.
type Sealer interface {
	// Seal returns the text to store for secret.
	Seal(id, secret string) (string, error)
	// Open returns the secret of a stored text: a sealed one opened, an old
	// clear one as it is.
	Open(id, stored string) (string, error)
}

// AESSealer seals with AES-256-GCM under the key that seals the scaffolder's
// Temporal secrets (BACKLOT_SECRETS_KEY, or DATA/secrets.key in backlot dev).
type AESSealer struct {
	aead  cipher.AEAD
	keyID string
}

// NewAESSealer returns the sealer of a 32-byte key.
func NewAESSealer(key []byte) (*AESSealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("webhook secret sealer: key is %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key)
	return &AESSealer{aead: aead, keyID: hex.EncodeToString(sum[:4])}, nil
}

// Seal seals secret for subscription id; an empty secret stays empty.
func (s *AESSealer) Seal(id, secret string) (string, error) {
	if secret == "" {
		return "", nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := s.aead.Seal(nonce, nonce, []byte(secret), []byte(s.keyID+":"+id))
	return SealedPrefix + s.keyID + ":" + base64.RawStdEncoding.EncodeToString(ct), nil
}

// Open opens a sealed secret of subscription id; a clear one is returned as
// it is. A secret sealed under another key is an error naming both keys.
func (s *AESSealer) Open(id, stored string) (string, error) {
	rest, ok := strings.CutPrefix(stored, SealedPrefix)
	if !ok {
		return stored, nil
	}
	keyID, enc, ok := strings.Cut(rest, ":")
	if !ok {
		return "", fmt.Errorf("subscription %s: secret: malformed sealed text", id)
	}
	if keyID != s.keyID {
		return "", fmt.Errorf("subscription %s: secret: sealed under key %s, this process has key %s", id, keyID, s.keyID)
	}
	raw, err := base64.RawStdEncoding.DecodeString(enc)
	n := s.aead.NonceSize()
	if err != nil || len(raw) < n {
		return "", fmt.Errorf("subscription %s: secret: malformed sealed text", id)
	}
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(s.keyID+":"+id))
	if err != nil {
		return "", fmt.Errorf("subscription %s: secret: cannot open: %w", id, err)
	}
	return string(plain), nil
}

// SealedStore is a Store whose subscription secrets are sealed at rest: it
// seals a secret before the inner store keeps it and opens it on the way
// out, so the database holds only ciphertext. Secrets stored in clear
// before sealing was configured are read as they are.
type SealedStore struct {
	Store
	sealer Sealer
}

// SealSecrets returns store with its secrets sealed by sealer; a nil sealer
// returns store as it is.
func SealSecrets(store Store, sealer Sealer) Store {
	if sealer == nil {
		return store
	}
	return &SealedStore{Store: store, sealer: sealer}
}

// Create seals the secret and stores the subscription.
func (s *SealedStore) Create(ctx context.Context, sub Subscription) error {
	sealed, err := s.sealer.Seal(sub.ID, sub.Secret)
	if err != nil {
		return fmt.Errorf("subscription %s: seal the secret: %w", sub.ID, err)
	}
	sub.Secret = sealed
	return s.Store.Create(ctx, sub)
}

// List returns every subscription with its secret opened.
func (s *SealedStore) List(ctx context.Context) ([]Subscription, error) {
	subs, err := s.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	for i := range subs {
		if subs[i].Secret, err = s.sealer.Open(subs[i].ID, subs[i].Secret); err != nil {
			return nil, err
		}
	}
	return subs, nil
}

// Get returns one subscription with its secret opened.
func (s *SealedStore) Get(ctx context.Context, id string) (Subscription, error) {
	sub, err := s.Store.Get(ctx, id)
	if err != nil {
		return sub, err
	}
	sub.Secret, err = s.sealer.Open(sub.ID, sub.Secret)
	return sub, err
}
