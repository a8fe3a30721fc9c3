package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/auth"
)

// newAuthCmd groups the commands that make token file lines and explain
// permission decisions.
func newAuthCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Make the lines of a token file (--auth-tokens); explain a permission decision",
	}
	var groups []string
	hash := &cobra.Command{
		Use:   "hash-token PRINCIPAL",
		Short: "Read a token on stdin and print its token file line, hashed",
		Long: `Read a token (its first line) on stdin and print the line of the token file that
stands for it: sha256:HEX PRINCIPAL [GROUP,GROUP]. The token itself is not printed;
the file then holds only its SHA-256 digest.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc := bufio.NewScanner(cmd.InOrStdin())
			if !sc.Scan() {
				if err := sc.Err(); err != nil {
					return fmt.Errorf("hash-token: reading stdin: %w", err)
				}
				return fmt.Errorf("hash-token: no token on stdin")
			}
			line, err := auth.HashLine(strings.TrimSpace(sc.Text()), args[0], splitGroups(groups)...)
			if err != nil {
				return fmt.Errorf("hash-token: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), line)
			return nil
		},
	}
	hash.Flags().StringArrayVar(&groups, "group", nil, "a group of the principal, [group:][namespace/]name (repeatable, comma-separated)")
	var createGroups []string
	create := &cobra.Command{
		Use:   "create PRINCIPAL",
		Short: "Make a random token: print it once, then its token file line",
		Long: `Make a random token of 32 bytes and print it on the first line (give it to the
service or person; it is not kept anywhere), then the line to add to the token
file on the second: sha256:HEX PRINCIPAL [GROUP,GROUP].`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			token, err := auth.NewToken(nil)
			if err != nil {
				return err
			}
			line, err := auth.HashLine(token, args[0], splitGroups(createGroups)...)
			if err != nil {
				return fmt.Errorf("token create: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), token)
			fmt.Fprintln(cmd.OutOrStdout(), line)
			return nil
		},
	}
	create.Flags().StringArrayVar(&createGroups, "group", nil, "a group of the principal, [group:][namespace/]name (repeatable, comma-separated)")
	token := &cobra.Command{Use: "token", Short: "Make tokens"}
	token.AddCommand(create)
	cmd.AddCommand(hash, token, newAuthCanCmd(g))
	return cmd
}

// splitGroups splits comma-separated groups and drops empty ones.
func splitGroups(in []string) []string {
	var out []string
	for _, g := range in {
		for _, p := range strings.Split(g, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
