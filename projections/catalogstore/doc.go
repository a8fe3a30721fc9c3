// Package catalogstore is the catalog read model: entities with their relations in
// both directions and status items, registered locations and their processing
// errors, and a key/value search table behind Backstage's filters, ordering and
// facets. Store is the port; the SQLite adapter lives in this package and the
// Projector applies the event log to any Store.
package catalogstore
