package oidcauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// sealer seals cookie values with AES-256-GCM; the cookie's name is bound to
// its value, so one cookie cannot stand in for another.
type sealer struct{ aead cipher.AEAD }

// newSealer derives the cookie key from the secrets key (HMAC-SHA256 with a
// label of its own, so the secrets key itself seals nothing here).
func newSealer(secret []byte) (*sealer, error) {
	if len(secret) < 16 {
		return nil, errors.New("oidc: the session key is shorter than 16 bytes")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("backlot session cookie v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(name string, v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, raw, []byte(name))), nil
}

func (s *sealer) open(name, value string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return fmt.Errorf("cookie %s is malformed", name)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(name))
	if err != nil {
		return fmt.Errorf("cookie %s was not sealed by this deployment (or was altered)", name)
	}
	return json.Unmarshal(plain, v)
}

// randomString returns n random bytes in URL-safe base64.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
