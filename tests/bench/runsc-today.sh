#!/usr/bin/env bash
# Build today's gVisor runsc (the systrap platform) from the Go module proxy
# and print its path. The proxy serves gVisor's go branch as gvisor.dev/gvisor;
# the build takes ~9 min on two cores, so the binary is cached by version.
#
#   bash tests/bench/runsc-today.sh [version]   (default: $RUNX_BENCH_GVISOR_VERSION, else the pinned one)
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"
ver="${1:-${RUNX_BENCH_GVISOR_VERSION:-v0.0.0-20260905035102-160fafc42237}}"
cache="${RUNX_BENCH_CACHE:-/var/cache/runx-bench}/gvisor-$ver"
if [ -x "$cache/runsc" ]; then
	echo "$cache/runsc"
	exit 0
fi
mkdir -p "$cache"
work="$(mktemp -d /tmp/runx-gvisor.XXXXXX)"
trap 'rm -rf "$work"' EXIT
(
	cd "$work"
	go mod init runx.dev/gvisor-build >/dev/null 2>&1
	go get "gvisor.dev/gvisor@$ver" >&2
	go get "gvisor.dev/gvisor/runsc@$ver" >&2
	CGO_ENABLED=0 go build -p 1 -o "$cache/runsc.tmp" gvisor.dev/gvisor/runsc >&2
)
mv "$cache/runsc.tmp" "$cache/runsc"
echo "$cache/runsc"
