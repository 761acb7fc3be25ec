# The two commands. Both bootstrap the toolchain (Node 22, Yarn 4) and install dependencies first.
SHELL := /bin/bash

.PHONY: start test bench install lint typecheck unit e2e install-test

## make start: serve the portal on http://localhost:3000 (backend :7007, kube-sim :6550)
## make start CLUSTER=real: the same on a real Kubernetes control plane (packages/kube-real)
CLUSTER ?= sim
start:
	@CLUSTER=$(CLUSTER) scripts/start.sh

## make test: types, lint, unit and integration tests, template checks, end-to-end in Chromium
test:
	@scripts/test.sh

## make bench: the performance benchmark (prints a table; JSON in .bench-output/)
bench:
	@scripts/bench.sh

install:
	@scripts/install.sh

typecheck: install
	@. scripts/toolchain.sh && yarn tsc

lint: install
	@. scripts/toolchain.sh && yarn backstage-cli repo lint

unit: install
	@. scripts/toolchain.sh && yarn backstage-cli repo test --watchAll=false

e2e: install
	@. scripts/toolchain.sh && scripts/ensure-chromium.sh && node test/e2e/run.mjs

## make install-test: the packed packages in a fresh create-app app, by the README (test/install)
install-test: install
	@. scripts/toolchain.sh && scripts/ensure-chromium.sh && node test/install/run.mjs
