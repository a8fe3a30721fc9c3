package httpapi_test

import (
	"backlot.dev/backlot/internal/badging"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/httpapi"
	"backlot.dev/backlot/internal/migratesvc"
	"backlot.dev/backlot/internal/scaffoldsvc"
	"backlot.dev/backlot/internal/webhooks"
)

// The server declares the interfaces it consumes; the services implement them
// without knowing the server. These assertions keep the two in step.
var (
	_ httpapi.Writer     = (*catalogsvc.Service)(nil)
	_ httpapi.Scaffolder = (*scaffoldsvc.Service)(nil)
	_ httpapi.Migrations = (*migratesvc.Service)(nil)
	_ httpapi.GitHost    = migratesvc.LocalHost{}
	_ httpapi.FactWriter = (*badging.FactService)(nil)
	_ httpapi.Webhooks   = (*webhooks.Manager)(nil)
)
