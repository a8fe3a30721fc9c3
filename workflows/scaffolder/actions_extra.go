package scaffolder

import (
	"context"
	"path/filepath"
)

// extraActions are the built-in actions of their own files beyond the
// GitHub and GitLab ones (fetch:cookiecutter, fetch:rails).
func extraActions() []Action {
	return []Action{
		{ID: "fetch:cookiecutter", Description: "Renders a cookiecutter template (a folder beside the template) with cookiecutter, in the scripts' sandbox, into the workspace",
			Schema: map[string]any{"input": sObj([]string{"url", "values"}, schemaProps{
				"url":               sStr("Fetch URL", "Relative path or absolute URL pointing to the directory tree to fetch"),
				"targetPath":        sStr("Target Path", "Target path within the working directory to download the contents to."),
				"values":            map[string]any{"type": "object", "title": "Template Values", "description": "Values to pass on to cookiecutter for templating"},
				"copyWithoutRender": sStrs("Copy Without Render", "Avoid rendering directories and files in the template"),
				"extensions":        sStrs("Template Extensions", "Jinja2 extensions to add filters, tests, globals or extend the parser. Extensions must be installed on the worker"),
				"imageName":         sStr("Cookiecutter Docker image", "Not used: Backlot runs cookiecutter from the worker, sandboxed"),
			})},
			Run: fetchCookiecutter, DryRun: sandboxedDry("cookiecutter"), Shapes: true},
		{ID: "fetch:rails", Description: "Runs rails new, with an application template from a folder beside the template, in the scripts' sandbox (no network: bundle install is skipped)",
			Schema: map[string]any{"input": sObj([]string{"url"}, schemaProps{
				"url":        sStr("Fetch URL", "Relative path or absolute URL pointing to the directory tree to fetch"),
				"targetPath": sStr("Target Path", "Target path within the working directory to download the contents to."),
				"values": map[string]any{"type": "object", "title": "Template Values", "description": "Values to pass on to rails for templating",
					"properties": schemaProps{"name": sStr("Application name", ""), "railsArguments": sObj(nil, schemaProps{
						"minimal": sBool("minimal", "Preconfigure a minimal rails app"), "skipBundle": sBool("skipBundle", "Don't run bundle install (always so in Backlot)"),
						"skipWebpackInstall": sBool("skipWebpackInstall", "Don't run Webpack install"), "skipTest": sBool("skipTest", "Skip test files"),
						"skipActionCable": sBool("skipActionCable", "Skip Action Cable files"), "skipActionMailer": sBool("skipActionMailer", "Skip Action Mailer files"),
						"skipActionMailbox": sBool("skipActionMailbox", "Skip Action Mailbox gem"), "skipActiveStorage": sBool("skipActiveStorage", "Skip Active Storage files"),
						"skipActionText": sBool("skipActionText", "Skip Action Text gem"), "skipActiveRecord": sBool("skipActiveRecord", "Skip Active Record files"),
						"force": sBool("force", "Overwrite files that already exist"), "api": sBool("api", "Preconfigure smaller stack for API only apps"),
						"template":     sStr("template", "Path to some application template, inside the fetched folder"),
						"webpacker":    sEnum("webpacker", "Preconfigure Webpack with a particular framework", "react", "vue", "angular", "elm", "stimulus"),
						"database":     sEnum("database", "Preconfigure for selected database", "mysql", "postgresql", "sqlite3", "oracle", "sqlserver", "jdbcmysql", "jdbcsqlite3", "jdbcpostgresql", "jdbc"),
						"railsVersion": sEnum("Rails version in Gemfile", "Set up the application with Gemfile pointing to a specific version", "dev", "edge", "master", "fromImage"),
					})}},
				"imageName": sStr("Rails Docker image", "Not used: Backlot runs rails from the worker, sandboxed"),
			})},
			Run: fetchRails, DryRun: sandboxedDry("rails new"), Shapes: true},
	}
}

// sandboxedDry is the dry run of an action that runs a program in the
// sandbox: a dry run runs in the API's process, and user code (a
// cookiecutter hook, a Rails application template) runs only on workers,
// so the preview checks the url and says what would run.
func sandboxedDry(program string) ActionFunc {
	return func(_ context.Context, _ *Activities, r *Run) error {
		src, err := source(r)
		if err != nil {
			return err
		}
		r.Logf("Dry run: would run %s on %s (it runs only on workers, sandboxed)", program, filepath.Base(src))
		return nil
	}
}
