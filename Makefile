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
TEST_FLAGS ?= -race -count=1 -timeout 20m
BENCH_FLAGS ?= -run '^$$' -bench . -benchtime=3s -benchmem -count=1 -timeout 30m

# Spec linters, installed from npm into .tools/ at pinned versions.
REDOCLY_VERSION  := 2.77.0
SPECTRAL_VERSION := 6.16.3
TOOLS_STAMP      := .tools/.stamp-$(REDOCLY_VERSION)-$(SPECTRAL_VERSION)
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
test: ## run the whole test suite against a real Postgres
	$(DB_ENV) && $(GO) test $(TEST_FLAGS) ./...

.PHONY: bench
bench: ## run the benchmarks (write throughput, network, imports, entitlements, claims, webhooks, dispatch, tickets, authorization)
	$(DB_ENV) && $(GO) test $(BENCH_FLAGS) ./internal/bench/ ./authz/ ./tenants/warranty/entitlement/

.PHONY: openapi
openapi: ## regenerate openapi/openapi.yaml and openapi/openapi-3.0.yaml from the code
	$(GO) run ./cmd/servicenet openapi -dir openapi

.PHONY: lint
lint: lint-go lint-spec ## all linters

.PHONY: lint-go
lint-go: ## gofmt, go vet, staticcheck
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	  if [[ -n "$$unformatted" ]]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

.PHONY: lint-spec
lint-spec: $(TOOLS_STAMP) ## lint the committed OpenAPI documents (Redocly, Spectral)
	.tools/node_modules/.bin/redocly lint --config .redocly.yaml openapi/openapi.yaml openapi/openapi-3.0.yaml
	.tools/node_modules/.bin/spectral lint --ruleset .spectral.yaml --fail-severity=warn openapi/openapi.yaml openapi/openapi-3.0.yaml

$(TOOLS_STAMP):
	rm -rf .tools && mkdir -p .tools
	npm install --prefix .tools --no-audit --no-fund --loglevel=error \
	  @redocly/cli@$(REDOCLY_VERSION) @stoplight/spectral-cli@$(SPECTRAL_VERSION)
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
