#!/usr/bin/env bash
# Run the OCI runtime-tools validation suite against an OCI runtime.
#
#   bash tests/conformance/run.sh /absolute/path/to/runtime
#
# The suite is fetched from the Go module proxy at a pinned version, copied
# into /var/cache/runx-tests/conformance/ and built there (reused while the
# pinned version and the Go toolchain stay the same).  Each validation
# executable is then run as root with RUNTIME=<runtime>, from the directory
# holding runtimetest and the rootfs tarball, exactly one at a time.  Its TAP
# output is summarised by tap-summary.awk.
#
# A test passes fully when its executable exits 0, its TAP stream has no
# "not ok" test point and no "Bail out!", and the number of test points
# matches the plan (when there is one).  "ok ... # SKIP" points count as ok
# (and are reported).  The lifecycle tests (hooks, prestart, poststart,
# poststop and their _fail variants) never print a test point: they report a
# violated requirement as an "error" YAML diagnostic before "1..0", so a
# stream with no test point but such a diagnostic counts as failed.
#
# After each test, containers of the runtime under test that did not exist
# before the run are force-deleted, mounts left below the test's TMPDIR are
# detached, and the empty cgroups the suite uses are removed.
#
# Environment:
#   CONFORMANCE_ENFORCE   anything but "0" (default "1"): exit non-zero when
#                         fewer tests pass fully than tests/conformance/expected-pass
#   CONFORMANCE_ONLY      space separated test names to run instead of all
#                         (the expected-pass minimum is not applied then)
#   CONFORMANCE_TIMEOUT   seconds one test executable may run (default 120)
#   CONFORMANCE_BUILD_JOBS  go build -p value (default 1)
#   CONFORMANCE_WORKDIR   work directory (default /var/cache/runx-tests/conformance)
#   CONFORMANCE_EXPECTED  the file with the minimum number of full passes
#                         (default tests/conformance/expected-pass)
set -euo pipefail

# The whole script is one brace group, so bash parses it completely before
# running it: editing this file during a run cannot derail that run.
{

readonly RT_MODULE=github.com/opencontainers/runtime-tools
readonly RT_VERSION=v0.9.1-0.20250523060157-0ea5ed0382a2
# Bump when the way the suite is built changes, to force a rebuild.
readonly BUILD_RECIPE=1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${CONFORMANCE_WORKDIR:-/var/cache/runx-tests/conformance}
TIMEOUT=${CONFORMANCE_TIMEOUT:-120}
BUILD_JOBS=${CONFORMANCE_BUILD_JOBS:-1}
ENFORCE=${CONFORMANCE_ENFORCE:-1}
ONLY=${CONFORMANCE_ONLY:-}
EXPECTED_FILE=${CONFORMANCE_EXPECTED:-$HERE/expected-pass}
TAP_SUMMARY=$HERE/tap-summary.awk

say() { printf 'conformance: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

# ---------------------------------------------------------------- arguments
[ $# -eq 1 ] || die "usage: $0 RUNTIME_BINARY"
RUNTIME_ARG=$1
if [[ $RUNTIME_ARG != */* ]]; then
	RUNTIME_ARG=$(command -v -- "$RUNTIME_ARG" || true)
fi
if [ -z "$RUNTIME_ARG" ] || [ ! -f "$RUNTIME_ARG" ] || [ ! -x "$RUNTIME_ARG" ]; then
	die "runtime binary '$1' not found or not executable"
fi
RUNTIME=$(realpath -- "$RUNTIME_ARG")

[ "$(id -u)" -eq 0 ] || die "the validation suite must run as root"
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "CONFORMANCE_TIMEOUT must be a positive integer (got '$TIMEOUT')"
[[ $BUILD_JOBS =~ ^[1-9][0-9]*$ ]] || die "CONFORMANCE_BUILD_JOBS must be a positive integer (got '$BUILD_JOBS')"

# ------------------------------------------------------------ host commands
# command -> Debian package providing it.
declare -A NEEDED=(
	[tar]=tar [gzip]=gzip [awk]=mawk [timeout]=coreutils [realpath]=coreutils
	[unshare]=util-linux [flock]=util-linux [umount]=mount [sh]=dash [sed]=sed
)
missing_pkgs=()
for cmd in "${!NEEDED[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || missing_pkgs+=("${NEEDED[$cmd]}")
done
if [ ${#missing_pkgs[@]} -gt 0 ]; then
	command -v apt-get >/dev/null 2>&1 || die "missing packages: ${missing_pkgs[*]} (and no apt-get)"
	say "installing ${missing_pkgs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >/dev/null 2>&1 || {
		apt-get update >/dev/null
		apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >/dev/null
	}
fi

export PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null 2>&1 || die "Go toolchain not found (expected in PATH or /usr/local/go/bin)"
# The suite is its own module: keep the caller's workspace/flags out of it.
export GOWORK=off GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false"

# ------------------------------------------------------------- build suite
SRC=$WORK/runtime-tools
STAMP=$WORK/build.stamp
want_stamp="$RT_MODULE@$RT_VERSION $(go env GOVERSION) recipe=$BUILD_RECIPE"

list_tests() {
	local dir name
	for dir in "$SRC"/validation/*/; do
		name=$(basename "$dir")
		[ "$name" = util ] && continue
		[ -f "$dir/$name.go" ] && printf '%s\n' "$name"
	done
}

suite_is_built() {
	[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ] || return 1
	[ -x "$SRC/runtimetest" ] && [ -f "$SRC/rootfs-$(go env GOARCH).tar.gz" ] || return 1
	local name
	for name in $(list_tests); do
		[ -x "$SRC/validation/$name/$name.t" ] || return 1
	done
}

build_suite() {
	local json dir tmpd name pkgs=()
	mkdir -p "$WORK"
	rm -f "$STAMP"
	say "fetching $RT_MODULE@$RT_VERSION from the module proxy"
	# Run outside any module so the caller's go.mod is not involved.
	tmpd=$(mktemp -d)
	json=$(cd "$tmpd" && GOFLAGS='' go mod download -json "$RT_MODULE@$RT_VERSION") || {
		rmdir "$tmpd"
		printf '%s\n' "${json:-}" >&2
		die "go mod download failed"
	}
	rmdir "$tmpd"
	dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		die "go mod download gave no module directory"
	fi

	rm -rf "$SRC"
	cp -r "$dir" "$SRC"
	chmod -R u+w "$SRC"
	# The module zip keeps vendor/modules.txt but no vendored code; build in
	# module mode from the proxy instead.
	rm -rf "$SRC/vendor"

	for name in $(list_tests); do
		pkgs+=("./validation/$name")
	done
	[ ${#pkgs[@]} -gt 0 ] || die "no validation tests found in $SRC/validation"

	say "building runtimetest and ${#pkgs[@]} validation executables (go build -p $BUILD_JOBS)"
	(
		cd "$SRC"
		export CGO_ENABLED=0
		nice -n 10 go build -p "$BUILD_JOBS" -trimpath -tags "netgo osusergo" -o runtimetest ./cmd/runtimetest
		rm -rf .bin && mkdir .bin
		nice -n 10 go build -p "$BUILD_JOBS" -trimpath -o .bin/ "${pkgs[@]}"
		for name in "${pkgs[@]}"; do
			name=${name##*/}
			mv ".bin/$name" "validation/$name/$name.t"
		done
		rmdir .bin
	) || die "building the validation suite failed"
	printf '%s\n' "$want_stamp" >"$STAMP"
}

# One run at a time on this machine: runs share the work directory, and the
# tests use fixed cgroup paths (/cgrouptest, testdir/cgrouptest/container).
mkdir -p "$WORK"
LOCK=$WORK/.lock
[ -d /run/lock ] && [ -w /run/lock ] && LOCK=/run/lock/runx-conformance.lock
exec 9>"$LOCK"
flock -n 9 || die "another conformance run holds $LOCK"

if suite_is_built; then
	say "reusing the validation suite built in $SRC"
else
	build_suite
fi

# -------------------------------------------------------------- test list
mapfile -t ALL_TESTS < <(list_tests)
if [ -n "$ONLY" ]; then
	TESTS=()
	for t in $ONLY; do
		t=${t%.t}
		t=${t##*/}
		[ -x "$SRC/validation/$t/$t.t" ] || die "CONFORMANCE_ONLY: unknown test '$t' (known: ${ALL_TESTS[*]})"
		TESTS+=("$t")
	done
else
	TESTS=("${ALL_TESTS[@]}")
fi

# ---------------------------------------------------------- house keeping
LOGS=$WORK/logs
TMPROOT=$WORK/tmp
RESULTS=$WORK/results.txt
rm -rf "$LOGS"
mkdir -p "$LOGS"

# Containers that existed before the run are not ours: never delete them.
declare -A PREEXISTING=()
# (The runtime under test may be buggy: bound every housekeeping call.)
rt() { timeout -k 5 30 "$RUNTIME" "$@"; }
for id in $(rt list -q 2>/dev/null || true); do
	PREEXISTING[$id]=1
done

# Force-delete containers the last test left behind; prints how many.
reap_containers() {
	local id n=0
	for id in $(rt list -q 2>/dev/null || true); do
		[ -n "${PREEXISTING[$id]:-}" ] && continue
		n=$((n + 1))
		if ! rt delete -f "$id" >/dev/null 2>&1; then
			rt kill "$id" KILL >/dev/null 2>&1 || true
			sleep 1
			rt delete -f "$id" >/dev/null 2>&1 ||
				say "warning: could not delete leftover container $id"
		fi
	done
	echo "$n"
}

# Unmount anything left mounted below $1, deepest first, then remove it.
remove_tree() {
	local top=$1 mp
	[ -d "$top" ] || return 0
	awk -v top="$top/" 'index($5, top) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r mp; do
		umount -l "$mp" 2>/dev/null || true
	done
	if mountpoint -q "$top"; then
		# The nested host's own tmpfs (nested.sh): emptied, not removed.
		find "$top" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system {} + 2>/dev/null ||
			say "warning: could not empty $top"
		return 0
	fi
	rm -rf --one-file-system "$top" 2>/dev/null || say "warning: could not remove $top"
}

# runtime-tools' cgroup tests use the absolute cgroups path /cgrouptest and
# the relative one testdir/cgrouptest/container (relative to the runtime's
# cgroup, which is ours).  Runtimes tend to leave the parents behind: remove
# them once empty (rmdir never removes a cgroup that still has processes or
# children) so one test does not inherit them from another.
remove_test_cgroups() {
	local mnt base rel
	awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }' \
		/proc/self/mountinfo | while read -r mnt; do
		for base in "$mnt" $(awk -F: -v m="$mnt" '$3 != "/" { print m $3 }' /proc/self/cgroup | sort -u); do
			for rel in testdir/cgrouptest/container testdir/cgrouptest testdir cgrouptest; do
				if [ -d "$base/$rel" ]; then rmdir "$base/$rel" 2>/dev/null || true; fi
			done
		done
	done
}

# Leftovers of an earlier, interrupted run.
remove_tree "$TMPROOT"
mkdir -p "$TMPROOT"
remove_test_cgroups

CURRENT_PGID=
# shellcheck disable=SC2317  # invoked by the trap
on_signal() {
	if [ -n "$CURRENT_PGID" ]; then kill -KILL -- "-$CURRENT_PGID" 2>/dev/null || true; fi
	reap_containers >/dev/null
	remove_tree "$TMPROOT"
	say "interrupted"
	exit 130
}
trap on_signal INT TERM

# ------------------------------------------------------------------- run
runtime_version=$("$RUNTIME" --version 2>/dev/null | head -n1 || true)
cgroup_mode=v1
if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
	cgroup_mode=v2
elif [ -d /sys/fs/cgroup/unified ]; then
	cgroup_mode="v1 (hybrid)"
fi

fmt_row() { printf '%-38s %-6s %4s %6s %5s  %s\n' "$@"; }

{
	echo "# runtime-tools $RT_VERSION"
	echo "# runtime: $RUNTIME (${runtime_version:-unknown version})"
	echo "# kernel: $(uname -r), cgroup $cgroup_mode, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	fmt_row TEST RESULT OK NOT_OK SKIP NOTE
} >"$RESULTS"

say "running ${#TESTS[@]} tests against $RUNTIME${runtime_version:+ ($runtime_version)}, timeout ${TIMEOUT}s each"
fmt_row TEST RESULT OK NOT_OK SKIP NOTE

passed=0
failed=0
skips_total=0
details=()
declare -A REASON=()
for t in "${TESTS[@]}"; do
	tap=$LOGS/$t.tap
	errlog=$LOGS/$t.stderr
	tmpdir=$TMPROOT/$t
	remove_tree "$tmpdir"
	mkdir -p "$tmpdir"

	rc=0
	# timeout puts the test in a process group of its own (pgid = its pid):
	# on expiry the whole group is killed, and afterwards any straggler.
	(cd "$SRC" && RUNTIME=$RUNTIME TMPDIR=$tmpdir exec timeout -k 10 "$TIMEOUT" \
		"./validation/$t/$t.t" </dev/null >"$tap" 2>"$errlog") &
	CURRENT_PGID=$!
	wait "$CURRENT_PGID" || rc=$?
	kill -KILL -- "-$CURRENT_PGID" 2>/dev/null || true
	CURRENT_PGID=

	summary_line=$(awk -f "$TAP_SUMMARY" "$tap") || die "could not parse $tap"
	IFS=$'\t' read -r ok notok skip todo points plan bailout errdiag first <<<"$summary_line" || true

	leftovers=$(reap_containers)
	remove_tree "$tmpdir"
	remove_test_cgroups

	notes=()
	result=PASS
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		result=FAIL
		notes+=("timeout after ${TIMEOUT}s")
	elif [ "$rc" -ne 0 ]; then
		result=FAIL
		notes+=("exit $rc")
	fi
	if [ "$notok" -gt 0 ]; then
		result=FAIL
	fi
	if [ "$bailout" -ne 0 ]; then
		result=FAIL
		notes+=("bail out")
	fi
	if [ "$plan" -ge 0 ] && [ "$plan" -ne "$points" ]; then
		result=FAIL
		notes+=("plan 1..$plan but $points test points")
	elif [ "$plan" -lt 0 ] && [ "$points" -eq 0 ]; then
		# e.g. process_rlimits_fail: the runtime refused the config as it
		# must, and the test says so by printing nothing and exiting 0.
		notes+=("no TAP output")
	elif [ "$plan" -lt 0 ]; then
		notes+=("no TAP plan")
	fi
	# The lifecycle tests (hooks, prestart, poststop_fail, ...) emit no test
	# point and report a violated requirement only as an "error" diagnostic.
	if [ "$points" -eq 0 ] && [ "$errdiag" -gt 0 ]; then
		result=FAIL
		notes+=("error diagnostic without test points")
	fi
	[ "$todo" -gt 0 ] && notes+=("$todo todo")
	[ "$leftovers" -gt 0 ] && notes+=("removed $leftovers leftover container(s)")
	if [ "$result" = FAIL ]; then
		# A bare "exit status N" says little: add the runtime's own message.
		reason=${first:-}
		if [ -z "$reason" ] || [[ $reason =~ ^exit\ status\ [0-9]+$ ]]; then
			msg=$(grep -vE '^[[:space:]]*$|^exit status [0-9]+$|^failed to [a-z]+ the container$|^Refer to: ' "$errlog" |
				tail -n1 | sed -E 's/^time="[^"]*" level=[a-z]+ //' | cut -c1-300 || true)
			if [ -n "$msg" ]; then
				reason=${reason:+$reason: }$msg
			fi
		fi
		[ -n "$reason" ] && notes+=("first failure: $reason")
		REASON[$t]=${first:-}
	fi

	note=
	for n in "${notes[@]}"; do
		note+=${note:+; }$n
	done
	row=$(fmt_row "$t" "$result" "$ok" "$notok" "$skip" "$note")
	printf '%s\n' "$row"
	printf '%s\n' "$row" >>"$RESULTS"

	skips_total=$((skips_total + skip))
	if [ "$result" = PASS ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		details+=("$t")
	fi
done

# Failed test points, for a quick look without opening the logs.
if [ ${#details[@]} -gt 0 ]; then
	{
		echo
		echo "# failed test points (full output in $LOGS/<test>.tap and .stderr)"
		for t in "${details[@]}"; do
			if grep -qE '^(not ok|Bail out!)' "$LOGS/$t.tap"; then
				grep -E '^(not ok|Bail out!)' "$LOGS/$t.tap" | sed "s|^|$t: |"
			elif [ -n "${REASON[$t]:-}" ]; then
				printf '%s: error: %s\n' "$t" "${REASON[$t]}"
			fi
			grep -v '^[[:space:]]*$' "$LOGS/$t.stderr" | tail -n2 | cut -c1-400 | sed "s|^|$t: stderr: |" || true
		done
	} >>"$RESULTS"
fi

summary="conformance: $passed passed, $failed failed"
echo "# skipped test points (counted as ok): $skips_total" | tee -a "$RESULTS"
echo "$summary" >>"$RESULTS"
say "results written to $RESULTS"

status=0
if [ "$ENFORCE" != 0 ]; then
	if [ -n "$ONLY" ]; then
		say "CONFORMANCE_ONLY is set: the expected-pass minimum is not checked"
	else
		[ -f "$EXPECTED_FILE" ] || die "missing $EXPECTED_FILE"
		expected=$(tr -d '[:space:]' <"$EXPECTED_FILE")
		[[ $expected =~ ^[0-9]+$ ]] || die "$EXPECTED_FILE must hold one integer (got '$expected')"
		if [ "$passed" -lt "$expected" ]; then
			say "expectation failed: $passed tests passed fully, $EXPECTED_FILE requires at least $expected"
			status=1
		else
			say "expectation met: $passed tests passed fully (at least $expected required)"
		fi
	fi
fi
echo "$summary"
exit "$status"
}
