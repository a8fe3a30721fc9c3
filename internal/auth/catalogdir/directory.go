package catalogdir

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/projections/catalogstore"
)

// DefaultTTL is how long an answer is cached when New is given no TTL.
const DefaultTTL = 30 * time.Second

// maxGroups bounds the groups one principal expands to, so a catalog with a
// runaway hierarchy cannot make every request walk it.
const maxGroups = 1000

// maxCached bounds each cache; past it, the cache starts afresh.
const maxCached = 10000

// Directory implements auth.Directory over a catalogstore.Reader. It is
// safe for concurrent use.
type Directory struct {
	reader catalogstore.Reader
	ttl    time.Duration
	now    func() time.Time

	mu     sync.Mutex
	users  map[auth.UserLookup]cached[string]
	groups map[string]cached[[]string]
}

type cached[T any] struct {
	v   T
	err error
	at  time.Time
}

// New returns the directory of r whose answers are cached for ttl (zero:
// DefaultTTL; negative: no cache).
func New(r catalogstore.Reader, ttl time.Duration) *Directory {
	if ttl == 0 {
		ttl = DefaultTTL
	}
	return &Directory{reader: r, ttl: ttl, now: time.Now,
		users: map[auth.UserLookup]cached[string]{}, groups: map[string]cached[[]string]{}}
}

var _ auth.Directory = (*Directory)(nil)

func (d *Directory) fresh(at time.Time) bool { return d.ttl > 0 && d.now().Sub(at) < d.ttl }

// FindUser returns the ref of the User the lookup matches (see
// auth.Directory). A lookup by e-mail that matches two Users is an error
// naming both; a miss is cached as well as a hit.
func (d *Directory) FindUser(ctx context.Context, by auth.UserLookup) (string, error) {
	by.Email = strings.ToLower(strings.TrimSpace(by.Email))
	d.mu.Lock()
	c, ok := d.users[by]
	d.mu.Unlock()
	if ok && d.fresh(c.at) {
		return c.v, c.err
	}
	ref, err := d.findUser(ctx, by)
	if err != nil && !isNoUser(err) {
		return "", err // the store failed: nothing to cache
	}
	d.mu.Lock()
	if len(d.users) >= maxCached {
		clear(d.users)
	}
	d.users[by] = cached[string]{v: ref, err: err, at: d.now()}
	d.mu.Unlock()
	return ref, err
}

func isNoUser(err error) bool { return errors.Is(err, auth.ErrNoUser) }

func (d *Directory) findUser(ctx context.Context, by auth.UserLookup) (string, error) {
	if by.Email != "" {
		page, err := d.reader.Query(ctx, catalogstore.PageQuery{
			Filter: catalogstore.Filter{{{Key: "kind", Values: []string{"user"}}, {Key: "spec.profile.email", Values: []string{by.Email}}}},
			Limit:  2,
		})
		if err != nil {
			return "", fmt.Errorf("catalog: finding the User with %s: %w", by, err)
		}
		switch len(page.Items) {
		case 0:
			return "", fmt.Errorf("%w %s", auth.ErrNoUser, by)
		case 1:
			return page.Items[0].Ref, nil
		}
		return "", fmt.Errorf("%w: two Users have %s (%s and %s); sign-in needs exactly one",
			auth.ErrUnauthenticated, by, page.Items[0].Ref, page.Items[1].Ref)
	}
	ref, err := catalog.ParseRef(by.Name, catalog.RefDefaults{Kind: "User"})
	if err != nil || by.Name == "" || strings.ContainsAny(by.Name, ":/") {
		return "", fmt.Errorf("%w %s: %q is not a User name", auth.ErrNoUser, by, by.Name)
	}
	views, err := d.reader.ByKeys(ctx, []string{ref.Key()})
	if err != nil {
		return "", fmt.Errorf("catalog: reading %s: %w", ref, err)
	}
	if len(views) == 0 || views[0] == nil {
		return "", fmt.Errorf("%w %s", auth.ErrNoUser, by)
	}
	return views[0].Ref, nil
}

// Groups returns principal's groups through parent groups (see
// auth.Directory). The answer is cached per principal and seeds.
func (d *Directory) Groups(ctx context.Context, principal string, seeds []string) ([]string, error) {
	key := principal + "\x00" + strings.Join(seeds, ",")
	d.mu.Lock()
	c, ok := d.groups[key]
	d.mu.Unlock()
	if ok && d.fresh(c.at) {
		return slices.Clone(c.v), nil
	}
	groups, err := d.expand(ctx, principal, seeds)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if len(d.groups) >= maxCached {
		clear(d.groups)
	}
	d.groups[key] = cached[[]string]{v: groups, at: d.now()}
	d.mu.Unlock()
	return slices.Clone(groups), nil
}

// expand walks memberOf from the principal, then childOf from each group,
// level by level, one ByKeys call a level. A group seen once is not walked
// again, which ends cycles.
func (d *Directory) expand(ctx context.Context, principal string, seeds []string) ([]string, error) {
	seen := map[string]string{} // key -> display ref
	var level []string
	add := func(ref string) {
		k := strings.ToLower(ref)
		if _, ok := seen[k]; ok || len(seen) >= maxGroups {
			return
		}
		seen[k] = ref
		level = append(level, k)
	}
	for _, s := range seeds {
		add(s)
	}
	if strings.HasPrefix(principal, "user:") {
		views, err := d.reader.ByKeys(ctx, []string{strings.ToLower(principal)})
		if err != nil {
			return nil, fmt.Errorf("catalog: reading %s: %w", principal, err)
		}
		if len(views) == 1 && views[0] != nil {
			for _, r := range views[0].Relations {
				if r.Type == catalog.RelationMemberOf {
					add(r.TargetRef)
				}
			}
		}
	}
	for len(level) > 0 {
		keys := level
		level = nil
		views, err := d.reader.ByKeys(ctx, keys)
		if err != nil {
			return nil, fmt.Errorf("catalog: reading groups: %w", err)
		}
		for i, v := range views {
			if v == nil {
				continue
			}
			seen[keys[i]] = v.Ref
			for _, r := range v.Relations {
				if r.Type == catalog.RelationChildOf {
					add(r.TargetRef)
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for _, ref := range seen {
		out = append(out, ref)
	}
	slices.Sort(out)
	return out, nil
}
