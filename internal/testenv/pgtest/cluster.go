package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a throwaway PostgreSQL cluster in a temporary folder, listening on
// 127.0.0.1 with trust authentication. Its server process is tied to the test
// binary: it is stopped when the binary exits, however it exits.
type Cluster struct {
	dir  string // the temporary folder: data/, the socket and the server log
	bin  string // the folder of initdb and postgres
	port int
	cred *syscall.Credential // the postgres user when running as root

	mu   sync.Mutex
	proc *exec.Cmd
	done chan struct{} // closed when proc has exited
}

// StartCluster starts a private cluster for this test, stopped and removed at
// cleanup. Use it when a test stops and starts the server; other tests share
// one server through URL.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	c, err := startCluster()
	if err != nil {
		t.Fatalf("pgtest: start a PostgreSQL cluster: %v\nInstall PostgreSQL (apt-get install postgresql) so initdb is found, or run `make test`.", err)
	}
	t.Cleanup(func() {
		if err := c.remove(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return c
}

// URL returns the admin URL of the cluster (user postgres, database postgres).
func (c *Cluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// NewDatabase creates a fresh database on the cluster for this test, dropped at
// cleanup, and returns its URL.
func (c *Cluster) NewDatabase(t testing.TB) string {
	t.Helper()
	return newDatabase(t, c.URL())
}

// Stop shuts the server down (fast shutdown: open connections are cut) and
// waits until it has exited. The data stays; Start starts it again.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	proc, done := c.proc, c.done
	c.proc = nil
	c.mu.Unlock()
	if proc == nil {
		return nil
	}
	if err := proc.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop PostgreSQL on port %d: %w", c.port, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		proc.Process.Kill()
		<-done
		return fmt.Errorf("stop PostgreSQL on port %d: no exit within 30s after SIGINT; killed", c.port)
	}
}

// Start starts the server again on the same port and data after Stop, and
// returns once it accepts connections.
func (c *Cluster) Start() error {
	c.mu.Lock()
	running := c.proc != nil
	c.mu.Unlock()
	if running {
		return nil
	}
	return c.start()
}

// binDir finds the folder holding initdb and postgres.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	for _, m := range matches {
		dir := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("initdb not found on PATH nor under /usr/lib/postgresql/*/bin")
}

func versionOf(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// startCluster makes and starts a cluster.
func startCluster() (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	removeStale()
	dir, err := os.MkdirTemp("", "backlot-pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin}
	fail := func(err error) (*Cluster, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fail(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fail(fmt.Errorf("running as root, PostgreSQL must run as another user, and user postgres does not exist: %w", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(dir, 0o755); err != nil {
			return fail(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(err)
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres",
		"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}
	if c.port, err = freePort(); err != nil {
		return fail(err)
	}
	if err := c.start(); err != nil {
		return fail(err)
	}
	return c, nil
}

// start runs the server and waits until it accepts connections. The server
// gets SIGQUIT (immediate shutdown) when the thread that started it dies, that
// is when the test binary exits: that thread is locked to a goroutine that
// waits for the server for as long as it runs.
func (c *Cluster) start() error {
	logf, err := os.OpenFile(filepath.Join(c.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(c.bin, "postgres"), "-D", filepath.Join(c.dir, "data"),
		"-p", strconv.Itoa(c.port), "-k", c.dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=128MB")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine's wait
		err := cmd.Start()
		started <- err
		if err == nil {
			cmd.Wait()
		}
		logf.Close()
		close(done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.mu.Lock()
	c.proc, c.done = cmd, done
	c.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.URL())
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-done:
			c.mu.Lock()
			c.proc = nil
			c.mu.Unlock()
			return fmt.Errorf("postgres exited at start: %s", tail(filepath.Join(c.dir, "server.log")))
		default:
		}
		if time.Now().After(deadline) {
			c.Stop()
			return fmt.Errorf("postgres on port %d did not accept connections within 60s: %v; log: %s", c.port, err, tail(filepath.Join(c.dir, "server.log")))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// remove stops the server and deletes its folder.
func (c *Cluster) remove() error {
	err := c.Stop()
	if rmErr := os.RemoveAll(c.dir); rmErr != nil {
		err = errors.Join(err, fmt.Errorf("remove cluster folder %s: %w", c.dir, rmErr))
	}
	return err
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// removeStale deletes the folders of clusters whose test binary is gone (its
// server went with it).
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "backlot-pgtest-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == nil {
			continue // still running
		}
		if pm, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid")); err == nil {
			first, _, _ := strings.Cut(string(pm), "\n")
			if spid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && syscall.Kill(spid, 0) == nil {
				continue // a server still holds it
			}
		}
		os.RemoveAll(d)
	}
}
