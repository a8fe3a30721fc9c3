package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/internal/ingest"
	"backlot.dev/backlot/internal/ingest/gitsource"
	"backlot.dev/backlot/workflows/netguard"
)

// newIngestReader returns the reader of locations: file locations under the
// working directory, roots and the folders of catalogs; url locations on
// allowedHosts at the addresses guard allows, cloned into gitCache; the
// built-in kinds and extraKinds.
func newIngestReader(gitCache string, extraRoots, catalogs, allowedHosts []string, limits catalog.Limits, extraKinds []string, guard *netguard.Guard) (*ingest.Reader, error) {
	kinds, err := catalog.NewKinds(extraKinds)
	if err != nil {
		return nil, fmt.Errorf("--catalog-extra-kinds: %w", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	rootDirs := append([]string{wd}, extraRoots...)
	for _, c := range catalogs {
		if strings.Contains(c, "://") {
			continue // a url location: read through git, not from a folder
		}
		abs, err := filepath.Abs(c)
		if err != nil {
			return nil, err
		}
		rootDirs = append(rootDirs, filepath.Dir(abs))
	}
	roots, err := ingest.NewRoots(rootDirs)
	if err != nil {
		return nil, err
	}
	git, err := gitsource.NewReader(gitsource.Options{
		CacheDir:     gitCache,
		AllowedHosts: allowedHosts,
		AllowedRoots: roots.Dirs(),
		MaxFileBytes: limits.WithDefaults().MaxFileBytes,
		Guard:        guard,
	})
	if err != nil {
		return nil, err
	}
	return ingest.NewReader(ingest.Config{Roots: roots, Git: git, Limits: limits, Kinds: kinds}), nil
}

// newGuard returns the guard of every outbound call made for a user
// (webhook deliveries, git host APIs, url locations): public addresses, and
// the networks, addresses and host names of allow.
func newGuard(allow []string) (*netguard.Guard, error) {
	g, err := netguard.New(netguard.Config{Allow: netguard.SplitList(allow...)})
	if err != nil {
		return nil, fmt.Errorf("allowed networks (--allow-network): %w", err)
	}
	return g, nil
}
