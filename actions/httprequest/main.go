package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"backlot.dev/backlot/workflows/netguard"
)

// maxBody bounds the answer's body that is read.
const maxBody = 512 << 10

type input struct {
	Method                string            `json:"method"`
	Path                  string            `json:"path"`
	Params                map[string]any    `json:"params"`
	Headers               map[string]string `json:"headers"`
	Body                  any               `json:"body"`
	LogRequestPath        *bool             `json:"logRequestPath"`
	ContinueOnBadResponse bool              `json:"continueOnBadResponse"`
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("input: %v", err)
	}
	out, err := request(in)
	if err != nil {
		fail("%v", err)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func request(in input) (map[string]any, error) {
	base := os.Getenv("BACKLOT_URL")
	if base == "" {
		return nil, fmt.Errorf("BACKLOT_URL is not set: the worker does not know the API's address (backlot serve --public-url, or backlot dev's --addr)")
	}
	bu, err := url.Parse(base)
	if err != nil || bu.Host == "" {
		return nil, fmt.Errorf("BACKLOT_URL %q is not a URL", base)
	}
	if !strings.HasPrefix(in.Path, "/") || strings.HasPrefix(in.Path, "//") || strings.Contains(in.Path, "://") || strings.Contains(in.Path, "..") {
		return nil, fmt.Errorf("input.path: %q; give a path of Backlot's API starting with /, e.g. /catalog/entities", in.Path)
	}
	method := strings.ToUpper(in.Method)
	switch method {
	case "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE":
	case "":
		return nil, fmt.Errorf("input.method: required")
	default:
		return nil, fmt.Errorf("input.method: %q is not an HTTP method", in.Method)
	}
	u := strings.TrimSuffix(base, "/") + "/api" + in.Path
	if len(in.Params) > 0 {
		q := url.Values{}
		keys := make([]string, 0, len(in.Params))
		for k := range in.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			q.Add(k, fmt.Sprint(in.Params[k]))
		}
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + q.Encode()
	}
	var body io.Reader
	if in.Body != nil {
		var b []byte
		if s, ok := in.Body.(string); ok {
			b = []byte(s)
		} else if b, err = json.Marshal(in.Body); err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range in.Headers {
		req.Header.Set(k, v)
	}
	if in.Body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok := os.Getenv("BACKLOT_SECRET_BACKSTAGETOKEN"); tok != "" && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	// The one host this action may reach is the API's own.
	guard, err := netguard.New(netguard.Config{Allow: []string{bu.Hostname()}})
	if err != nil {
		return nil, err
	}
	hc := netguard.NewClient(guard, 60*time.Second)
	if in.LogRequestPath == nil || *in.LogRequestPath {
		fmt.Fprintf(os.Stderr, "%s %s\n", method, "/api"+in.Path)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, err
	}
	headers := map[string]any{}
	for k := range resp.Header {
		headers[strings.ToLower(k)] = resp.Header.Get(k)
	}
	var parsed any = string(raw)
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			parsed = v
		}
	}
	if resp.StatusCode >= 400 && !in.ContinueOnBadResponse {
		return nil, fmt.Errorf("%s /api%s: %s: %s", method, in.Path, resp.Status, strings.TrimSpace(string(raw)))
	}
	return map[string]any{"code": fmt.Sprint(resp.StatusCode), "headers": headers, "body": parsed}, nil
}
