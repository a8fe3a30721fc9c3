package httpapi

import (
	"net/http"
	"strings"

	"backlot.dev/backlot/domain/catalog"
)

// refreshRequest is the body of POST /refresh. Backstage also accepts an
// authorizationToken there; it is ignored, since Config.Actor says who calls.
type refreshRequest struct {
	EntityRef *string `json:"entityRef"`
}

// refresh answers POST /refresh: re-reads the location that manages the entity
// and answers 200 with an empty body, as Backstage does.
func (s *server) refresh(w http.ResponseWriter, r *http.Request) error {
	var req refreshRequest
	if err := s.decodeBody(w, r, &req, false); err != nil {
		return err
	}
	if req.EntityRef == nil || strings.TrimSpace(*req.EntityRef) == "" {
		return inputError("Malformed request: entityRef must be a non-empty string")
	}
	ref, err := catalog.ParseRef(*req.EntityRef, catalog.RefDefaults{})
	if err != nil {
		return inputError("Invalid entityRef: %v", err)
	}
	if err := s.writer.Refresh(r.Context(), s.actor(r), ref.String()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
