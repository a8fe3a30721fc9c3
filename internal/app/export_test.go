package app

import (
	"context"

	"backlot.dev/backlot/internal/codepages"
)

// LogHead returns the position of the last event of the log. It is defined
// for the package's tests alone, so the product does not carry it.
func (d *Dev) LogHead(ctx context.Context) (int64, error) { return d.log.Head(ctx) }

// PostgresURL returns the URL of the read models' database. It is defined for
// the package's tests alone.
func (s *Server) PostgresURL() string { return s.cfg.PostgresURL }

// DevPageCacheKiB is the size of dev's shared page cache (devPageCacheKiB),
// for the package's tests alone.
const DevPageCacheKiB = devPageCacheKiB

// CodeReleased is what StartDev's release of the start-up code's pages did,
// for the package's tests alone.
func (d *Dev) CodeReleased() codepages.Released { return d.codeReleased }
