# Backlot — make help lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/backlot
PKGS := ./...
BENCH_N ?= 10000
BENCH_REPOS ?= 1000
FUZZTIME ?= 30s

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

.PHONY: build
build: bundle ## Build bin/backlot
	$(GO) build -o $(BIN) ./cmd/backlot

.PHONY: bundle
bundle: ## Build the scaffolder's template engine (nunjitsu from npm, bundled by esbuild) that go:embed puts in the binary
	./scripts/bundle.sh

.PHONY: actions
actions: ## Build the shipped custom actions' executables (actions/actions.yaml registers them) into bin/
	$(GO) build -o bin/backlot-action-roadie ./actions/roadie
	$(GO) build -o bin/backlot-action-http-request ./actions/httprequest

.PHONY: run
run: build actions bwrap-check cookiecutter-check ## Build and start backlot dev with the example catalog, policies and template on http://127.0.0.1:7007
	./$(BIN) dev --data .data --catalog examples/catalog/all.yaml \
		--catalog examples/policies/test-certification.yaml --catalog examples/policies/production-readiness.yaml \
		--catalog examples/templates/go-service/template.yaml \
		--custom-actions actions/actions.yaml

.PHONY: bwrap-check
bwrap-check: ## Install bubblewrap (migration scripts run in its sandbox) from apt when missing and we are root; else say what to do
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make run: installing bubblewrap from apt (migration scripts run in its sandbox)"; \
	    apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; \
	  fi; \
	  command -v bwrap >/dev/null || echo "make run: bubblewrap (bwrap) is missing: the worker will refuse migration scripts and dry runs. Install it (apt-get install bubblewrap), or start ./$(BIN) dev with --insecure-scripts to run them unisolated." >&2; \
	}

.PHONY: cookiecutter-check
cookiecutter-check: ## Install cookiecutter and rails (fetch:cookiecutter and fetch:rails run them) from apt when missing and we are root; else say what to do
	@command -v cookiecutter >/dev/null && command -v rails >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make run: installing cookiecutter, ruby-railties and bundler from apt (fetch:cookiecutter and fetch:rails run them)"; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends cookiecutter ruby-railties bundler >/dev/null; \
	  fi; \
	  command -v cookiecutter >/dev/null || echo "make run: cookiecutter is missing: fetch:cookiecutter steps will fail. Install it (apt-get install cookiecutter, or pip install cookiecutter)." >&2; \
	  command -v rails >/dev/null || echo "make run: rails is missing: fetch:rails steps will fail. Install it (apt-get install --no-install-recommends ruby-railties bundler)." >&2; \
	}

.PHONY: test
test: ## Run the whole suite (installs what it needs: Go modules, npm packages)
	./scripts/test.sh

.PHONY: bench
bench: build ## Go benchmarks, the end-to-end catalog bench (BENCH_N entities) and the migration bench (BENCH_REPOS repositories); results in bench/results/<date>.json, compared with the last recorded
	mkdir -p bench/out
	$(GO) test -run '^$$' -bench . -benchmem ./domain/... ./internal/eventlog/... ./projections/... ./policies/ ./internal/badging/ ./internal/app/ ./workflows/scaffolder/nunjucks/ | tee bench/out/go.txt
	$(GO) test -run '^$$' -bench . -benchtime 200x ./internal/webui/ | tee -a bench/out/go.txt
	./$(BIN) bench catalog --entities $(BENCH_N) --output json | tee bench/out/catalog.json
	./$(BIN) bench migrate --repos $(BENCH_REPOS) --output json | tee bench/out/migrate.json
	./$(BIN) bench scaffold --tasks 20 --output json | tee bench/out/scaffold.json
	./$(BIN) bench record --out bench/results/$$(date -u +%F).json --commit $$(git rev-parse --short HEAD) --machine "$$(nproc) cores" \
		--go bench/out/go.txt --json catalog=bench/out/catalog.json --json migrate=bench/out/migrate.json --json scaffold=bench/out/scaffold.json
	-./$(BIN) bench compare bench/results/$$(date -u +%F).json

.PHONY: bench-production
bench-production: build ## The end-to-end bench on Kafka (in-process broker, a helper program) and a throwaway PostgreSQL, then the replay with 1, 2 and 4 projectors
	$(GO) build -o bin/backlot-kafkabroker ./internal/bench/kafkabroker
	./scripts/pg.sh sh -c 'BACKLOT_POSTGRES_URL=$$BACKLOT_TEST_POSTGRES_URL ./$(BIN) bench catalog --production --entities $(BENCH_N) && BACKLOT_POSTGRES_URL=$$BACKLOT_TEST_POSTGRES_URL ./$(BIN) bench replay --production --entities $(BENCH_N) --projectors 1,2,4'

.PHONY: soak
soak: build ## The soak of issue 17 (200 readers, 20 writers, 20 SSE followers) against backlot dev, then backlot serve with two api processes; SOAK_DURATION each (default 10m); fails on any error or lost/doubled event
	$(GO) build -o bin/backlot-kafkabroker ./internal/bench/kafkabroker
	./$(BIN) bench soak --duration $(or $(SOAK_DURATION),10m)
	./scripts/pg.sh sh -c 'BACKLOT_POSTGRES_URL=$$BACKLOT_TEST_POSTGRES_URL ./$(BIN) bench soak --production --duration $(or $(SOAK_DURATION),10m)'

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 30s); a crash is kept in the package's testdata/fuzz
	$(GO) test -run '^$$' -fuzz '^FuzzParseDocuments$$' -fuzztime $(FUZZTIME) ./domain/catalog
	$(GO) test -run '^$$' -fuzz '^FuzzParseFilter$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzParseChangeHook$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzTemplateRender$$' -fuzztime $(FUZZTIME) ./workflows/scaffolder/nunjucks
	$(GO) test -run '^$$' -fuzz '^FuzzCELTemplateRender$$' -fuzztime $(FUZZTIME) ./policies
	$(GO) test -run '^$$' -fuzz '^FuzzParseSpec$$' -fuzztime $(FUZZTIME) ./workflows/migration
	$(GO) test -run '^$$' -fuzz '^FuzzPermissionPolicy$$' -fuzztime $(FUZZTIME) ./policies/permission

.PHONY: lint
lint: ## go vet and staticcheck
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

.PHONY: clean
clean: ## Remove build output and the dev data folder
	rm -rf bin .data
