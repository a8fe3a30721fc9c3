package webui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
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
	out := map[string]*asset{}
	err := fs.WalkDir(portal2FS, "portal2", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := portal2FS.ReadFile(p)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(body); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		out[path.Base(p)] = &asset{body: body, gz: buf.Bytes(), hash: hex.EncodeToString(sum[:6]), ctype: mime.TypeByExtension(path.Ext(p))}
		return nil
	})
	return out, err
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
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Vary", "Accept-Encoding")
	h.Set("ETag", `"`+f.hash+`"`)
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if r.Header.Get("If-None-Match") == `"`+f.hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	body := f.body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	_, _ = w.Write(body)
	return nil
}
