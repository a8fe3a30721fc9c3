package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"backlot.dev/backlot/internal/temporalsrv"
)

// freePort returns a free loopback port below the kernel's ephemeral range.
func freePort() (int, error) { return temporalsrv.FreePort("127.0.0.1") }

// getJSON GETs u and decodes its JSON answer into v (discards it when v is
// nil); a status other than 200 is an error.
func getJSON(c *http.Client, u string, v any) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	if v == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// totalItems answers the catalog's entity count.
func totalItems(c *http.Client, base string) (int, error) {
	var page struct {
		TotalItems int `json:"totalItems"`
	}
	err := getJSON(c, base+"/api/catalog/entities/by-query?limit=1", &page)
	return page.TotalItems, err
}
