package httpapi

import (
	"net/http"

	"backlot.dev/backlot/projections/catalogstore"
)

// facetsResponse is the body of GET /entity-facets.
type facetsResponse struct {
	Facets map[string][]catalogstore.FacetCount `json:"facets"`
}

// getEntityFacets answers GET /entity-facets: for each facet, its values and how
// many entities matching filter have each.
func (s *server) getEntityFacets(w http.ResponseWriter, r *http.Request) error {
	q, filter, err := parseQueryAndFilter(r.URL.RawQuery)
	if err != nil {
		return err
	}
	var facets []string
	for _, f := range q["facet"] {
		if f != "" {
			facets = append(facets, f)
		}
	}
	if len(facets) == 0 {
		return inputError("Missing facet parameter")
	}
	counts, err := s.at(r).Facets(r.Context(), facets, filter)
	if err != nil {
		return err
	}
	out := facetsResponse{Facets: make(map[string][]catalogstore.FacetCount, len(facets))}
	for _, f := range facets {
		c := counts[f]
		if c == nil {
			c = []catalogstore.FacetCount{}
		}
		out.Facets[f] = c
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
