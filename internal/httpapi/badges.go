package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/badgesvg"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/badges"
	"backlot.dev/backlot/projections/history"
)

// FactWriter takes facts and fact source schemas (package badging's FactService).
type FactWriter interface {
	// Report appends the facts of the items, all or none.
	Report(ctx context.Context, actor string, items []badging.FactItem) (event.Positions, error)
	// DeclareSource records the JSON Schema of a source's facts.
	DeclareSource(ctx context.Context, actor, source string, schema json.RawMessage) (event.Positions, error)
}

// badgeRoutes adds the policy results, badges and facts endpoints.
func (s *server) badgeRoutes(mux *http.ServeMux) {
	route := func(pattern string, a access, h handlerFunc) { s.route(mux, pattern, a, h) }
	route("GET /api/policies", need(permission.PolicyRead, nil), s.listPolicies)
	route("GET /api/policies/{id}", need(permission.PolicyRead, pathResource("Policy", "id")), s.getPolicy)
	route("GET /api/policies/{id}/results", need(permission.PolicyRead, pathResource("Policy", "id")), s.policyResults)
	route("GET /api/policies/{id}/history", need(permission.PolicyRead, pathResource("Policy", "id")), s.policyHistory)
	route("GET /api/policies/{id}/campaigns", need(permission.PolicyRead, pathResource("Policy", "id")), s.policyCampaigns)
	route("GET /api/policies/entities/{kind}/{namespace}/{name}", need(permission.CatalogEntityRead, s.entityByPath), s.entityBadges)
	route("GET /api/badges/{kind}/{namespace}/{name}/{file}", openTo(openBadges), s.badgeSVG)
	route("POST /api/facts", needInHandler(permission.FactsReport), s.reportFacts)
	route("PUT /api/facts/sources/{source}", need(permission.FactsSourceDeclare, pathResource("FactSource", "source")), s.declareFactSource)
	route("GET /api/facts/sources/{source}", need(permission.PolicyRead, pathResource("FactSource", "source")), s.getFactSource)
	route("GET /api/facts/entities/{kind}/{namespace}/{name}", need(permission.CatalogEntityRead, s.entityByPath), s.entityFacts)
}

func (s *server) badges() (badges.Reader, error) {
	if s.cfg.Badges == nil {
		return nil, notImplemented("this server keeps no badge read model")
	}
	return s.cfg.Badges, nil
}

// policyService is the badging service that finds and lists the catalog's policies.
func (s *server) policyService() badging.Policies {
	return badging.Policies{Catalog: s.reader, Stats: s.cfg.EvaluatorStats}
}

// policyByID finds the Policy entity whose metadata.name is id.
func (s *server) policyByID(ctx context.Context, id string) (*policies.Policy, error) {
	return s.policyService().ByID(ctx, id)
}

// policySummary is a policy as the results answers name it.
type policySummary struct {
	ID        string              `json:"id"`
	Title     string              `json:"title,omitempty"`
	Levels    []string            `json:"levels"`
	Campaigns []policies.Campaign `json:"campaigns,omitempty"`
}

func summary(p *policies.Policy) policySummary {
	return policySummary{ID: p.Metadata.Name, Title: p.Metadata.Title, Levels: p.Spec.Levels, Campaigns: p.Spec.Campaigns}
}

// getPolicy answers GET /api/policies/{id}: the policy document.
func (s *server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	p, err := s.policyByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// policyResults answers GET /api/policies/{id}/results?level=&owner=&check=&after=&limit=:
// the counts per level over every rated entity, the roll-up per owner, and a
// page of entities (those of a level, none for no level, an owner, or failing
// a check) with their failing checks.
func (s *server) policyResults(w http.ResponseWriter, r *http.Request) error {
	br, err := s.badges()
	if err != nil {
		return err
	}
	p, err := s.policyByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), 100, 1, 1000)
	if err != nil {
		return err
	}
	rq := badging.ResultsQuery{Owner: q.Get("owner"), Check: q.Get("check"), After: q.Get("after"), Limit: limit}
	if l := q.Get("level"); l != "" {
		rq.ByLevel, rq.Level = true, l
	}
	res, err := badging.PolicyResults(r.Context(), br, p, rq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Policy policySummary `json:"policy"`
		badging.Results
	}{summary(p), res})
	return nil
}

func intParam(v string, def, lo, hi int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, inputError("%q: want a number from %d to %d", v, lo, hi)
	}
	return n, nil
}

// bucketOf parses the bucket parameter of the series answers.
func bucketOf(v string) (time.Duration, error) {
	switch v {
	case "", "day":
		return 24 * time.Hour, nil
	case "hour":
		return time.Hour, nil
	case "week":
		return 7 * 24 * time.Hour, nil
	case "minute":
		return time.Minute, nil
	}
	return 0, inputError("bucket=%q: want minute, hour, day or week", v)
}

// seriesRequest reads what the series answers need: the badge read model,
// the policy of the path and the bucket parameter.
func (s *server) seriesRequest(r *http.Request) (badges.Reader, *policies.Policy, time.Duration, error) {
	br, err := s.badges()
	if err != nil {
		return nil, nil, 0, err
	}
	p, err := s.policyByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, nil, 0, err
	}
	bucket, err := bucketOf(r.URL.Query().Get("bucket"))
	return br, p, bucket, err
}

// policyHistory answers GET /api/policies/{id}/history?bucket=day: how many
// entities stood at each level at the end of each bucket in which a verdict
// changed, from the first verdict on. It is counted through the scorecards'
// lagging cache (badging.Scorecards): after a change of a policy with more
// than catalogstore.DefaultExactUpTo changes of its verdicts, the last count
// is served, marked by the Backlot-Lagging header, while it is recounted in
// the background, instead of a replay of every change on every request.
func (s *server) policyHistory(w http.ResponseWriter, r *http.Request) error {
	r, note := noteLag(r)
	sc, p, bucket, err := s.scorecardOf(r)
	if err != nil {
		return err
	}
	markLagging(w, note, laggingSeries)
	writeJSON(w, http.StatusOK, map[string]any{"policy": summary(p), "bucket": bucket.String(), "series": sc.History})
	return nil
}

// policyCampaigns answers GET /api/policies/{id}/campaigns?bucket=day: each
// campaign of the policy with its progress and burndown, counted as the
// history is.
func (s *server) policyCampaigns(w http.ResponseWriter, r *http.Request) error {
	r, note := noteLag(r)
	sc, p, _, err := s.scorecardOf(r)
	if err != nil {
		return err
	}
	markLagging(w, note, laggingCampaigns)
	writeJSON(w, http.StatusOK, map[string]any{"policy": summary(p), "campaigns": sc.Campaigns})
	return nil
}

// scorecardOf returns the scorecard of the path's policy by the bucket
// parameter, with the policy and the bucket.
func (s *server) scorecardOf(r *http.Request) (badging.Scorecard, *policies.Policy, time.Duration, error) {
	_, p, bucket, err := s.seriesRequest(r)
	if err != nil {
		return badging.Scorecard{}, nil, 0, err
	}
	sc, err := s.cfg.Scorecards.Of(r.Context(), p, bucket, time.Now().UTC())
	return sc, p, bucket, err
}

// entityBadgesAt returns the entity's verdicts now, or at the asOf instant.
func (s *server) entityBadgesAt(r *http.Request, br badges.Reader, key string) ([]badges.Badge, error) {
	if v := r.URL.Query().Get("asOf"); v != "" {
		at, err := history.ParseInstant(v)
		if err != nil {
			return nil, inputError("asOf: %v", err)
		}
		return br.BadgesAt(r.Context(), key, at)
	}
	return br.Badges(r.Context(), key)
}

// entityBadges answers GET /api/policies/entities/{kind}/{namespace}/{name}?asOf=:
// every policy's verdict on the entity, now or as it was at the instant.
func (s *server) entityBadges(w http.ResponseWriter, r *http.Request) error {
	br, err := s.badges()
	if err != nil {
		return err
	}
	ref := pathRef(r)
	bs, err := s.entityBadgesAt(r, br, ref.Key())
	if err != nil {
		return err
	}
	if bs == nil {
		bs = []badges.Badge{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entity": ref.Key(), "badges": bs})
	return nil
}

// badgeSVG answers GET /api/badges/{kind}/{namespace}/{name}/{policy}.svg: a
// README badge with the policy's title and the entity's level (asOf works too).
func (s *server) badgeSVG(w http.ResponseWriter, r *http.Request) error {
	br, err := s.badges()
	if err != nil {
		return err
	}
	id, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok || id == "" {
		return notFoundError("A badge is named {policy}.svg")
	}
	p, err := s.policyByID(r.Context(), id)
	if err != nil {
		return err
	}
	ref := pathRef(r)
	bs, err := s.entityBadgesAt(r, br, ref.Key())
	if err != nil {
		return err
	}
	v := badging.VerdictOf(p, bs)
	color := badgesvg.ForLevel(v.Rank, len(p.Spec.Levels))
	w.Header().Set("Content-Type", "image/svg+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, max-age=0")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(badgesvg.Render(v.Label, v.Message, color))
	return err
}

// reportFacts answers POST /api/facts {"items": [{entity, source, facts, observedAt}]}.
func (s *server) reportFacts(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Facts == nil {
		return notImplemented("this server takes no facts")
	}
	var body struct {
		Items []badging.FactItem `json:"items"`
	}
	if err := s.decodeBody(w, r, &body, true); err != nil {
		return err
	}
	// The entities and their owners through the fact service's connections
	// when it has its own (Config.FactsReader).
	rd := s.reader
	if s.cfg.FactsReader != nil {
		rd = s.cfg.FactsReader
	}
	members := newOwnerMembers(rd)
	for _, it := range body.Items {
		res, err := s.entityOrRef(r.Context(), it.Entity, members)
		if err != nil {
			return err
		}
		res["source"] = it.Source
		if err := s.authorize(r, permission.FactsReport, res); err != nil {
			return err
		}
	}
	pos, err := s.cfg.Facts.Report(r.Context(), s.actor(r), body.Items)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"accepted": len(body.Items), "positions": pos.String()})
	return nil
}

// declareFactSource answers PUT /api/facts/sources/{source} {"schema": {...}}.
func (s *server) declareFactSource(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Facts == nil {
		return notImplemented("this server takes no facts")
	}
	var body struct {
		Schema json.RawMessage `json:"schema"`
	}
	if err := s.decodeBody(w, r, &body, true); err != nil {
		return err
	}
	source := r.PathValue("source")
	if _, err := s.cfg.Facts.DeclareSource(r.Context(), s.actor(r), source, body.Schema); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"source": source, "schema": body.Schema})
	return nil
}

// getFactSource answers GET /api/facts/sources/{source}: its schema.
func (s *server) getFactSource(w http.ResponseWriter, r *http.Request) error {
	br, err := s.badges()
	if err != nil {
		return err
	}
	source := r.PathValue("source")
	schema, err := br.FactSource(r.Context(), source)
	if errors.Is(err, badges.ErrNotFound) {
		return notFoundError("Source %q declared no schema", source)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"source": source, "schema": schema})
	return nil
}

// entityFacts answers GET /api/facts/entities/{kind}/{namespace}/{name}: what
// every source last reported about the entity.
func (s *server) entityFacts(w http.ResponseWriter, r *http.Request) error {
	br, err := s.badges()
	if err != nil {
		return err
	}
	ref := pathRef(r)
	fs, err := br.Facts(r.Context(), ref.Key())
	if err != nil {
		return err
	}
	if fs == nil {
		fs = []badges.FactSet{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entity": ref.Key(), "items": fs})
	return nil
}

// listPolicies answers GET /api/policies: the Policy entities of the catalog,
// each compiled, with its errors (a broken check is listed, the others still count).
func (s *server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	out, err := s.policyService().List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
