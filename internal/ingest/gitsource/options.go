package gitsource

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"backlot.dev/backlot/domain/catalog"
	"backlot.dev/backlot/workflows/netguard"
)

// Options configures a Reader. NewReader fills zero fields with their defaults; the
// zero value grants nothing: with no AllowedHosts and no AllowedRoots every target is
// refused.
type Options struct {
	// CacheDir holds one bare clone per repository, in CacheDir/<hex sha256 of the
	// clone URL>. It is created if missing. Several Readers, in one process or in
	// several, may share it. Default: <os.UserCacheDir()>/backlot/git, or
	// <os.TempDir()>/backlot-git when there is no user cache directory.
	CacheDir string
	// AllowedHosts lists the hosts http(s) targets may name, as host or host:port.
	// A target's host[:port] must equal an entry exactly, ignoring case: "github.com"
	// does not allow "github.com:443" nor "api.github.com".
	AllowedHosts []string
	// AllowedRoots lists the directories file:// repositories must be inside (or
	// equal to), compared after resolving symbolic links on both sides. Entries must
	// be absolute.
	AllowedRoots []string
	// Guard checks the addresses an http(s) target's host resolves to before
	// git contacts it: a host with any address the Guard refuses (loopback,
	// private, link-local, metadata, ...) is a *NotAllowedError, even when
	// AllowedHosts names it. Default netguard.Default(): public addresses only.
	Guard *netguard.Guard
	// Timeout bounds one Read call, clone and fetch included.
	// Default 2 minutes.
	Timeout time.Duration
	// MaxFileBytes is the largest file Read returns; larger files get a
	// *TooLargeError without being read. Default catalog.DefaultMaxFileBytes (32 MiB).
	MaxFileBytes int64
}

// defaultTimeout is Options.Timeout's default: long enough for a first clone of a
// large repository.
const defaultTimeout = 2 * time.Minute

// setDefaults fills the zero fields of o with their defaults.
func (o *Options) setDefaults() {
	if o.CacheDir == "" {
		if dir, err := os.UserCacheDir(); err == nil && dir != "" {
			o.CacheDir = filepath.Join(dir, "backlot", "git")
		} else {
			o.CacheDir = filepath.Join(os.TempDir(), "backlot-git")
		}
	}
	if o.Timeout == 0 {
		o.Timeout = defaultTimeout
	}
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = catalog.DefaultMaxFileBytes
	}
	if o.Guard == nil {
		o.Guard = netguard.Default()
	}
}

// Validate reports every field of o that is out of range, joined into one error. It
// does not fill defaults; NewReader calls it after filling them.
func (o Options) Validate() error {
	var errs []error
	if o.CacheDir == "" {
		errs = append(errs, errors.New("CacheDir is empty"))
	}
	for _, h := range o.AllowedHosts {
		if err := checkHost(h); err != nil {
			errs = append(errs, fmt.Errorf("AllowedHosts: %w", err))
		}
	}
	for _, r := range o.AllowedRoots {
		if !filepath.IsAbs(r) {
			errs = append(errs, fmt.Errorf("AllowedRoots: %q is not an absolute path", r))
		}
	}
	if o.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("the timeout (Options.Timeout) must be positive, got %s", o.Timeout))
	}
	if o.MaxFileBytes <= 0 {
		errs = append(errs, fmt.Errorf("MaxFileBytes must be positive, got %d", o.MaxFileBytes))
	}
	if len(errs) > 0 {
		return fmt.Errorf("gitsource: invalid options: %w", errors.Join(errs...))
	}
	return nil
}

// checkHost reports whether h is a bare host or host:port, with no scheme or path.
func checkHost(h string) error {
	if h == "" || strings.ContainsAny(h, "/@?# \t") {
		return fmt.Errorf("%q is not a host or host:port (no scheme, user or path)", h)
	}
	if host, port, err := net.SplitHostPort(h); err == nil {
		if host == "" || port == "" {
			return fmt.Errorf("%q has an empty host or port", h)
		}
	}
	return nil
}
