package client

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Credential is what `backlot login` keeps for one server: the issuer's
// tokens and where to refresh them.
type Credential struct {
	// Issuer and ClientID are where and as which client the user signed in.
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientId"`
	// TokenURL is the issuer's token endpoint, for refreshing.
	TokenURL string `json:"tokenUrl"`
	// IDToken is the bearer JWT sent to the server; Expiry is its expiry.
	IDToken string    `json:"idToken"`
	Expiry  time.Time `json:"expiry"`
	// RefreshToken, when the issuer gave one, gets a new IDToken once it
	// expires.
	RefreshToken string `json:"refreshToken,omitempty"`
}

// credentialsFile is the credentials file: one Credential per server URL.
type credentialsFile struct {
	Servers map[string]Credential `json:"servers"`
}

// CredentialsPath is where the credentials are kept:
// os.UserConfigDir()/backlot/credentials.json.
func CredentialsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("credentials: %w", err)
	}
	return filepath.Join(dir, "backlot", "credentials.json"), nil
}

// ServerKey is the key of a server URL in the credentials file: its scheme
// and host in lower case, without a trailing slash or /api/catalog.
func ServerKey(server string) string {
	s := strings.TrimRight(strings.TrimSpace(server), "/")
	s = strings.TrimSuffix(s, catalogPrefix)
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		s = strings.TrimRight(u.String(), "/")
	}
	return s
}

func readCredentials(path string) (credentialsFile, error) {
	f := credentialsFile{Servers: map[string]Credential{}}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("credentials: %w", err)
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return f, fmt.Errorf("credentials %s: %w", path, err)
	}
	if f.Servers == nil {
		f.Servers = map[string]Credential{}
	}
	return f, nil
}

// writeCredentials writes the file readable by its owner alone (0600, in a
// folder of mode 0700), through a temporary file renamed into place.
func writeCredentials(path string, f credentialsFile) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	if err := os.Chmod(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*")
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("credentials: %w", err)
	}
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

// LoadCredential returns the credential kept for server; ok is false when
// there is none.
func LoadCredential(path, server string) (Credential, bool, error) {
	f, err := readCredentials(path)
	if err != nil {
		return Credential{}, false, err
	}
	c, ok := f.Servers[ServerKey(server)]
	return c, ok, nil
}

// SaveCredential keeps c for server, beside the other servers'.
func SaveCredential(path, server string, c Credential) error {
	f, err := readCredentials(path)
	if err != nil {
		return err
	}
	f.Servers[ServerKey(server)] = c
	return writeCredentials(path, f)
}

// RemoveCredential forgets the credential of server; removed is false when
// there was none.
func RemoveCredential(path, server string) (removed bool, err error) {
	f, err := readCredentials(path)
	if err != nil {
		return false, err
	}
	if _, ok := f.Servers[ServerKey(server)]; !ok {
		return false, nil
	}
	delete(f.Servers, ServerKey(server))
	return true, writeCredentials(path, f)
}

// jwtExpiry reads the exp claim of a JWT without checking it (the server
// does): when to refresh.
func jwtExpiry(token string) (time.Time, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("the ID token is not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, fmt.Errorf("the ID token's payload: %w", err)
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Exp == 0 {
		return time.Time{}, errors.New("the ID token has no exp claim")
	}
	return time.Unix(claims.Exp, 0), nil
}
