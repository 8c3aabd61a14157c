#!/bin/bash
# Regenerates agent.pb.go and agent_ttrpc.pb.go from agent.proto (make
# proto): protoc from Debian, the Go plugins at the versions go.mod uses.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
command -v protoc >/dev/null || apt-get install -y -q protobuf-compiler >/dev/null
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
pb=$(go list -m -f '{{.Version}}' google.golang.org/protobuf)
tt=$(go list -m -f '{{.Version}}' github.com/containerd/ttrpc)
GOBIN=$BIN go install "google.golang.org/protobuf/cmd/protoc-gen-go@$pb"
GOBIN=$BIN go install "github.com/containerd/ttrpc/cmd/protoc-gen-go-ttrpc@$tt"
PATH=$BIN:$PATH protoc --go_out=. --go_opt=paths=source_relative \
	--go-ttrpc_out=. --go-ttrpc_opt=paths=source_relative agent.proto
echo "agentpb: generated with protoc $(protoc --version | cut -d' ' -f2), protoc-gen-go $pb, protoc-gen-go-ttrpc $tt"
