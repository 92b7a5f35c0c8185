# Every target a person or CI needs. `make run` starts one node with embedded
# defaults; `make test` runs every test a user relies on.
GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
PROTOC_GEN_GO_VERSION := v1.36.12

.PHONY: run test proto build tools vet

build:
	$(GO) build -o bin/chatd ./cmd/chatd

run: build
	./bin/chatd

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

# Regenerates the committed protobuf code. Needs protoc (Debian: protobuf-compiler).
proto: tools
	protoc --plugin=protoc-gen-go=$(GOBIN)/protoc-gen-go --go_out=. --go_opt=paths=source_relative actors/messages.proto

tools:
	@command -v protoc >/dev/null || (apt-get update -qq && apt-get install -y -qq protobuf-compiler)
	@test -x $(GOBIN)/protoc-gen-go || $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
