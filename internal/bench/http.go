package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// GetJSON GETs u and decodes its JSON answer into v (discards it when v is
// nil); a status other than 200 is an error naming the URL.
func GetJSON(c *http.Client, u string, v any) error {
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

// TotalItems answers the number of entities the catalog holds.
func TotalItems(c *http.Client, base string) (int, error) {
	var page struct {
		TotalItems int `json:"totalItems"`
	}
	err := GetJSON(c, base+"/api/catalog/entities/by-query?limit=1", &page)
	return page.TotalItems, err
}

// componentNames answers the names of up to n components.
func componentNames(c *http.Client, base string, n int) ([]string, error) {
	return namesOf(c, base, "component", n)
}

// namesOf answers the names of up to n entities of kind; none is an error.
func namesOf(c *http.Client, base, kind string, n int) ([]string, error) {
	var ents []struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := GetJSON(c, fmt.Sprintf("%s/api/catalog/entities?filter=kind=%s&fields=metadata.name&limit=%d", base, kind, n), &ents); err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Metadata.Name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s entities found", kind)
	}
	return out, nil
}
