// Package catalogsql renders the SQL the catalog adapters share: Backstage's
// filters, full-text terms, sort expressions and keyset conditions over the
// tables both adapters have (entities e, search, relations), once, in the
// spelling of a Dialect. The adapters put them into their own statements.
package catalogsql
