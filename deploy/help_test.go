package deploy_test

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// serveHelp is what `backlot serve --help` says: its flags and every BACKLOT_*
// environment variable it names. It is parsed from the real binary's output, so
// the deploy files are checked against what the binary supports, not against a copy.
type serveHelp struct {
	flags map[string]helpFlag // by long name, without the dashes
	short map[string]string   // shorthand letter → long name
	envs  map[string]bool     // every BACKLOT_* name anywhere in the text
}

// helpFlag is one flag line of the help.
type helpFlag struct {
	name   string // long name, without the dashes
	short  string // shorthand letter, or ""
	usage  string // the rest of the line: type, usage, (env ...), (default ...)
	global bool   // listed under "Global Flags:" (the root command's)
}

var (
	// flagLine matches a pflag usage line: "  -o, --output string   usage" or
	// "      --roles strings   usage".
	flagLine = regexp.MustCompile(`^\s*(?:-([A-Za-z0-9]),\s+)?--([A-Za-z0-9][A-Za-z0-9-]*)(.*)$`)
	// envName matches the environment variables Backlot reads.
	envName = regexp.MustCompile(`BACKLOT_[A-Z0-9_]*[A-Z0-9]`)
	// roleList matches the list in the --roles usage: "roles to run: api, projector, ingester".
	roleList = regexp.MustCompile(`(?i)\broles?\b[^:()]*:\s*([a-z][a-z0-9-]*(?:\s*,\s*[a-z][a-z0-9-]*)*)`)
	// defaultValue matches pflag's "(default ...)" suffix, quoted for strings.
	defaultValue = regexp.MustCompile(`\(default ("(?:[^"\\]|\\.)*"|[^)]*)\)`)
)

// parseServeHelp reads the help text of `backlot serve`. It fails when the text
// is not a command's help or lists no flags.
func parseServeHelp(text string) (serveHelp, error) {
	h := serveHelp{flags: map[string]helpFlag{}, short: map[string]string{}, envs: map[string]bool{}}
	if !strings.Contains(text, "Usage:") || !strings.Contains(text, "serve") {
		return h, fmt.Errorf("not the help of `backlot serve`:\n%s", text)
	}
	global := false
	for _, line := range strings.Split(text, "\n") {
		switch strings.TrimSpace(line) {
		case "Flags:":
			global = false
			continue
		case "Global Flags:":
			global = true
			continue
		}
		m := flagLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := helpFlag{short: m[1], name: m[2], usage: strings.TrimSpace(m[3]), global: global}
		h.flags[f.name] = f
		if f.short != "" {
			h.short[f.short] = f.name
		}
	}
	for _, e := range envName.FindAllString(text, -1) {
		h.envs[e] = true
	}
	if len(h.flags) == 0 {
		return h, fmt.Errorf("no flags found in the help of `backlot serve`:\n%s", text)
	}
	return h, nil
}

// lookup finds the flag an argument names: "--roles", "--roles=api" or "-r".
func (h serveHelp) lookup(arg string) (helpFlag, bool) {
	name, _, _ := strings.Cut(arg, "=")
	switch {
	case strings.HasPrefix(name, "--"):
		f, ok := h.flags[name[2:]]
		return f, ok
	case strings.HasPrefix(name, "-") && len(name) == 2:
		long, ok := h.short[name[1:]]
		if !ok {
			return helpFlag{}, false
		}
		return h.flags[long], true
	}
	return helpFlag{}, false
}

// roles lists the roles the --roles usage names ("roles to run: a, b, c").
func (h serveHelp) roles() ([]string, error) {
	f, ok := h.flags["roles"]
	if !ok {
		return nil, fmt.Errorf("`serve --help` has no --roles flag")
	}
	m := roleList.FindStringSubmatch(f.usage)
	if m == nil {
		return nil, fmt.Errorf("the --roles usage lists no roles (want %q): %q", "roles to run: a, b, c", f.usage)
	}
	return splitList(m[1]), nil
}

// defaultAddr is the default of --addr, unquoted (":7007").
func (h serveHelp) defaultAddr() (string, error) {
	f, ok := h.flags["addr"]
	if !ok {
		return "", fmt.Errorf("`serve --help` has no --addr flag")
	}
	m := defaultValue.FindStringSubmatch(f.usage)
	if m == nil {
		return "", fmt.Errorf("--addr has no default in `serve --help`: %q", f.usage)
	}
	if strings.HasPrefix(m[1], `"`) {
		return strconv.Unquote(m[1])
	}
	return m[1], nil
}

// addrPort is the port of a listen address (":7007", "0.0.0.0:7007").
func addrPort(addr string) (string, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	return port, nil
}

// splitList splits a comma-separated list, trimming blanks and dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// flagUse is one flag given on a command line, with its value.
type flagUse struct {
	arg   string // as written, without the value: "--roles", "-r"
	value string
}

// parseServeArgs reads a `serve` command line (compose command, container args).
// A flag takes the next argument as its value unless it is written --flag=value
// or the next argument is a flag too; serve takes no positional arguments.
func parseServeArgs(args []string) ([]flagUse, error) {
	if len(args) == 0 || args[0] != "serve" {
		return nil, fmt.Errorf("command %q does not start with serve", args)
	}
	var uses []flagUse
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("command %q: unexpected argument %q", args, a)
		}
		if name, value, ok := strings.Cut(a, "="); ok {
			uses = append(uses, flagUse{arg: name, value: value})
			continue
		}
		u := flagUse{arg: a}
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			u.value = args[i+1]
			i++
		}
		uses = append(uses, u)
	}
	return uses, nil
}

// serveSettings is what one process is told through its command line and
// environment.
type serveSettings struct {
	where     string            // "compose.yaml service api", "kubernetes/api.yaml Deployment backlot-api"
	args      []string          // the command line, starting with serve
	env       map[string]string // the variables set here, checked against the help
	inherited map[string]string // variables from elsewhere (a ConfigMap), checked there
}

// check reports, in words naming s.where, every flag, role and BACKLOT_* variable
// of s that the help does not list. It returns the listen port s makes the
// process use (--addr, else BACKLOT_ADDR, else the help's default).
func (s serveSettings) check(h serveHelp) (port string, problems []string) {
	bad := func(format string, a ...any) { problems = append(problems, s.where+": "+fmt.Sprintf(format, a...)) }
	known, err := h.roles()
	if err != nil {
		bad("%v", err)
	}
	addr, err := h.defaultAddr()
	if err != nil {
		bad("%v", err)
	}
	if v, ok := s.lookupEnv("BACKLOT_ADDR"); ok {
		addr = v
	}
	uses, err := parseServeArgs(s.args)
	if err != nil {
		bad("%v", err)
	}
	sawRoles := false
	for _, u := range uses {
		f, ok := h.lookup(u.arg)
		if !ok {
			bad("flag %s is not in `backlot serve --help`", u.arg)
			continue
		}
		switch f.name {
		case "roles":
			sawRoles = true
			roles := splitList(u.value)
			if len(roles) == 0 {
				bad("--roles has no value")
			}
			for _, r := range roles {
				if known != nil && !slices.Contains(known, r) {
					bad("role %q is not one `backlot serve --help` lists (%s)", r, strings.Join(known, ", "))
				}
			}
		case "addr":
			addr = u.value
		}
	}
	if !sawRoles {
		if _, ok := s.lookupEnv("BACKLOT_ROLES"); !ok {
			bad("no --roles: the process would run every role")
		}
	}
	for name := range s.env {
		if strings.HasPrefix(name, "BACKLOT_") && !h.envs[name] {
			bad("%s is not named in `backlot serve --help`", name)
		}
	}
	if addr != "" {
		if port, err = addrPort(addr); err != nil {
			bad("%v", err)
		}
	}
	return port, problems
}

// lookupEnv is the value a variable has in the process: set here, else inherited.
func (s serveSettings) lookupEnv(name string) (string, bool) {
	if v, ok := s.env[name]; ok {
		return v, true
	}
	v, ok := s.inherited[name]
	return v, ok
}

// fakeServeHelp is the help the `serve` contract promises, as cobra prints it.
const fakeServeHelp = `Run production roles as separate processes on Kafka, PostgreSQL and Temporal.

Usage:
  backlot serve [flags]

Flags:
      --addr string                 listen address (env BACKLOT_ADDR) (default ":7007")
      --catalog stringArray         catalog file to register at start (env BACKLOT_CATALOG)
      --group string                projector consumer group (env BACKLOT_PROJECTOR_GROUP)
  -h, --help                        help for serve
      --kafka-brokers strings       Kafka bootstrap brokers (env BACKLOT_KAFKA_BROKERS)
      --log-format string           text or json (env BACKLOT_LOG_FORMAT)
      --partitions int              partitions of new topics (env BACKLOT_KAFKA_PARTITIONS) (default 12)
      --postgres-url string         (env BACKLOT_POSTGRES_URL)
      --refresh-interval duration   (env BACKLOT_REFRESH_INTERVAL)
      --replication-factor int      (env BACKLOT_KAFKA_REPLICATION_FACTOR) (default 3)
  -r, --roles strings               roles to run: api, projector, ingester (env BACKLOT_ROLES) (default [api,projector,ingester])
      --temporal-address string     (env BACKLOT_TEMPORAL_ADDRESS)
      --topic-prefix string         (env BACKLOT_KAFKA_TOPIC_PREFIX) (default "backlot.")

Global Flags:
      --cpuprofile string   write a Go CPU profile of the command to this file
  -o, --output string       output format: table or json (default "table")
      --url string          Backlot server URL (env BACKLOT_URL)
`

// TestParseServeHelp checks the parsers against the help the contract promises,
// so they are known to work before `serve` exists.
func TestParseServeHelp(t *testing.T) {
	h, err := parseServeHelp(fakeServeHelp)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := h.roles()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"api", "projector", "ingester"}; !slices.Equal(roles, want) {
		t.Errorf("roles = %q, want %q", roles, want)
	}
	addr, err := h.defaultAddr()
	if err != nil {
		t.Fatal(err)
	}
	if port, err := addrPort(addr); err != nil || port != "7007" {
		t.Errorf("default --addr %q: port %q, %v; want 7007", addr, port, err)
	}
	for _, name := range []string{"roles", "addr", "kafka-brokers", "topic-prefix", "partitions",
		"replication-factor", "group", "postgres-url", "temporal-address", "catalog",
		"refresh-interval", "log-format", "help", "url"} {
		if _, ok := h.flags[name]; !ok {
			t.Errorf("flag --%s not parsed", name)
		}
	}
	if !h.flags["url"].global || h.flags["roles"].global {
		t.Errorf("Flags/Global Flags sections not told apart: url %+v, roles %+v", h.flags["url"], h.flags["roles"])
	}
	if f, ok := h.lookup("-r"); !ok || f.name != "roles" {
		t.Errorf("lookup(-r) = %+v, %v; want roles", f, ok)
	}
	if f, ok := h.lookup("--group=x"); !ok || f.name != "group" {
		t.Errorf("lookup(--group=x) = %+v, %v; want group", f, ok)
	}
	for _, e := range []string{"BACKLOT_ROLES", "BACKLOT_ADDR", "BACKLOT_KAFKA_BROKERS",
		"BACKLOT_KAFKA_TOPIC_PREFIX", "BACKLOT_KAFKA_PARTITIONS", "BACKLOT_KAFKA_REPLICATION_FACTOR",
		"BACKLOT_PROJECTOR_GROUP", "BACKLOT_POSTGRES_URL", "BACKLOT_TEMPORAL_ADDRESS",
		"BACKLOT_CATALOG", "BACKLOT_REFRESH_INTERVAL", "BACKLOT_LOG_FORMAT", "BACKLOT_URL"} {
		if !h.envs[e] {
			t.Errorf("%s not parsed", e)
		}
	}
	if len(h.envs) != 13 {
		t.Errorf("parsed %d env names, want 13: %v", len(h.envs), h.envs)
	}
	if _, err := parseServeHelp("Error: unknown command \"serve\" for \"backlot\"\n"); err == nil {
		t.Error("an error message was taken for the help")
	}

	tests := []struct {
		name     string
		settings serveSettings
		port     string
		problems []string // substrings, one per expected problem
	}{
		{
			name:     "good",
			settings: serveSettings{where: "w", args: []string{"serve", "--roles", "api,projector"}, env: map[string]string{"BACKLOT_KAFKA_BROKERS": "k:9092"}},
			port:     "7007",
		},
		{
			name:     "flag=value and shorthand",
			settings: serveSettings{where: "w", args: []string{"serve", "-r", "ingester", "--addr=:8080"}},
			port:     "8080",
		},
		{
			name:     "BACKLOT_ADDR",
			settings: serveSettings{where: "w", args: []string{"serve", "--roles=api"}, env: map[string]string{"BACKLOT_ADDR": "0.0.0.0:9000"}},
			port:     "9000",
		},
		{
			name:     "inherited BACKLOT_ADDR and BACKLOT_ROLES",
			settings: serveSettings{where: "w", args: []string{"serve"}, inherited: map[string]string{"BACKLOT_ADDR": ":9001", "BACKLOT_ROLES": "api", "BACKLOT_NOT_CHECKED_HERE": "x"}},
			port:     "9001",
		},
		{
			name:     "unknown flag, role and variable",
			settings: serveSettings{where: "w", args: []string{"serve", "--roles", "api, scheduler", "--data", "/d"}, env: map[string]string{"BACKLOT_DATA": "/d", "HOME": "/h"}},
			port:     "7007",
			problems: []string{`role "scheduler"`, "flag --data", "BACKLOT_DATA"},
		},
		{
			name:     "not serve, no roles",
			settings: serveSettings{where: "w", args: []string{"dev"}},
			port:     "7007",
			problems: []string{"does not start with serve", "no --roles"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			port, problems := tc.settings.check(h)
			if port != tc.port {
				t.Errorf("port = %q, want %q", port, tc.port)
			}
			if len(problems) != len(tc.problems) {
				t.Fatalf("problems = %q, want %d matching %q", problems, len(tc.problems), tc.problems)
			}
			for _, want := range tc.problems {
				if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }) {
					t.Errorf("no problem mentions %q: %q", want, problems)
				}
			}
		})
	}
}
