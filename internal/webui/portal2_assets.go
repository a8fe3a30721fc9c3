package webui

import (
	"embed"
	"net/http"
	"sync"

	"backlot.dev/backlot/policies/permission"
)

// portal2FS holds the script and stylesheet the Create, Migrations,
// Scorecards and Audit pages add to the foundation's: only those pages
// load them, so a first load of any other page is unchanged.
//
//go:embed portal2/*
var portal2FS embed.FS

// portal2Prefix is where they are served.
const portal2Prefix = "/ui/portal2/"

func init() {
	Register(Page{Pattern: "GET " + portal2Prefix + "{name}", Section: "home",
		Permission: permission.CatalogEntityRead, Method: servePortal2Asset})
	funcs["portal2"] = portal2URL
}

// portal2Assets reads and compresses the files once.
var portal2Assets = sync.OnceValues(func() (map[string]*asset, error) {
	return readAssets(portal2FS, "portal2")
})

// portal2URL is the versioned URL of one of the files.
func portal2URL(name string) string {
	files, _ := portal2Assets()
	if f := files[name]; f != nil {
		return portal2Prefix + name + "?v=" + f.hash
	}
	return portal2Prefix + name
}

// Portal2Bytes returns the bytes of JavaScript and CSS the Create,
// Migrations, Scorecards and Audit pages load beyond a first load's,
// gzipped as served, and uncompressed.
func Portal2Bytes() (gzipped, raw int) {
	files, _ := portal2Assets()
	for _, f := range files {
		gzipped += len(f.gz)
		raw += len(f.body)
	}
	return gzipped, raw
}

// servePortal2Asset answers one of the files, gzipped when the client
// takes it; a versioned URL is cached for a year.
func servePortal2Asset(_ *Server, w http.ResponseWriter, r *Request) error {
	files, err := portal2Assets()
	if err != nil {
		return err
	}
	f := files[r.PathValue("name")]
	if f == nil {
		http.NotFound(w, r.Request)
		return nil
	}
	f.serve(w, r.Request)
	return nil
}
