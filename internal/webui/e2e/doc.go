// Package e2e holds the portal's browser tests: they start backlot dev
// through internal/app with the example catalog (copied, so a test may edit
// it), drive Debian's chromium with chromedp, write screenshots of every page
// at desktop and narrow widths, and assert that axe-core finds no serious or
// critical accessibility violation. The package has no code of its own.
package e2e
