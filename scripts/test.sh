#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it. It installs what it needs and
# says so: Go modules from the module proxy, and the npm packages of the
# @backstage/catalog-client compatibility test, of the differential
# validation test against @backstage/catalog-model and of the differential
# template test against @backstage/plugin-scaffolder-backend, and the
# scaffolder's template engine (scripts/bundle.sh). Every fixture a test reads
# is in the repository: a fresh clone needs nothing beside it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go: downloading modules"
go mod download

if ! command -v git >/dev/null; then
  echo "== apt: installing git (the git-source tests use real repositories)"
  apt-get update -qq && apt-get install -y -qq git >/dev/null
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "== apt: installing nodejs and npm (for the @backstage/catalog-client and catalog-model tests)"
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi

if ! command -v bwrap >/dev/null; then
  echo "== apt: installing bubblewrap (migration scripts run in a bwrap sandbox, and its tests use it)"
  apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null
fi

if ! command -v kcat >/dev/null; then
  echo "== apt: installing kcat (the event-schema test reads the Kafka topics with it)"
  apt-get update -qq && apt-get install -y -qq kcat >/dev/null
fi

if ! command -v chromium >/dev/null; then
  echo "== apt: installing chromium (the web UI's browser tests drive it)"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

echo "== npm: installing axe-core for the web UI's accessibility assertions"
(cd internal/webui/e2e && npm ci --no-audit --no-fund --loglevel=error)
echo "== npm: installing @backstage/catalog-client for the compatibility test"
(cd internal/compat/catalogclient && npm ci --no-audit --no-fund --loglevel=error)
echo "== npm: installing @backstage/catalog-model for the differential validation test"
(cd internal/compat/catalogmodel && npm ci --no-audit --no-fund --loglevel=error)
echo "== npm: installing @backstage/plugin-scaffolder-backend for the differential template test"
(cd internal/compat/scaffolder && npm ci --no-audit --no-fund --loglevel=error)
# The scaffolder's template engine is bundled from npm and embedded: build it
# before go vet and go test, which compile the packages that embed it.
./scripts/bundle.sh
echo "== npm: installing @temporalio/worker for the custom-action test (a Temporal activity in TypeScript)"
(cd cmd/backlot/testdata/tsworker && npm ci --no-audit --no-fund --loglevel=error)

if ! command -v cookiecutter >/dev/null; then
  echo "== apt: installing cookiecutter (fetch:cookiecutter runs it, and its tests use it)"
  apt-get update -qq && apt-get install -y -qq cookiecutter >/dev/null
fi
if ! command -v rails >/dev/null; then
  # Debian's rails meta package pulls node packages this machine's nodejs
  # conflicts with; railties (the rails command) and bundler are what
  # fetch:rails runs.
  echo "== apt: installing ruby-railties and bundler (fetch:rails runs rails new, and its test uses it)"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends ruby-railties bundler >/dev/null
fi

# PostgreSQL: the read-model and lease adapters are tested against a real server.
# pg.sh installs it from apt when missing, starts a throwaway cluster, exports
# BACKLOT_TEST_POSTGRES_URL for the go test runs below and removes it at exit.
# shellcheck source=scripts/pg.sh
. scripts/pg.sh
pg_start

echo "== go vet"
go vet ./...
# The golden log's recorder is built only with its tag: vet it too, so it keeps compiling.
go vet -tags golden_record ./internal/golden

echo "== go test (packages)"
go test -count=1 -timeout 20m $(go list ./... | grep -v '/cmd/backlot$')

# The HTTP API suite once more, on the PostgreSQL read model (the run above used
# SQLite; the catalog-client suite runs against both modes by itself).
echo "== go test (HTTP API suite on PostgreSQL)"
BACKLOT_TEST_STORE=postgres go test -count=1 -timeout 10m ./internal/httpapi

# The process-level tests build the binary, ingest a 30,000-entity catalog and
# kill -9 a server mid-ingestion, and run three projector processes on Kafka and
# PostgreSQL, killing one: run them on their own so they have the machine.
echo "== go test (backlot binary: restart, kill -9 and projector-group tests)"
go test -count=1 -timeout 20m ./cmd/backlot
