// Package httpapi serves Backstage's catalog REST API under /api/catalog, so the
// published @backstage/catalog-client package, the Backstage frontend and Backlot's
// own CLI can read and change the catalog.
//
// New builds the handler from a catalogstore.Reader, which answers every read, and
// a Writer, which performs every change (locations, deletes, refreshes,
// validation). Besides /api/catalog the handler serves /healthz, /readyz and
// /metrics, and counts every request by route pattern and status.
//
// Every error is answered with Backstage's error body:
//
//	{"error":{"name":"NotFoundError","message":"..."},
//	 "request":{"method":"GET","url":"/api/catalog/..."},
//	 "response":{"statusCode":404}}
//
// Client is a small Go client for the same API.
package httpapi
