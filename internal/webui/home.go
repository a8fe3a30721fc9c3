package webui

import (
	"context"
	"slices"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/workflows/migration"
	"backlot.dev/backlot/workflows/scaffolder"
)

func init() {
	Register(Page{Pattern: "GET /{$}", Section: "home", Template: "home.html",
		Permission: permission.CatalogEntityRead, Load: loadHome})
}

// homeOwned is how many of the person's entities Home lists (and reads
// the badges and the latest change of).
const homeOwned = 20

// homeData is what home.html shows.
type homeData struct {
	Principal  string
	Groups     []string
	Owned      []Summary
	OwnedTotal int
	OwnedLag   Lag
	OwnedMore  string
	Tasks      []scaffolder.TaskSummary
	TasksOff   bool
	Migrations []migration.Report
	MigrOff    bool
	Failing    []failingEntity
	Changes    []ownedChange
	Refs       string
}

// failingEntity is an owned entity with the checks it fails, by policy.
type failingEntity struct {
	Ref    string
	Policy string
	Level  string
	Checks []event.CheckOutcome
}

// ownedChange is the latest version of an owned entity.
type ownedChange struct {
	Ref     string
	Version int
	Time    time.Time
	Actor   string
	Removed bool
}

// loadHome answers Home: what the signed-in person owns through their
// groups, their running tasks and the running migrations, the checks their
// entities fail and the latest changes to them.
func loadHome(s *Server, r *Request) (any, string, error) {
	ctx := r.Context()
	d := &homeData{Principal: r.Principal.Ref, Groups: r.Principal.Groups}
	owners := append([]string{r.Principal.Ref}, r.Principal.Groups...)
	for i := range owners {
		owners[i] = strings.ToLower(owners[i])
	}
	page, lag, err := queryNoted(ctx, s.cfg.Catalog, catalogstore.PageQuery{
		Filter:     catalogstore.Filter{{{Key: "relations.ownedby", Values: owners}}},
		Order:      []catalogstore.Order{{Field: "metadata.name"}},
		Limit:      homeOwned,
		CountTotal: true,
	})
	if err != nil {
		return nil, "", err
	}
	d.OwnedTotal, d.OwnedLag = page.TotalItems, lag
	if page.HasNext {
		st := State{path: "/catalog", q: map[string][]string{"owner": owners}}
		d.OwnedMore = st.url(st.q)
	}
	keys := make([]string, 0, len(page.Items))
	for i := range page.Items {
		d.Owned = append(d.Owned, Summarize(&page.Items[i]))
		keys = append(keys, page.Items[i].Key)
	}
	if err := s.homeBadges(ctx, keys, d); err != nil {
		return nil, "", err
	}
	if err := s.homeChanges(ctx, keys, d); err != nil {
		return nil, "", err
	}
	if s.cfg.Tasks == nil {
		d.TasksOff = true
	} else if tasks, err := s.cfg.Tasks.List(ctx, 50, r.Principal.Ref, ""); err == nil {
		for _, t := range tasks {
			if t.Status == scaffolder.StatusOpen || t.Status == scaffolder.StatusProcessing {
				d.Tasks = append(d.Tasks, t)
			}
		}
	} else {
		return nil, "", err
	}
	if s.cfg.Migrations == nil {
		d.MigrOff = true
	} else if ms, err := s.cfg.Migrations.List(ctx); err == nil {
		for _, m := range ms {
			if !m.Finished() {
				d.Migrations = append(d.Migrations, m)
			}
		}
	} else {
		return nil, "", err
	}
	return d, "Hello, " + refName(r.Principal.Ref), nil
}

// homeBadges lists the failing checks of the owned entities.
func (s *Server) homeBadges(ctx context.Context, keys []string, d *homeData) error {
	if s.cfg.Badges == nil {
		return nil
	}
	for i, k := range keys {
		bs, err := s.cfg.Badges.Badges(ctx, k)
		if err != nil {
			return err
		}
		for _, b := range bs {
			if f := b.Failing(); len(f) > 0 {
				d.Failing = append(d.Failing, failingEntity{Ref: d.Owned[i].Ref, Policy: b.Policy, Level: b.Level, Checks: f})
			}
		}
	}
	return nil
}

// homeChanges lists the latest version of each owned entity, newest first.
func (s *Server) homeChanges(ctx context.Context, keys []string, d *homeData) error {
	if s.cfg.History == nil {
		return nil
	}
	for i, k := range keys {
		vs, err := s.cfg.History.Versions(ctx, k, 0, 0)
		if err != nil {
			return err
		}
		if len(vs) == 0 {
			continue
		}
		v := vs[len(vs)-1]
		d.Changes = append(d.Changes, ownedChange{Ref: d.Owned[i].Ref, Version: v.Number, Time: v.ValidFrom.Time, Actor: v.Actor, Removed: v.Removed})
	}
	slices.SortFunc(d.Changes, func(a, b ownedChange) int { return b.Time.Compare(a.Time) })
	if len(d.Changes) > 10 {
		d.Changes = d.Changes[:10]
	}
	return nil
}
