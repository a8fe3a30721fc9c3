package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// BrokerHelperName is the file name of the kafkabroker helper program that
// the production bench looks for beside the backlot binary (`make
// bench-production` builds it there).
const BrokerHelperName = "backlot-kafkabroker"

// brokerHelperPackage is the helper's package, built with `go build` when no
// helper program is found.
const brokerHelperPackage = "backlot.dev/backlot/internal/bench/kafkabroker"

// brokerProcess is a running kafkabroker helper.
type brokerProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addrs []string
	tmp   string // a folder to remove after, holding a helper built here
}

// startBroker starts the kafkabroker helper: helper when set, else
// BrokerHelperName beside backlot, else one built now with `go build` (which
// needs the Go toolchain and the module in the working directory).
func startBroker(helper, backlot string, progress io.Writer, say func(string, ...any)) (*brokerProcess, error) {
	b := &brokerProcess{}
	if helper == "" {
		if p := filepath.Join(filepath.Dir(backlot), BrokerHelperName); isFile(p) {
			helper = p
		}
	}
	if helper == "" {
		tmp, err := os.MkdirTemp("", "backlot-kafkabroker-")
		if err != nil {
			return nil, err
		}
		b.tmp = tmp
		helper = filepath.Join(tmp, BrokerHelperName)
		say("no %s beside %s: building it (go build %s)", BrokerHelperName, backlot, brokerHelperPackage)
		build := exec.Command("go", "build", "-o", helper, brokerHelperPackage)
		if out, err := build.CombinedOutput(); err != nil {
			b.close()
			return nil, fmt.Errorf("build the in-process Kafka broker helper (go build -o bin/%s ./internal/bench/kafkabroker from the repository builds it; or give --kafka-brokers): %w\n%s",
				BrokerHelperName, err, out)
		}
	}
	b.cmd = exec.Command(helper)
	b.cmd.Stderr = progress
	stdin, err := b.cmd.StdinPipe()
	if err != nil {
		b.close()
		return nil, err
	}
	b.stdin = stdin
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		b.close()
		return nil, err
	}
	if err := b.cmd.Start(); err != nil {
		b.cmd = nil
		b.close()
		return nil, fmt.Errorf("start the Kafka broker helper %s: %w", helper, err)
	}
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case l, ok := <-line:
		addrs, found := strings.CutPrefix(l, "brokers ")
		if !ok || !found || addrs == "" {
			b.close()
			return nil, fmt.Errorf("the Kafka broker helper %s said %q, want \"brokers HOST:PORT,...\"", helper, l)
		}
		b.addrs = strings.Split(addrs, ",")
	case <-time.After(30 * time.Second):
		b.close()
		return nil, fmt.Errorf("the Kafka broker helper %s did not name its brokers within 30s", helper)
	}
	return b, nil
}

// close stops the helper (closing its standard input ends it) and removes a
// helper built by startBroker.
func (b *brokerProcess) close() {
	if b.cmd != nil {
		b.stdin.Close()
		done := make(chan struct{})
		go func() { b.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			b.cmd.Process.Kill()
			<-done
		}
		b.cmd = nil
	}
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
		b.tmp = ""
	}
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
