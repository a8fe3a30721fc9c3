package scaffolder

// extraActions are the built-in actions of their own files beyond the
// GitHub and GitLab ones (fetch:cookiecutter).
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
			Run: fetchCookiecutter, Shapes: true},
	}
}
