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
)

//go:embed assets/*
var assetFS embed.FS

// assetPrefix is where the embedded assets are served.
const assetPrefix = "/ui/assets/"

// asset is one embedded file, with its gzipped form and a short hash of its
// content that its URL carries, so browsers may cache it for good.
type asset struct {
	body, gz []byte
	hash     string
	ctype    string
}

// assetSet is the embedded assets by file name.
type assetSet struct{ files map[string]*asset }

// loadAssets reads and compresses the embedded assets once.
func loadAssets() (*assetSet, error) {
	files, err := readAssets(assetFS, "assets")
	return &assetSet{files: files}, err
}

// readAssets reads every file under dir of fsys, gzips it and hashes it,
// keyed by file name.
func readAssets(fsys embed.FS, dir string) (map[string]*asset, error) {
	files := map[string]*asset{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fsys.ReadFile(p)
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
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		files[path.Base(p)] = &asset{body: body, gz: buf.Bytes(), hash: hex.EncodeToString(sum[:6]), ctype: ctype}
		return nil
	})
	return files, err
}

// url is the versioned URL of the named asset.
func (a *assetSet) url(name string) string {
	f := a.files[name]
	if f == nil {
		return assetPrefix + name
	}
	return assetPrefix + name + "?v=" + f.hash
}

// FirstLoadBytes returns the bytes a first page load transfers of the
// portal's JavaScript and CSS, gzipped as served, and uncompressed.
func (s *Server) FirstLoadBytes() (gzipped, raw int) {
	for name, f := range s.assets.files {
		if strings.HasSuffix(name, ".js") || strings.HasSuffix(name, ".css") {
			gzipped += len(f.gz)
			raw += len(f.body)
		}
	}
	return gzipped, raw
}

// serveAsset answers an embedded asset, gzipped when the client takes it;
// a versioned URL is cached for a year.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	f := s.assets.files[r.PathValue("name")]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	f.serve(w, r)
}

// serve writes the asset, gzipped when the client takes it; a versioned
// URL (one whose v is the asset's hash) is cached for a year, and a
// request naming its ETag is answered 304.
func (f *asset) serve(w http.ResponseWriter, r *http.Request) {
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
		return
	}
	body := f.body
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	_, _ = w.Write(body)
}
