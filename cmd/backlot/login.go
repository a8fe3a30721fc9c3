package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"backlot.dev/backlot/internal/client"
)

// openBrowser opens a URL in the user's browser (xdg-open, open); the tests
// replace it with a browser of their own.
var openBrowser = func(u string) error {
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	if _, err := exec.LookPath(name); err != nil {
		return err
	}
	return exec.Command(name, u).Start()
}

func newLoginCmd(g *globalFlags) *cobra.Command {
	var server string
	var device, noBrowser bool
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in to a server at its OIDC issuer and keep the token for later commands",
		Long: `Sign in to a Backlot server at the OpenID Provider it names (GET /auth/config):
in the browser, with a redirect to a listener on 127.0.0.1 at a random port
(authorization code with PKCE), or with --device on another device (the device
flow, when the issuer offers it). The tokens are kept for that server in
CONFIG/backlot/credentials.json (mode 0600; CONFIG is $XDG_CONFIG_HOME or
~/.config on Linux), and every later command against the server sends them
when no --token or BACKLOT_TOKEN is given, refreshed once expired.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server == "" {
				server = g.url
			}
			o := client.LoginOptions{Server: server, Device: device, Out: cmd.ErrOrStderr()}
			if !noBrowser {
				o.Open = openBrowser
			}
			c, err := client.Login(cmd.Context(), o)
			if err != nil {
				return fmt.Errorf("login to %s: %w", client.ServerKey(server), err)
			}
			path, _ := client.CredentialsPath()
			fmt.Fprintf(cmd.OutOrStdout(), "signed in to %s at %s until %s; the token is kept in %s\n",
				client.ServerKey(server), c.Issuer, c.Expiry.Local().Format(time.RFC3339), path)
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "the server to sign in to (default --url)")
	cmd.Flags().BoolVar(&device, "device", false, "sign in on another device with a code (the device flow)")
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the URL to open instead of opening a browser")
	return cmd
}

func newLogoutCmd(g *globalFlags) *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Forget the token backlot login kept for a server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server == "" {
				server = g.url
			}
			path, err := client.CredentialsPath()
			if err != nil {
				return err
			}
			removed, err := client.RemoveCredential(path, server)
			if err != nil {
				return err
			}
			if removed {
				fmt.Fprintf(cmd.OutOrStdout(), "signed out of %s\n", client.ServerKey(server))
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "no sign-in kept for %s\n", client.ServerKey(server))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "the server to sign out of (default --url)")
	return cmd
}

// bearer is the token commands send: --token (BACKLOT_TOKEN) when given,
// else the one backlot login kept for --url, refreshed when expired. A
// stored token that cannot be refreshed is reported and none is sent.
func (g *globalFlags) bearer() string {
	if g.token != "" {
		return g.token
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := client.StoredToken(ctx, nil, "", g.url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "backlot:", err)
		return ""
	}
	return tok
}
