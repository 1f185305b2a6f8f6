# ServiceNet — the two commands a newcomer needs are `make run` and `make test`.
#
# Without DATABASE_URL, every target that needs a database starts (or reuses) a
# private PostgreSQL 15 cluster under .data/ via deploy/localpg.sh. With
# DATABASE_URL set (an owner role that may create roles and databases), that
# database is used as is.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := bin/servicenet
# `eval "$$(cmd)"` would hide cmd's failure (eval of nothing succeeds) and
# the next step would only say DATABASE_URL is not set: stop here instead.
DB_ENV    := { env_out="$$(bash deploy/localpg.sh env)" || { echo "make: could not start the local PostgreSQL (messages above; log in .data/pg.log or where .data/pg-location points). Fix that, or set DATABASE_URL to a database whose role may create roles and databases." >&2; exit 1; }; eval "$$env_out"; }
# -cover: every package's coverage is printed, so a change that lowers it shows in the test log.
TEST_FLAGS ?= -race -cover -count=1 -timeout 40m
# The request path's write and read ratios (issue 11: raw insert, /v1/me against /healthz, intake and its p99 at 200
# req/s) run first, in a process of their own, before the imports fill the cluster (590,000 rows and 800 MB, with
# autovacuum behind them): run in the one process after them, the intake took a third more CPU per request than alone
# and measured 0.078 of raw against 0.10. Claims stay with the rest: their backlog of adjudications, run just before
# the intake, took its p99 at 200 req/s from 15.7 ms (alone) to 41.8 ms.
BENCH_FIRST ?= WriteThroughput|AuthenticatedGET|Tickets$$
BENCH_FLAGS ?= -run '^$$' -bench . -skip 'IntakeAudit|Floor|$(BENCH_FIRST)' -benchtime=3s -benchmem -count=1 -timeout 30m
# The audit on/off comparison (16 interleaved pairs of 200 intakes, at most ~110 s of pairs) and the intake and claim
# floors (interleaved rounds) size themselves: one run each.
AUDIT_BENCH_FLAGS ?= -run '^$$' -bench 'IntakeAudit|Floor' -benchtime=1x -count=1 -timeout 20m

# Spec linters and the TypeScript client's generator and compiler, installed
# from npm into .tools/ at pinned versions; the Go client's generator runs
# from the Go module proxy at a pinned version.
REDOCLY_VERSION  := 2.77.0
SPECTRAL_VERSION := 6.16.3
OPENAPI_TS_VERSION    := 7.13.0
OPENAPI_FETCH_VERSION := 0.17.0
TYPESCRIPT_VERSION    := 5.9.3
OAPI_CODEGEN     := $(GO) run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.6.0
TOOLS_STAMP      := .tools/.stamp-$(REDOCLY_VERSION)-$(SPECTRAL_VERSION)-$(OPENAPI_TS_VERSION)-$(OPENAPI_FETCH_VERSION)-$(TYPESCRIPT_VERSION)
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/servicenet
	$(GO) build -o $(BIN) ./cmd/servicenet

.PHONY: run
run: build ## start Postgres if needed, migrate, seed the demo brand, serve on :8080
	$(DB_ENV) && $(BIN) migrate && $(BIN) seed \
	  && . .data/demo.env && export SERVICENET_OPERATOR_TOKEN="$${SERVICENET_OPERATOR_TOKEN:-$$OPERATOR_TOKEN}" \
	  && exec $(BIN) serve

.PHONY: test
test: check-clients ## run the whole test suite against a real Postgres (and check the generated clients)
	$(DB_ENV) && $(GO) test $(TEST_FLAGS) ./...

.PHONY: bench
bench: ## run the benchmarks (write throughput, network, imports, entitlements, claims, webhooks, dispatch, tickets, authorization)
	$(DB_ENV) && $(GO) test -run '^$$' -bench '$(BENCH_FIRST)' -benchtime=3s -benchmem -count=1 -timeout 20m ./internal/bench/ && \
		$(GO) test $(BENCH_FLAGS) ./internal/bench/ ./authz/ ./tenants/warranty/entitlement/ && \
		$(GO) test $(AUDIT_BENCH_FLAGS) ./internal/bench/

.PHONY: openapi
openapi: $(TOOLS_STAMP) ## regenerate openapi/openapi.yaml, openapi-3.0.yaml and the clients in openapi/clients/ from the code
	$(GO) run ./cmd/servicenet openapi -dir openapi
	$(OAPI_CODEGEN) -config openapi/clients/go/oapi-codegen.yaml openapi/openapi-3.0.yaml
	.tools/node_modules/.bin/openapi-typescript openapi/openapi.yaml -o openapi/clients/ts/schema.d.ts

.PHONY: check-clients
check-clients: $(TOOLS_STAMP) ## the committed clients are generated from the committed spec, and both compile
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	  sed "s|^output:.*|output: $$tmp/servicenet.gen.go|" openapi/clients/go/oapi-codegen.yaml >"$$tmp/oapi-codegen.yaml"; \
	  $(OAPI_CODEGEN) -config "$$tmp/oapi-codegen.yaml" openapi/openapi-3.0.yaml; \
	  .tools/node_modules/.bin/openapi-typescript openapi/openapi.yaml -o "$$tmp/schema.d.ts" >/dev/null; \
	  cmp -s "$$tmp/servicenet.gen.go" openapi/clients/go/servicenet.gen.go || { echo "openapi/clients/go is stale: run make openapi" >&2; exit 1; }; \
	  cmp -s "$$tmp/schema.d.ts" openapi/clients/ts/schema.d.ts || { echo "openapi/clients/ts is stale: run make openapi" >&2; exit 1; }
	$(GO) build ./openapi/clients/go/
	.tools/node_modules/.bin/tsc -p openapi/clients/ts --noEmit

.PHONY: lint
lint: lint-go lint-spec ## all linters

.PHONY: lint-go
lint-go: ## gofmt, go vet, staticcheck
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	  if [[ -n "$$unformatted" ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

.PHONY: tools
tools: $(TOOLS_STAMP) ## install the npm tools (spec linters, TypeScript client generator and compiler) into .tools/

.PHONY: lint-spec
lint-spec: $(TOOLS_STAMP) ## lint the committed OpenAPI documents (Redocly, Spectral)
	.tools/node_modules/.bin/redocly lint --config .redocly.yaml openapi/openapi.yaml openapi/openapi-3.0.yaml
	.tools/node_modules/.bin/spectral lint --ruleset .spectral.yaml --fail-severity=warn openapi/openapi.yaml openapi/openapi-3.0.yaml

$(TOOLS_STAMP):
	rm -rf .tools && mkdir -p .tools
	npm install --prefix .tools --no-audit --no-fund --loglevel=error \
	  @redocly/cli@$(REDOCLY_VERSION) @stoplight/spectral-cli@$(SPECTRAL_VERSION) \
	  openapi-typescript@$(OPENAPI_TS_VERSION) openapi-fetch@$(OPENAPI_FETCH_VERSION) typescript@$(TYPESCRIPT_VERSION)
	touch $@

.PHONY: db-start db-stop db-status
db-start: ## start the local Postgres cluster (.data/pg)
	bash deploy/localpg.sh start
db-stop: ## stop the local Postgres cluster
	bash deploy/localpg.sh stop
db-status:
	bash deploy/localpg.sh status

.PHONY: clean
clean: ## stop the local cluster, delete its data (wherever it lives), .data/, bin/ and .tools/
	bash deploy/localpg.sh destroy
	rm -rf .data bin .tools
