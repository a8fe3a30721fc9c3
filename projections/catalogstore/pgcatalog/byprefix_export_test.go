package pgcatalog

// PrefixStatement is ByNamePrefix's statement, for the plan test.
func PrefixStatement(kind, prefix string, limit int) (string, []any) {
	return prefixStatement(kind, prefix, limit)
}
