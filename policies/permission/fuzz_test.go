package permission_test

import (
	"encoding/json"
	"strings"
	"testing"

	"backlot.dev/backlot/policies/permission"
)

// fuzzPolicy is a small valid policy the fuzzer starts from: a deny rule, an
// allow rule over a glob, a parameter and optional field selection.
const fuzzPolicy = `apiVersion: backlot.dev/v1alpha1
kind: PermissionPolicy
metadata: {name: fuzz}
spec:
  params: {admins: group:default/admins}
  rules:
    - name: anonymous-denied
      permissions: ["*"]
      effect: deny
      if: "!principal.authenticated"
    - name: owners
      permissions: ["catalog.*"]
      effect: allow
      if: resource.?owner.orValue("") in principal.groups || params.admins in principal.groups
`

// FuzzPermissionPolicy parses an arbitrary policy document, compiles it and
// decides an arbitrary question under it: nothing panics; a parse error names
// the file; a decision that allows names its rule and says why; an unknown
// permission is never allowed; and the same question gets the same answer
// twice (a compiled policy is immutable).
func FuzzPermissionPolicy(f *testing.F) {
	f.Add(fuzzPolicy, "user:default/ada", "group:default/team-a", "catalog.entity.delete", `{"kind":"Component","owner":"group:default/team-a"}`)
	f.Add(fuzzPolicy, "", "", "catalog.entity.read", `{}`)
	f.Add(fuzzPolicy, "user:default/ada", "group:default/admins", "migration.create", `null`)
	f.Add(fuzzPolicy, "user:default/ada", "", "no.such.permission", `{"owner":1}`)
	f.Add(strings.Replace(fuzzPolicy, `resource.?owner.orValue("") in principal.groups`, `resource.owner.size() > 0`, 1), "user:default/ada", "g", "catalog.entity.refresh", `{"owner":["a","b"]}`)
	f.Add(strings.Replace(fuzzPolicy, `"!principal.authenticated"`, `principal.groups.all(g, principal.groups.all(h, principal.groups.exists(i, i == g + h)))`, 1), "u", "a,b,c,d,e,f,g,h", "audit.read", `{}`)
	f.Add(strings.Replace(fuzzPolicy, `effect: allow`, `effect: maybe`, 1), "u", "", "catalog.entity.read", `{}`)
	f.Add(strings.Replace(fuzzPolicy, `["catalog.*"]`, `["[a-"]`, 1), "u", "", "catalog.entity.read", `{}`)
	f.Add("apiVersion: [", "u", "", "catalog.entity.read", `{}`)
	f.Add("", "", "", "", "")
	f.Fuzz(func(t *testing.T, doc, ref, groups, action, resource string) {
		const file = "fuzz-policy.yaml"
		p, err := permission.Parse(file, []byte(doc))
		if err != nil {
			if !strings.Contains(err.Error(), file) {
				t.Fatalf("parse error %q does not name the file", err)
			}
			return
		}
		engine, err := permission.Compile(p, nil)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("compile error without a message")
			}
			return
		}
		var res permission.Resource
		_ = json.Unmarshal([]byte(resource), &res)
		var principal permission.Principal
		principal.Ref = ref
		if groups != "" {
			principal.Groups = strings.Split(groups, ",")
		}
		perm := permission.Permission(action)
		d := engine.Decide(principal, perm, res)
		if d.Reason == "" {
			t.Fatalf("decision %+v has no reason", d)
		}
		if d.Allowed && d.Rule == "" {
			t.Fatalf("allowed without naming a rule: %+v", d)
		}
		if d.Allowed && !permission.Known(perm) {
			t.Fatalf("allowed the unknown permission %q", action)
		}
		if again := engine.Decide(principal, perm, res); again != d {
			t.Fatalf("the same question answered %+v, then %+v", d, again)
		}
	})
}
