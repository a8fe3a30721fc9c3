package pghist

import "backlot.dev/backlot/projections/catalogstore"

// PageStatement returns the statement, with the views of the instant, and
// the arguments the catalog at an instant r (of CatalogAt) runs for q's
// page, for tests that read its plan.
func PageStatement(r catalogstore.Reader, q catalogstore.PageQuery) (string, []any) {
	order := q.Order
	if len(order) == 0 {
		order = []catalogstore.Order{{Field: catalogstore.CreationOrder}}
	}
	stmt, args := pageStatement(q, order, queryWhere(q))
	return r.(*catalogAt).with + stmt, args
}
