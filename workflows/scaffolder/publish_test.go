package scaffolder_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"backlot.dev/backlot/internal/testenv/fixtures"
	"backlot.dev/backlot/workflows/githost"
	"backlot.dev/backlot/workflows/scaffolder"
)

// TestPublishLocalTwiceMakesOneRepositoryAndOneCommit renders the Gin
// fixture's skeleton into a workspace and publishes it twice, as a retried
// activity would.
func TestPublishLocalTwiceMakesOneRepositoryAndOneCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host, err := githost.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := scaffolder.Workspace{Dir: t.TempDir()}
	values := map[string]any{"component_id": "ledger", "owner": "team-a", "destination": map[string]any{"owner": "northwind", "repo": "ledger"}}
	if _, err := scaffolder.FetchTemplate(w, filepath.Join(fixtures.Template("gin-service"), "skeleton"), ".", values, nil); err != nil {
		t.Fatal(err)
	}
	in := scaffolder.PublishInput{RepoURL: "local?owner=northwind&repo=ledger", Description: "The ledger", Author: "Ada <ada@example.com>"}
	first, err := scaffolder.PublishLocal(ctx, host, w, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := scaffolder.PublishLocal(ctx, host, w, in)
	if err != nil || again != first {
		t.Fatalf("second publish: %+v %v, want %+v", again, err, first)
	}
	if !strings.HasPrefix(first.RemoteURL, "file://") || !strings.HasSuffix(first.RepoContentsURL, "?ref=main") || len(first.CommitHash) != 40 {
		t.Fatalf("output: %+v", first)
	}
	if repos, _ := host.Repos(ctx); len(repos) != 1 {
		t.Fatalf("%d repositories", len(repos))
	}
	for _, bad := range []string{"github.com?owner=a&repo=b", "local?repo=b", "nothing"} {
		if _, err := scaffolder.PublishLocal(ctx, host, w, scaffolder.PublishInput{RepoURL: bad}); err == nil {
			t.Errorf("%q published", bad)
		}
	}
}
