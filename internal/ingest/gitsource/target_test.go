package gitsource

import (
	"errors"
	"strings"
	"testing"

	"backlot.dev/backlot/domain/catalog"
)

func TestParseTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Target
	}{
		{
			name: "github blob at root",
			in:   "https://github.com/org/repo/blob/main/catalog-info.yaml",
			want: Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Ref: "main", Path: "catalog-info.yaml", form: formBlob},
		},
		{
			name: "github blob in a folder",
			in:   "https://github.com/org/repo/blob/main/services/a/catalog-info.yaml",
			want: Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Ref: "main", Path: "services/a/catalog-info.yaml", form: formBlob},
		},
		{
			name: "github blob with another file name",
			in:   "https://github.com/org/repo/blob/v1.2.3/apis/openapi.yaml",
			want: Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Ref: "v1.2.3", Path: "apis/openapi.yaml", form: formBlob},
		},
		{
			name: "github tree of a folder",
			in:   "https://github.com/org/repo/tree/main/services/a",
			want: Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Ref: "main", Path: "services/a/catalog-info.yaml", form: formBlob},
		},
		{
			name: "github tree of the root",
			in:   "https://github.com/org/repo/tree/main",
			want: Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Ref: "main", Path: "catalog-info.yaml", form: formBlob},
		},
		{
			name: "github tree with trailing slash",
			in:   "https://github.com/org/repo/tree/dev/services/",
			want: Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Ref: "dev", Path: "services/catalog-info.yaml", form: formBlob},
		},
		{
			name: "repository named blob",
			in:   "https://github.com/org/blob/blob/main/x.yaml",
			want: Target{CloneURL: "https://github.com/org/blob", Host: "github.com", Ref: "main", Path: "x.yaml", form: formBlob},
		},
		{
			name: "gitlab blob in a subgroup",
			in:   "https://gitlab.com/group/sub/repo/-/blob/main/x/catalog-info.yaml",
			want: Target{CloneURL: "https://gitlab.com/group/sub/repo", Host: "gitlab.com", Ref: "main", Path: "x/catalog-info.yaml", form: formGitLabBlob},
		},
		{
			name: "gitlab tree",
			in:   "https://gitlab.example.com/group/repo/-/tree/dev/dir",
			want: Target{CloneURL: "https://gitlab.example.com/group/repo", Host: "gitlab.example.com", Ref: "dev", Path: "dir/catalog-info.yaml", form: formGitLabBlob},
		},
		{
			name: "host with port, upper case",
			in:   "HTTPS://GHE.Example.COM:8443/Org/Repo/blob/main/a.yaml",
			want: Target{CloneURL: "https://ghe.example.com:8443/Org/Repo", Host: "ghe.example.com:8443", Ref: "main", Path: "a.yaml", form: formBlob},
		},
		{
			name: "escaped path",
			in:   "https://github.com/org/repo/blob/main/my%20dir/catalog-info.yaml",
			want: Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Ref: "main", Path: "my dir/catalog-info.yaml", form: formBlob},
		},
		{
			name: "fragment ignored",
			in:   "https://github.com/org/repo/blob/main/catalog-info.yaml#L10",
			want: Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Ref: "main", Path: "catalog-info.yaml", form: formBlob},
		},
		{
			name: "bare repository URL",
			in:   "https://github.com/org/repo",
			want: Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Path: "catalog-info.yaml"},
		},
		{
			name: "bare repository URL with .git",
			in:   "https://github.com/org/repo.git",
			want: Target{CloneURL: "https://github.com/org/repo.git", Host: "github.com", Path: "catalog-info.yaml"},
		},
		{
			name: "bare repository URL with trailing slash",
			in:   "https://github.com/org/repo/",
			want: Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Path: "catalog-info.yaml"},
		},
		{
			name: "query on a repository URL",
			in:   "https://github.com/org/repo?ref=dev&path=/services/a/catalog-info.yaml",
			want: Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Ref: "dev", Path: "services/a/catalog-info.yaml"},
		},
		{
			name: "query path naming a folder",
			in:   "https://github.com/org/repo.git?path=services/a/",
			want: Target{CloneURL: "https://github.com/org/repo.git", Host: "github.com", Path: "services/a/catalog-info.yaml"},
		},
		{
			name: "query with a branch containing a slash",
			in:   "https://github.com/org/repo?ref=feature/x&path=a.yaml",
			want: Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Ref: "feature/x", Path: "a.yaml"},
		},
		{
			name: "plain http on a loopback port",
			in:   "http://127.0.0.1:8080/repo.git?ref=main&path=catalog-info.yaml",
			want: Target{CloneURL: "http://127.0.0.1:8080/repo.git", Host: "127.0.0.1:8080", Ref: "main", Path: "catalog-info.yaml"},
		},
		{
			name: "single-segment repository",
			in:   "http://127.0.0.1:8080/repo.git",
			want: Target{CloneURL: "http://127.0.0.1:8080/repo.git", Host: "127.0.0.1:8080", Path: "catalog-info.yaml"},
		},
		{
			name: "ipv6 host",
			in:   "http://[::1]:9000/org/repo",
			want: Target{CloneURL: "http://[::1]:9000/org/repo", Host: "[::1]:9000", Path: "catalog-info.yaml"},
		},
		{
			name: "file with ref and path",
			in:   "file:///tmp/x/repo?ref=main&path=services/a/catalog-info.yaml",
			want: Target{CloneURL: "file:///tmp/x/repo", LocalPath: "/tmp/x/repo", Ref: "main", Path: "services/a/catalog-info.yaml"},
		},
		{
			name: "file default branch and file",
			in:   "file:///tmp/x/repo",
			want: Target{CloneURL: "file:///tmp/x/repo", LocalPath: "/tmp/x/repo", Path: "catalog-info.yaml"},
		},
		{
			name: "file with localhost and trailing slash",
			in:   "file://localhost/tmp/x/repo.git/",
			want: Target{CloneURL: "file:///tmp/x/repo.git", LocalPath: "/tmp/x/repo.git", Path: "catalog-info.yaml"},
		},
		{
			name: "file with dot segments cleaned",
			in:   "file:///tmp/./x//repo?path=./a/./b.yaml",
			want: Target{CloneURL: "file:///tmp/x/repo", LocalPath: "/tmp/x/repo", Path: "a/b.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseTarget(tt.in)
			if err != nil {
				t.Fatalf("ParseTarget(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseTarget(%q)\n got %s\nwant %s", tt.in, sprintTarget(got), sprintTarget(tt.want))
			}
			again, err := ParseTarget(got.String())
			if err != nil {
				t.Fatalf("ParseTarget(String() = %q): %v", got.String(), err)
			}
			if again != got {
				t.Fatalf("round trip through %q\n got %s\nwant %s", got.String(), sprintTarget(again), sprintTarget(got))
			}
		})
	}
}

func TestParseTargetRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string // part of the reason
	}{
		{"empty", "", "empty"},
		{"spaces around", " https://github.com/org/repo", "spaces"},
		{"control character", "https://github.com/org/repo\n", "control"},
		{"relative", "org/repo/catalog-info.yaml", "not an absolute URL"},
		{"scp-like ssh", "git@github.com:org/repo.git", "not a URL"},
		{"ssh scheme", "ssh://git@github.com/org/repo.git", "unsupported scheme"},
		{"ftp scheme", "ftp://example.com/org/repo", "unsupported scheme"},
		{"credentials", "https://user:token@github.com/org/repo", "credentials"},
		{"no host", "https:///org/repo", "no host"},
		{"no repository path", "https://github.com/", "no repository path"},
		{"dot-dot in blob path", "https://github.com/org/repo/blob/main/../../etc/passwd", `".."`},
		{"escaped dot-dot", "https://github.com/org/repo/blob/main/a/%2e%2e/b.yaml", `".."`},
		{"blob without file", "https://github.com/org/repo/blob/main", "names no file"},
		{"blob of a folder", "https://github.com/org/repo/blob/main/dir/", "names no file"},
		{"blob without branch", "https://github.com/org/repo/blob/", "names no branch"},
		{"tree without branch", "https://github.com/org/repo/tree", "names no branch"},
		{"gitlab raw", "https://gitlab.com/g/repo/-/raw/main/x.yaml", "only /-/blob/"},
		{"blob with query", "https://github.com/org/repo/blob/main/x.yaml?ref=dev", "cannot be combined"},
		{"unknown parameter", "https://github.com/org/repo?plain=1", "unknown query parameter"},
		{"duplicate parameter", "https://github.com/org/repo?ref=a&ref=b", "given 2 times"},
		{"empty parameter", "https://github.com/org/repo?ref=", "is empty"},
		{"path parameter escaping", "file:///tmp/repo?path=../x.yaml", `".."`},
		{"path parameter escaping deeper", "https://github.com/org/repo?path=a/../../x.yaml", `".."`},
		{"path parameter root", "https://github.com/org/repo?path=.", "repository root"},
		{"ref as option", "file:///tmp/repo?ref=-upload-pack%3Devil", "starts with -"},
		{"ref with dot-dot", "file:///tmp/repo?ref=a..b", "contains .."},
		{"ref with space", "file:///tmp/repo?ref=a%20b", "contains a space"},
		{"ref with colon", "https://github.com/org/repo?ref=a:b", "contains a space"},
		{"ref ending .lock", "https://github.com/org/repo/blob/x.lock/a.yaml", ".lock"},
		{"ref component starting with dot", "https://github.com/org/repo?ref=a/.b", "starts with ."},
		{"ref @{", "https://github.com/org/repo?ref=a@%7B1%7D", "@{"},
		{"file with host", "file://server/share/repo", "must not name a host"},
		{"file relative", "file:repo", "not an absolute URL"},
		{"file with dot-dot", "file:///tmp/x/../repo", `".."`},
		{"empty segment", "https://github.com/org//repo", "empty segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseTarget(tt.in)
			if err == nil {
				t.Fatalf("ParseTarget(%q) = %s, want an error", tt.in, sprintTarget(got))
			}
			var ite *InvalidTargetError
			if !errors.As(err, &ite) {
				t.Fatalf("ParseTarget(%q) error %T %v, want *InvalidTargetError", tt.in, err, err)
			}
			if ite.Input != tt.in {
				t.Errorf("Input = %q, want %q", ite.Input, tt.in)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseTarget(%q) error %q, want it to mention %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestTargetString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Target
		want string
	}{
		{"blob form", Target{CloneURL: "https://github.com/org/repo", Ref: "main", Path: "a b/c.yaml", form: formBlob},
			"https://github.com/org/repo/blob/main/a%20b/c.yaml"},
		{"gitlab form", Target{CloneURL: "https://gitlab.com/g/r", Ref: "main", Path: "c.yaml", form: formGitLabBlob},
			"https://gitlab.com/g/r/-/blob/main/c.yaml"},
		{"blob form without ref falls back to query", Target{CloneURL: "https://github.com/org/repo", Path: "c.yaml", form: formBlob},
			"https://github.com/org/repo?path=c.yaml"},
		{"query form", Target{CloneURL: "http://127.0.0.1:1/repo.git", Ref: "feature/x", Path: "services/a/catalog-info.yaml"},
			"http://127.0.0.1:1/repo.git?ref=feature/x&path=services/a/catalog-info.yaml"},
		{"file form", Target{CloneURL: "file:///tmp/r", LocalPath: "/tmp/r", Ref: "main", Path: "a&b.yaml"},
			"file:///tmp/r?ref=main&path=a%26b.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.in.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTargetJoin(t *testing.T) {
	t.Parallel()
	base := Target{CloneURL: "https://github.com/org/repo", Host: "github.com", Ref: "main",
		Path: "services/a/catalog-info.yaml", CommitSHA: strings.Repeat("a", 40), form: formBlob}
	tests := []struct {
		name    string
		rel     string
		want    string // the joined Path; "" means an error is expected
		wantErr string
	}{
		{"sibling with dot", "./openapi.yaml", "services/a/openapi.yaml", ""},
		{"sibling", "openapi.yaml", "services/a/openapi.yaml", ""},
		{"child", "docs/api.yaml", "services/a/docs/api.yaml", ""},
		{"parent within the repository", "../common.yaml", "services/common.yaml", ""},
		{"up to the root", "../../catalog-info.yaml", "catalog-info.yaml", ""},
		{"escapes the repository", "../../../x.yaml", "", "leaves the repository"},
		{"escapes and comes back", "../../../repo/x.yaml", "", "leaves the repository"},
		{"absolute", "/etc/passwd", "", "absolute"},
		{"url", "https://example.com/x.yaml", "", "is a URL"},
		{"empty", "", "", "empty"},
		{"directory", "sub/", "", "directory"},
		{"dot-dot alone", "..", "", "directory"},
		{"root", "../..", "", "directory"},
		{"control", "a\x00b", "", "control"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := base.Join(tt.rel)
			if tt.wantErr != "" {
				var ite *InvalidTargetError
				if !errors.As(err, &ite) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Join(%q) = %s, %v; want *InvalidTargetError mentioning %q", tt.rel, sprintTarget(got), err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Join(%q): %v", tt.rel, err)
			}
			want := base
			want.Path = tt.want
			if got != want {
				t.Fatalf("Join(%q)\n got %s\nwant %s", tt.rel, sprintTarget(got), sprintTarget(want))
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	o := Options{
		CacheDir:     "/tmp/c",
		AllowedHosts: []string{"https://github.com", "github.com/org", "user@host", "ok.example.com:8443", ":80"},
		AllowedRoots: []string{"relative/root", "/abs"},
		Timeout:      -1,
		MaxFileBytes: -5,
	}
	err := o.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	for _, want := range []string{`"https://github.com"`, `"github.com/org"`, `"user@host"`, `":80"`,
		`"relative/root"`, "Timeout", "MaxFileBytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; want it to mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "ok.example.com") || strings.Contains(err.Error(), `"/abs"`) {
		t.Errorf("Validate() = %v; it refuses a valid entry", err)
	}

	var d Options
	d.setDefaults()
	if err := d.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if d.CacheDir == "" || d.Timeout != defaultTimeout || d.MaxFileBytes != catalog.DefaultMaxFileBytes {
		t.Errorf("defaults = %+v", d)
	}
}
