package webui

import (
	"html/template"
	"net/url"
	"slices"
	"strings"
	"time"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/policies"
	"backlot.dev/backlot/policies/permission"
)

func init() {
	Register(Page{Pattern: "GET /scorecards", Section: "scorecards", Template: "scorecards.html",
		Permission: permission.PolicyRead, Load: loadScorecards})
	Register(Page{Pattern: "GET /scorecards/{policy}", Section: "scorecards", Template: "scorecards_one.html",
		Permission: permission.PolicyRead, Load: loadScorecard})
}

// scorecardPageSize is how many entities a page of a policy's results
// lists; scorecardOwners how many owners its roll-up shows.
const (
	scorecardPageSize = 50
	scorecardOwners   = 50
)

// levelCount is a level with how many entities stand at it and the link
// that lists them.
type levelCount struct {
	Level string
	Count int
	Pct   int
	URL   string
	On    bool
}

// scorecardItem is one policy of the Scorecards page.
type scorecardItem struct {
	badging.PolicyItem
	Total     int
	Levels    []levelCount
	Campaigns int
	Lag       Lag
}

// scorecardsData is what scorecards.html shows; Lag says whether a
// policy's counts lagged behind the badge read model's last change.
type scorecardsData struct {
	Items []scorecardItem
	Lag   Lag
}

// loadScorecards answers the Scorecards page: every policy with its
// levels and how many entities stand at each.
func loadScorecards(s *Server, r *Request) (any, string, error) {
	if s.cfg.Badges == nil {
		return nil, "", fault.New(fault.Unavailable, "badges", "this server keeps no badges")
	}
	ctx := r.Context()
	list, err := badging.Policies{Catalog: s.cfg.Catalog}.List(ctx)
	if err != nil {
		return nil, "", err
	}
	d := &scorecardsData{}
	for _, it := range list.Items {
		item := scorecardItem{PolicyItem: it}
		if it.ID != "" {
			pol, err := badging.Policies{Catalog: s.cfg.Catalog}.ByID(ctx, it.ID)
			if err == nil {
				tally, lag, err := s.tallyOf(ctx, pol.Metadata.Name)
				if err != nil {
					return nil, "", err
				}
				res, err := badging.PolicyResults(ctx, talliedBadges{s.cfg.Badges, tally}, pol, badging.ResultsQuery{Limit: 1})
				if err != nil {
					return nil, "", err
				}
				item.Total, item.Lag = res.Total, lag
				d.Lag = d.Lag.Merge(lag)
				item.Levels = levelsOf(pol, res, State{path: "/scorecards/" + url.PathEscape(it.ID)}, "")
				item.Campaigns = len(pol.Spec.Campaigns)
			}
		}
		d.Items = append(d.Items, item)
	}
	return d, "Scorecards", nil
}

// levelsOf lists a policy's levels, highest first, then "none", with
// their counts and the links that filter the results by them.
func levelsOf(p *policies.Policy, res badging.Results, st State, current string) []levelCount {
	names := slices.Clone(p.Spec.Levels)
	slices.Reverse(names)
	names = append(names, badging.NoLevel)
	var out []levelCount
	for _, l := range names {
		lc := levelCount{Level: l, Count: res.Counts[l], URL: st.With("level", l), On: current == l}
		if lc.On {
			lc.URL = st.With("level", "")
		}
		if res.Total > 0 {
			lc.Pct = lc.Count * 100 / res.Total
		}
		out = append(out, lc)
	}
	return out
}

// ownerRow is one owner of a policy's roll-up, its counts in level order.
type ownerRow struct {
	Owner  string
	Total  int
	Counts []int
	URL    string
}

// campaignView is a campaign with its progress and burndown chart.
type campaignView struct {
	badging.CampaignProgress
	Pct   int
	Chart template.HTML
}

// scorecardData is what scorecards_one.html shows.
type scorecardData struct {
	Policy    *policies.Policy
	State     State
	Level     string
	Owner     string
	Check     string
	Total     int
	Levels    []levelCount
	LevelCols []string
	Owners    []ownerRow
	OwnersCut int
	Items     []badging.ResultItem
	Next      string
	Trend     template.HTML
	Bucket    string
	Buckets   []string
	Campaigns []campaignView
	Checks    []policies.Check
	Snippet   *badgeSnippet
	// Lag says whether the counts, trend and campaigns lagged behind the
	// badge read model's last change (the entities listed never do).
	Lag Lag
}

// badgeSnippet is an entity's badge and the Markdown that shows it in a
// README.
type badgeSnippet struct {
	Entity, Image, Link, Markdown string
	Error                         string
}

// scorecardBuckets are the trend's buckets the page offers.
var scorecardBuckets = map[string]time.Duration{"hour": time.Hour, "day": 24 * time.Hour, "week": 7 * 24 * time.Hour}

// loadScorecard answers one policy's page: its levels with counts, the
// roll-up per owner, the entities (filtered by level, owner or failing
// check, paged) with their failing checks, the trend of each level from
// the badge history, its campaigns with their burndown, and an entity's
// badge snippet (?entity=).
func loadScorecard(s *Server, r *Request) (any, string, error) {
	if s.cfg.Badges == nil {
		return nil, "", fault.New(fault.Unavailable, "badges", "this server keeps no badges")
	}
	ctx := r.Context()
	pol, err := badging.Policies{Catalog: s.cfg.Catalog}.ByID(ctx, r.PathValue("policy"))
	if err != nil {
		return nil, "", err
	}
	st := StateOf(r)
	d := &scorecardData{Policy: pol, State: st, Level: st.Get("level"), Owner: st.Get("owner"), Check: st.Get("check"), Checks: pol.Spec.Checks}
	q := badging.ResultsQuery{Owner: d.Owner, Check: d.Check, After: st.Get("after"), Limit: scorecardPageSize}
	if d.Level != "" {
		q.ByLevel, q.Level = true, d.Level
	}
	d.Buckets = []string{"hour", "day", "week"}
	d.Bucket = st.Get("bucket")
	bucket, ok := scorecardBuckets[d.Bucket]
	if !ok {
		d.Bucket, bucket = "day", 24*time.Hour
	}
	stats, lag, err := s.scoreStatsOf(ctx, pol, bucket)
	if err != nil {
		return nil, "", err
	}
	d.Lag = lag
	res, err := badging.PolicyResults(ctx, talliedBadges{s.cfg.Badges, stats.Tally}, pol, q)
	if err != nil {
		return nil, "", err
	}
	d.Total, d.Items = res.Total, res.Items
	if res.NextAfter != "" {
		d.Next = st.Page("after", res.NextAfter)
	}
	d.Levels = levelsOf(pol, res, st, d.Level)
	for _, l := range d.Levels {
		d.LevelCols = append(d.LevelCols, l.Level)
	}
	for i, o := range res.Owners {
		if i == scorecardOwners {
			d.OwnersCut = len(res.Owners) - i
			break
		}
		row := ownerRow{Owner: o.Owner, Total: o.Total, URL: st.With("owner", o.Owner)}
		for _, l := range d.LevelCols {
			row.Counts = append(row.Counts, o.Counts[l])
		}
		d.Owners = append(d.Owners, row)
	}
	hist := stats.History
	var series []chartSeries
	for i, l := range d.LevelCols {
		cs := chartSeries{Label: l, Class: "lvl-line-" + classOf(l, i)}
		for _, p := range hist {
			cs.Times, cs.Vals = append(cs.Times, p.Time), append(cs.Vals, p.Counts[l])
		}
		series = append(series, cs)
	}
	d.Trend = lineChart("Entities per level of "+pol.Metadata.Name+" over time", series)
	for _, c := range stats.Campaigns {
		cv := campaignView{CampaignProgress: c}
		if c.Total > 0 {
			cv.Pct = c.Reached * 100 / c.Total
		}
		cs := chartSeries{Label: "remaining", Class: "remaining"}
		for _, p := range c.Burndown {
			cs.Times, cs.Vals = append(cs.Times, p.Time), append(cs.Vals, p.Remaining)
		}
		cv.Chart = lineChart("Burndown of the campaign "+c.ID, []chartSeries{cs})
		d.Campaigns = append(d.Campaigns, cv)
	}
	if e := strings.TrimSpace(st.Get("entity")); e != "" {
		d.Snippet = snippetOf(r, pol.Metadata.Name, e)
	}
	title := pol.Metadata.Title
	if title == "" {
		title = pol.Metadata.Name
	}
	return d, title, nil
}

// classOf names a level's line colour: the medal levels have their own.
func classOf(level string, i int) string {
	switch level {
	case "gold", "silver", "bronze", badging.NoLevel:
		return level
	}
	return []string{"a", "b", "c", "d"}[i%4]
}

// snippetOf is the badge of the entity ref for a README: the SVG's
// absolute URL on this server and the entity's page.
func snippetOf(r *Request, policy, ref string) *badgeSnippet {
	kind, ns, name := splitRef(ref)
	if kind == "" || name == "" {
		return &badgeSnippet{Entity: ref, Error: "Give the entity as kind:namespace/name, such as component:default/checkout."}
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	base := scheme + "://" + r.Host
	img := "/api/badges/" + url.PathEscape(strings.ToLower(kind)) + "/" + url.PathEscape(ns) + "/" + url.PathEscape(name) + "/" + url.PathEscape(policy) + ".svg"
	link := entityURL(ref)
	return &badgeSnippet{Entity: ref, Image: img, Link: link,
		Markdown: "[![" + policy + "](" + base + img + ")](" + base + link + ")"}
}
