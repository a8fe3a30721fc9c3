package httpapi

import (
	"mime"
	"net/http"
	"strings"
)

// hookMediaTypes are the media types a git host's webhook delivery may carry
// (a webhook set to a form sends its JSON as the payload field).
var hookMediaTypes = []string{"application/json", "application/x-www-form-urlencoded"}

// hasBody reports whether the request carries a body: a declared length or a
// chunked one.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

// jsonMediaType reports whether mt is JSON: application/json or a +json type.
func jsonMediaType(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// requireContentType refuses a write (any method but GET, HEAD and OPTIONS)
// that carries a body without a Content-Type of a documented media type:
// application/json (or a +json type) everywhere, and
// application/x-www-form-urlencoded also for git webhooks under
// /api/git/hooks/. Without the header it answers 415
// UnsupportedMediaTypeError naming the header; with another type, 400
// InputError as the body's reader always has. A web page cannot send a JSON
// write to another origin without the browser asking first (a CORS
// preflight), which Backlot does not answer, so this refuses cross-site
// writes from forms and fetches.
func (s *server) requireContentType(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if !hasBody(r) {
			next.ServeHTTP(w, r)
			return
		}
		hook := strings.HasPrefix(r.URL.Path, "/api/git/hooks/")
		ct := r.Header.Get("Content-Type")
		if ct == "" {
			allowed := "application/json"
			if hook {
				allowed = strings.Join(hookMediaTypes, " or ")
			}
			s.writeError(w, r, &apiError{status: http.StatusUnsupportedMediaType, name: "UnsupportedMediaTypeError",
				message: "the request has a body and no Content-Type header; send Content-Type: " + allowed})
			return
		}
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(jsonMediaType(mt) || (hook && mt == "application/x-www-form-urlencoded")) {
			s.writeError(w, r, inputError("Illegal Content-Type %q; send the body as application/json", ct))
			return
		}
		next.ServeHTTP(w, r)
	})
}
