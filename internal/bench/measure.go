package bench

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"backlot.dev/backlot/internal/bench/gen"
)

func measure(c *http.Client, n int, next func() string) (Latency, error) {
	// Warm up.
	for i := 0; i < 5; i++ {
		if err := GetJSON(c, next(), nil); err != nil {
			return Latency{}, err
		}
	}
	ds := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		u := next()
		t := time.Now()
		if err := GetJSON(c, u, nil); err != nil {
			return Latency{}, err
		}
		ds = append(ds, float64(time.Since(t).Microseconds())/1000)
	}
	return percentiles(ds), nil
}

func percentiles(ds []float64) Latency {
	sort.Float64s(ds)
	at := func(p float64) float64 {
		if len(ds) == 0 {
			return 0
		}
		i := int(p*float64(len(ds))+0.5) - 1
		return ds[max(0, min(i, len(ds)-1))]
	}
	return Latency{P50: at(0.50), P95: at(0.95), P99: at(0.99), N: len(ds)}
}

// measureChanges edits entities in their files, asks for a refresh of each, and
// measures the time from the refresh request until a reader sees the new version.
func measureChanges(c *http.Client, base, catDir string, seed int64, k int) (Latency, error) {
	var ds []float64
	for i := 0; i < k; i++ {
		// One edit at a time: a refresh re-reads the whole location, so edits made
		// together would all become visible with the first refresh.
		refs, err := gen.Edit(catDir, seed+1+int64(i), 1)
		if err != nil {
			return Latency{}, err
		}
		ref := refs[0]
		old, err := etagOf(c, base, ref)
		if err != nil {
			return Latency{}, err
		}
		t := time.Now()
		body := strings.NewReader(fmt.Sprintf(`{"entityRef":%q}`, ref))
		resp, err := c.Post(base+"/api/catalog/refresh", "application/json", body)
		if err != nil {
			return Latency{}, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return Latency{}, fmt.Errorf("refresh %s: %s", ref, resp.Status)
		}
		for {
			cur, err := etagOf(c, base, ref)
			if err != nil {
				return Latency{}, err
			}
			if cur != old {
				break
			}
			if time.Since(t) > 30*time.Second {
				return Latency{}, fmt.Errorf("the edit of %s was not visible after 30s", ref)
			}
			time.Sleep(5 * time.Millisecond)
		}
		ds = append(ds, float64(time.Since(t).Microseconds())/1000)
	}
	return percentiles(ds), nil
}

func etagOf(c *http.Client, base, ref string) (string, error) {
	kind, rest, _ := strings.Cut(ref, ":")
	ns, name, _ := strings.Cut(rest, "/")
	var e struct {
		Metadata struct {
			Etag string `json:"etag"`
		} `json:"metadata"`
	}
	err := GetJSON(c, base+"/api/catalog/entities/by-name/"+url.PathEscape(kind)+"/"+url.PathEscape(ns)+"/"+url.PathEscape(name), &e)
	return e.Metadata.Etag, err
}
