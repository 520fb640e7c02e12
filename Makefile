# kmschaos — see README.md. `make demo` and `make test` are the two
# commands a fresh machine needs; the rest are for working on kmschaos.

GO ?= go
# No registry here: Ryuk's image cannot be pulled, the harness sweeps
# instead; and testcontainers must dial localhost, not a bridge address.
export TESTCONTAINERS_RYUK_DISABLED ?= true
export TESTCONTAINERS_HOST_OVERRIDE ?= localhost

# -p 1: one package at a time; the scenario suite (the root package)
# runs after the others through scripts/suite.sh, on KMSCHAOS_PROCS
# clusters at once (1). Two n=13 clusters on 2 cores were no faster than
# one and saturated both cores: one cluster's workload alone takes most of
# a core (docs/performance.md, "Several clusters at once").
TEST_FLAGS ?= -p 1 -timeout 80m -count=1
export KMSCHAOS_PROCS ?= 1
MODULE = github.com/kmschaos/kmschaos
UNITS = $$($(GO) list ./... | grep -vx '$(MODULE)')

.PHONY: help setup demo test test-quick test-smoke check lint vet soak bench images clean proto fuzz findings coverage
.PHONY: k8s-build k8s-up k8s-down test-k8s bench-k8s

# `make` alone prints the targets: nothing starts by surprise.
.DEFAULT_GOAL := help

help: ## list the targets (this)
	@awk 'BEGIN { FS = ":.*## " } /^[a-z0-9-]+:.*## / { printf "  make %-11s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup: ## install what is missing (Docker engine, modules) and start the engine
	./scripts/bootstrap.sh

# Built, then run, not `go run`: go run exits 1 when it is interrupted,
# whatever the program's status, and make reports "Error 1". Ctrl-C is how
# a demo ends: the shell waits it out (trap) while kmschaos removes the
# cluster and exits 0. make itself still ends on the signal, silently.
demo: setup ## bring up a 13-party cluster, prove it works, keep it until Ctrl-C
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && trap : INT && \
	$(GO) build -o "$$d/kmschaos" ./cmd/kmschaos && "$$d/kmschaos" up

# Every package but the root with go test, then the scenario suite; the
# scorecard is printed last whether the run passed or not, and the first
# red of the two decides the exit status.
TESTS = rm -f reports/scorecard.txt reports/teardown-*.txt; $(GO) test $(TEST_FLAGS) $(UNITS); units=$$?; \
	GO='$(GO)' ./scripts/suite.sh; suite=$$?; \
	[ -f reports/scorecard.txt ] && cat reports/scorecard.txt; cat reports/teardown-*.txt 2>/dev/null; \
	[ $$units = 0 ] || exit $$units; exit $$suite

# The tests drive a real browser (the game day's live view): the set-up
# installs chromium for them ...
test test-quick: export KMSCHAOS_SETUP_BROWSER = 1
# ... PostgreSQL's binaries for the results store's tests, and
# Prometheus's for the results' export (kmschaos serve), which fail rather
# than skip here when they are missing.
test test-quick: export KMSCHAOS_SETUP_POSTGRES = 1
test test-quick: export KMSCHAOS_REQUIRE_POSTGRES = 1
test test-quick: export KMSCHAOS_SETUP_PROMETHEUS = 1
test test-quick: export KMSCHAOS_REQUIRE_PROMETHEUS = 1
test: setup ## every test: units, the loopback cluster, the scenario catalog (n=13)
	$(TESTS)

test-quick: export KMSCHAOS_N = 4
test-quick: export KMSCHAOS_T = 1
test-quick: setup ## the same with 4-party clusters
	$(TESTS)

# The smoke slice: one scenario of each section of the guide (label smoke,
# scenarios/labels.go), at n=13 through the same suite runner as make
# test; what a pull request's pipeline runs. The whole catalog (make test)
# stays the release gate. Its scorecard is printed whether it passed or not.
test-smoke: setup ## one scenario per failure family (label smoke) at n=13, about 5 min: a pull request's gate
	rm -f reports/scorecard.txt reports/teardown-*.txt; GO='$(GO)' ./scripts/suite.sh --label-filter=smoke; suite=$$?; \
	[ -f reports/scorecard.txt ] && cat reports/scorecard.txt; cat reports/teardown-*.txt 2>/dev/null; exit $$suite

# The flake rate, measured: the catalog RUNS times with fresh seeds, then
# reports/soak.md and soak.json. FOCUS (a Ginkgo focus) or LABELS (a label
# filter) runs a part of it, e.g. make soak RUNS=2 FOCUS='full disk|hanging'.
RUNS ?= 3
FOCUS ?=
LABELS ?=
soak: setup ## the scenario catalog RUNS times (3), fresh seeds: flake rate, TTD/TTR spread in reports/soak.md
	RUNS='$(RUNS)' FOCUS='$(FOCUS)' LABELS='$(LABELS)' GO='$(GO)' ./scripts/soak.sh

# Cost as the cluster grows: every benchmark that depends on n runs at each
# size of BENCH_N (default "4 7 10 13 16"; e.g. make bench BENCH_N="4 13").
# A PRSS set-up at n=16 takes seconds, so set-ups run 3 times, not 200.
BENCH_N ?=
bench: setup ## benchmarks of the party, the crypto and the container cluster, at n = BENCH_N (4 7 10 13 16)
	BENCH_N='$(BENCH_N)' $(GO) test -p 1 -count=1 -run '^$$' -bench . -benchtime 1x -timeout 60m ./cluster/docker/
	BENCH_N='$(BENCH_N)' $(GO) test -p 1 -count=1 -run '^$$' -bench . -skip Setup -benchtime 200x ./kms/...
	BENCH_N='$(BENCH_N)' $(GO) test -p 1 -count=1 -run '^$$' -bench Setup -benchtime 3x ./kms/...
	$(GO) test -p 1 -count=1 -run '^$$' -bench . -benchmem ./harness/guide/ ./harness/literal/ ./harness/results/
	$(GO) run ./cmd/kmschaos sweep --images

findings: ## rewrite docs/findings.md, what the catalog found in the guide, from the last run's reports/scorecard.json
	$(GO) run ./cmd/kmschaos guide findings --doc docs/findings.md

coverage: ## rewrite docs/coverage.md (which signal showed each fault, when) and README.md's faults no alert catches, from the last run's reports/scorecard.json
	$(GO) run ./cmd/kmschaos guide coverage --doc docs/coverage.md --readme README.md

images: setup ## build (or reuse) the party and toxiproxy images
	$(GO) run ./cmd/kmschaos images

clean: ## remove every container, network, volume and image kmschaos made, and reports/, reports-k8s/
	$(GO) run ./cmd/kmschaos sweep --all --images
	rm -rf reports reports-k8s

proto: ## regenerate the protobuf code (needs protoc: apt-get install protobuf-compiler)
	./proto/gen.sh

# The fast lane, no container engine needed: formatting, go vet,
# golangci-lint (.golangci.yml), then every package's tests with -short
# (the scenario suite and the tests that need the engine skip) under the
# race detector. A couple of minutes warm on 2 cores.
check: vet lint ## the two-minute check lane: gofmt, go vet, golangci-lint, go test -short -race
	$(GO) test -short -race -count=1 ./...

vet: ## go vet ./..., and gofmt finds nothing to change
	$(GO) vet ./...
	@files=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	[ -z "$$files" ] || { echo "gofmt would change (run gofmt -w):"; echo "$$files"; exit 1; }

# golangci-lint at the version tools/go.mod pins, built by the go command
# on first use (a separate module: the linters' dependencies stay out of
# ours).
GOLANGCI_LINT = $(GO) tool -modfile=tools/go.mod golangci-lint
lint: ## golangci-lint with .golangci.yml, at the version tools/go.mod pins
	$(GOLANGCI_LINT) run ./...

# Decoders of untrusted bytes: config files, ciphertexts, peers' shares,
# stored material. Not part of `make test`: each runs for FUZZTIME.
FUZZTIME ?= 20s
FUZZ_FLAGS ?=
FUZZ_TARGETS = ./kms/config:FuzzParse ./kms/tss:FuzzParseCiphertext ./kms/tss:FuzzVerifyShare \
	./kms/service:FuzzVerifyReply ./kms/material:FuzzDecodePublicKey ./kms/material:FuzzDecodeKeyShare \
	./kms/material:FuzzDecodeEpoch ./harness/runbook:FuzzRunbook ./harness/guide:FuzzShellBlock

fuzz: ## run every fuzz target for FUZZTIME each (a crash is saved under the package's testdata/fuzz)
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $(FUZZ_FLAGS) $$pkg; \
	done

# A real single-node Kubernetes cluster on this machine (localk8s/README.md),
# built from source on first use (~10 min), state in /var/lib/kmschaos-k8s.
k8s-up: setup ## start the local Kubernetes cluster (root); prints the KUBECONFIG to export
	./localk8s/up.sh

k8s-build: setup ## build the local Kubernetes cluster's binaries and images into the cache, without starting it (k8s-up does it first)
	./localk8s/build.sh

k8s-down: ## remove the local Kubernetes cluster and all it left (the build cache stays)
	./localk8s/down.sh

# The Kubernetes backend's tests and the scenario catalog on the local
# cluster (started if it is not up), reports in reports-k8s/. LABELS
# narrows the catalog, e.g. make test-k8s LABELS=kubernetes.
test-k8s: k8s-up ## the catalog on the local Kubernetes cluster: every scenario the backend supports; scorecard in reports-k8s/
	GO='$(GO)' ./scripts/test-k8s.sh $(if $(LABELS),--label-filter='$(LABELS)')

# The Docker backend's cluster benchmark and the same lifecycle on the
# local Kubernetes cluster, one after the other: the same metric names,
# side by side (BENCH_N as for make bench; e.g. BENCH_N=13).
bench-k8s: k8s-up ## bring-up, decryption, memory, reset and teardown on Docker and on the local Kubernetes cluster, side by side
	BENCH_N='$(BENCH_N)' $(GO) test -p 1 -count=1 -run '^$$' -bench BenchmarkCluster -benchtime 1x -timeout 60m ./cluster/docker/
	BENCH_N='$(BENCH_N)' $(GO) test -p 1 -count=1 -run '^$$' -bench BenchmarkKubernetesCluster -benchtime 1x -timeout 60m ./cluster/kube/
