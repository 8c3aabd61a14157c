#!/usr/bin/env bash
# Benchmark runx against a reference runtime (runc by default).
#
#   bash tests/bench/run.sh /abs/path/to/runx [bench flags...]
#
# Extra flags go to the Go driver (tests/bench/*.go), e.g. -n 50,
# -peer /path/to/other-runtime, -cases run, -v. See `-h`.
# The report is printed and written to tests/bench/results-latest.txt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export PATH="/usr/local/go/bin:$PATH"

if [ $# -lt 1 ]; then
	echo "usage: $0 /abs/path/to/runx [bench flags...]" >&2
	exit 2
fi
runx="$1"
shift
if [ ! -x "$runx" ]; then
	echo "bench: runtime not executable: $runx" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: must run as root" >&2
	exit 2
fi
if [ ! -x /bin/busybox ] && [[ " $* " != *" -busybox"* ]]; then
	echo "bench: /bin/busybox missing (apt-get install busybox-static)" >&2
	exit 2
fi

# gVisor's runsc, the reference of the sandbox cases (sbx-*): installed from
# Debian when missing. If that fails, those cases run without it (the report
# says so) rather than failing the bench.
if ! command -v runsc >/dev/null 2>&1 && [[ " $* " != *" -runsc "* && " $* " != *" -runsc="* ]]; then
	echo "bench: installing runsc (gVisor) with apt-get" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q runsc >/dev/null ||
		echo "bench: could not install runsc; the sbx-* cases will compare runx-sandbox with runx-namespace only" >&2
fi

# Today's runsc (systrap), the reference of the sandbox targets: built from
# the Go module proxy on first use (~9 min) and cached. RUNX_BENCH_GVISOR=0
# skips it; if the build fails, the sbx-* cases run without it.
today=()
if [[ "${RUNX_BENCH_GVISOR:-1}" != 0 && " $* " != *" -runsc-today"* && ( " $* " != *" -cases"* || " $* " == *"sbx-"* ) ]]; then
	echo "bench: today's runsc (gVisor from the Go module proxy; built and cached on first use)" >&2
	if bin="$(bash "$here/runsc-today.sh")"; then
		today=(-runsc-today "$bin")
	else
		echo "bench: could not build today's runsc; the sbx-* cases run without it" >&2
	fi
fi

# Build the driver once (so `go run` does not sit between us and it), run it,
# and remove the binary whatever happens. The driver itself deletes its
# containers and temporary directory on failure or on Ctrl-C.
bindir="$(mktemp -d /tmp/runx-bench-bin.XXXXXX)"
trap 'rm -rf "$bindir"' EXIT
(cd "$repo" && go build -o "$bindir/bench" ./tests/bench)

# Flags must come before the positional runtime path.
"$bindir/bench" -out "$here/results-latest.txt" "${today[@]}" "$@" "$runx"

# runx's own VMM against QEMU -accel kvm needs a /dev/kvm that runs Linux
# guests: on a host without one (runx check says tcg), the vmm-* cases run
# inside the nested KVM host (tests/scripts/nested-host.sh), a few rounds
# (each VM there takes seconds). Skipped when -cases chose others, or with
# RUNX_BENCH_VMM=0.
if [[ " $* " == *" -cases"* || "${RUNX_BENCH_VMM:-1}" = 0 ]] || "$runx" check 2>&1 | grep -q "accel: kvm"; then
	exit 0
fi
echo "bench: runx's VMM beside QEMU -accel kvm, inside the nested KVM host" >&2
export RUNX_BENCH_DRIVER="$bindir/bench" RUNX_BENCH_RUNX="$runx" RUNX_BENCH_N="${RUNX_BENCH_VMM_N:-5}"
bash "$repo/tests/scripts/nested-host.sh" -t 5400 -e RUNX_BENCH_DRIVER -e RUNX_BENCH_RUNX -e RUNX_BENCH_N -- \
	sh -c '"$RUNX_BENCH_DRIVER" -cases vmm-run,vmm-boot -n "$RUNX_BENCH_N" -warmup 1 "$RUNX_BENCH_RUNX"' |
	tee "$here/results-vmm-latest.txt"
