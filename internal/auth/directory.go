package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrNoUser is returned when no User entity of the catalog matches a person
// who signs in: the sign-in is refused.
var ErrNoUser = errors.New("no User entity of the catalog matches")

// UserLookup says which User entity a sign-in resolves to: by the e-mail of
// its spec.profile.email, or by its name in the default namespace. Exactly
// one field is set.
type UserLookup struct {
	// Email matches spec.profile.email, without regard to case.
	Email string
	// Name matches metadata.name of a User in the default namespace.
	Name string
}

// String names the lookup in an error: `spec.profile.email "ada@x.org"`
// or `user:default/ada`.
func (l UserLookup) String() string {
	if l.Email != "" {
		return fmt.Sprintf("spec.profile.email %q", l.Email)
	}
	return "user:default/" + strings.ToLower(l.Name)
}

// Directory is who people are and which groups they belong to, read from
// the catalog (package catalogdir implements it over the catalog read
// model, with a short cache). Its methods are safe for concurrent use.
type Directory interface {
	// FindUser returns the ref of the one User entity the lookup matches;
	// an error wrapping ErrNoUser when none does, and an error naming both
	// when two do.
	FindUser(ctx context.Context, by UserLookup) (string, error)
	// Groups returns the groups of principal's memberOf relations (when it
	// is a User of the catalog) together with seeds, and every parent group
	// of those (childOf, followed transitively; a cycle ends where it meets
	// a group already seen), each once, sorted. A group that is not in the
	// catalog is kept and has no parents.
	Groups(ctx context.Context, principal string, seeds []string) ([]string, error)
}

// Resolver is how a person who signs in resolves to a User entity, named
// as Backstage's sign-in resolvers are.
type Resolver string

// The sign-in resolvers.
const (
	// ResolverEmail matches the e-mail claim with a User's
	// spec.profile.email.
	ResolverEmail Resolver = "emailMatchingUserEntityProfileEmail"
	// ResolverUsername matches the preferred_username claim with a User's
	// name in the default namespace.
	ResolverUsername Resolver = "usernameMatchingUserEntityName"
	// ResolverEmailLocalPart matches the part of the e-mail claim before
	// the @ with a User's name in the default namespace.
	ResolverEmailLocalPart Resolver = "emailLocalPartMatchingUserEntityName"
)

// Resolvers lists the resolvers ParseResolver accepts.
var Resolvers = []Resolver{ResolverEmail, ResolverUsername, ResolverEmailLocalPart}

// ParseResolver returns the resolver named s; "" is ResolverEmail.
func ParseResolver(s string) (Resolver, error) {
	if s == "" {
		return ResolverEmail, nil
	}
	for _, r := range Resolvers {
		if string(r) == s {
			return r, nil
		}
	}
	names := make([]string, len(Resolvers))
	for i, r := range Resolvers {
		names[i] = string(r)
	}
	return "", fmt.Errorf("sign-in resolver %q: want one of %s", s, strings.Join(names, ", "))
}

// Lookup returns the User lookup of a token's claims. An e-mail the issuer
// marks as not verified (email_verified false) is refused, since anyone
// could claim it.
func (r Resolver) Lookup(claims map[string]any) (UserLookup, error) {
	str := func(k string) string { s, _ := claims[k].(string); return strings.TrimSpace(s) }
	email := str("email")
	if r != ResolverUsername {
		if email == "" {
			return UserLookup{}, fmt.Errorf("%w: the token has no email claim, which the sign-in resolver %s needs", ErrUnauthenticated, r)
		}
		if v, ok := claims["email_verified"].(bool); ok && !v {
			return UserLookup{}, fmt.Errorf("%w: the issuer has not verified the e-mail %q, which the sign-in resolver %s needs", ErrUnauthenticated, email, r)
		}
	}
	switch r {
	case ResolverEmail:
		return UserLookup{Email: email}, nil
	case ResolverEmailLocalPart:
		local, _, ok := strings.Cut(email, "@")
		if !ok || local == "" {
			return UserLookup{}, fmt.Errorf("%w: the email claim %q has no local part", ErrUnauthenticated, email)
		}
		return UserLookup{Name: local}, nil
	case ResolverUsername:
		name := str("preferred_username")
		if name == "" {
			return UserLookup{}, fmt.Errorf("%w: the token has no preferred_username claim, which the sign-in resolver %s needs", ErrUnauthenticated, r)
		}
		return UserLookup{Name: name}, nil
	}
	return UserLookup{}, fmt.Errorf("sign-in resolver %q is unknown", r)
}

// Resolve returns the ref of the User entity the claims resolve to in dir.
// No such User is an error wrapping ErrNoUser and ErrUnauthenticated that
// names the resolver and what it looked for.
func (r Resolver) Resolve(ctx context.Context, dir Directory, claims map[string]any) (string, error) {
	by, err := r.Lookup(claims)
	if err != nil {
		return "", err
	}
	ref, err := dir.FindUser(ctx, by)
	if errors.Is(err, ErrNoUser) {
		return "", &NoUserError{Resolver: r, Lookup: by}
	}
	return ref, err
}

// NoUserError refuses a sign-in that resolves to no User entity.
type NoUserError struct {
	// Resolver is the sign-in resolver; Lookup what it looked for.
	Resolver Resolver
	Lookup   UserLookup
}

// Error says who is refused and why.
func (e *NoUserError) Error() string {
	return fmt.Sprintf("sign-in refused: no User entity of the catalog has %s (sign-in resolver %s); ask the catalog's owners to add one", e.Lookup, e.Resolver)
}

// Is makes a NoUserError match ErrNoUser and ErrUnauthenticated.
func (e *NoUserError) Is(target error) bool {
	return target == ErrNoUser || target == ErrUnauthenticated
}
