package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"backlot.dev/backlot/domain/catalog"
)

// validateRequest is the body of POST /validate-entity.
type validateRequest struct {
	Entity   json.RawMessage `json:"entity"`
	Location *string         `json:"location"`
}

// validateResponse is the 400 body of POST /validate-entity, which
// catalog-client's validateEntity turns into {valid: false, errors}.
type validateResponse struct {
	Errors []errorJSON `json:"errors"`
}

// validateEntity answers POST /validate-entity as Backstage does: 200 with an
// empty body when the entity is valid as if read from the location, else 400 with
// {"errors": [{name, message}]}, one error per offending field, each message
// naming the field. Failures that are not about the input (403, 503, 500) get
// the usual error body.
func (s *server) validateEntity(w http.ResponseWriter, r *http.Request) error {
	invalid := func(errs ...errorJSON) error {
		writeJSON(w, http.StatusBadRequest, validateResponse{Errors: errs})
		return nil
	}
	var req validateRequest
	if err := s.decodeBody(w, r, &req, false); err != nil {
		if status, name, msg := classify(r, err); status == http.StatusBadRequest {
			return invalid(errorJSON{Name: name, Message: msg})
		}
		return err
	}
	if req.Location == nil {
		return invalid(errorJSON{Name: "InputError", Message: "Malformed request: location is required, a location ref such as url:https://host/path/catalog-info.yaml"})
	}
	locType, target, ok := strings.Cut(*req.Location, ":")
	if !ok || locType == "" || target == "" {
		return invalid(errorJSON{Name: "InputError",
			Message: "Invalid location ref '" + *req.Location + "', expected '<type>:<target>', e.g. 'url:https://host/path'"})
	}
	var entity map[string]any
	if len(req.Entity) == 0 || json.Unmarshal(req.Entity, &entity) != nil || entity == nil {
		return invalid(errorJSON{Name: "InputError", Message: "Malformed request: entity must be a JSON object"})
	}
	err := s.writer.ValidateEntity(r.Context(), *req.Location, entity)
	if err == nil {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	var ve *catalog.ValidationError
	if errors.As(err, &ve) {
		errs := make([]errorJSON, len(ve.Fields))
		for i, f := range ve.Fields {
			msg := f.Error()
			if ve.Entity != "" {
				msg = ve.Entity + ": " + msg
			}
			errs[i] = errorJSON{Name: "InputError", Message: msg}
		}
		if len(errs) == 0 {
			errs = append(errs, errorJSON{Name: "InputError", Message: err.Error()})
		}
		return invalid(errs...)
	}
	if status, name, msg := classify(r, err); status == http.StatusBadRequest {
		return invalid(errorJSON{Name: name, Message: msg})
	}
	return err
}
