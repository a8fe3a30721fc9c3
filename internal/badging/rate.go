package badging

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
)

// rater is one evaluation: the events it makes and what it has looked up.
type rater struct {
	e         *Evaluator
	ctx       context.Context
	now       time.Time
	upserted  map[string]bool
	recollect map[string]bool
	commits   map[string]string
	full      bool
	events    []event.Envelope
	// appended are the positions of the events appended so far, still to
	// wait for.
	appended    event.Positions
	evaluations int
	// rating is the time spent rating: in rate, or for a full evaluation the
	// time from its start until every page is rated (reading included, as
	// far as it was not done while another page was rated); its events are
	// made and appended after.
	rating     time.Duration
	deprecated map[string]bool // entity key -> its lifecycle is deprecated
	// deprecatedKnown says that deprecated holds every deprecated entity of
	// the catalog (a full evaluation reads them first): a key it lacks is not.
	deprecatedKnown bool
	// held, while a full evaluation rates its pages, holds their drafts
	// (rateAll).
	held *held
}

// related returns the keys the changed entities have relations to, which
// may rate differently now.
func (r *rater) related(keys []string) ([]string, error) {
	var out []string
	const chunk = 1000
	for i := 0; i < len(keys); i += chunk {
		views, err := r.e.cfg.Catalog.ByKeys(r.ctx, keys[i:min(i+chunk, len(keys))])
		if err != nil {
			return nil, err
		}
		for j, v := range views {
			if v != nil {
				for _, rel := range v.Relations {
					out = append(out, badges.Key(rel.TargetRef))
				}
				continue
			}
			// A removed entity has no relations left; the entities that
			// depend on it still name it.
			deps, err := r.dependents(keys[i+j])
			if err != nil {
				return nil, err
			}
			out = append(out, deps...)
		}
	}
	return out, nil
}

// dependents returns the keys of the entities whose dependency relations
// name key.
func (r *rater) dependents(key string) ([]string, error) {
	var f catalogstore.Filter
	for t := range dependencyRelations {
		f = append(f, []catalogstore.Condition{{Key: "relations." + t, Values: []string{key}}})
	}
	page, err := r.e.cfg.Catalog.Query(r.ctx, catalogstore.PageQuery{Filter: f})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(page.Items))
	for i, v := range page.Items {
		out[i] = v.Key
	}
	return out, nil
}

// page is a page of the catalog with what rating it reads from the badge
// read model: each entity's current verdicts and stored facts. prep, when
// set, holds what the reader learned of each entity (prep[i] is keys[i]'s).
type page struct {
	keys    []string
	views   []*catalogstore.EntityView
	current map[string][]badges.Verdict
	stored  map[string][]badges.FactSet
	prep    []prepared
}

// prepared is an entity's body decoded and which policies select it, learned
// while its page is read: only the entities some policy selects are read with
// their relations.
type prepared struct {
	body     map[string]any
	selected []bool
	err      error
}

// any reports whether some policy selects the entity (or its body did not
// decode, which rating reports).
func (p *prepared) any() bool { return p.err != nil || slices.Contains(p.selected, true) }

// prepare decodes a stored body and runs each policy's selector on it. It only
// reads the rater, so pages are prepared while others are rated.
func (r *rater) prepare(v *catalogstore.EntityView) prepared {
	body, err := catalog.DecodeJSONObject(v.Body)
	if err != nil {
		return prepared{err: fmt.Errorf("badging: entity %s: stored body: %w", v.Ref, err)}
	}
	return prepared{body: body, selected: r.selects(body)}
}

// selects runs each policy's selector (which reads the entity alone) once.
func (r *rater) selects(body map[string]any) []bool {
	in := policies.Input{Entity: body, Now: r.now}
	selected := make([]bool, len(r.e.policies))
	for i, c := range r.e.policies {
		selected[i] = c.Selects(in)
	}
	return selected
}

// rateAll rates every entity of the catalog, page by page: a reader reads
// the next page (entities, verdicts and facts, in the order the entities
// were created) while the current one is rated on every core. A full
// evaluation rates each entity once, so no page reads what the events of
// the pages before change: the pages' drafts are held (held, compact) until
// the last page is rated, and only then made into events, in the order of
// the entities' keys, and appended while the badge read model's fold, which
// gave way to the rating, folds them. Appending while rating took a third
// of the rating's CPU. It returns once every event but the last chunk's
// (left in r.events) is appended.
func (r *rater) rateAll() error {
	start := time.Now()
	endRating := func() {}
	if len(r.e.policies) > 0 {
		// As startFull: only a rating by some policy is marked.
		endRating = r.e.startRating()
	}
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	pages := make(chan page, 1)
	var readErr error
	go func() {
		defer close(pages)
		readErr = r.readPages(ctx, pages)
	}()
	r.held = newHeld(r.now)
	rateErr := func() error {
		if r.reads(SourceCatalog, nil) {
			if err := r.readDeprecated(ctx); err != nil {
				return err
			}
		}
		for p := range pages {
			if err := r.ratePage(p); err != nil {
				return err
			}
		}
		return nil
	}()
	r.rating += time.Since(start)
	// The last page is rated: the folds that gave way to the rating go on
	// while the events are made and appended.
	endRating()
	if rateErr != nil {
		cancel()
	}
	for range pages {
		// Let the reader end.
	}
	h := r.held
	r.held = nil
	// The first cause wins over the cancellations it caused.
	for _, err := range []error{readErr, rateErr} {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	if err := errors.Join(readErr, rateErr); err != nil {
		return err
	}
	return r.appendHeld(ctx, h)
}

// appendHeld makes the events of the held drafts, page by page, and appends
// them a chunk (appendChunk) at a time, the next chunk made while one is
// appended; the last chunk is left in r.events.
func (r *rater) appendHeld(ctx context.Context, h *held) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []event.Envelope, 1)
	var appendErr error
	appended := event.Positions{}
	appenderDone := make(chan struct{})
	go func() {
		defer close(appenderDone)
		for evs := range batches {
			if appendErr != nil {
				continue // drain: the making stops at its next chunk
			}
			pos, err := r.e.appendEvents(ctx, evs)
			if err != nil {
				appendErr = err
				cancel()
				continue
			}
			appended.Merge(pos)
		}
	}()
	makeErr := func() error {
		// The pages were read in the order the entities were created
		// (readPages); the events go in the order of their keys, which the
		// badge store's tables are keyed by: its fold then appends to them
		// in order instead of inserting all over their trees (in creation
		// order it cost about twice the CPU an event).
		h.sortByKey()
		for _, ref := range h.index {
			rd := h.at(ref)
			key, ds, ok := rd.next()
			if !ok {
				if rd.err != nil {
					return rd.err
				}
				return fmt.Errorf("badging: held drafts: no record at %d:%d", ref.page, ref.off)
			}
			evs, err := r.emit(key, ds)
			if err != nil {
				return err
			}
			r.events = append(r.events, evs...)
			if len(r.events) >= appendChunk {
				select {
				case batches <- r.events:
				case <-ctx.Done():
					return ctx.Err()
				}
				r.events = make([]event.Envelope, 0, appendChunk+8)
			}
		}
		return nil
	}()
	close(batches)
	<-appenderDone
	if r.appended == nil {
		r.appended = event.Positions{}
	}
	r.appended.Merge(appended)
	// The first cause wins over the cancellations it caused.
	for _, err := range []error{appendErr, makeErr} {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(appendErr, makeErr)
}

// readDeprecated reads every deprecated entity of the catalog, for the
// catalog facts of a full evaluation: the entities it rates depend on most of
// the catalog, so one query for the deprecated ones reads less than looking
// up each page's dependencies. The filter on spec.lifecycle finds at least
// every entity lifecycle calls deprecated (search values are lower case);
// each is checked with lifecycle itself. Their bodies are all it reads: no
// relations (a third of a catalog can be deprecated).
func (r *rater) readDeprecated(ctx context.Context) error {
	r.deprecated = map[string]bool{}
	q := catalogstore.PageQuery{Filter: catalogstore.Filter{{{Key: "spec.lifecycle", Values: []string{"deprecated"}}}}, Limit: r.e.cfg.PageSize,
		Decorate: func(*catalogstore.EntityView) bool { return false }}
	for {
		res, err := r.e.cfg.Catalog.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("badging: read the deprecated entities: %w", err)
		}
		for i := range res.Items {
			if lifecycle(res.Items[i].Body) == "deprecated" {
				r.deprecated[res.Items[i].Key] = true
			}
		}
		if !res.HasNext || res.Last == nil {
			r.deprecatedKnown = true
			return nil
		}
		q.After = res.Last
	}
}

// readPages reads the catalog a page at a time, with each page's verdicts and
// facts, and sends the pages in the order the entities were created. Each
// entity's body is decoded and selected as it is read, and only the entities
// a policy selects are read with their relations (an entity's incoming
// relations are most of what a page costs to read): the others are rated
// only to revoke what verdicts they still have, and those few are read again
// whole.
func (r *rater) readPages(ctx context.Context, out chan<- page) error {
	// A store that reads a page again (a retry) asks again: the last answer
	// about each entity holds.
	var prep map[string]prepared
	// The pages come in the order the entities were created (no Order),
	// the cheapest to read: the relations a page's entities declare are one
	// range of the relations table (29-30 against 45-47 cpu-us a component
	// in key order, BenchmarkReadPagesOfTheBenchCatalog). The events are
	// appended in the order of the entities' keys all the same: rateAll
	// holds them until every page is rated, and sorts them.
	q := catalogstore.PageQuery{Limit: r.e.cfg.PageSize, Decorate: func(v *catalogstore.EntityView) bool {
		pr := r.prepare(v)
		prep[v.Key] = pr
		return pr.any()
	}}
	for {
		prep = make(map[string]prepared, r.e.cfg.PageSize)
		res, err := r.e.cfg.Catalog.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("badging: read the catalog: %w", err)
		}
		p := page{keys: make([]string, len(res.Items)), views: make([]*catalogstore.EntityView, len(res.Items)), prep: make([]prepared, len(res.Items))}
		for i := range res.Items {
			p.keys[i], p.views[i] = res.Items[i].Key, &res.Items[i]
			pr, ok := prep[p.keys[i]]
			if !ok {
				return fmt.Errorf("badging: read the catalog: entity %s of a page was not asked about", p.keys[i])
			}
			p.prep[i] = pr
		}
		if err := r.load(ctx, &p); err != nil {
			return err
		}
		if err := r.readWhole(ctx, &p); err != nil {
			return err
		}
		select {
		case out <- p:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !res.HasNext || res.Last == nil {
			return nil
		}
		q.After = res.Last
	}
}

// load reads the current verdicts and the stored facts of the page's entities.
func (r *rater) load(ctx context.Context, p *page) error {
	var err error
	if p.current, err = r.e.cfg.Store.VerdictsOf(ctx, p.keys); err != nil {
		return fmt.Errorf("badging: read verdicts: %w", err)
	}
	// Facts are read for the entities a policy may rate: with a prepared
	// page, those some policy selects or that have verdicts (which are read
	// again whole, and may be selected by then).
	keys := p.keys
	if p.prep != nil {
		keys = make([]string, 0, len(p.keys))
		for i, k := range p.keys {
			if p.prep[i].any() || len(p.current[k]) > 0 {
				keys = append(keys, k)
			}
		}
	}
	if p.stored, err = r.e.cfg.Store.FactsOf(ctx, keys); err != nil {
		return fmt.Errorf("badging: read facts: %w", err)
	}
	return nil
}

// readWhole reads again, with their relations, the entities of a page that no
// policy selects but that still have verdicts, which rating revokes.
func (r *rater) readWhole(ctx context.Context, p *page) error {
	var idx []int
	var keys []string
	for i, k := range p.keys {
		if !p.prep[i].any() && len(p.current[k]) > 0 {
			idx, keys = append(idx, i), append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	views, err := r.e.cfg.Catalog.ByKeys(ctx, keys)
	if err != nil {
		return fmt.Errorf("badging: read the catalog: %w", err)
	}
	for j, i := range idx {
		// The entity may have changed since its page was read: it is rated as
		// read now, its body decoded again.
		p.views[i], p.prep[i] = views[j], prepared{}
		if views[j] != nil {
			p.prep[i] = r.prepare(views[j])
		}
	}
	return nil
}

// rate rates the entities of keys (views[i] is keys[i]'s, nil when it is
// gone), on every core; the events come out in the order of keys.
func (r *rater) rate(keys []string, views []*catalogstore.EntityView) error {
	start := time.Now()
	defer func() { r.rating += time.Since(start) }()
	p := page{keys: keys, views: views}
	if err := r.load(r.ctx, &p); err != nil {
		return err
	}
	return r.ratePage(p)
}

// ratePage rates a page whose verdicts and facts are loaded, on every core;
// the events come out in the order of its keys. It compares each result with
// the current verdict's digest; only the verdicts whose digest differs are
// read in full (Reader.BadgesOf), for the checks that changed and the rank
// before, in one query for the page.
func (r *rater) ratePage(p page) error {
	keys, views := p.keys, p.views
	if r.reads(SourceCatalog, nil) {
		if err := r.lookUpDependencies(views); err != nil {
			return err
		}
	}
	drafts := make([][]draft, len(keys))
	counts := make([]int, len(keys))
	if err := parallel(len(keys), func(i int) (err error) {
		var prep *prepared
		if p.prep != nil {
			prep = &p.prep[i]
		}
		drafts[i], counts[i], err = r.rateOne(keys[i], views[i], p.current[keys[i]], p.stored[keys[i]], prep)
		return err
	}); err != nil {
		return err
	}
	var differ []string
	for i, ds := range drafts {
		if slices.ContainsFunc(ds, func(d draft) bool { return d.cur != nil }) {
			differ = append(differ, keys[i])
		}
	}
	var before map[string][]badges.Badge
	if len(differ) > 0 {
		var err error
		if before, err = r.e.cfg.Store.BadgesOf(r.ctx, differ); err != nil {
			return fmt.Errorf("badging: read verdicts: %w", err)
		}
	}
	for i := range keys {
		if err := resolve(keys[i], drafts[i], before[keys[i]]); err != nil {
			return err
		}
		r.evaluations += counts[i]
	}
	if r.held != nil {
		// A full evaluation makes its events once every page is rated.
		r.held.startPage()
		for i := range keys {
			if len(drafts[i]) > 0 {
				r.held.add(keys[i], drafts[i])
			}
		}
		return nil
	}
	outs := make([][]event.Envelope, len(keys))
	if err := parallel(len(keys), func(i int) (err error) {
		outs[i], err = r.emit(keys[i], drafts[i])
		return err
	}); err != nil {
		return err
	}
	for i := range keys {
		r.events = append(r.events, outs[i]...)
	}
	return nil
}

// parallel calls fn(i) for i in [0, n) on every core and returns the error of
// the lowest i that failed.
func parallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	workers := min(runtime.GOMAXPROCS(0), max(n/64, 1))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				errs[i] = fn(i)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// lookUpDependencies learns which targets of the views' dependency relations
// are deprecated.
func (r *rater) lookUpDependencies(views []*catalogstore.EntityView) error {
	if r.deprecatedKnown {
		return nil
	}
	if r.deprecated == nil {
		r.deprecated = map[string]bool{}
	}
	var want []string
	for _, v := range views {
		if v == nil {
			continue
		}
		for _, rel := range v.Relations {
			if dependencyRelations[rel.Type] {
				if k := badges.Key(rel.TargetRef); !hasKey(r.deprecated, k) {
					want = append(want, k)
				}
			}
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	// A target rated in this page is read already: the entities are read once.
	inPage := make(map[string]*catalogstore.EntityView, len(views))
	for _, v := range views {
		if v != nil {
			inPage[v.Key] = v
		}
	}
	want = slices.DeleteFunc(want, func(k string) bool {
		v, ok := inPage[k]
		if ok {
			r.deprecated[k] = lifecycle(v.Body) == "deprecated"
		}
		return ok
	})
	for i := 0; i < len(want); i += 1000 {
		part := want[i:min(i+1000, len(want))]
		deps, err := r.e.cfg.Catalog.ByKeys(r.ctx, part)
		if err != nil {
			return err
		}
		for j, d := range deps {
			r.deprecated[part[j]] = d != nil && lifecycle(d.Body) == "deprecated"
		}
	}
	return nil
}

// reads reports whether a policy reads the facts of source: one of those
// selected (selected[i] is the i-th policy's), or any when selected is nil.
// The built-in collectors collect only what some policy reads.
func (r *rater) reads(source string, selected []bool) bool {
	for i, c := range r.e.policies {
		if (selected == nil || selected[i]) && c.ReadsFacts(source) {
			return true
		}
	}
	return false
}

func hasKey(m map[string]bool, k string) bool { _, ok := m[k]; return ok }

// draft is one event rateOne makes: ready (ev), or the data of a badge event
// of type t, or, when cur is set, a change of the verdict cur whose type and
// changed checks emit decides once the verdict before is read in full.
type draft struct {
	ev  *event.Envelope
	d   *event.BadgeChanged
	t   event.Type
	cur *badges.Verdict
	// f, when set, is the data of a facts event the built-in collectors
	// report (CollectorActor).
	f *event.FactsReported
}

// rateOne rates one entity with every policy and returns the drafts of the
// events of the changes and the number of policies it evaluated; prep, when
// set, is the entity's body decoded and selected already. It only reads the
// rater, so entities are rated side by side.
func (r *rater) rateOne(key string, v *catalogstore.EntityView, current []badges.Verdict, stored []badges.FactSet, prep *prepared) ([]draft, int, error) {
	var out []draft
	revoke := func(v badges.Verdict, hash, owner string) {
		out = append(out, draft{d: &event.BadgeChanged{Entity: key, EntityHash: hash, Owner: owner, Policy: v.Policy, PreviousLevel: v.Level,
			Checks: []event.CheckOutcome{}, Changed: []string{}}, t: event.TypeBadgeRevoked})
	}
	if v == nil {
		// The entity is gone: every verdict on it goes.
		for _, b := range current {
			revoke(b, "", "")
		}
		return out, 0, nil
	}
	if prep == nil {
		p := r.prepare(v)
		prep = &p
	}
	if prep.err != nil {
		return nil, 0, prep.err
	}
	body, selected := prep.body, prep.selected
	in := policies.Input{Entity: body, Now: r.now}
	// Each selector runs once; the built-in facts are collected for the
	// entities some policy rates.
	if !slices.Contains(selected, true) {
		if len(current) == 0 {
			// No policy rates the entity, now or before: nothing changes.
			return nil, len(r.e.policies), nil
		}
	} else {
		facts, evs, err := r.facts(key, v, body, stored, r.reads(SourceCatalog, selected), r.reads(SourceRepo, selected))
		if err != nil {
			return nil, 0, err
		}
		in.Facts = facts
		out = append(out, evs...)
	}
	in.Relations = make([]policies.Relation, len(v.Relations))
	owner := ""
	for i, rel := range v.Relations {
		in.Relations[i] = policies.Relation{Type: rel.Type, TargetRef: rel.TargetRef}
		if rel.Type == catalog.RelationOwnedBy && owner == "" {
			owner = rel.TargetRef
		}
	}
	hash := catalog.HashJSON(v.Body)
	seen := make(map[string]bool, len(r.e.policies))
	n := 0
	for i, c := range r.e.policies {
		id := c.Policy().Metadata.Name
		seen[id] = true
		res := policies.Result{Policy: id}
		if selected[i] {
			res = c.Rate(in)
		}
		n++
		var cur *badges.Verdict
		for i := range current {
			if current[i].Policy == id {
				cur = &current[i]
			}
		}
		if d, ok := compare(key, owner, hash, res, cur); ok {
			out = append(out, d)
		}
	}
	for _, b := range current {
		if !seen[b.Policy] {
			// The policy is gone (or no longer valid): its verdict goes.
			revoke(b, hash, owner)
		}
	}
	return out, n, nil
}

// resolve decides the type and changed checks of the drafts that change a
// verdict (cur set), in place; before are the entity's verdicts in full.
func resolve(key string, drafts []draft, before []badges.Badge) error {
	for j := range drafts {
		dr := &drafts[j]
		if dr.cur == nil {
			continue
		}
		i := slices.IndexFunc(before, func(b badges.Badge) bool { return b.Policy == dr.cur.Policy })
		if i < 0 {
			return fmt.Errorf("badging: stored verdict of %s under %s: not found", key, dr.cur.Policy)
		}
		dr.t, dr.cur = changeOf(dr.d, &before[i]), nil
	}
	return nil
}

// emit turns an entity's drafts, resolved, into events, in order.
func (r *rater) emit(key string, drafts []draft) ([]event.Envelope, error) {
	out := make([]event.Envelope, 0, len(drafts))
	for _, dr := range drafts {
		switch {
		case dr.ev != nil:
			out = append(out, *dr.ev)
		case dr.f != nil:
			data, err := marshalFactsReported(dr.f)
			if err != nil {
				return nil, err
			}
			out = append(out, newEvent(event.TypeFactsReported, key, data, event.Meta{Actor: CollectorActor, Time: r.now}))
		default:
			// The data is json.Marshal's, without its reflection; the id is
			// time-ordered (event.NewID).
			out = append(out, newEvent(dr.t, key, marshalBadgeChanged(dr.d), event.Meta{Actor: EvaluatorActor, Time: r.now}))
		}
	}
	return out, nil
}

// compare returns the draft of the event a result makes against the current
// verdict, and false when nothing changed (equal digests).
func compare(key, owner, hash string, res policies.Result, cur *badges.Verdict) (draft, bool) {
	if !res.Applies {
		if cur == nil {
			return draft{}, false
		}
		return draft{d: &event.BadgeChanged{Entity: key, EntityHash: hash, Owner: owner, Policy: res.Policy, PreviousLevel: cur.Level,
			Checks: []event.CheckOutcome{}, Changed: []string{}}, t: event.TypeBadgeRevoked}, true
	}
	// The result is not used again: its checks are the event's.
	checks := res.Checks
	if checks == nil {
		checks = []event.CheckOutcome{}
	}
	d := &event.BadgeChanged{Entity: key, EntityHash: hash, Owner: owner, Policy: res.Policy, Applies: true, Level: res.Level, LevelRank: res.Rank,
		Checks: checks, Changed: []string{}, Campaigns: res.Campaigns}
	if cur != nil {
		if cur.Digest == badges.DigestOf(d) {
			return draft{}, false
		}
		return draft{d: d, cur: cur}, true
	}
	return draft{d: d, t: changeOf(d, nil)}, true
}

// changeOf fills in what d changed against the verdict before (nil for none):
// the previous level and the checks whose outcome changed; it returns the
// event's type.
func changeOf(d *event.BadgeChanged, before *badges.Badge) event.Type {
	prevRank := 0
	if before == nil {
		// A first verdict: every check changed.
		d.Changed = make([]string, len(d.Checks))
		for i, c := range d.Checks {
			d.Changed[i] = c.ID
		}
	} else {
		d.PreviousLevel, prevRank = before.Level, before.Rank
		prev := make(map[string]event.CheckOutcome, len(before.Checks))
		for _, c := range before.Checks {
			prev[c.ID] = c
		}
		for _, c := range d.Checks {
			if b, ok := prev[c.ID]; !ok || b != c {
				d.Changed = append(d.Changed, c.ID)
			}
		}
	}
	switch {
	case before == nil && d.LevelRank > 0, before != nil && d.LevelRank > prevRank:
		return event.TypeBadgeAwarded
	case before != nil && d.LevelRank < prevRank:
		return event.TypeBadgeRevoked
	}
	return event.TypeCheckChanged
}
