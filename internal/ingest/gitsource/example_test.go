package gitsource_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"backlot.dev/backlot/internal/ingest/gitsource"
)

func ExampleParseTarget() {
	t, err := gitsource.ParseTarget("https://github.com/acme/shop/tree/main/services/cart")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.CloneURL)
	fmt.Println(t.Host, t.Ref, t.Path)
	fmt.Println(t)

	local, err := gitsource.ParseTarget("file:///srv/repos/shop?ref=main&path=services/cart/")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(local.LocalPath, local.Ref, local.Path)

	_, err = gitsource.ParseTarget("https://github.com/acme/shop/blob/main/../../etc/passwd")
	fmt.Println(err)
	// Output:
	// https://github.com/acme/shop
	// github.com main services/cart/catalog-info.yaml
	// https://github.com/acme/shop/blob/main/services/cart/catalog-info.yaml
	// /srv/repos/shop main services/cart/catalog-info.yaml
	// gitsource: invalid target "https://github.com/acme/shop/blob/main/../../etc/passwd": the URL path must not contain ".."
}

func ExampleTarget_Join() {
	t, _ := gitsource.ParseTarget("https://gitlab.com/acme/shop/-/blob/main/services/cart/catalog-info.yaml")
	api, _ := t.Join("./openapi.yaml")
	fmt.Println(api)
	_, err := t.Join("../../../secrets.yaml")
	fmt.Println(err)
	// Output:
	// https://gitlab.com/acme/shop/-/blob/main/services/cart/openapi.yaml
	// gitsource: invalid target "../../../secrets.yaml": leaves the repository (relative to services/cart/catalog-info.yaml)
}

func ExampleReader_Read() {
	r, err := gitsource.NewReader(gitsource.Options{
		CacheDir:     "/var/cache/backlot/git",
		AllowedHosts: []string{"github.com"},
		Timeout:      time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	t, err := gitsource.ParseTarget("https://github.com/acme/shop/blob/main/catalog-info.yaml")
	if err != nil {
		log.Fatal(err)
	}
	f, err := r.Read(ctx, t)
	var notAllowed *gitsource.NotAllowedError
	var notFound *gitsource.NotFoundError
	switch {
	case errors.As(err, &notAllowed):
		log.Fatalf("403: %v", err)
	case errors.As(err, &notFound):
		log.Fatalf("404: %v", err)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Printf("%s at %s, last changed by %s in %s\n", f.URL, f.HeadSHA, f.Commit.Author, f.Commit.SHA)

	// A $text: ./openapi.yaml placeholder, read from the same commit: Join
	// refuses a path that leaves the repository.
	rel, err := f.Target.Join("./openapi.yaml")
	if err != nil {
		log.Fatal(err)
	}
	api, err := r.Read(ctx, rel)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(api.Content))
}
