package catalogsvc

import (
	"context"

	"backlot.dev/backlot/domain/catalog"
)

// ValidateEntity validates a body as Backlot would when reading it.
func (s *Service) ValidateEntity(_ context.Context, _ string, entity map[string]any) error {
	_, err := catalog.NewEntity(entity)
	return err
}
