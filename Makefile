# Every target a person or CI needs.
#   make run   starts one node with embedded defaults (SQLite in ./data) and the web app on :8080
#   make test  runs every test a user relies on (Go with -race, both store adapters, web)
GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
PROTOC_GEN_GO_VERSION := v1.36.12
CHATD_FLAGS ?=

.PHONY: run build web test test-go test-web deps proto tools vet clean cluster devstore

run: build
	./bin/chatd $(CHATD_FLAGS)

build: web/dist/index.html
	$(GO) build -o bin/chatd ./cmd/chatd

# A local 3-node cluster on loopback with the dev store (or MONGO_URI): cluster/local-cluster.sh.
cluster: build devstore
	./cluster/local-cluster.sh

devstore:
	$(GO) build -o bin/devstore ./cmd/devstore

# The SPA is built when its output is missing; `make web` rebuilds it.
web/dist/index.html:
	$(MAKE) web

web:
	cd web && npm ci --no-audit --no-fund && npm run build

test: deps test-go test-web

# Test dependencies from Debian: etcd (the etcd membership provider's test) and
# Chromium (the web app's end-to-end test; never a downloaded browser).
deps:
	@command -v etcd >/dev/null && command -v chromium >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq etcd-server chromium)

# The web app: unit tests (Vitest), then end to end in Chromium against a real
# chatd that embeds the fresh build.
test-web:
	cd web && npm ci --no-audit --no-fund && npm run test:unit && npm run build
	$(GO) build -o bin/chatd ./cmd/chatd
	cd web && CHATD_BIN=$(CURDIR)/bin/chatd npm run test:e2e

# Multi-node tests (./cluster/...) run without -race: upstream Proto.Actor has
# data races of its own (grpclog.SetLoggerV2 in remote.Start, BlockList,
# MemberList) that fire when several members share one process. Everything
# else, the cluster bootstrap included (single-node stacks), runs with -race.
RACE_PKGS = $(shell $(GO) list ./... | grep -v '/cluster$$' | grep -v '/cluster/')

test-go:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 25m $(RACE_PKGS)
	$(GO) test -count=1 -timeout 15m ./cluster/...

vet:
	$(GO) vet ./...

# Regenerates the committed protobuf code. Needs protoc (Debian: protobuf-compiler).
proto: tools
	protoc --plugin=protoc-gen-go=$(GOBIN)/protoc-gen-go --go_out=. --go_opt=paths=source_relative actors/messages.proto

tools:
	@command -v protoc >/dev/null || (apt-get update -qq && apt-get install -y -qq protobuf-compiler)
	@test -x $(GOBIN)/protoc-gen-go || $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

clean:
	rm -rf bin
	find web/dist -mindepth 1 ! -name .keep -delete
