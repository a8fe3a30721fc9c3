package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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

// TestKeyboard reaches the search with / and the catalog with g c, and
// walks the table's rows with j.
func TestKeyboard(t *testing.T) {
	srv := devServer(t)
	b := newBrowser(t, srv)
	b.open(t, "/")
	b.do(t, chromedp.KeyEvent("/"))
	if id := eval[string](t, b, "document.activeElement.id"); id != "quick-q" {
		t.Errorf("/ focused %q, want the search", id)
	}
	eval[bool](t, b, "document.activeElement.blur(), true")
	b.do(t, chromedp.KeyEvent("g"), chromedp.KeyEvent("c"))
	b.waitText(t, "h1", "Catalog", 10*time.Second)
	eval[bool](t, b, "document.activeElement.blur(), true")
	b.do(t, chromedp.KeyEvent("j"), chromedp.KeyEvent("j"))
	if got := eval[string](t, b, "document.activeElement.textContent"); got == "" || got != b.text(t, "#results tbody tr:nth-child(2) td a") {
		t.Errorf("j j focused %q, want the second row's link", got)
	}
}
