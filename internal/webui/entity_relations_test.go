package webui

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"backlot.dev/backlot/projections/catalogstore"
)

// TestAGroupsPageListsAFewOfWhatItOwns: the entity page of a group that
// owns 110 components and an API lists maxListedRelations of them, says how many more,
// and links to the catalog filtered by the group, which lists them.
func TestAGroupsPageListsAFewOfWhatItOwns(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 4400, Config{}) // team-0 owns one component in 40: 110
	code, body := f.get(t, "/catalog/default/group/team-0")
	if code != 200 {
		t.Fatalf("GET the group's page: %d", code)
	}
	if n := strings.Count(body, "<tr><td>ownerOf</td>"); n != maxListedRelations {
		t.Errorf("the group's page lists %d ownerOf relations, want %d", n, maxListedRelations)
	}
	m := regexp.MustCompile(`data-relations-more="ownerOf">And (\d+) more ownerOf: <a href="([^"]+)">`).FindStringSubmatch(body)
	if m == nil || m[1] != "11" {
		t.Fatalf("the page does not say 11 more ownerOf (110 components and an API):\n%s", excerpt(body, "</summary>"))
	}
	if !strings.Contains(body, "The relations as a list (") {
		t.Errorf("the list's summary does not say it is a part:\n%s", excerpt(body, "<summary>"))
	}
	link := strings.ReplaceAll(m[2], "&amp;", "&")
	code, list := f.get(t, link)
	if code != 200 || !strings.Contains(list, `aria-label="111 entities"`) && !strings.Contains(list, ">111<") {
		t.Errorf("GET %s: %d, does not count the group's 111 entities:\n%s", link, code, excerpt(list, "111"))
	}
}

// readsCounted is a catalog that records how the entity page reads: which
// keys ByKeys was asked, and the caps ByKeyCapped was.
type readsCounted struct {
	catalogstore.Store
	mu     sync.Mutex
	byKeys []string
	caps   []int
}

func (r *readsCounted) ByKeys(ctx context.Context, keys []string) ([]*catalogstore.EntityView, error) {
	r.mu.Lock()
	r.byKeys = append(r.byKeys, keys...)
	r.mu.Unlock()
	return r.Store.ByKeys(ctx, keys)
}

func (r *readsCounted) ByKeyCapped(ctx context.Context, key string, perType int) (*catalogstore.EntityView, map[string]int, error) {
	r.mu.Lock()
	r.caps = append(r.caps, perType)
	r.mu.Unlock()
	return r.Store.(catalogstore.CappedReader).ByKeyCapped(ctx, key, perType)
}

// TestAGroupsPageReadsNoMoreThanItLists: the entity page reads the group
// with its relations capped at what it lists (maxListedRelations of each
// type, and their counts), never whole, and still says how many it left
// out.
func TestAGroupsPageReadsNoMoreThanItLists(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 4400, Config{})
	counted := &readsCounted{Store: f.cat}
	f.srv.cfg.Catalog = counted
	code, body := f.get(t, "/catalog/default/group/team-0")
	if code != 200 {
		t.Fatalf("GET the group's page: %d", code)
	}
	if slices.Contains(counted.byKeys, "group:default/team-0") {
		t.Error("the group's page read the group whole (ByKeys)")
	}
	if !slices.Equal(counted.caps, []int{maxListedRelations}) {
		t.Errorf("the group's page read it capped at %v, want once at %d", counted.caps, maxListedRelations)
	}
	if n := strings.Count(body, "<tr><td>ownerOf</td>"); n != maxListedRelations {
		t.Errorf("the group's page lists %d ownerOf relations, want %d", n, maxListedRelations)
	}
	if !strings.Contains(body, `data-relations-more="ownerOf">And 11 more ownerOf`) {
		t.Errorf("the page does not say 11 more ownerOf:\n%s", excerpt(body, "data-relations-more"))
	}
	if !strings.Contains(body, "The relations as a list (101 of 112)") {
		t.Errorf("the list's summary does not count the group's 112 relations (111 ownerOf and a hasMember):\n%s", excerpt(body, "<summary>"))
	}
}
