package webui

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/audit"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/projections/history"
)

func init() {
	Register(Page{Pattern: "GET /catalog/{namespace}/{kind}/{name}", Section: "entity", Template: "entity.html",
		Permission: permission.CatalogEntityRead, Load: loadEntity})
}

// maxHistory bounds the versions the entity page reads of an entity's
// history (the newest are shown first).
const maxHistory = 500

// entityStreamTypes are the events that change what the entity page shows.
var entityStreamTypes = []event.Type{
	event.TypeEntityUpserted, event.TypeEntityRemoved, event.TypeProcessingErrorRecorded,
	event.TypeProcessingErrorCleared, event.TypeFactsReported, event.TypeBadgeAwarded,
	event.TypeBadgeRevoked, event.TypeCheckChanged,
}

// entityData is what entity.html shows.
type entityData struct {
	Summary
	Key, UID    string
	Links       []entityLink
	Source      string
	SourceURL   string
	Annotations [][2]string
	AsOf        string
	// Gone is set when the entity does not exist (now or then) but its
	// history holds it: the page shows its history and when it was last seen.
	Gone     bool
	LastSeen string
	Graph    template.HTML
	Rels     []catalogstore.Relation
	// RelCount is how many relations the entity has; RelMore what the list
	// leaves out of each type past maxListedRelations.
	RelCount int
	RelMore  []relationsMore
	API      *apiDoc
	Badges   []badges.Badge
	Facts    []factView
	History  []versionView
	Errors   []catalogstore.StatusItem
	Types    string
	State    State
	Body     string
}

// entityLink is one of metadata.links.
type entityLink struct{ URL, Title string }

// factView is what one source reported.
type factView struct {
	Source     string
	ObservedAt time.Time
	Facts      [][2]string
}

// versionView is one version in the history timeline.
type versionView struct {
	Number  int
	Time    time.Time
	Actor   string
	Commit  *event.Commit
	Removed bool
	Type    string
	Changes []changeView
}

// changeView is one field-level change of a version.
type changeView struct{ Path, Op, Before, After string }

// loadEntity answers an entity's page, now or as of an instant.
func loadEntity(s *Server, r *Request) (any, string, error) {
	ctx := r.Context()
	st := StateOf(r)
	kind, ns, name := r.PathValue("kind"), r.PathValue("namespace"), r.PathValue("name")
	key := strings.ToLower(kind + ":" + ns + "/" + name)
	d := &entityData{Key: key, AsOf: st.Get("asOf"), State: st}
	for _, t := range entityStreamTypes {
		if d.Types != "" {
			d.Types += ","
		}
		d.Types += string(t)
	}
	reader, err := s.catalogAt(ctx, d.AsOf)
	if err != nil {
		return nil, "", err
	}
	v, counts, err := readEntityCapped(ctx, reader, key)
	if err != nil {
		return nil, "", err
	}
	if err := s.entityHistory(ctx, key, d); err != nil {
		return nil, "", err
	}
	if v == nil {
		if len(d.History) == 0 {
			return nil, "", fault.New(fault.NotFound, key, "the catalog holds no entity %s%s", key, map[bool]string{true: " at that instant", false: ""}[d.AsOf != ""])
		}
		d.Gone = true
		d.Ref, d.Kind, d.Name = key, kind, name
		for _, v := range d.History {
			if !v.Removed {
				d.LastSeen = v.Time.UTC().Format(time.RFC3339)
				break
			}
		}
		return d, refName(key), nil
	}
	d.Summary, d.UID, d.Rels, d.Errors = Summarize(v), v.UID, v.Relations, v.Status
	if dec := s.cfg.Decide(r.Principal, permission.CatalogEntityRead, permission.EntityResource(d.Kind, d.Ref, d.Owner, nil)); !dec.Allowed {
		return nil, "", fault.New(fault.Forbidden, key, "%s may not read %s: %s", r.Principal.Ref, key, dec.Reason)
	}
	if err := d.readBody(v.Body); err != nil {
		return nil, "", err
	}
	slices.SortStableFunc(d.Rels, func(a, b catalogstore.Relation) int { return strings.Compare(a.Type, b.Type) })
	for _, n := range counts {
		d.RelCount += n
	}
	d.Graph = relationGraph(v.Ref, v.Relations, d.RelCount-len(v.Relations), d.AsOf)
	d.Rels, d.RelMore = listRelations(d.Rels, counts, d.Ref)
	if err := s.entityBadges(ctx, key, d); err != nil {
		return nil, "", err
	}
	title := d.Title
	if title == "" {
		title = d.Name
	}
	return d, title, nil
}

// readBody reads links, source, annotations and the API definition of
// the stored body.
func (d *entityData) readBody(raw json.RawMessage) error {
	var body struct {
		Metadata struct {
			Links       []entityLink      `json:"links"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Spec map[string]any `json:"spec"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return err
	}
	d.Links = body.Metadata.Links
	ann := body.Metadata.Annotations
	for _, k := range []string{"backstage.io/source-location", "backstage.io/managed-by-location", "backstage.io/managed-by-origin-location"} {
		if v := ann[k]; v != "" {
			d.Source = v
			break
		}
	}
	if _, target, ok := strings.Cut(d.Source, ":"); ok && (strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "http://")) {
		d.SourceURL = target
	}
	for _, k := range sortedKeys(anyMap(ann)) {
		d.Annotations = append(d.Annotations, [2]string{k, ann[k]})
	}
	if strings.EqualFold(d.Kind, "api") {
		if def, ok := body.Spec["definition"].(string); ok {
			doc := renderAPI(d.Type, def)
			d.API = &doc
		}
	}
	pretty, _ := json.MarshalIndent(json.RawMessage(raw), "", "  ")
	d.Body = string(pretty)
	return nil
}

// entityBadges reads the entity's badges (now or then) and facts.
func (s *Server) entityBadges(ctx context.Context, key string, d *entityData) error {
	if s.cfg.Badges == nil {
		return nil
	}
	var err error
	if d.AsOf == "" {
		d.Badges, err = s.cfg.Badges.Badges(ctx, key)
	} else {
		var at history.Instant
		if at, _, err = ParseInstant("asOf", d.AsOf); err == nil {
			d.Badges, err = s.cfg.Badges.BadgesAt(ctx, key, at)
		}
	}
	if err != nil && !errors.Is(err, badges.ErrNotFound) {
		return err
	}
	facts, err := s.cfg.Badges.Facts(ctx, key)
	if err != nil && !errors.Is(err, badges.ErrNotFound) {
		return err
	}
	for _, f := range facts {
		fv := factView{Source: f.Source, ObservedAt: f.ObservedAt}
		var m map[string]any
		_ = json.Unmarshal(f.Facts, &m)
		for _, k := range sortedKeys(m) {
			fv.Facts = append(fv.Facts, [2]string{k, compact(m[k])})
		}
		d.Facts = append(d.Facts, fv)
	}
	return nil
}

// entityHistory reads the entity's versions, each with its field-level
// diff (internal/audit), newest first.
func (s *Server) entityHistory(ctx context.Context, key string, d *entityData) error {
	if s.cfg.History == nil {
		return nil
	}
	svc := audit.Service{History: s.cfg.History}
	h, err := svc.EntityHistory(ctx, key, 0, maxHistory)
	if err != nil {
		if fault.Of(err) == fault.NotFound {
			return nil
		}
		return err
	}
	for i := len(h.Items) - 1; i >= 0; i-- {
		v := h.Items[i]
		vv := versionView{Number: v.Number, Time: v.ValidFrom.Time, Actor: v.Actor, Commit: v.Commit, Removed: v.Removed, Type: v.EventType}
		for _, c := range v.Changes {
			vv.Changes = append(vv.Changes, changeView{Path: c.Path, Op: c.Op, Before: compact(c.Before), After: compact(c.After)})
		}
		d.History = append(d.History, vv)
	}
	return nil
}

// compact renders a value in one short line.
func compact(v any) string {
	if v == nil {
		return ""
	}
	var s string
	if str, ok := v.(string); ok {
		s = str
	} else {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	if len(s) > 240 {
		s = s[:239] + "…"
	}
	return s
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// maxListedRelations bounds the relations of one type the entity page lists:
// a group owns thousands of entities, and the page would grow with the
// catalog. The catalog page lists the rest of an owner's.
const maxListedRelations = 100

// relationsMore is what the entity page's list leaves out of one type of
// relation, and where the catalog lists them (empty when it cannot).
type relationsMore struct {
	Type string
	More int
	URL  string
}

// readEntityCapped reads the entity with key from reader with at most
// maxListedRelations of its relations of each type, and how many it has of
// each: through catalogstore.CappedReader, so a group that owns thousands
// of entities is not read whole, or else whole (an entity as of an
// instant). It returns nil when there is no such entity.
func readEntityCapped(ctx context.Context, reader catalogstore.Reader, key string) (*catalogstore.EntityView, map[string]int, error) {
	if c, ok := reader.(catalogstore.CappedReader); ok {
		return c.ByKeyCapped(ctx, key, maxListedRelations)
	}
	views, err := reader.ByKeys(ctx, []string{key})
	if err != nil || len(views) == 0 || views[0] == nil {
		return nil, nil, err
	}
	counts := map[string]int{}
	for _, r := range views[0].Relations {
		counts[r.Type]++
	}
	return views[0], counts, nil
}

// listRelations keeps the first maxListedRelations relations of each type
// of rels (sorted by type) and says how many of each it left out, of the
// counts of each type (rels may hold only a part of them); a group's
// ownerOf links to the catalog filtered by that owner.
func listRelations(rels []catalogstore.Relation, counts map[string]int, ref string) ([]catalogstore.Relation, []relationsMore) {
	out := rels[:0:0]
	var more []relationsMore
	for i := 0; i < len(rels); {
		j := i
		for j < len(rels) && rels[j].Type == rels[i].Type {
			j++
		}
		out = append(out, rels[i:min(j, i+maxListedRelations)]...)
		if n := max(counts[rels[i].Type], j-i) - min(j-i, maxListedRelations); n > 0 {
			m := relationsMore{Type: rels[i].Type, More: n}
			if rels[i].Type == "ownerOf" {
				// spec.owner holds the owner as each entity wrote it: its
				// full ref, or the name alone for a group of the default
				// namespace.
				owners := []string{strings.ToLower(ref)}
				if short, ok := strings.CutPrefix(strings.ToLower(ref), "group:default/"); ok {
					owners = append(owners, short)
				}
				m.URL = "/catalog?" + url.Values{"kind": {"all"}, "owner": owners}.Encode()
			}
			more = append(more, m)
		}
		i = j
	}
	return out, more
}
