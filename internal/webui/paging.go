package webui

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/projections/catalogstore"
)

// Pager is the paging of a keyset-paged table, as _pager.html draws it:
// the URLs of the previous and next pages ("" when there is none), how
// many rows the page shows and how many match in all; TotalLag says
// whether Total is a lagging count (shown "≈ 12,345" with its age).
type Pager struct {
	Prev, Next   string
	Shown, Total int
	TotalLag     Lag
}

// EncodeCursor makes a page token of a keyset (URL-safe).
func EncodeCursor(k *catalogstore.Keyset) string {
	if k == nil {
		return ""
	}
	b, _ := json.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a page token; "" is nil. A token that does not decode
// is a fault.Invalid error naming the parameter.
func DecodeCursor(param, token string) (*catalogstore.Keyset, error) {
	if token == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	var k catalogstore.Keyset
	if err == nil {
		err = json.Unmarshal(b, &k)
	}
	if err != nil {
		return nil, fault.New(fault.Invalid, param, "the page cursor %s=%q does not decode; start again from the first page", param, token)
	}
	return &k, nil
}

// PagerOf builds the pager of a catalog page read with st's cursor; lag is
// what the store noted of the page's total (see queryNoted).
func PagerOf(st State, page catalogstore.Page, lag Lag) Pager {
	p := Pager{Total: page.TotalItems, Shown: len(page.Items), TotalLag: lag}
	if page.HasNext && page.Last != nil {
		p.Next = st.Page("after", EncodeCursor(page.Last))
	}
	if page.HasPrev && page.First != nil {
		p.Prev = st.Page("before", EncodeCursor(page.First))
	}
	return p
}

// queryNoted reads a page of reader with q and says whether its total
// lagged behind the read model's last write (a catalog reader at an instant
// never lags).
func queryNoted(ctx context.Context, reader catalogstore.Reader, q catalogstore.PageQuery) (catalogstore.Page, Lag, error) {
	ctx, lag := lagNote(ctx)
	page, err := reader.Query(ctx, q)
	return page, lag(), err
}
