package netguard

import (
	"net/http"
	"time"
)

// NewClient returns an http.Client whose connections go through g and which
// follows no redirect: a 3xx answer is returned to the caller as it is
// (http.ErrUseLastResponse), so a target cannot send a request on to an
// address it could not name. It uses no proxy from the environment (a proxy
// would make the connections the Guard checks). timeout bounds a whole
// request, answer included; the TLS handshake and the wait for the answer's
// headers have bounds of their own. A nil g is Default().
func NewClient(g *Guard, timeout time.Duration) *http.Client {
	if g == nil {
		g = Default()
	}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           g.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport:     t,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
