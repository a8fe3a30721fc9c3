package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/projections/catalogstore"
)

// locationRoutes adds Backstage's locations API under /api/catalog.
func (s *server) locationRoutes(mux *http.ServeMux) {
	p := catalogPrefix
	route := func(pattern string, a access, h handlerFunc) { s.route(mux, pattern, a, h) }
	route("GET "+p+"/locations", needEach(permission.CatalogLocationRead), s.getLocations)
	route("POST "+p+"/locations", needInHandler(permission.CatalogLocationCreate), s.createLocation)
	route("GET "+p+"/locations/{id}", need(permission.CatalogLocationRead, pathResource("Location", "id")), s.getLocation)
	route("DELETE "+p+"/locations/{id}", need(permission.CatalogLocationDelete, pathResource("Location", "id")), s.deleteLocation)
	route("GET "+p+"/locations/by-entity/{kind}/{namespace}/{name}", need(permission.CatalogLocationRead, nil), s.getLocationByEntity)
	s.notOffered(mux,
		"POST "+p+"/locations/by-query",
		"PUT "+p+"/locations/{id}",
		"POST "+p+"/analyze-location",
	)
}

// locationItem is one element of GET /locations.
type locationItem struct {
	Data catalogstore.Location `json:"data"`
}

// getLocations answers GET /locations: every registered location, in
// registration order, each wrapped in {"data": ...} as Backstage does.
func (s *server) getLocations(w http.ResponseWriter, r *http.Request) error {
	locs, err := s.reader.Locations(r.Context())
	if err != nil {
		return err
	}
	keep := s.readable(r, permission.CatalogLocationRead)
	out := make([]locationItem, 0, len(locs))
	for _, l := range locs {
		if keep == nil || keep(permission.Resource{"kind": "Location", "ref": l.ID, "target": l.Type + ":" + l.Target}) {
			out = append(out, locationItem{Data: l})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// locationDetail is the body of GET /locations/{id}: the location and, when its
// last refresh found any, the processing errors.
type locationDetail struct {
	catalogstore.Location
	Errors []event.ProcessingError `json:"errors,omitempty"`
}

// getLocation answers GET /locations/{id}.
func (s *server) getLocation(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	loc, err := s.reader.Location(r.Context(), id)
	if errors.Is(err, catalogstore.ErrNotFound) {
		return notFoundError("Found no location with ID %s", id)
	}
	if err != nil {
		return err
	}
	errs, err := s.reader.LocationErrors(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, locationDetail{Location: loc, Errors: errs})
	return nil
}

// getLocationByEntity answers GET /locations/by-entity/{kind}/{namespace}/{name}:
// the registered location that owns the entity.
func (s *server) getLocationByEntity(w http.ResponseWriter, r *http.Request) error {
	ref := pathRef(r)
	views, err := s.reader.ByKeys(r.Context(), []string{ref.Key()})
	if err != nil {
		return err
	}
	v := views[0]
	if v == nil {
		return notFoundError("found no entity for ref %s", ref)
	}
	if v.LocationID == "" {
		return notFoundError("found no origin location for ref %s", ref)
	}
	loc, err := s.reader.Location(r.Context(), v.LocationID)
	if errors.Is(err, catalogstore.ErrNotFound) {
		return notFoundError("found no location with ID %s for ref %s", v.LocationID, ref)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, loc)
	return nil
}

// locationInput is the body of POST /locations; Backstage refuses other keys.
type locationInput struct {
	Type     *string `json:"type"`
	Target   *string `json:"target"`
	Presence *string `json:"presence"`
}

// createLocationResponse is the body POST /locations answers.
type createLocationResponse struct {
	Location catalogstore.Location `json:"location"`
	Entities []json.RawMessage     `json:"entities"`
	Exists   *bool                 `json:"exists,omitempty"`
}

// createLocation answers POST /locations?dryRun=: registers the location, or with
// dryRun only reads it, and answers 201 with the location and its entities (and,
// for a dry run, whether it exists already), as Backstage does in both cases.
func (s *server) createLocation(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	dryRun, err := parseBool(q, "dryRun")
	if err != nil {
		return err
	}
	switch oc, err := parseString(q, "onConflict"); {
	case err != nil:
		return err
	case oc == "refresh":
		return notImplemented("onConflict=refresh is not supported; register without it and refresh the location's entities with POST /api/catalog/refresh")
	case oc != "" && oc != "reject":
		return inputError("Invalid onConflict %q, expected reject or refresh", oc)
	}
	var in locationInput
	if err := s.decodeBody(w, r, &in, true); err != nil {
		return err
	}
	locType := "url"
	if in.Type != nil {
		locType = *in.Type
	}
	switch {
	case locType == "":
		return inputError("Malformed request: type must be a non-empty string")
	case in.Target == nil || *in.Target == "":
		return inputError("Malformed request: target must be a non-empty string")
	case in.Presence != nil && *in.Presence != "required" && *in.Presence != "optional":
		return inputError("Malformed request: presence must be required or optional")
	}
	if err := s.authorize(r, permission.CatalogLocationCreate, permission.Resource{"kind": "Location", "ref": locType + ":" + *in.Target}); err != nil {
		return err
	}
	res, err := s.writer.RegisterLocation(r.Context(), s.actor(r), locType, *in.Target, dryRun)
	if err != nil {
		return err
	}
	out := createLocationResponse{Location: res.Location, Entities: res.Entities}
	if out.Entities == nil {
		out.Entities = []json.RawMessage{}
	}
	if dryRun {
		exists := res.Exists
		out.Exists = &exists
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// deleteLocation answers DELETE /locations/{id} with 204.
func (s *server) deleteLocation(w http.ResponseWriter, r *http.Request) error {
	if err := s.writer.RemoveLocation(r.Context(), s.actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
