# boxbot — `make help` lists the targets. Everything installs its own Debian prerequisites.
.DEFAULT_GOAL := help
SHELL := /bin/bash
# The published executables: out/bin for this machine, out/bin-$(RID) for another RID (RID=linux-arm64 on an
# x86_64 machine cross-compiles for a Pi), so a cross build never overwrites the host's out/bin.
HOST_RID := linux-$(patsubst x86_64,x64,$(patsubst aarch64,arm64,$(shell uname -m)))
BIN := $(if $(filter-out $(HOST_RID),$(RID)),out/bin-$(RID),out/bin)

.PHONY: help prereqs build publish run test deb install-test bench format clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-9s %s\n", $$1, $$2}'

prereqs: ## Install missing Debian packages (nats-server, python3, zlib1g-dev, ...) with apt-get
	@scripts/install-prereqs.sh

build: prereqs ## Build every project (Debug, for development and tests)
	dotnet build boxbot.sln -c Debug -nologo

publish: prereqs ## Native AOT publish of the six executables into out/bin; fails on any warning (RID=linux-arm64 for a Pi: out/bin-linux-arm64)
	@OUT=$(BIN) scripts/publish.sh

run: publish ## Build, then start all five daemons under ./.boxbot-dev (or $BOXBOT_HOME) with `boxbot dev up`
	$(BIN)/boxbot dev up

test: publish ## Run all tests against the published executables; prints "N passed, N failed"
	@scripts/run-tests.sh

deb: publish ## Build out/deb/boxbot_<version>_<arch>.deb (dpkg-deb, then lintian); RID=linux-arm64 for a Pi
	@scripts/install-prereqs.sh --deb
	@BIN=$(BIN) packaging/deb/build.sh

install-test: deb ## Install, upgrade and purge the .deb in a Debian bookworm booted under systemd-nspawn (root; a few minutes)
	@scripts/install-prereqs.sh --install-test
	@scripts/run-tests.sh --install

bench: publish ## Sandbox start-up against bare python3 (needs root), the webhook under wrk against nginx (installs both), mesh calls against a raw NATS echo; figures go in docs/performance.md
	@scripts/bench-prereqs.sh
	dotnet run -c Release --project bench/BoxBot.Bench.Sandbox -- $(BIN)/boxbot-sandbox
	dotnet run -c Release --project bench/BoxBot.Bench.Webhook -- $(BIN)/boxbot-webhook
	dotnet run -c Release --project bench/BoxBot.Bench.Mesh -- $(BIN)/boxbot

format: ## Rewrite sources to the project's formatting (dotnet format)
	dotnet format boxbot.sln

clean: ## Remove build output
	rm -rf out
	find cmd lib tests -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +
