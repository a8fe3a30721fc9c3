package auth

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
)

// ErrUnauthenticated is returned when a request carries no valid token.
var ErrUnauthenticated = errors.New("a valid bearer token is required")

// principalPattern is a user, group or service principal.
var principalPattern = regexp.MustCompile(`^(user|group):([a-z0-9][a-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$|^service:[A-Za-z0-9][A-Za-z0-9._/-]*$`)

// MinTokenLength is the shortest token a file may hold.
const MinTokenLength = 16

// Tokens maps bearer tokens to principals.
type Tokens struct {
	digests [][sha256.Size]byte
	names   []string
}

// LoadTokens reads a token file. Errors name the file and line.
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth tokens: %w", err)
	}
	defer f.Close()
	t := &Tokens{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want TOKEN PRINCIPAL, got %d fields", path, n, len(fields))
		}
		if err := t.Add(fields[0], fields[1]); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("auth tokens %s: %w", path, err)
	}
	if len(t.names) == 0 {
		return nil, fmt.Errorf("auth tokens %s: no tokens", path)
	}
	return t, nil
}

// Add registers a token for a principal.
func (t *Tokens) Add(token, principal string) error {
	if len(token) < MinTokenLength {
		return fmt.Errorf("token for %s is shorter than %d characters", principal, MinTokenLength)
	}
	if !principalPattern.MatchString(principal) {
		return fmt.Errorf("principal %q: want user:[namespace/]name, group:[namespace/]name or service:name", principal)
	}
	if !strings.HasPrefix(principal, "service:") && !strings.Contains(principal, "/") {
		kind, name, _ := strings.Cut(principal, ":")
		principal = kind + ":default/" + name
	}
	d := sha256.Sum256([]byte(token))
	for _, o := range t.digests {
		if o == d {
			return errors.New("the same token is listed twice")
		}
	}
	t.digests = append(t.digests, d)
	t.names = append(t.names, principal)
	return nil
}

// Authenticate returns the principal of the request's bearer token.
func (t *Tokens) Authenticate(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", ErrUnauthenticated
	}
	d := sha256.Sum256([]byte(strings.TrimSpace(token)))
	found := -1
	for i, o := range t.digests {
		if subtle.ConstantTimeCompare(o[:], d[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", fmt.Errorf("%w: the token presented is not known", ErrUnauthenticated)
	}
	return t.names[found], nil
}
