package scaffolder

// extraActions are the built-in actions of their own files beyond the
// GitHub and GitLab ones (fetch:cookiecutter).
func extraActions() []Action { return nil }
