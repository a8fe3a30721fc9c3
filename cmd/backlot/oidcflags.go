package main

import (
	"strings"

	"github.com/spf13/pflag"

	"backlot.dev/backlot/internal/auth"
	"backlot.dev/backlot/internal/auth/oidcauth"
)

// oidcEnvNames are the environment variables of the OIDC flags of dev and
// serve.
var oidcEnvNames = map[string]string{
	"oidc-issuer":             "BACKLOT_OIDC_ISSUER",
	"oidc-client-id":          "BACKLOT_OIDC_CLIENT_ID",
	"oidc-client-secret-file": "BACKLOT_OIDC_CLIENT_SECRET_FILE",
	"oidc-cli-client-id":      "BACKLOT_OIDC_CLI_CLIENT_ID",
	"oidc-audience":           "BACKLOT_OIDC_AUDIENCE",
	"oidc-resolver":           "BACKLOT_OIDC_RESOLVER",
	"public-url":              "BACKLOT_PUBLIC_URL",
}

// oidcFlags adds the sign-in flags of an api (see package oidcauth), each
// with its environment variable.
func oidcFlags(f *pflag.FlagSet, s *oidcauth.Settings, publicURLDefault string) {
	names := make([]string, len(auth.Resolvers))
	for i, r := range auth.Resolvers {
		names[i] = string(r)
	}
	f.StringVar(&s.Issuer, "oidc-issuer", "", "OpenID Provider issuer URL: people sign in at /auth/login and API clients may send its JWTs; its host must be public or allowed with --allow-network")
	f.StringVar(&s.ClientID, "oidc-client-id", "", "the server's client at the issuer (redirect URI PUBLIC_URL/auth/callback)")
	f.StringVar(&s.ClientSecretFile, "oidc-client-secret-file", "", "file holding the client's secret")
	f.StringVar(&s.CLIClientID, "oidc-cli-client-id", "", "the public client backlot login signs in as (loopback redirect http://127.0.0.1/callback, any port; or the device flow) (default --oidc-client-id)")
	f.StringSliceVar(&s.Audiences, "oidc-audience", nil, "audiences a bearer JWT may carry, one is enough (default the client ids)")
	f.StringVar(&s.Resolver, "oidc-resolver", string(auth.ResolverEmail), "how a person resolves to a User entity: "+strings.Join(names, ", "))
	f.StringVar(&s.PublicURL, "public-url", "", "the URL browsers reach this server at, e.g. https://backlot.example.com; cookies are Secure when it is https"+publicURLDefault)
	for name, env := range oidcEnvNames {
		bindEnv(f, name, env)
	}
}
