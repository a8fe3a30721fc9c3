package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/temporalsrv"
)

// chromiumPath is Debian's chromium, which scripts/test.sh installs.
const chromiumPath = "/usr/bin/chromium"

// Screen sizes every screenshot is taken at.
var screens = []struct {
	name          string
	width, height int64
}{
	{"desktop", 1280, 900},
	{"narrow", 390, 844},
}

// person is who the tests sign in as (a member of tracking-team, which owns
// tracking-service in the example catalog), with a bearer token the browser
// sends with every request.
const person = "user:default/farah-haddad"

// server is the one backlot dev the package's tests share.
type server struct {
	dev     *app.Dev
	base    string
	token   string
	catalog string // the copied example catalog's folder
	root    string // everything the server wrote, removed at the end
}

var (
	shared     *server
	sharedErr  error
	sharedOnce sync.Once
	shotsDir   string
	shotsOnce  sync.Once
)

// devServer starts (once) backlot dev with a copy of the example catalog,
// the example policies and template, Temporal inside, and a token file
// naming person.
func devServer(t *testing.T) *server {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = startDev() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func startDev() (*server, error) {
	root, err := os.MkdirTemp("", "backlot-e2e-")
	if err != nil {
		return nil, err
	}
	examples, err := filepath.Abs("../../../examples")
	if err != nil {
		return nil, err
	}
	catalog := filepath.Join(root, "catalog")
	if err := os.CopyFS(catalog, os.DirFS(filepath.Join(examples, "catalog"))); err != nil {
		return nil, err
	}
	if err := filepath.WalkDir(catalog, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			err = os.Chmod(p, map[bool]os.FileMode{true: 0o755, false: 0o644}[d.IsDir()])
		}
		return err
	}); err != nil {
		return nil, err
	}
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	token := hex.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	tokens := filepath.Join(root, "tokens")
	if err := os.WriteFile(tokens, []byte("sha256:"+hex.EncodeToString(sum[:])+" "+person+"\n"), 0o600); err != nil {
		return nil, err
	}
	cfg := app.DevConfig{
		DataDir: filepath.Join(root, "data"), Addr: "127.0.0.1:0", AuthTokens: tokens,
		Catalogs: []string{
			filepath.Join(catalog, "all.yaml"),
			filepath.Join(examples, "policies", "test-certification.yaml"),
			filepath.Join(examples, "policies", "production-readiness.yaml"),
			filepath.Join(examples, "templates", "go-service", "template.yaml"),
		},
		Roots:           []string{examples, catalog},
		RefreshInterval: time.Hour,
		Temporal: func(ctx context.Context, db, addr string) (string, func() error, error) {
			s, err := temporalsrv.Start(ctx, temporalsrv.Config{DBPath: db, Addr: addr})
			if err != nil {
				return "", nil, err
			}
			return s.Addr(), s.Stop, nil
		},
		TemporalAddr: "127.0.0.1:0",
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	cfg.Scripts.Insecure = !haveBwrap()
	d, err := app.StartDev(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-d.Loaded():
	case <-time.After(90 * time.Second):
		return nil, fmt.Errorf("the example catalog did not load within 90s")
	}
	if err := d.LoadErr(); err != nil {
		return nil, err
	}
	return &server{dev: d, base: "http://" + d.Addr(), token: token, catalog: catalog, root: root}, nil
}

func haveBwrap() bool {
	_, err := exec.LookPath("bwrap")
	return err == nil
}

// TestMain closes the shared server after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.dev.Close()
		os.RemoveAll(shared.root)
	}
	os.Exit(code)
}

// api calls the server's API as person and decodes the answer into out
// (when not nil); it fails the test on a status of 300 or more.
func (s *server) api(t *testing.T, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// browser is one chromium tab signed in as person.
type browser struct {
	ctx context.Context
	srv *server
}

// newBrowser starts a headless chromium for the test, its every request
// carrying person's token; it is closed when the test ends.
func newBrowser(t *testing.T, srv *server) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser tests need Debian's chromium at %s (scripts/test.sh installs it: apt-get install -y chromium): %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first call starts the browser, which lives as long as its context.
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + srv.token}}); err != nil {
		t.Fatal(err)
	}
	// Lets the test inject axe-core; the pages themselves never need it.
	if _, err := chromedp.Call(ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return &browser{ctx: ctx, srv: srv}
}

// do runs actions, failing the test on an error (or after a minute).
func (b *browser) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its value.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// open navigates to path and waits for the main region.
func (b *browser) open(t *testing.T, path string) {
	t.Helper()
	b.do(t, chromedp.Navigate(b.srv.base+path), chromedp.WaitVisible(chromedp.CSS("#main")))
}

// click clicks the first element matching the CSS selector.
func (b *browser) click(t *testing.T, sel string) {
	t.Helper()
	b.do(t, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// typeInto types text into the element matching the CSS selector, key by key.
func (b *browser) typeInto(t *testing.T, sel, text string) {
	t.Helper()
	b.do(t, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// text returns the text content of the first element matching sel ("" when
// none does).
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	return eval[string](t, b, fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.textContent:""})()`, sel))
}

// count is how many elements match the CSS selector.
func (b *browser) count(t *testing.T, sel string) int {
	t.Helper()
	return eval[int](t, b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// location is the page's URL.
func (b *browser) location(t *testing.T) string {
	t.Helper()
	return eval[string](t, b, "location.href")
}

// waitText waits until the element matching sel contains want.
func (b *browser) waitText(t *testing.T, sel, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var got string
	for time.Now().Before(deadline) {
		// A page may be navigating: an evaluation that fails is tried again.
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.textContent:""})()`, sel)))
		cancel()
		if err == nil {
			if got = s; strings.Contains(got, want) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%q never showed %q within %s; it shows %q", sel, want, within, got)
}

// screenshotDir is BACKLOT_SCREENSHOTS, or a temporary folder.
func screenshotDir(t *testing.T) string {
	shotsOnce.Do(func() {
		shotsDir = os.Getenv("BACKLOT_SCREENSHOTS")
		if shotsDir == "" {
			shotsDir, _ = os.MkdirTemp("", "backlot-screenshots-")
		}
		_ = os.MkdirAll(shotsDir, 0o755)
	})
	return shotsDir
}

// shot writes a full-page screenshot of the current page at every screen
// size, as NAME-desktop.png and NAME-narrow.png, and restores the desktop
// size.
func (b *browser) shot(t *testing.T, name string) {
	t.Helper()
	dir := screenshotDir(t)
	for _, sc := range screens {
		if _, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: sc.width, Height: sc.height, DeviceScaleFactor: 1, Mobile: sc.name == "narrow"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+sc.name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := chromedp.Call(b.ctx, emulation.ClearDeviceMetricsOverride, struct{}{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of %s in %s", name, dir)
}

// axeSource is axe-core's script, installed by npm ci in this folder.
var axeSource = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile(filepath.Join("node_modules", "axe-core", "axe.min.js"))
})

// axeViolation is one rule axe-core found broken.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// axe runs axe-core on the current page and fails the test for every
// serious or critical violation; it returns the count of every violation.
func (b *browser) axe(t *testing.T, name string) int {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core is missing (scripts/test.sh runs npm ci in internal/webui/e2e): %v", err)
	}
	if !eval[bool](t, b, string(src)+";typeof axe !== 'undefined'") {
		t.Fatal("axe-core did not load")
	}
	out := eval[[]axeViolation](t, b, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`)
	for _, v := range out {
		msg := fmt.Sprintf("%s: axe %s (%s): %s", name, v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			msg += fmt.Sprintf("\n    %v %s", n.Target, n.HTML)
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
	return len(out)
}
