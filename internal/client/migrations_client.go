package client

import (
	"context"
	"net/http"
	"net/url"
)

// MigrationPlan is what POST /api/migrations answers.
type MigrationPlan struct {
	ID       string             `json:"id"`
	Name     string             `json:"name"`
	DryRun   bool               `json:"dryRun"`
	Targets  []string           `json:"targets"`
	Skipped  []MigrationSkipped `json:"skipped"`
	Previews []MigrationPreview `json:"previews"`
}

// StartMigration sends a migration spec (JSON) to run, or with
// dryRun to preview.
func (c *Client) StartMigration(ctx context.Context, spec []byte, dryRun bool) (MigrationPlan, error) {
	var out MigrationPlan
	path := "/api/migrations"
	if dryRun {
		path += "?dryRun=true"
	}
	err := c.apiRaw(ctx, http.MethodPost, path, "application/json", spec, &out)
	return out, err
}

// Migration reads a migration's progress.
func (c *Client) Migration(ctx context.Context, id string) (MigrationReport, error) {
	var out MigrationReport
	err := c.apiJSON(ctx, http.MethodGet, "/api/migrations/"+url.PathEscape(id), nil, &out)
	return out, err
}

// Migrations lists the migrations.
func (c *Client) Migrations(ctx context.Context) ([]MigrationReport, error) {
	var out struct {
		Items []MigrationReport `json:"items"`
	}
	err := c.apiJSON(ctx, http.MethodGet, "/api/migrations", nil, &out)
	return out.Items, err
}

// ControlMigration sends pause, resume, cancel, retry-failed or close-prs.
func (c *Client) ControlMigration(ctx context.Context, id, op string) error {
	return c.apiJSON(ctx, http.MethodPost, "/api/migrations/"+url.PathEscape(id)+"/"+op, nil, nil)
}
