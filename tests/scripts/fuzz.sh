#!/usr/bin/env bash
# fuzz.sh [SECONDS]: runs every Go fuzz target of runx for SECONDS each
# (default 30), one at a time (go test -fuzz takes one target per run).
# A failure leaves its input under the package's testdata/fuzz/<target>/,
# where make unit replays it from then on; the script exits 1.
set -uo pipefail
secs=${1:-30}
cd "$(dirname "$0")/../.."
tags=${BUILDTAGS:-seccomp urfave_cli_no_docs netgo osusergo}
go=${GO:-go}
failed=()
n=0
for pkg in . ./unikernel ./sandbox; do
	for target in $(CGO_ENABLED=1 $go test -tags "$tags" -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		n=$((n + 1))
		echo "== $pkg $target (${secs}s)"
		if ! CGO_ENABLED=1 $go test -tags "$tags" -run '^$' -fuzz "^$target\$" -fuzztime "${secs}s" -parallel 2 "$pkg"; then
			failed+=("$pkg $target")
		fi
	done
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of $n targets failed: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz: $n targets ran ${secs}s each without a failure"
