package httpapi

import (
	"context"
	"net/http"
	"slices"

	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/migratesvc"
	"backlot.dev/backlot/policies/permission"
	"backlot.dev/backlot/workflows/migration"
)

// Migrations runs fleet migrations (package migratesvc on Temporal).
type Migrations interface {
	// Start parses, validates and starts the migration spec (YAML or JSON) as
	// actor; with dryRun it answers the targets and each repository's diff
	// and pushes nothing. The plan is what POST /api/migrations returns.
	Start(ctx context.Context, actor string, spec []byte, dryRun bool) (migratesvc.Plan, error)
	// List lists the migrations, newest first, without their target rows.
	List(ctx context.Context) ([]migration.Report, error)
	// Get answers one migration's progress.
	Get(ctx context.Context, id string) (migration.Report, error)
	// Control pauses, resumes, cancels, retries the failed targets of, or
	// closes the change requests of a migration (op is pause, resume,
	// cancel, retry-failed or close-prs).
	Control(ctx context.Context, actor, id, op string) error
	// Wake tells the running migrations that a change request changed, so
	// the ones that follow it read it now instead of at their next poll.
	Wake(ctx context.Context, h migratesvc.ChangeHook) error
}

// migrationRoutes adds /api/migrations. The git hosts' webhooks that wake
// migrations are served with the git host's routes (githost.go).
func (s *server) migrationRoutes(mux *http.ServeMux) {
	route := func(pattern string, a access, h handlerFunc) { s.route(mux, pattern, a, h) }
	route("POST /api/migrations", needInHandler(permission.MigrationCreate), s.startMigration)
	route("GET /api/migrations", needEach(permission.MigrationRead), s.listMigrations)
	route("GET /api/migrations/{id}", need(permission.MigrationRead, pathResource("Migration", "id")), s.getMigration)
	for _, op := range []string{"pause", "resume", "cancel", "retry-failed", "close-prs"} {
		route("POST /api/migrations/{id}/"+op, need(permission.MigrationControl, pathResource("Migration", "id")), s.controlMigration(op))
	}
}

func (s *server) migrations() (Migrations, error) {
	if s.cfg.Migrations == nil {
		return nil, categoryError(fault.Unavailable, "this server runs no workflows: start backlot dev, or backlot serve with BACKLOT_TEMPORAL_ADDRESS")
	}
	return s.cfg.Migrations, nil
}

// startMigration answers POST /api/migrations[?dryRun=true] with a spec as
// JSON (or YAML) body.
func (s *server) startMigration(w http.ResponseWriter, r *http.Request) error {
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	dry, err := parseBool(q, "dryRun")
	if err != nil {
		return err
	}
	perm := permission.MigrationCreate
	if dry {
		perm = permission.MigrationDryRun
	}
	if err := s.authorize(r, perm, permission.Resource{"kind": "Migration"}); err != nil {
		return err
	}
	m, err := s.migrations()
	if err != nil {
		return err
	}
	raw, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	out, err := m.Start(r.Context(), s.actor(r), raw, dry)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if dry {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
	return nil
}

func (s *server) listMigrations(w http.ResponseWriter, r *http.Request) error {
	m, err := s.migrations()
	if err != nil {
		return err
	}
	list, err := m.List(r.Context())
	if err != nil {
		return err
	}
	if keep := s.readable(r, permission.MigrationRead); keep != nil {
		list = slices.DeleteFunc(list, func(rep migration.Report) bool {
			return !keep(permission.Resource{"kind": "Migration", "ref": rep.ID, "name": rep.Name})
		})
	}
	if list == nil {
		list = []migration.Report{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (s *server) getMigration(w http.ResponseWriter, r *http.Request) error {
	m, err := s.migrations()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	rep, err := m.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *server) controlMigration(op string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		m, err := s.migrations()
		if err != nil {
			return err
		}
		id := r.PathValue("id")
		if err := m.Control(r.Context(), s.actor(r), id, op); err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"id": id, "requested": op})
		return nil
	}
}
