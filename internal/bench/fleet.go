package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"backlot.dev/backlot/workflows/githost"
)

// MakeFleetRepos creates n repositories team-a/svc-NNN on the local git host
// under repos, each with a README, and writes catalogFile with their
// components, each naming its repository in backstage.io/source-location.
// progress, when not nil, is called after every hundredth repository. The
// migration bench and the migration tests share this fleet.
func MakeFleetRepos(ctx context.Context, repos, catalogFile string, n int, progress func(done int)) error {
	host, err := githost.NewLocal(repos)
	if err != nil {
		return err
	}
	src, err := os.MkdirTemp("", "backlot-fleet-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(src)
	var docs []string
	for i := range n {
		name := fmt.Sprintf("svc-%03d", i)
		dir := filepath.Join(src, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("# "+name+"\n"), 0o644); err != nil {
			return err
		}
		r, err := host.CreateRepo(ctx, "team-a", name, "main", "")
		if err != nil {
			return err
		}
		if _, err := host.Publish(ctx, r, dir, "Initial commit", ""); err != nil {
			return err
		}
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\n  annotations:\n"+
			"    backstage.io/source-location: url:%s?ref=main\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/team-a\n", name, r.RemoteURL))
		if progress != nil && (i+1)%100 == 0 {
			progress(i + 1)
		}
	}
	return os.WriteFile(catalogFile, []byte(strings.Join(docs, "---\n")), 0o644)
}
