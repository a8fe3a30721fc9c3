package repocollect

import (
	"bytes"
	"context"
	"encoding/json"
	"path"
	"path/filepath"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/internal/collect"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/internal/ingest/gitsource"
	"backlot.dev/backlot/projections/catalogstore"
)

// maxRepoFiles bounds the paths listed of one repository for its facts.
const maxRepoFiles = 50_000

// New returns the collector that reports facts.repo for entities whose descriptor is a
// catalog-info file: of the folder it is in, under the reader's roots, or of
// the git repository (or the repository's folder it is in) of a url location,
// at the commit it was read.
// Entities of shared catalog files (all.yaml, components.yaml) have no
// repository of their own and get no facts.repo. A folder outside the
// reader's roots is an error naming it.
func New(reader *ingest.Reader) badging.RepoCollector {
	return func(ctx context.Context, v *catalogstore.EntityView, commit string) (map[string]any, error) {
		files, ok, err := repoFiles(ctx, reader, managedByOf(v.Body), commit)
		if err != nil || !ok {
			return nil, err
		}
		return collect.RepoFacts(files), nil
	}
}

// repoFiles lists the files of the repository whose descriptor managedBy
// (type:target) names: the folder of a catalog-info file under the reader's
// roots, or the git repository (or the repository's folder it is in) of a
// url location at commit, its head when commit is "". ok is false for a
// descriptor that is not a repository's (a shared catalog file) or a url
// when git is off.
func repoFiles(ctx context.Context, reader *ingest.Reader, managedBy, commit string) (files []string, ok bool, err error) {
	switch {
	case strings.HasPrefix(managedBy, "file:"):
		p := strings.TrimPrefix(strings.TrimPrefix(managedBy, "file:"), "//")
		if !isRepoDescriptor(filepath.Base(p)) {
			return nil, false, nil
		}
		dir, err := reader.Roots().Check(filepath.Dir(p))
		if err != nil {
			return nil, false, err
		}
		files, err := collect.DirFiles(dir, maxRepoFiles)
		if err != nil {
			return nil, false, err
		}
		return files, true, nil
	case strings.HasPrefix(managedBy, "url:") && reader.Git() != nil:
		// commit "" reads the ref's head: the repository changed since
		// the entity was read (a merged migration).
		target := strings.TrimPrefix(managedBy, "url:")
		t, err := gitsource.ParseTarget(target)
		if err != nil || !isRepoDescriptor(path.Base(t.Path)) {
			return nil, false, err
		}
		files, err := reader.Git().ListFiles(ctx, target, commit, maxRepoFiles)
		if err != nil {
			return nil, false, err
		}
		// A descriptor in a folder of a monorepo speaks for that folder.
		if dir := path.Dir(t.Path); dir != "." {
			files = underFolder(files, dir)
		}
		return files, true, nil
	}
	return nil, false, nil
}

// underFolder returns the paths below dir, relative to it.
func underFolder(paths []string, dir string) []string {
	var out []string
	for _, p := range paths {
		if rest, ok := strings.CutPrefix(p, dir+"/"); ok {
			out = append(out, rest)
		}
	}
	return out
}

// isRepoDescriptor reports whether a descriptor file's name marks the root of
// a repository (catalog-info.yaml and its variants).
func isRepoDescriptor(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "catalog-info")
}

// managedByOf returns an entity body's backstage.io/managed-by-location, ""
// when its location cannot be a repository's descriptor: a body that holds
// "catalog-info" in no case and no escape (\u) is not decoded, as a full
// evaluation reads every entity of the catalog and most come from shared
// catalog files.
func managedByOf(body json.RawMessage) string {
	if !bytes.Contains(body, []byte(`\u`)) && !containsFold(body, "catalog-info") {
		return ""
	}
	var b struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(body, &b)
	return b.Metadata.Annotations[catalog.AnnotationManagedByLocation]
}

// containsFold reports whether b holds the lower-case ASCII word w in any case.
func containsFold(b []byte, w string) bool {
	for i := 0; i+len(w) <= len(b); i++ {
		j := 0
		for j < len(w) && b[i+j]|0x20 == w[j] {
			j++
		}
		if j == len(w) {
			return true
		}
	}
	return false
}
