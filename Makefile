# Telefonagent booking gateway. `make help` lists the targets.
SHELL := /bin/bash
export GOFLAGS := -buildvcs=false
export AWS_EC2_METADATA_DISABLED := true
export AWS_XRAY_CONTEXT_MISSING := IGNORE_ERROR
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true

TOOLS_DIR   := $(CURDIR)/.tools/node
export RETELL_SDK_DIR := $(TOOLS_DIR)
export PRISM_BIN      := $(TOOLS_DIR)/node_modules/.bin/prism

GOARCH_LAMBDA := arm64
comma         := ,
BUILD_TAGS    := lambda.norpc$(if $(filter xray,$(TRACING)),$(comma)xray)
BUILD_FLAGS   := -tags $(BUILD_TAGS) -trimpath -ldflags='-s -w -buildid='
FUNCTIONS      = $(shell go run ./scripts/catalog names)

.PHONY: bench-go loadtest diff help build build-local test test-go test-infra tools services dev demo bench synth deploy lint lint-tools cfn-lint vulncheck fmt vet retell-tools migrate fuzz

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build every catalogued function into dist/<name>/bootstrap (linux/arm64)
	@$(MAKE) --no-print-directory _build ARCH=$(GOARCH_LAMBDA)

build-local: ## the same for this machine's architecture (for the Lambda emulator)
	@$(MAKE) --no-print-directory _build ARCH=$$(go env GOARCH)

_build:
	@mkdir -p dist
	@for f in $(FUNCTIONS); do \
	  if [ -f functions/$$f/main.go ]; then \
	    CGO_ENABLED=0 GOOS=linux GOARCH=$(ARCH) go build $(BUILD_FLAGS) -o dist/$$f/bootstrap ./functions/$$f || exit 1; \
	    stat -c %s dist/$$f/bootstrap | awk -v f=$$f -v a=$(ARCH) '{printf "%-24s %6.1f MB  (linux/%s)\n", f, $$1/1048576, a}'; \
	  else printf '%-24s not written yet\n' $$f; fi; \
	done

tools: $(TOOLS_DIR)/.installed ## install the Node tools tests use (official retell-sdk, Prism)
$(TOOLS_DIR)/.installed:
	@mkdir -p $(TOOLS_DIR)
	cd $(TOOLS_DIR) && [ -f package.json ] || (cd $(TOOLS_DIR) && npm init -y >/dev/null)
	cd $(TOOLS_DIR) && npm install --no-audit --no-fund --loglevel=error retell-sdk@5.66.1 @stoplight/prism-cli@5.14.2
	@touch $@

services: ## start MariaDB, Redis and moto_server (AWS emulator) on loopback if they are not running
	@scripts/services.sh

test: tools services test-go test-infra ## unit + integration tests against real MariaDB, Redis and moto, plus the CDK tests

test-go:
	go vet ./...
	go test -count=1 -timeout 15m ./...

test-infra:
	cd infra && go test -count=1 -timeout 15m ./...

dev: ## the whole gateway on http://127.0.0.1:8080 (embedded MySQL, Redis and Cal.com unless configured)
	go run ./scripts/dev

demo: ## a simulated phone call against the dev gateway
	go run ./scripts/simulate-call --scenario all

bench: services build-local ## performance budgets: dist/bench/results.json + latency.svg
	go run ./scripts/bench

bench-go: services ## Go micro-benchmarks against real MariaDB and Redis
	go test -run '^$$' -bench . -benchmem ./shared/...

loadtest: ## staging check: make loadtest TARGET=https://… RETELL_API_KEY=… [RPS=2 DURATION=30s SCENARIO=book]
	go run ./scripts/loadtest --target "$(TARGET)" --rps $${RPS:-2} --duration $${DURATION:-30s} --scenario $${SCENARIO:-book}

fuzz: ## run every fuzz target for a short while
	@for p in $$(go list ./shared/...); do \
	  for f in $$(go test -list '^Fuzz' $$p | grep '^Fuzz'); do go test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$p || exit 1; done; done

migrate: ## apply schema migrations to MYSQL_DSN
	go run ./scripts/migrate up

retell-tools: ## print the Retell custom-tool definitions (URL from API_BASE_URL)
	@go run ./scripts/retell-tools

CDK := .cdk/node_modules/.bin/cdk
$(CDK): .cdk/package-lock.json
	npm ci --prefix .cdk --no-audit --no-fund --loglevel=error
	@touch $@

synth: build $(CDK) ## synthesize the CloudFormation templates (offline): make synth STAGE=prod
	$(CDK) synth --no-notices -c stage=$${STAGE:-dev} >/dev/null && echo "synth ok: cdk.out/"

deploy: build $(CDK) ## deploy a stage: make deploy STAGE=prod ACCOUNT=… REGION=… ALARM_EMAIL=…
	$(CDK) deploy --no-notices --all -c stage=$${STAGE:-dev} -c requireBuiltAssets=true \
	  -c account=$(ACCOUNT) -c region=$${REGION:-eu-central-1} -c alarmEmail=$(ALARM_EMAIL) --require-approval never

diff: build $(CDK) ## what a deploy would change
	$(CDK) diff --no-notices -c stage=$${STAGE:-dev} -c requireBuiltAssets=true

# Linters, pinned, installed with `go install` into .tools/bin (name=package@version).
TOOLS_BIN  := $(CURDIR)/.tools/bin
LINT_TOOLS := actionlint=github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 \
              gosec=github.com/securego/gosec/v2/cmd/gosec@v2.30.0 \
              golangci-lint=github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0 \
              gitleaks=github.com/zricethezav/gitleaks/v8@v8.30.1 \
              govulncheck=golang.org/x/vuln/cmd/govulncheck@v1.9.0

lint-tools: ## install the pinned linters into .tools/bin (reinstalls when a version changes)
	@mkdir -p $(TOOLS_BIN); set -e; for spec in $(LINT_TOOLS); do \
	  name=$${spec%%=*}; pkg=$${spec#*=}; \
	  if [ "$$(cat $(TOOLS_BIN)/.$$name.version 2>/dev/null)" != "$$pkg" ] || [ ! -x $(TOOLS_BIN)/$$name ]; then \
	    echo "go install $$pkg"; GOBIN=$(TOOLS_BIN) go install $$pkg; echo "$$pkg" > $(TOOLS_BIN)/.$$name.version; \
	  fi; done

lint: vet lint-tools cfn-lint ## gofmt, vet, golangci-lint, gosec, actionlint, cfn-lint, secret scan (offline, pinned)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(TOOLS_BIN)/golangci-lint run ./...
	cd infra && $(TOOLS_BIN)/golangci-lint run ./...
	$(TOOLS_BIN)/gosec -quiet ./...
	cd infra && $(TOOLS_BIN)/gosec -quiet ./...
	$(TOOLS_BIN)/actionlint
	$(TOOLS_BIN)/gitleaks git --no-banner --redact --log-opts="$${GITLEAKS_LOG_OPTS:-HEAD}" .

cfn-lint: ## synthesize dev and prod and lint every template with cfn-lint (.cfnlintrc), plus the cycle check
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is missing: pip install cfn-lint"; exit 1; }
	cd infra && go test -count=1 -run '^(TestCfnLintFindsNothingInDevAndProd|TestNoDependencyCycleInAnyTemplate)$$' -v .

vulncheck: lint-tools ## known vulnerabilities in the dependencies (needs the network: vuln.go.dev)
	$(TOOLS_BIN)/govulncheck ./...
	cd infra && $(TOOLS_BIN)/govulncheck ./...

vet:
	go vet ./...
	cd infra && go vet ./...
