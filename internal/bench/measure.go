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

// firstWithin bounds the first request of a measurement: a count or facets
// not yet cached is computed on it, over the whole catalog, which a million
// entities on a loaded machine take minutes for.
const firstWithin = 15 * time.Minute

// firstRequest sends the request of next once, with a timeout of
// firstWithin, and answers its duration in milliseconds.
func firstRequest(c *http.Client, next func() string) (float64, error) {
	t := time.Now()
	if err := GetJSON(&http.Client{Transport: c.Transport, Timeout: firstWithin}, next(), nil); err != nil {
		return 0, err
	}
	return float64(time.Since(t).Microseconds()) / 1000, nil
}

// warmUps is how many requests measure sends before those it measures.
const warmUps = 4

// measure sends warmUps requests of next, then n measured ones.
func measure(c *http.Client, n int, next func() string) (Latency, error) {
	for i := 0; i < warmUps; i++ {
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

// watchGrace is how long measureChanges waits for an edit to show by itself
// (the server watches file locations) before it asks for a refresh.
const watchGrace = 5 * time.Second

// measureChanges edits entities in their files, one at a time, and measures
// the time from the edit until a reader sees the new version. The server
// reads an edited file by itself (it watches file locations); only when the
// edit is not visible after watchGrace does it ask for a refresh, as a server
// that does not watch the file needs.
func measureChanges(c *http.Client, base, catDir string, seed int64, k int) (Latency, error) {
	var ds []float64
	for i := 0; i < k; i++ {
		picks, err := gen.Picks(catDir, seed+1+int64(i), 1)
		if err != nil {
			return Latency{}, err
		}
		ref := picks[0]
		old, err := etagOf(c, base, ref)
		if err != nil {
			return Latency{}, err
		}
		t := time.Now()
		if refs, err := gen.Edit(catDir, seed+1+int64(i), 1); err != nil || refs[0] != ref {
			return Latency{}, fmt.Errorf("edit %s: edited %v: %v", ref, refs, err)
		}
		refreshed := false
		for {
			cur, err := etagOf(c, base, ref)
			if err != nil {
				return Latency{}, err
			}
			if cur != old {
				break
			}
			if !refreshed && time.Since(t) > watchGrace {
				refreshed = true
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
