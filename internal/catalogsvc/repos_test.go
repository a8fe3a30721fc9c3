package catalogsvc_test

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/catalogsvc"
)

// fakeRepos records the entities each refresh hands it; with filter it is a
// RepoFilter watching catalog-info files only.
type fakeRepos struct {
	mu   sync.Mutex
	keys []string
}

func (f *fakeRepos) Refreshed(_ context.Context, ents []catalogsvc.RepoEntity) ([]event.Envelope, func(), error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = f.keys[:0]
	for _, e := range ents {
		f.keys = append(f.keys, e.Key)
	}
	sort.Strings(f.keys)
	return nil, func() {}, nil
}

func (f *fakeRepos) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.keys)
}

type filteringRepos struct{ fakeRepos }

func (f *filteringRepos) Watches(managedBy string) bool {
	return strings.HasPrefix(filepath.Base(managedBy), "catalog-info")
}

// TestRefreshListsOnlyWatchedFilesForTheRepoWatcher refreshes a location of
// two files, one a repository's descriptor: a watcher that filters files is
// handed the entities of that file alone, one that does not every kept entity.
func TestRefreshListsOnlyWatchedFilesForTheRepoWatcher(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		repos interface {
			catalogsvc.RepoWatcher
			seen() []string
		}
		want []string
	}{
		{"filtering watcher", &filteringRepos{}, []string{"component:default/in-repo"}},
		{"watcher of everything", &fakeRepos{}, []string{"component:default/in-list", "component:default/in-repo", "location:default/root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnvWith(t, func(c *catalogsvc.Config) { c.Repos = tt.repos })
			e.write(t, "catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: in-repo}\nspec: {type: service, owner: team-a, lifecycle: production}\n")
			e.write(t, "list.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: in-list}\nspec: {type: service, owner: team-a, lifecycle: production}\n")
			root := e.write(t, "all.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: root}\nspec: {targets: [./catalog-info.yaml, ./list.yaml]}\n")
			res, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", root, false)
			if err != nil {
				t.Fatal(err)
			}
			// Nothing changed: every entity is kept, none upserted.
			if _, err := e.svc.RefreshLocation(ctx, res.Location); err != nil {
				t.Fatal(err)
			}
			if got := tt.repos.seen(); !slices.Equal(got, tt.want) {
				t.Fatalf("the watcher was handed %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUpsertedEntitiesAreNotHandedToTheRepoWatcher edits one file of a
// location: the entity the refresh upserts is not handed to the watcher (its
// repository is looked at with the upsert), the entities kept as they were
// are, whether or not the watcher filters files.
func TestUpsertedEntitiesAreNotHandedToTheRepoWatcher(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		repos interface {
			catalogsvc.RepoWatcher
			seen() []string
		}
		want []string
	}{
		{"filtering watcher", &filteringRepos{}, []string{"component:default/in-repo-b"}},
		{"watcher of everything", &fakeRepos{}, []string{"component:default/in-list", "component:default/in-repo-b", "location:default/root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnvWith(t, func(c *catalogsvc.Config) { c.Repos = tt.repos })
			doc := func(name, life string) string {
				return "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: " + name + "}\nspec: {type: service, owner: team-a, lifecycle: " + life + "}\n"
			}
			e.write(t, "catalog-info.yaml", doc("in-repo-a", "production")+"---\n"+doc("in-repo-b", "production"))
			e.write(t, "list.yaml", doc("in-list", "production"))
			root := e.write(t, "all.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: root}\nspec: {targets: [./catalog-info.yaml, ./list.yaml]}\n")
			res, err := e.svc.RegisterLocation(ctx, "user:default/ada", "file", root, false)
			if err != nil {
				t.Fatal(err)
			}
			e.write(t, "catalog-info.yaml", doc("in-repo-a", "deprecated")+"---\n"+doc("in-repo-b", "production"))
			if _, err := e.svc.RefreshLocation(ctx, res.Location); err != nil {
				t.Fatal(err)
			}
			if got := tt.repos.seen(); !slices.Equal(got, tt.want) {
				t.Fatalf("the watcher was handed %v, want %v", got, tt.want)
			}
		})
	}
}
