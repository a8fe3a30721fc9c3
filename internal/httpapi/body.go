package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// readBody reads the request body within the configured bound. It refuses a
// declared content type other than JSON, an empty body and an oversized one.
func (s *server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, inputError("Illegal Content-Type %q; send the body as application/json", ct)
		}
	}
	if r.ContentLength > s.maxBody {
		return nil, &http.MaxBytesError{Limit: s.maxBody}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, inputError("could not read the request body: %v", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, inputError("Missing request body; expected a JSON object")
	}
	return raw, nil
}

// decodeBody reads the request body and decodes the JSON object in it into dst.
// With strict, keys dst does not declare are refused. Errors are InputErrors that
// say what is wrong and where, or the *http.MaxBytesError of an oversized body.
func (s *server) decodeBody(w http.ResponseWriter, r *http.Request, dst any, strict bool) error {
	raw, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	return decodeJSON(raw, dst, strict)
}

// decodeJSON decodes one JSON object from raw into dst.
func decodeJSON(raw []byte, dst any, strict bool) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return inputError("Malformed request: the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		return describeJSONError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return inputError("Malformed JSON: unexpected data after the body's object at byte offset %d", dec.InputOffset())
	}
	return nil
}

// describeJSONError turns a decoding error into an InputError naming the problem.
func describeJSONError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return inputError("Malformed JSON at byte offset %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return inputError("Malformed JSON: the body ends before the object is complete")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return inputError("Malformed request: the body must be a JSON object, got %s", typ.Value)
		}
		return inputError("Malformed request: %s must be %s, got %s", field, jsonTypeName(typ.Type.String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return inputError("Malformed request: unknown key %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return inputError("Malformed JSON: %v", err)
}

// jsonTypeName names a Go type as the JSON type it decodes from.
func jsonTypeName(goType string) string {
	switch {
	case goType == "string" || goType == "*string":
		return "a string"
	case strings.HasPrefix(goType, "[]") || strings.HasPrefix(goType, "*[]"):
		return "an array"
	case strings.HasPrefix(goType, "map[") || strings.HasPrefix(goType, "struct"):
		return "an object"
	case goType == "bool" || goType == "*bool":
		return "a boolean"
	case strings.Contains(goType, "int") || strings.Contains(goType, "float"):
		return "a number"
	}
	return fmt.Sprintf("of type %s", goType)
}

// writeJSON answers v as JSON with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		raw, _ = json.Marshal(errorBody{
			Error:    errorJSON{Name: "Error", Message: "could not encode the response: " + err.Error()},
			Response: responseJSON{StatusCode: status},
		})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(raw)
	w.Write([]byte("\n"))
}
