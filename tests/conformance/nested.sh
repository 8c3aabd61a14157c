#!/usr/bin/env bash
# The runtime-tools suite again, in the nested KVM host (tests/scripts/
# nested-host.sh): a pure cgroup v2 host with Debian's own 6.1 kernel, where
# this machine kind is cgroup v1 hybrid. Run after run.sh on this host, whose
# build it reuses (the nested host sees /var/cache read-only, under a
# writable overlay). The tests' bundles go to a tmpfs there: the overlay's
# 9p lower layer refuses the device nodes linux_masked_paths makes.
#
#   bash tests/conformance/nested.sh /absolute/path/to/runtime
#
# It fails when fewer tests pass fully than tests/conformance/expected-pass-v2
# (README, Conformance, says which tests differ from this host and why).
set -uo pipefail
[ $# -eq 1 ] && [[ $1 == /* ]] && [ -x "$1" ] || { echo "usage: $0 /absolute/path/to/runtime" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${CONFORMANCE_WORKDIR:-/var/cache/runx-tests/conformance}
[ -f "$work/build.stamp" ] || { echo "conformance-v2: no suite built in $work: run tests/conformance/run.sh first" >&2; exit 2; }
export RUNTIME_BIN=$1 CONFORMANCE_WORKDIR=$work CONFORMANCE_EXPECTED=$here/expected-pass-v2
cd "$repo" || exit 2
echo "conformance-v2: the runtime-tools suite in the nested KVM host (pure cgroup v2)" >&2
bash tests/scripts/nested-host.sh -m 4096 -c 2 -e RUNTIME_BIN -e CONFORMANCE_WORKDIR -e CONFORMANCE_EXPECTED -- bash -c '
	mkdir -p "$CONFORMANCE_WORKDIR/tmp" && mount -t tmpfs tmpfs "$CONFORMANCE_WORKDIR/tmp" || exit 2
	bash tests/conformance/run.sh "$RUNTIME_BIN" 2>&1'
