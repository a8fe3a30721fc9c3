#!/bin/sh
# Generates the secrets of an install, once, so none is kept in the repository:
#   secrets/backlot.env             BACKLOT_SECRETS_KEY (base64 of 32 random bytes: it
#                                   seals template secrets before they reach Temporal)
#                                   and BACKLOT_WEBHOOK_SECRET (signs git hosts' webhooks)
#   secrets/tokens                  the api's token file: one hashed line
#                                   (sha256:HEX PRINCIPAL [GROUPS]) for a first token
#   secrets/oidc-client-secret      the OIDC client's secret: BACKLOT_OIDC_CLIENT_SECRET
#                                   when set, else empty (a public client, or no issuer);
#                                   written when missing, also beside older secrets
# in deploy/secrets/ (compose.yaml) and deploy/kubernetes/secrets/ (the kustomization's
# secretGenerator). The first token is printed once, on stdout; it is kept nowhere.
# Add more tokens with `backlot auth token create PRINCIPAL --group GROUP`.
#
# Usage: deploy/gen-secrets.sh [PRINCIPAL [GROUPS]]   (default user:default/admin, no groups)
# Existing files are kept: a new secrets key would make sealed secrets unreadable.
# GEN_SECRETS_DIRS overrides the folders (space-separated).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dirs=${GEN_SECRETS_DIRS:-"$here/secrets $here/kubernetes/secrets"}
principal=${1:-user:default/admin}
groups=${2:-}

random() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }

key=$(random)
hook=$(random | tr '+/' '-_' | tr -d '=')
token=$(random | tr '+/' '-_' | tr -d '=')
digest=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
line="sha256:$digest $principal${groups:+ $groups}"

umask 077
made=0
for d in $dirs; do
	mkdir -p "$d"
	if [ ! -e "$d/oidc-client-secret" ]; then
		printf '%s' "${BACKLOT_OIDC_CLIENT_SECRET:-}" >"$d/oidc-client-secret"
	fi
	if [ -e "$d/backlot.env" ] || [ -e "$d/tokens" ]; then
		echo "gen-secrets: $d already holds secrets; kept as they are (delete them to start over)" >&2
		continue
	fi
	printf 'BACKLOT_SECRETS_KEY=%s\nBACKLOT_WEBHOOK_SECRET=%s\n' "$key" "$hook" >"$d/backlot.env"
	printf '# sha256:HEX PRINCIPAL [GROUP,GROUP] per line; see backlot auth hash-token\n%s\n' "$line" >"$d/tokens"
	made=1
done
if [ "$made" = 1 ]; then
	echo "gen-secrets: the api token of $principal (shown once, keep it in your secret store):" >&2
	echo "$token"
fi
