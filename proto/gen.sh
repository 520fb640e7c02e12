#!/usr/bin/env bash
# Regenerates the Go code of proto/ (committed). Needs protoc (Debian:
# protobuf-compiler); the Go plugins are pinned as tools in go.mod.
set -euo pipefail
cd "$(dirname "$0")"
bin=$(mktemp -d); trap 'rm -rf "$bin"' EXIT
go build -o "$bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go
go build -o "$bin/protoc-gen-go-grpc" google.golang.org/grpc/cmd/protoc-gen-go-grpc
PATH="$bin:$PATH" protoc -I . \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  kms/v1/kms.proto kms_service/v1/kms_service.proto p2p/v1/p2p.proto
