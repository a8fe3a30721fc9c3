// Package compat holds compatibility tests that drive a running Backlot with
// clients written for Backstage: catalogclient runs the published
// @backstage/catalog-client npm package against `backlot dev`.
package compat
