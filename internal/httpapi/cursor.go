package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"backlot.dev/backlot/projections/catalogstore"
)

// cursorVersion is the version of the by-query cursor's encoding.
const cursorVersion = 1

// queryCursor is the state of a by-query pagination, handed to clients as an
// opaque string: the original query, its total, and where the next page starts.
type queryCursor struct {
	Version  int                 `json:"v"`
	Filter   [][]cursorCondition `json:"f,omitempty"`
	Order    []cursorOrder       `json:"o,omitempty"`
	Term     string              `json:"t,omitempty"`
	Fields   []string            `json:"tf,omitempty"`
	Total    int                 `json:"n"`
	Keyset   catalogstore.Keyset `json:"ks"`
	Previous bool                `json:"prev,omitempty"`
}

type cursorCondition struct {
	Key    string   `json:"k"`
	Values []string `json:"v,omitempty"`
}

type cursorOrder struct {
	Field string `json:"f"`
	Desc  bool   `json:"d,omitempty"`
}

// newQueryCursor captures a query so that following pages repeat it.
func newQueryCursor(f catalogstore.Filter, order []catalogstore.Order, ft catalogstore.FullText, total int) queryCursor {
	c := queryCursor{Version: cursorVersion, Term: ft.Term, Fields: ft.Fields, Total: total}
	for _, conj := range f {
		cc := make([]cursorCondition, len(conj))
		for i, cond := range conj {
			cc[i] = cursorCondition{Key: cond.Key, Values: cond.Values}
		}
		c.Filter = append(c.Filter, cc)
	}
	for _, o := range order {
		c.Order = append(c.Order, cursorOrder{Field: o.Field, Desc: o.Desc})
	}
	return c
}

func (c queryCursor) filter() catalogstore.Filter {
	var f catalogstore.Filter
	for _, cc := range c.Filter {
		conj := make([]catalogstore.Condition, len(cc))
		for i, cond := range cc {
			conj[i] = catalogstore.Condition{Key: cond.Key, Values: cond.Values}
		}
		f = append(f, conj)
	}
	return f
}

func (c queryCursor) order() []catalogstore.Order {
	var out []catalogstore.Order
	for _, o := range c.Order {
		out = append(out, catalogstore.Order{Field: o.Field, Desc: o.Desc})
	}
	return out
}

func (c queryCursor) fullText() catalogstore.FullText {
	return catalogstore.FullText{Term: c.Term, Fields: c.Fields}
}

// at returns the cursor moved to the keyset, going forward or back.
func (c queryCursor) at(ks *catalogstore.Keyset, previous bool) string {
	c.Keyset, c.Previous = *ks, previous
	raw, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeQueryCursor parses a cursor made by queryCursor.at.
func decodeQueryCursor(s string) (queryCursor, error) {
	raw, err := decodeBase64(s)
	if err != nil {
		return queryCursor{}, inputError("Malformed cursor: not base64: %v", err)
	}
	var c queryCursor
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return queryCursor{}, inputError("Malformed cursor: %v", err)
	}
	switch {
	case c.Version != cursorVersion:
		return queryCursor{}, inputError("Malformed cursor: version %d is not %d", c.Version, cursorVersion)
	case len(c.Keyset.Values) != max(len(c.Order), 1):
		return queryCursor{}, inputError("Malformed cursor: position does not fit the order")
	case c.Keyset.Key == "":
		return queryCursor{}, inputError("Malformed cursor: no position")
	case c.Total < 0:
		return queryCursor{}, inputError("Malformed cursor: negative total")
	case len(c.Order) > maxOrderFields:
		return queryCursor{}, inputError("Malformed cursor: too many order fields")
	}
	values := 0
	for _, conj := range c.Filter {
		for _, cond := range conj {
			if cond.Key == "" {
				return queryCursor{}, inputError("Malformed cursor: filter with an empty key")
			}
			values += max(1, len(cond.Values))
		}
	}
	if values > maxFilterValues {
		return queryCursor{}, inputError("Malformed cursor: filter larger than the limit of %d statements", maxFilterValues)
	}
	return c, nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "+/") {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// afterCursor is the cursor of GET /entities, in Backstage's form.
type afterCursor struct {
	Limit  *int `json:"limit,omitempty"`
	Offset *int `json:"offset,omitempty"`
}

func encodeAfter(limit, offset int) string {
	raw, _ := json.Marshal(afterCursor{Limit: &limit, Offset: &offset})
	return base64.StdEncoding.EncodeToString(raw)
}

func decodeAfter(s string) (afterCursor, error) {
	var c afterCursor
	raw, err := decodeBase64(s)
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return c, inputError("Malformed after cursor, could not be parsed")
	}
	if c.Limit != nil && *c.Limit <= 0 {
		return c, inputError("Malformed after cursor, limit must be greater than zero")
	}
	if c.Offset != nil && *c.Offset < 0 {
		return c, inputError("Malformed after cursor, offset must be zero or greater")
	}
	return c, nil
}
