package webui

import (
	"regexp"
	"strings"
	"testing"
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
