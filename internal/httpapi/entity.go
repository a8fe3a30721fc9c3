package httpapi

import (
	"errors"
	"net/http"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/projections/catalogstore"
)

// getEntityByUID answers GET /entities/by-uid/{uid}.
func (s *server) getEntityByUID(w http.ResponseWriter, r *http.Request) error {
	uid := r.PathValue("uid")
	v, err := s.reader.ByUID(r.Context(), uid)
	if err != nil {
		if errors.Is(err, catalogstore.ErrNotFound) {
			return notFoundError("No entity with uid %s", uid)
		}
		return err
	}
	raw, err := renderEntity(v, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, raw)
	return nil
}

// deleteEntityByUID answers DELETE /entities/by-uid/{uid} with 204.
func (s *server) deleteEntityByUID(w http.ResponseWriter, r *http.Request) error {
	if err := s.writer.DeleteEntityByUID(r.Context(), s.actor(r), r.PathValue("uid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getEntityByName answers GET /entities/by-name/{kind}/{namespace}/{name},
// matching case-insensitively.
func (s *server) getEntityByName(w http.ResponseWriter, r *http.Request) error {
	kind, ns, name := r.PathValue("kind"), r.PathValue("namespace"), r.PathValue("name")
	ref := catalog.Ref{Kind: kind, Namespace: ns, Name: name}
	views, err := s.at(r).ByKeys(r.Context(), []string{ref.Key()})
	if err != nil {
		return err
	}
	if views[0] == nil {
		return notFoundError("No entity named '%s' found, with kind '%s' in namespace '%s'", name, kind, ns)
	}
	raw, err := renderEntity(views[0], nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, raw)
	return nil
}
