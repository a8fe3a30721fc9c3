package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
)

// ErrUnauthenticated is returned when a request carries no valid token.
var ErrUnauthenticated = errors.New("a valid bearer token is required")

// principalPattern is a user, group or service principal.
var principalPattern = regexp.MustCompile(`^(user|group):([a-z0-9][a-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$|^service:[A-Za-z0-9][A-Za-z0-9._/-]*$`)

// groupPattern is a group a token's principal belongs to.
var groupPattern = regexp.MustCompile(`^(group:)?([a-z0-9][a-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$`)

// MinTokenLength is the shortest token a file may hold.
const MinTokenLength = 16

// HashPrefix starts the hashed form of a token in a token file.
const HashPrefix = "sha256:"

// Principal is who makes a request: an entity ref or service name, and the
// groups it belongs to (group entity refs, group:namespace/name).
type Principal struct {
	// Ref is user:namespace/name, group:namespace/name or service:name.
	Ref string
	// Groups are the groups of the principal, as full group refs: for a
	// person or a token naming a User, the groups of its memberOf relations
	// and their parent groups (see Directory).
	Groups []string
	// Claims are the claims of the credential: an OIDC token's claims, or
	// nil for a static token.
	Claims map[string]any
	// Method says how the principal authenticated: MethodToken,
	// MethodJWT or MethodSession.
	Method string
}

// The ways a Principal authenticates (Principal.Method).
const (
	// MethodToken is a static bearer token of the token file.
	MethodToken = "token"
	// MethodJWT is a bearer JWT issued by the OIDC issuer.
	MethodJWT = "jwt"
	// MethodSession is the browser session cookie of an OIDC sign-in.
	MethodSession = "session"
)

// Tokens maps bearer tokens to principals.
type Tokens struct {
	digests    [][sha256.Size]byte
	principals []Principal
	// clear counts the lines that held a token in clear.
	clear int
}

// LoadTokens reads a token file. Errors name the file and line. ClearTokens
// counts the lines that hold a token in clear, which the caller should warn
// about (see ClearWarning).
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
		if len(fields) != 2 && len(fields) != 3 {
			return nil, fmt.Errorf("%s:%d: want TOKEN PRINCIPAL or sha256:HEX PRINCIPAL [GROUP,GROUP], got %d fields", path, n, len(fields))
		}
		var groups []string
		if len(fields) == 3 {
			groups = strings.Split(fields[2], ",")
		}
		if strings.HasPrefix(fields[0], HashPrefix) {
			err = t.AddHashed(fields[0], fields[1], groups...)
		} else {
			t.clear++
			err = t.Add(fields[0], fields[1], groups...)
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("auth tokens %s: %w", path, err)
	}
	if len(t.principals) == 0 {
		return nil, fmt.Errorf("auth tokens %s: no tokens", path)
	}
	return t, nil
}

// ClearWarning is the warning to log when a token file holds tokens in clear.
const ClearWarning = "the token file holds tokens in clear; replace each such line by the output of `backlot auth hash-token PRINCIPAL [--group GROUP]` (sha256:HEX PRINCIPAL [GROUP,GROUP])"

// ClearTokens reports how many tokens of the file were written in clear.
func (t *Tokens) ClearTokens() int { return t.clear }

// Add registers a token, given in clear, for a principal and its groups.
func (t *Tokens) Add(token, principal string, groups ...string) error {
	if len(token) < MinTokenLength {
		return fmt.Errorf("token for %s is shorter than %d characters", principal, MinTokenLength)
	}
	return t.add(sha256.Sum256([]byte(token)), principal, groups)
}

// AddHashed registers a token by its hashed form, sha256:HEX (the SHA-256
// digest of the token in hexadecimal), for a principal and its groups.
func (t *Tokens) AddHashed(hashed, principal string, groups ...string) error {
	raw, err := hex.DecodeString(strings.TrimPrefix(hashed, HashPrefix))
	if err != nil || len(raw) != sha256.Size {
		return fmt.Errorf("token hash for %s: want sha256: and 64 hexadecimal digits", principal)
	}
	var d [sha256.Size]byte
	copy(d[:], raw)
	return t.add(d, principal, groups)
}

func (t *Tokens) add(d [sha256.Size]byte, principal string, groups []string) error {
	ref, err := normalize(principal)
	if err != nil {
		return err
	}
	p := Principal{Ref: ref}
	for _, g := range groups {
		if !groupPattern.MatchString(g) {
			return fmt.Errorf("group %q of %s: want [group:][namespace/]name", g, ref)
		}
		if !strings.HasPrefix(g, "group:") {
			g = "group:" + g
		}
		gr, err := normalize(g)
		if err != nil {
			return err
		}
		p.Groups = append(p.Groups, gr)
	}
	for _, o := range t.digests {
		if o == d {
			return errors.New("the same token is listed twice")
		}
	}
	t.digests = append(t.digests, d)
	t.principals = append(t.principals, p)
	return nil
}

// normalize checks a principal and gives a user or group its default
// namespace.
func normalize(principal string) (string, error) {
	if !principalPattern.MatchString(principal) {
		return "", fmt.Errorf("principal %q: want user:[namespace/]name, group:[namespace/]name or service:name", principal)
	}
	if !strings.HasPrefix(principal, "service:") && !strings.Contains(principal, "/") {
		kind, name, _ := strings.Cut(principal, ":")
		principal = kind + ":default/" + name
	}
	return principal, nil
}

// Identify returns the principal, with its groups, of the request's bearer
// token. Every known digest is compared in constant time.
func (t *Tokens) Identify(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return Principal{}, ErrUnauthenticated
	}
	d := sha256.Sum256([]byte(strings.TrimSpace(token)))
	found := -1
	for i, o := range t.digests {
		if subtle.ConstantTimeCompare(o[:], d[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, fmt.Errorf("%w: the token presented is not known", ErrUnauthenticated)
	}
	p := t.principals[found]
	p.Groups = append([]string(nil), p.Groups...)
	p.Method = MethodToken
	return p, nil
}

// Authenticate returns the principal ref of the request's bearer token.
func (t *Tokens) Authenticate(r *http.Request) (string, error) {
	p, err := t.Identify(r)
	return p.Ref, err
}

// HashLine returns the token file line of a token given in clear: its hashed
// form, the principal and, when any, the groups joined by commas.
func HashLine(token, principal string, groups ...string) (string, error) {
	if len(token) < MinTokenLength {
		return "", fmt.Errorf("the token is shorter than %d characters", MinTokenLength)
	}
	var t Tokens
	if err := t.Add(token, principal, groups...); err != nil {
		return "", err
	}
	p := t.principals[0]
	line := HashPrefix + hex.EncodeToString(t.digests[0][:]) + " " + p.Ref
	if len(p.Groups) > 0 {
		line += " " + strings.Join(p.Groups, ",")
	}
	return line, nil
}

// NewToken returns a random token of 32 bytes from crypto/rand, in URL-safe
// base64 without padding.
func NewToken(random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
