# cohort-operator

# Tool versions are pinned here; the control plane versions are pinned by the go.mod
# files of hack/tools/kube and hack/tools/etcd.
CONTROLLER_TOOLS_VERSION ?= v0.20.1
GOLANGCI_LINT_VERSION ?= v2.15.0
# Helm is built from source, so the stamps of its release builds are passed by hand: its
# version, and the Kubernetes version 'helm template' and 'helm lint' assume (1.N for the
# k8s.io/client-go v0.N that helm's go.mod requires; update both together).
HELM_VERSION ?= v3.19.0
HELM_KUBE_MINOR ?= 34
CRD_REF_DOCS_VERSION ?= v0.3.0

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

ROOT := $(shell pwd)
BIN := $(ROOT)/bin
TOOLS := $(BIN)/tools
KUBE_ASSETS := $(BIN)/k8s
export KUBEBUILDER_ASSETS := $(KUBE_ASSETS)

CONTROLLER_GEN := $(TOOLS)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
GOLANGCI_LINT := $(TOOLS)/golangci-lint-$(GOLANGCI_LINT_VERSION)
HELM := $(TOOLS)/helm-$(HELM_VERSION)
CRD_REF_DOCS := $(TOOLS)/crd-ref-docs-$(CRD_REF_DOCS_VERSION)
KUBECTL := $(KUBE_ASSETS)/kubectl

# Test binaries are linked without debug information: stack traces keep their names,
# and a cold run links several large binaries.
GO_TEST_FLAGS ?= -count=1 -ldflags='-s -w'
TEST_TIMEOUT ?= 20m
FUZZTIME ?= 10s

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-14s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRDs and the manager's ClusterRole.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/...;./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate the DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Format the Go code.
	go fmt ./...

.PHONY: vet
vet: ## Vet the Go code.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Lint with golangci-lint and the committed .golangci.yml.
	$(GOLANGCI_LINT) run ./...

.PHONY: docs
docs: $(CRD_REF_DOCS) ## Generate the API reference, docs/reference/api.md, from the Go types.
	@mkdir -p docs/reference
	$(CRD_REF_DOCS) --source-path=./api --config=hack/crd-ref-docs/config.yaml \
		--renderer=markdown --templates-dir=hack/crd-ref-docs/templates \
		--template-value=version=$(CRD_REF_DOCS_VERSION) --log-level=warn \
		--output-path=docs/reference/api.md

.PHONY: chart
chart: ## Regenerate the chart's CRDs, RBAC rules and admission policy from config/.
	go run ./hack/chart

.PHONY: chart-check
chart-check: ## Fail when charts/cohort-operator differs from what config/ generates.
	go run ./hack/chart -check

.PHONY: verify
verify: generate manifests chart-check docs fmt vet lint ## Regenerate, format, vet and lint; fail if the tree changed.
	go mod tidy
	@if grep -q 'k8s.io/kubernetes ' go.mod; then echo "go.mod must not require k8s.io/kubernetes (build it in hack/tools/kube)"; exit 1; fi
	@if [ -n "$$(git status --porcelain)" ]; then \
		echo "the tree is dirty after regenerating and formatting:"; git status --porcelain; git --no-pager diff | head -50; exit 1; \
	fi

.PHONY: test
# The suites that run a node share one machine-wide node (bin/node, the bridge, the
# iptables chains): they run one after the other, after the rest.
NODE_SUITES := ./test/node/ ./test/nodee2e/

test: controlplane test-deps helm node-deps image ## Run the unit, envtest and e2e suites against a real kube-apiserver, the suites on a real node, then every fuzz target for FUZZTIME.
	go test $(GO_TEST_FLAGS) -timeout $(TEST_TIMEOUT) $$(go list ./... | grep -v -e '/test/node$$' -e '/test/nodee2e$$')
	go test $(GO_TEST_FLAGS) -timeout $(TEST_TIMEOUT) -p 1 $(NODE_SUITES)
	FUZZTIME=$(FUZZTIME) hack/fuzz.sh

.PHONY: test-deps
test-deps: ## Install, when missing, the independent checkers the tests use: Chromium, Python icalendar, ical.js, axe-core.
	hack/test-deps.sh

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (default 10s); failing inputs stay in testdata/fuzz.
	FUZZTIME=$(FUZZTIME) hack/fuzz.sh

.PHONY: bench
bench: controlplane node-deps image ## Run the benchmarks; the portal tier's on a real node (BenchmarkPortalTier, once).
	go test -run '^$$' -bench . -benchmem $$(go list ./... | grep -v -e '/test/node$$' -e '/test/nodee2e$$')
	go test -run '^$$' -bench . -benchtime 1x -timeout 40m ./test/nodee2e/

BENCH_SCALE ?= 1

.PHONY: bench-scale
bench-scale: controlplane build ## Measure the operator at scale S (BENCH_SCALE=0.1 for a tenth) against the raw write floor; writes docs/benchmarks.md.
	go run ./hack/benchscale -scale $(BENCH_SCALE) -manager $(BIN)/manager -assets $(KUBE_ASSETS)

##@ Build and run

# The binaries are static (no cgo), so the manager runs in an empty image, and embed the
# time-zone database (timetzdata; the calendar also imports time/tzdata) for cohorts' zones.
# The manager knows its version (VERSION, its image's tag): its portals' default image.
GO_BUILD_FLAGS ?= -trimpath -tags timetzdata -ldflags='-s -w -X main.version=$(VERSION)'

.PHONY: build
build: ## Build the manager binary (static, for the image too) and the kubectl plugin.
	CGO_ENABLED=0 go build $(GO_BUILD_FLAGS) -o $(BIN)/manager ./cmd
	CGO_ENABLED=0 go build $(GO_BUILD_FLAGS) -o $(BIN)/kubectl-cohort ./cmd/kubectl-cohort

# The image's repository, as the chart and config/ name it. Its version tag is the
# chart's appVersion (the chart's default tag) unless HEAD carries a release tag; its
# other tag is the commit, with "-dirty" for a tree with uncommitted changes.
IMG_REPO ?= ghcr.io/cohort-dev/cohort-operator
VERSION ?= $(shell git describe --tags --exact-match 2>/dev/null || awk '/^appVersion:/ {print $$2}' charts/cohort-operator/Chart.yaml)
COMMIT ?= $(shell git rev-parse --short=12 HEAD)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
# No license file is committed yet: NOASSERTION is SPDX for "not stated".
IMG_LICENSES ?= NOASSERTION
IMG := $(IMG_REPO):$(VERSION)
IMG_ARCHIVE := $(BIN)/cohort-operator-$(VERSION).oci.tar
PAUSE_IMG := localhost/cohort-operator-pause:$(VERSION)
PAUSE_ARCHIVE := $(BIN)/cohort-operator-pause-$(VERSION).oci.tar
export SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct)

.PHONY: image
image: build ## Build the operator's image (IMG) and the local node's pause image as OCI archives in bin/, with podman, buildah or docker.
	hack/image.sh --file Dockerfile --context $(BIN)/image-context --archive $(IMG_ARCHIVE) \
		--copy $(BIN)/manager:manager --copy /etc/ssl/certs/ca-certificates.crt \
		--tag $(IMG) --tag $(IMG_REPO):$(COMMIT) \
		--build-arg VERSION=$(VERSION) --build-arg REVISION=$$(git rev-parse HEAD) --build-arg LICENSES=$(IMG_LICENSES)
	CGO_ENABLED=0 go build $(GO_BUILD_FLAGS) -o $(BIN)/pause ./hack/pause
	hack/image.sh --file hack/pause/Dockerfile --context $(BIN)/pause-context --archive $(PAUSE_ARCHIVE) \
		--copy $(BIN)/pause:pause --tag $(PAUSE_IMG) \
		--build-arg VERSION=$(VERSION) --build-arg REVISION=$$(git rev-parse HEAD)

.PHONY: controlplane
controlplane: ## Build etcd, kube-apiserver, kube-controller-manager and kubectl from source (skipped when current).
	hack/controlplane.sh $(KUBE_ASSETS)

.PHONY: demo
demo: controlplane build ## Run the operator end to end on a local control plane (DEMO_KEEP=1 keeps it running).
	hack/demo.sh

# The Debian packages of the local node (command=package), installed only when missing.
NODE_PACKAGES := containerd=containerd ctr=containerd runc=runc conntrack=conntrack iptables=iptables \
	ip=iproute2 /usr/lib/cni/bridge=containernetworking-plugins

.PHONY: node-deps
node-deps: ## Install, when missing, what the local node needs from Debian: containerd, runc, CNI plugins, conntrack.
	hack/ensure-packages.sh $(NODE_PACKAGES)

.PHONY: node
node: controlplane node-deps image ## Run the local cluster with a real node until interrupted (KUBECONFIG=bin/node/kubeconfig).
	go run ./hack/localnode -dir $(BIN)/node -assets $(KUBE_ASSETS) -image $(IMG_ARCHIVE) -pause $(PAUSE_ARCHIVE)

.PHONY: demo-node
demo-node: controlplane node-deps image helm ## Run the demo's story on the local node: helm install with the local image, the samples, the pods, a portal through the service proxy (DEMO_KEEP=1 keeps it running).
	IMG=$(IMG) IMG_ARCHIVE=$(IMG_ARCHIVE) PAUSE_ARCHIVE=$(PAUSE_ARCHIVE) HELM=$(HELM) hack/demo-node.sh

.PHONY: node-clean
node-clean: ## Remove what a killed local node left: processes, mounts, cgroups, bridge, iptables chains.
	go run ./hack/localnode -dir $(BIN)/node -clean

##@ Tools

$(CONTROLLER_GEN):
	GOBIN=$(TOOLS) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(TOOLS)/controller-gen $@

$(GOLANGCI_LINT):
	GOBIN=$(TOOLS) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(TOOLS)/golangci-lint $@

$(CRD_REF_DOCS):
	GOBIN=$(TOOLS) go install github.com/elastic/crd-ref-docs@$(CRD_REF_DOCS_VERSION)
	mv $(TOOLS)/crd-ref-docs $@

.PHONY: helm
helm: $(HELM) ## Build the pinned helm CLI (skipped when present).

$(HELM):
	GOBIN=$(TOOLS) go install -ldflags "-X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
		-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM_KUBE_MINOR) \
		-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM_KUBE_MINOR)" \
		helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(TOOLS)/helm $@

# Helm 4 is checked on demand, not in make test: building it takes minutes.
HELM4_VERSION ?= v4.3.1
HELM4 := $(TOOLS)/helm-$(HELM4_VERSION)

.PHONY: test-helm4
test-helm4: controlplane test-deps $(HELM4) ## Run the chart suite with Helm 4 (HELM4_VERSION) instead of Helm 3.
	HELM=$(HELM4) go test -count=1 ./test/chart/

$(HELM4):
	GOBIN=$(TOOLS) go install helm.sh/helm/v4/cmd/helm@$(HELM4_VERSION)
	mv $(TOOLS)/helm $@
