package httpapi

import (
	"net/http"
	"strconv"

	"backlot.dev/backlot/projections/catalogstore"
)

// LaggingHeader names the response header by which GET /entities/by-query and
// GET /entity-facets say that their totalItems or facet counts were served
// from an answer computed before the read model's last write (over more than
// catalogstore.DefaultExactUpTo matches a total or a facet may lag writes by up
// to catalogstore.DefaultMaxLag while it is recounted in the background), and
// GET /api/policies/{id}/history and /campaigns that their series or
// campaigns were (badging.Scorecards, up to badging.ScorecardMaxLag). Its
// value is the lagging part, totalItems, facets, series or campaigns, with
// the answer's age in seconds as a parameter:
// `Backlot-Lagging: totalItems;age=1.250`. An exact
// answer has no such header, so a Backstage client, which ignores it, reads
// the same body either way. The entities of a page never lag.
const LaggingHeader = "Backlot-Lagging"

// Parts of a response that LaggingHeader names.
const (
	laggingTotal  = "totalItems"
	laggingFacets = "facets"
	// laggingSeries and laggingCampaigns name a policy's level history and
	// campaigns.
	laggingSeries    = "series"
	laggingCampaigns = "campaigns"
)

// noteLag returns r with a context that records whether the catalog store
// served a lagging count or facet, and the record.
func noteLag(r *http.Request) (*http.Request, *catalogstore.LagNote) {
	ctx, note := catalogstore.WithLagNote(r.Context())
	return r.WithContext(ctx), note
}

// markLagging sets LaggingHeader on w, naming part, when note recorded a
// lagging answer; it must be called before the body is written.
func markLagging(w http.ResponseWriter, note *catalogstore.LagNote, part string) {
	lagging, age := note.Lagging()
	if !lagging {
		return
	}
	w.Header().Set(LaggingHeader, part+";age="+strconv.FormatFloat(age.Seconds(), 'f', 3, 64))
}
