package catalogsvc

import "context"

// ValidateEntity validates a body as Backlot would when reading it, with
// the kinds the catalog accepts.
func (s *Service) ValidateEntity(_ context.Context, _ string, entity map[string]any) error {
	_, err := s.cfg.Reader.Kinds().NewEntity(entity)
	return err
}
