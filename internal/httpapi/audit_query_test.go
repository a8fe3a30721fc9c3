package httpapi

import "backlot.dev/backlot/internal/audit"

// eventQuery is the query the audit log's Events takes.
type eventQuery = audit.EventQuery
