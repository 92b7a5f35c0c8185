# Every target a person or CI needs.
#   make run   starts one node with embedded defaults (SQLite in ./data) and the web app on :8080
#   make test  runs every test a user relies on (Go with -race, both store adapters, web)
GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
PROTOC_GEN_GO_VERSION := v1.36.12
CHATD_FLAGS ?=

.PHONY: run build web test test-go test-web deps chatbench bench chaos proto tools vet clean cluster devstore

run: build
	./bin/chatd $(CHATD_FLAGS)

build: web/dist/index.html
	$(GO) build -o bin/chatd ./cmd/chatd

chatbench:
	$(GO) build -o bin/chatbench ./cmd/chatbench

# A short load run against a throwaway single node (SQLite): prints the figures
# and fails on lost, duplicated or reordered messages. docs/benchmarks.md has
# the full runs.
BENCH_FLAGS ?= --rooms 10 --members 10 --duration 10s
bench: build chatbench
	@d=$$(mktemp -d); ./bin/chatd --listen 127.0.0.1:18181 --data-dir $$d --log-level warn \
	   --auth-rate 100000 --ws-frame-rate 100000 --ws-frame-burst 100000 \
	   --send-rate 100000 --send-burst 100000 --user-send-rate 100000 --user-send-burst 100000 & pid=$$!; \
	 for i in $$(seq 100); do curl -sf 127.0.0.1:18181/healthz >/dev/null && break; sleep 0.1; done; \
	 ./bin/chatbench fanout --url http://127.0.0.1:18181 --conn-rate 0 --pid $$pid $(BENCH_FLAGS); rc=$$?; \
	 kill $$pid; wait $$pid; rm -rf $$d; exit $$rc

# A long chaos run on a local 3-node cluster (real processes on loopback):
# make chaos CHAOS_FLAGS="--duration 10m --seed 42"
CHAOS_FLAGS ?= --duration 6m --fault-interval 10s
chaos:
	$(GO) run ./cmd/chaos $(CHAOS_FLAGS)

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
	@command -v etcd >/dev/null && command -v chromium >/dev/null && dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || \
		(apt-get update -qq && apt-get install -y -qq etcd-server chromium fonts-noto-color-emoji)

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

# vet also for macOS and Windows: chatd builds there; the chaos harness and
# chatbench's CPU figures keep their Linux-only system calls in files of their own.
test-go: vet
	$(GO) test -race -count=1 -timeout 25m $(RACE_PKGS)
	$(GO) test -count=1 -timeout 15m ./cluster/...

vet:
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...
	GOOS=windows $(GO) vet ./...

# Regenerates the committed protobuf code. Needs protoc (Debian: protobuf-compiler).
proto: tools
	protoc --plugin=protoc-gen-go=$(GOBIN)/protoc-gen-go --go_out=. --go_opt=paths=source_relative actors/messages.proto gateway/wirepb/wire.proto

tools:
	@command -v protoc >/dev/null || (apt-get update -qq && apt-get install -y -qq protobuf-compiler)
	@test -x $(GOBIN)/protoc-gen-go || $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

clean:
	rm -rf bin
	find web/dist -mindepth 1 ! -name .keep -delete
