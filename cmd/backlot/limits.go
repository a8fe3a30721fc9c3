package main

import (
	"strings"

	"github.com/spf13/pflag"

	"backlot.dev/backlot/domain/catalog"
)

// catalogLimitFlags adds the flags that bound each descriptor file an
// ingester reads, which dev and serve share. A file over a limit is refused
// with an error naming the file and the limit; the defaults accept a single
// file of 20,000 entities and 5 MB.
func catalogLimitFlags(f *pflag.FlagSet, l *catalog.Limits) {
	f.Int64Var(&l.MaxFileBytes, "catalog-max-file-bytes", catalog.DefaultMaxFileBytes, "largest descriptor file read, in bytes")
	f.IntVar(&l.MaxDocuments, "catalog-max-documents", catalog.DefaultMaxDocuments, "most YAML documents one descriptor file may hold")
	f.IntVar(&l.MaxNodes, "catalog-max-nodes", catalog.DefaultMaxNodes, "most YAML nodes one document may expand to, every use of an alias counted")
	f.IntVar(&l.MaxFileNodes, "catalog-max-file-nodes", catalog.DefaultMaxFileNodes, "most YAML nodes all documents of one file may expand to together, aliases counted")
	f.IntVar(&l.MaxDepth, "catalog-max-depth", catalog.DefaultMaxDepth, "deepest nesting of one YAML document")
}

// catalogKindFlags adds the flag of the kinds an ingester accepts beside the
// built-in ones, which dev and serve share.
func catalogKindFlags(f *pflag.FlagSet, extra *[]string) {
	f.StringSliceVar(extra, "catalog-extra-kinds", nil, "kinds accepted beside Backstage's built-in ones and Policy, as plugins add them to Backstage: "+
		strings.Join(catalog.OptionalKindNames(), ", ")+" (validated by their published schemas), or any custom kind name (envelope and metadata validated)")
}

// catalogLimitEnv are the environment variables of catalogLimitFlags and
// catalogKindFlags on serve.
var catalogLimitEnv = map[string]string{
	"catalog-extra-kinds":    "BACKLOT_CATALOG_EXTRA_KINDS",
	"catalog-max-file-bytes": "BACKLOT_CATALOG_MAX_FILE_BYTES",
	"catalog-max-documents":  "BACKLOT_CATALOG_MAX_DOCUMENTS",
	"catalog-max-nodes":      "BACKLOT_CATALOG_MAX_NODES",
	"catalog-max-file-nodes": "BACKLOT_CATALOG_MAX_FILE_NODES",
	"catalog-max-depth":      "BACKLOT_CATALOG_MAX_DEPTH",
}
