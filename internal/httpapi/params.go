package httpapi

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/projections/catalogstore"
)

// maxFilterValues bounds the conditions and values of one filter, so a request
// cannot build a statement past the store's limits.
const maxFilterValues = 1000

// maxOrderFields bounds the sort fields of one request.
const maxOrderFields = 10

// parseQuery parses the request's query string, refusing a malformed one.
func parseQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, inputError("Malformed query string: %v", err)
	}
	return q, nil
}

// parseFilter parses Backstage's filter parameters: each one a comma-separated
// list of key=value or key statements that must all hold; the entity matches if
// any one of the parameters holds. Statements on the same key within one parameter
// merge their values. Empty parameters are ignored; nil means no filter.
func parseFilter(params []string) (catalogstore.Filter, error) {
	var f catalogstore.Filter
	total := 0
	for _, p := range params {
		var conj []catalogstore.Condition
		index := map[string]int{}
		for _, stmt := range strings.Split(p, ",") {
			stmt = strings.TrimSpace(stmt)
			if stmt == "" {
				continue
			}
			key, value, hasValue := strings.Cut(stmt, "=")
			key = strings.TrimSpace(key)
			if key == "" || (hasValue && strings.HasPrefix(strings.TrimSpace(value), "=")) {
				return nil, inputError("Invalid filter, '%s' is not a valid statement (expected a string on the form a=b or a= or a)", stmt)
			}
			i, seen := index[key]
			if !seen {
				i = len(conj)
				index[key] = i
				conj = append(conj, catalogstore.Condition{Key: key})
			}
			total++
			// A key that must exist and also hold a value holds the value, so
			// the condition with values alone says both.
			if hasValue {
				conj[i].Values = append(conj[i].Values, strings.TrimSpace(value))
			}
		}
		if len(conj) > 0 {
			f = append(f, conj)
		}
	}
	if total > maxFilterValues {
		return nil, inputError("Invalid filter, %d statements is more than the limit of %d", total, maxFilterValues)
	}
	return f, nil
}

// parseFields parses the fields parameters: comma-separated dotted paths.
func parseFields(params []string) ([]string, error) {
	var out []string
	for _, p := range params {
		for _, f := range strings.Split(p, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if strings.Contains(f, "[") {
				return nil, inputError("invalid fields, array type fields are not supported")
			}
			out = append(out, f)
		}
	}
	return out, nil
}

var orderParamRE = regexp.MustCompile(`^(asc|desc):(.+)$`)

// parseOrder parses the order parameters of GET /entities: asc:field or desc:field.
func parseOrder(params []string) ([]catalogstore.Order, error) {
	if len(params) > maxOrderFields {
		return nil, inputError("Invalid order, %d fields is more than the limit of %d", len(params), maxOrderFields)
	}
	var out []catalogstore.Order
	for _, p := range params {
		m := orderParamRE.FindStringSubmatch(p)
		if m == nil {
			return nil, inputError(`Invalid order parameter "%s", expected "<asc or desc>:<field name>"`, p)
		}
		out = append(out, catalogstore.Order{Field: m[2], Desc: m[1] == "desc"})
	}
	return out, nil
}

// parseOrderFields parses the orderField parameters of by-query: field or field,asc
// or field,desc.
func parseOrderFields(params []string) ([]catalogstore.Order, error) {
	if len(params) > maxOrderFields {
		return nil, inputError("Invalid orderField, %d fields is more than the limit of %d", len(params), maxOrderFields)
	}
	var out []catalogstore.Order
	for _, p := range params {
		field, dir, hasDir := strings.Cut(p, ",")
		field = strings.TrimSpace(field)
		if field == "" {
			return nil, inputError("Invalid order field %q, expected <field>,<asc or desc>", p)
		}
		if hasDir && dir != "asc" && dir != "desc" {
			return nil, inputError("Invalid order field order, must be asc or desc")
		}
		out = append(out, catalogstore.Order{Field: field, Desc: dir == "desc"})
	}
	return out, nil
}

// parseInt parses an optional integer parameter; ok is false when it is absent.
// Only a plain decimal integer is accepted, as Backstage does.
func parseInt(q url.Values, name string) (n int, ok bool, err error) {
	vs, present := q[name]
	if !present {
		return 0, false, nil
	}
	if len(vs) != 1 {
		return 0, false, inputError("Invalid %s, expected one value", name)
	}
	n, err = strconv.Atoi(vs[0])
	if err != nil || strconv.Itoa(n) != vs[0] {
		return 0, false, inputError("Invalid %s, not an integer", name)
	}
	return n, true, nil
}

// parseString returns a single-valued string parameter.
func parseString(q url.Values, name string) (string, error) {
	vs := q[name]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", inputError("Invalid %s, expected one value", name)
}

// parseBool parses a yes/no parameter the way Backstage's yn does; absent is false.
func parseBool(q url.Values, name string) (bool, error) {
	v, err := parseString(q, name)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "no", "n", "0", "off":
		return false, nil
	case "true", "yes", "y", "1", "on":
		return true, nil
	}
	return false, inputError("Invalid %s %q, expected true or false", name, v)
}

// parseQueryAndFilter parses the raw query string and its filter parameters, the
// first step of every read endpoint.
func parseQueryAndFilter(raw string) (url.Values, catalogstore.Filter, error) {
	q, err := parseQuery(raw)
	if err != nil {
		return nil, nil, err
	}
	filter, err := parseFilter(q["filter"])
	if err != nil {
		return nil, nil, err
	}
	return q, filter, nil
}

// pathRef is the entity ref of a path's {kind}/{namespace}/{name}.
func pathRef(r *http.Request) catalog.Ref {
	return catalog.Ref{Kind: r.PathValue("kind"), Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
}
