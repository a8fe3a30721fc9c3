package e2e

import (
	"testing"
	"time"
)

// TestHome shows the signed-in person what their groups own.
func TestHome(t *testing.T) {
	srv := devServer(t)
	b := newBrowser(t, srv)
	b.open(t, "/")
	b.waitText(t, "h1", "farah-haddad", 10*time.Second)
	b.waitText(t, "#home-owned", "tracking-service", 10*time.Second)
	b.waitText(t, "main", "tracking-team", 5*time.Second)
	b.shot(t, "home")
	b.axe(t, "home")
}
