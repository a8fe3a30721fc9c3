package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/client"
	"backlot.dev/backlot/policies/permission"
)

// newAuthCanCmd explains a permission decision: who may do what to which
// resource under a permission policy (the default one, or a file's), and the
// rule that decided.
func newAuthCanCmd(g *globalFlags) *cobra.Command {
	var groups, params []string
	var policyFile, resourceJSON, server string
	cmd := &cobra.Command{
		Use:   "can PRINCIPAL PERMISSION [RESOURCE]",
		Short: "Decide a permission and name the rule that decided (exit 1 when denied)",
		Long: `Decide whether PRINCIPAL (an entity ref such as user:default/ada, or "" for
nobody signed in) may PERMISSION (such as catalog.entity.delete) on RESOURCE, a
JSON object of the keys the policy reads (kind, ref, owner, ownerMembers,
allowedGroups, taskCreator, approvers, selfApproval, createdBy, source), under
the default permission policy or --policy FILE. Prints allow or deny, the rule
that decided and why; exits 1 when the answer is deny. The principal's groups
are given with --group: this command decides offline and reads no catalog.

With --server URL it asks a running server instead
(POST /api/permissions/decide, which needs policy.read): the server's policy
decides, RESOURCE may name what the server resolves from its stores (an entity
ref for catalog.*, facts.report and git.change.*; a template ref for
scaffolder.task.create; a task id for scaffolder.task.* and
scaffolder.approval.decide; a subscription id, a migration id), and without
--group the principal's groups are read from the catalog.`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			perm := permission.Permission(args[1])
			if !permission.Known(perm) {
				return fmt.Errorf("auth can: unknown permission %q (known: %s)", args[1], joinPermissions())
			}
			if len(args) == 3 {
				resourceJSON = args[2]
			}
			if cmd.Flags().Changed("server") {
				if policyFile != "" || len(params) > 0 {
					return fmt.Errorf("auth can: --server decides under the server's policy: --policy and --param are for offline decisions")
				}
				return askServer(cmd, g, server, args[0], perm, resourceJSON, groups, cmd.Flags().Changed("group"))
			}
			res := permission.Resource{}
			if resourceJSON != "" {
				if err := json.Unmarshal([]byte(resourceJSON), &res); err != nil {
					return fmt.Errorf("auth can: RESOURCE-JSON: %w", err)
				}
			}
			var pm map[string]string
			for _, p := range params {
				k, v, ok := strings.Cut(p, "=")
				if !ok || k == "" {
					return fmt.Errorf("auth can: --param %q: want NAME=VALUE", p)
				}
				if pm == nil {
					pm = map[string]string{}
				}
				pm[k] = v
			}
			engine, err := authEngine(policyFile, pm)
			if err != nil {
				return fmt.Errorf("auth can: %w", err)
			}
			principal := permission.Principal{Ref: args[0], Groups: splitGroups(groups)}
			d := engine.Decide(principal, perm, res)
			out := cmd.OutOrStdout()
			if g.json() {
				if err := printJSON(out, map[string]any{"allowed": d.Allowed, "rule": d.Rule, "reason": d.Reason}); err != nil {
					return err
				}
			} else {
				printVerdict(out, d.Allowed, d.Rule, d.Reason)
			}
			if !d.Allowed {
				return fmt.Errorf("%s may not %s", describePrincipal(args[0]), perm)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&groups, "group", nil, "a group of the principal, group:namespace/name (repeatable, comma-separated)")
	cmd.Flags().StringVar(&policyFile, "policy", "", "a PermissionPolicy YAML file (default: the policy Backlot ships)")
	cmd.Flags().StringArrayVar(&params, "param", nil, "a policy parameter NAME=VALUE, such as platformGroup=group:default/platform (repeatable)")
	cmd.Flags().StringVar(&resourceJSON, "resource", "", "the resource as a JSON object (or give it as the third argument)")
	cmd.Flags().StringVar(&server, "server", "", "ask the Backlot server at this URL (with --token) instead of deciding offline")
	return cmd
}

// askServer asks the server at url for the decision, and prints it as the
// offline mode does.
func askServer(cmd *cobra.Command, g *globalFlags, url, principal string, perm permission.Permission, resource string, groups []string, withGroups bool) error {
	if url == "" {
		return fmt.Errorf("auth can: --server: give the server's URL")
	}
	g.url = url
	req := client.DecideRequest{Principal: principal, Permission: string(perm)}
	if withGroups {
		gs := splitGroups(groups)
		if gs == nil {
			gs = []string{}
		}
		req.Groups = &gs
	}
	if resource = strings.TrimSpace(resource); resource != "" {
		if strings.HasPrefix(resource, "{") {
			if !json.Valid([]byte(resource)) {
				return fmt.Errorf("auth can: RESOURCE is not a JSON object")
			}
			req.Resource = json.RawMessage(resource)
		} else {
			raw, _ := json.Marshal(resource)
			req.Resource = raw
		}
	}
	d, err := g.client().DecidePermission(cmd.Context(), req)
	if err != nil {
		return fmt.Errorf("auth can: %w", err)
	}
	out := cmd.OutOrStdout()
	if g.json() {
		if err := printJSON(out, d); err != nil {
			return err
		}
	} else {
		printVerdict(out, d.Allowed, d.Rule, d.Reason)
		fmt.Fprintf(out, "policy\t%s\ngroups\t%s\n", d.Policy, strings.Join(d.Groups, ","))
		if len(d.Resource) > 0 {
			raw, _ := json.Marshal(d.Resource)
			fmt.Fprintf(out, "resource\t%s\n", raw)
		}
	}
	if !d.Allowed {
		return fmt.Errorf("%s may not %s", describePrincipal(principal), perm)
	}
	return nil
}

// printVerdict writes a decision as auth can prints it, offline or asking a
// server: allow or deny, the deciding rule ("(no rule matched)" when none)
// and the reason.
func printVerdict(out io.Writer, allowed bool, rule, reason string) {
	verdict := "deny"
	if allowed {
		verdict = "allow"
	}
	if rule == "" {
		rule = "(no rule matched)"
	}
	fmt.Fprintf(out, "%s\nrule\t%s\nreason\t%s\n", verdict, rule, reason)
}

// authEngine compiles the policy of file (the default policy when file is
// empty) with params.
func authEngine(file string, params map[string]string) (*permission.Engine, error) {
	if file == "" {
		return permission.Default(params)
	}
	if _, err := os.Stat(file); err != nil {
		return nil, err
	}
	p, err := permission.ParseFile(file)
	if err != nil {
		return nil, err
	}
	return permission.Compile(p, params)
}

// describePrincipal names a principal in a message; "" is nobody signed in.
func describePrincipal(ref string) string {
	if ref == "" {
		return "nobody signed in"
	}
	return ref
}

// joinPermissions lists the known permissions.
func joinPermissions() string {
	names := make([]string, len(permission.All))
	for i, p := range permission.All {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}
