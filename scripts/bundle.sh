#!/usr/bin/env bash
# Builds the scaffolder's template engine: nunjitsu (the engine Backstage's
# scaffolder renders with) and Backlot's entry, bundled by esbuild into
# workflows/scaffolder/nunjucks/bundle/nunjucks.js, which go:embed puts in the
# binary. npm installs them from the lock file; node and npm come from apt
# when missing. make build, make run and make test run it first.
set -euo pipefail
cd "$(dirname "$0")/../workflows/scaffolder/nunjucks/js"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "== apt: installing nodejs and npm (the template engine is bundled from npm)"
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
out=../bundle/nunjucks.js
# Rebuild only when the inputs are newer than the bundle.
if [ -f "$out" ] && [ -z "$(find package.json package-lock.json entry.js guards.js build.mjs shims shims/* -newer "$out" 2>/dev/null)" ]; then
  exit 0
fi
echo "== npm: building the template engine bundle (nunjitsu + esbuild)"
npm ci --no-audit --no-fund --loglevel=error
node build.mjs "$out"
