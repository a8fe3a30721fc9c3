package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"

	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/internal/client"
	"backlot.dev/backlot/internal/httpapi"
	"backlot.dev/backlot/projections/catalogstore/sqlitecatalog"
)

// readOnly is a Writer that refuses every change.
type readOnly struct{}

var errReadOnly = errors.New("this catalog is read-only")

func (readOnly) RegisterLocation(context.Context, string, string, string, bool) (catalogsvc.LocationResult, error) {
	return catalogsvc.LocationResult{}, errReadOnly
}
func (readOnly) RemoveLocation(context.Context, string, string) error    { return errReadOnly }
func (readOnly) DeleteEntityByUID(context.Context, string, string) error { return errReadOnly }
func (readOnly) Refresh(context.Context, string, string) error           { return errReadOnly }
func (readOnly) ValidateEntity(context.Context, string, map[string]any) error {
	return errReadOnly
}

func ExampleNew() {
	dir, err := os.MkdirTemp("", "backlot-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := sqlitecatalog.Open(filepath.Join(dir, "catalog.db"), sqlitecatalog.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// Without an authenticator every request acts as the guest, here a
	// member of the platform group, which the default permission policy
	// lets register locations.
	guest := &auth.Principal{Ref: "user:default/guest", Groups: []string{"group:default/platform"}}
	h, err := httpapi.New(httpapi.Config{Reader: store, Writer: readOnly{}, Guest: guest})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	c := client.New(srv.URL, srv.Client())
	_, err = c.EntityByRef(context.Background(), "component:default/checkout")
	fmt.Println(client.IsNotFound(err))
	fmt.Println(err)
	_, err = c.AddLocation(context.Background(), "url", "https://example.com/catalog-info.yaml", false)
	fmt.Println(err)
	// Output:
	// true
	// NotFoundError (HTTP 404): No entity named 'checkout' found, with kind 'component' in namespace 'default'
	// Error (HTTP 500): this catalog is read-only
}
