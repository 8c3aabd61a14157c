#!/usr/bin/env bash
# Runs an OCI runtime under the two engines users already run on Debian 12:
# Podman (4.3, via conmon) and Docker (docker.io 20.10, dockerd with its own
# managed containerd 1.6 and containerd-shim-runc-v2).
#
#   tests/engines/podman-docker/run.sh /absolute/path/to/runtime
#
# Steps:
#   1. installs podman, docker.io and the CNI plugins with apt-get when they
#      are missing (no service is started by the install);
#   2. builds a busybox image from Debian's busybox-static (mkimage.sh, a
#      docker-archive tarball: no registry is ever contacted) and loads it
#      into both engines;
#   3. Podman: private storage, run root, tmp dir, containers.conf,
#      storage.conf, registries.conf and CNI network (bridge runxpod0,
#      10.88.55.0/24, no iptables rules), cgroupfs, file events logger,
#      `--runtime RUNTIME`;
#   4. Docker: a private dockerd (own data root, exec root, unix socket,
#      pid file, config file, bridge runxdock0 on 10.88.66.0/24 made here,
#      no iptables, no ip forwarding, cgroupfs under /runxdock) that starts
#      its own containerd; RUNTIME is added as runtime "runx" and made the
#      default, and runx also as "runx-sandbox" (daemon.json);
#   5. tears everything down and checks that nothing is left: processes,
#      mounts, runtime state, network namespaces, bridges, veths, iptables
#      rules, cgroups, files outside the work directory.
# A table of checks is printed, then "engines-podman-docker: N passed,
# M failed" (", K skipped" when some check does not apply to the runtime:
# the isolation-mode checks, and the sandbox-mode group under each engine,
# only apply to runx, and the latter only when it has the sandbox mode).
# The exit status is 1 when a check failed, 2 on a usage error.
#
# Environment:
#   ENGINES_TRACE=1       put a wrapper named like the runtime in front of it
#                         that logs every runtime command line with its exit
#                         status (and the runtime's --log file on failure);
#                         the log is printed at the end
#   ENGINES_KEEP=DIR      copy the engines' logs (dockerd, containerd, podman
#                         events, trace) to DIR before the work dir is removed
#   ENGINES_ONLY=podman|docker   run only one engine's checks
#   ENGINES_NO_INSTALL=1  do not call apt-get (fail if something is missing)
#   ENGINES_DOCKER_MOUNTNS=1  run dockerd in a private mount namespace even
#                         when no containerd socket is at /run/containerd
#   ENGINES_MICROVM_HYPERVISOR=qemu|runx  the hypervisor the VMs of the microvm
#                         checks must run on (default: any; the run -d check
#                         says which)
set -uo pipefail

{ # parsed whole before running: editing this file cannot derail a run

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PFX=engines-podman-docker

say() { printf '%s: %s\n' "$PFX" "$*" >&2; }
die() { say "error: $*"; exit 2; }

[ $# -eq 1 ] || die "usage: $0 /absolute/path/to/runtime"
[ "$(id -u)" -eq 0 ] || die "must run as root"
RUNTIME_ARG=$1
if [[ $RUNTIME_ARG != */* ]]; then
	RUNTIME_ARG=$(command -v -- "$RUNTIME_ARG" || true)
fi
[ -n "$RUNTIME_ARG" ] && [ -f "$RUNTIME_ARG" ] && [ -x "$RUNTIME_ARG" ] ||
	die "runtime binary '$1' not found or not executable"
RUNTIME=$(realpath -- "$RUNTIME_ARG")
RT_NAME=$(basename -- "$RUNTIME")
ONLY=${ENGINES_ONLY:-}
case $ONLY in ''|podman|docker) ;; *) die "ENGINES_ONLY must be podman or docker" ;; esac
MVM_HV=${ENGINES_MICROVM_HYPERVISOR:-}
case $MVM_HV in ''|qemu|runx) ;; *) die "ENGINES_MICROVM_HYPERVISOR must be qemu or runx" ;; esac

# The isolation-mode check applies only to runx.
IS_RUNX=0
RT_VERSION=$("$RUNTIME" --version 2>/dev/null)
case $'\n'$RT_VERSION in *$'\n'"runx version "*) IS_RUNX=1 ;; esac

# The sandbox-mode checks apply to a runx that has built that mode and can
# run it on this host (`runx features`); SBX_SKIP says why they do not.
SBX_SKIP=
if [ $IS_RUNX != 1 ]; then
	SBX_SKIP="$RT_NAME is not runx"
else
	RT_FEATURES=$("$RUNTIME" features 2>/dev/null | tr -d ' \n')
	feature() { printf '%s' "$RT_FEATURES" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
	if [[ ",$(feature dev.runx.isolation.modes)," != *,sandbox,* ]]; then
		SBX_SKIP="runx has not built the sandbox mode"
	elif [[ $RT_FEATURES == *'"dev.runx.isolation.usable"'* ]] &&
		[[ ",$(feature dev.runx.isolation.usable)," != *,sandbox,* ]]; then
		SBX_SKIP="runx cannot run the sandbox mode on this host (runx features: dev.runx.isolation.usable)"
	fi
fi

# The microvm-mode checks likewise (MVM_SKIP says why not).
MVM_SKIP=
if [ $IS_RUNX != 1 ]; then
	MVM_SKIP="$RT_NAME is not runx"
elif [[ ",$(feature dev.runx.isolation.modes)," != *,microvm,* ]]; then
	MVM_SKIP="runx has not built the microvm mode"
elif [[ $RT_FEATURES == *'"dev.runx.isolation.usable"'* ]] &&
	[[ ",$(feature dev.runx.isolation.usable)," != *,microvm,* ]]; then
	MVM_SKIP="runx cannot run the microvm mode on this host (runx features: dev.runx.isolation.usable)"
fi

IMAGE=localhost/runx-busybox:latest
POD_BRIDGE=runxpod0
POD_SUBNET=10.88.55
DOCK_BRIDGE=runxdock0
DOCK_SUBNET=10.88.66
DOCK_CGROUP=runxdock

# ------------------------------------------------------------------ packages
install_packages() {
	local packages=(podman conmon docker.io containerd runc containernetworking-plugins
		busybox-static iproute2 iptables procps util-linux coreutils)
	local missing=() p st
	for p in "${packages[@]}"; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		[ "$st" = "install ok installed" ] || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		return 0
	fi
	[ "${ENGINES_NO_INSTALL:-0}" = 1 ] && die "missing packages: ${missing[*]}"
	say "installing ${missing[*]}"
	# docker.io's and containerd's maintainer scripts would start the system
	# daemons: a policy-rc.d that denies it, unless the machine has one.
	local policy_made=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		policy_made=1
	fi
	local ok=0 try
	export DEBIAN_FRONTEND=noninteractive
	for try in 1 2 3; do
		if apt-get -o DPkg::Lock::Timeout=300 update -qq &&
			apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 \
				-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
				"${missing[@]}" >/dev/null; then
			ok=1
			break
		fi
		sleep 5
	done
	[ $policy_made = 1 ] && rm -f /usr/sbin/policy-rc.d
	[ $ok = 1 ] || die "apt-get install ${missing[*]} failed"
}
install_packages

PODMAN=/usr/bin/podman
DOCKER=/usr/bin/docker # not the first docker on PATH: another client may be there
DOCKERD=/usr/sbin/dockerd
[ -x /usr/sbin/dockerd ] || DOCKERD=$(command -v dockerd)
for b in "$PODMAN" "$DOCKER" "$DOCKERD" /usr/bin/conmon /usr/bin/containerd /usr/lib/cni/bridge; do
	[ -x "$b" ] || die "$b is missing after the install"
done

# -------------------------------------------------------------- bookkeeping
NAMES=() STATES=() DETAILS=()
record() { # NAME PASS|FAIL|SKIP [DETAIL]
	NAMES+=("$1")
	STATES+=("$2")
	DETAILS+=("${3:-}")
	printf '%s: %-4s %s\n' "$PFX" "$2" "$1" >&2
}
pass() { record "$1" PASS "${2:-}"; }
fail() { record "$1" FAIL "${2:-}"; }
skip() { record "$1" SKIP "${2:-}"; }

# run CMD...: stdout in OUT (carriage returns removed, trailing blank
# lines trimmed), stderr in ERR, exit status in RC.
OUT='' ERR='' RC=0
run() {
	OUT=$("$@" 2>"$W/stderr")
	RC=$?
	OUT=${OUT//$'\r'/}
	ERR=$(cat "$W/stderr")
}
# What to show for a failed command.
show() { printf 'rc=%s stdout=%q stderr=%q' "$RC" "${OUT:0:600}" "${ERR:0:900}"; }
# Milliseconds since the epoch.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---------------------------------------------------------------- work dir
for br in $POD_BRIDGE $DOCK_BRIDGE; do
	if ip link show "$br" >/dev/null 2>&1; then
		die "a link named $br already exists: another run of this script, or one killed by SIGKILL (ip link del $br)"
	fi
done
W=$(mktemp -d /tmp/runxpd.XXXXXX) || die "mktemp failed"
chmod 0711 "$W"
# Podman's conmon and dockerd inherit the working directory, and conmon
# writes an "oom" file into it when a container is OOM-killed: never the
# repository.
cd "$W" || die "cd $W"
say "runtime $RUNTIME (${RT_VERSION%%$'\n'*}); work dir $W"

# What existed before, so that teardown removes only what this run made.
pre_exists() { [ -e "$1" ] && echo 1 || echo 0; }
PRE_KEYJSON=$(pre_exists /etc/docker/key.json)
PRE_VLC=$(pre_exists /var/lib/containers)
PRE_BLOBCACHE=$(pre_exists /var/lib/containers/cache/blob-info-cache-v1.boltdb)
PRE_VLCNI=$(pre_exists /var/lib/cni)
PRE_CNIRESULTS=$(pre_exists /var/lib/cni/results)
PRE_RUNCONTAINERD=$(pre_exists /run/containerd)
PRE_LIBPOD_CG=$(pre_exists /sys/fs/cgroup/pids/libpod_parent)
PRE_NETNS=" $(ls /run/netns 2>/dev/null | tr '\n' ' ') "

ENGINE_RUNTIME=$RUNTIME
TRACE_LOG=$W/trace.log
# trace_wrapper PATH TARGET: writes at PATH a script that runs TARGET with
# its arguments, logs the command line and its exit status, and appends the
# runtime's own --log file when it failed.
trace_wrapper() {
	cat >"$1" <<EOF
#!/bin/bash
# Logs each command line and its exit status; the runtime's own --log file
# is appended when it failed.
"$2" "\$@"
rc=\$?
{
	printf '%s rc=%d %s' "\$(date +%T.%N)" "\$rc" "$2"
	printf ' %q' "\$@"
	printf '\n'
	if [ "\$rc" -ne 0 ]; then
		prev=
		for a in "\$@"; do
			case \$prev in --log) [ -f "\$a" ] && tail -n 5 "\$a" | sed 's/^/    log: /' ;; esac
			case \$a in --log=*) f=\${a#--log=}; [ -f "\$f" ] && tail -n 5 "\$f" | sed 's/^/    log: /' ;; esac
			prev=\$a
		done
	fi
} >>"$TRACE_LOG" 2>/dev/null
exit \$rc
EOF
	chmod 0755 "$1"
}
if [ "${ENGINES_TRACE:-0}" = 1 ]; then
	# Named like the runtime: Podman chooses JSON logging by that name.
	mkdir -p "$W/trace"
	ENGINE_RUNTIME=$W/trace/$RT_NAME
	trace_wrapper "$ENGINE_RUNTIME" "$RUNTIME"
	: >"$TRACE_LOG"
fi

# ------------------------------------------------------------------ Podman
P=$W/pod
# Each engine command is bounded at 180 s: past the microvm mode's boot limit
# (120 s), so that a hung guest's create fails with runx's own report.
pm() {
	CONTAINERS_CONF=$P/conf/containers.conf \
		CONTAINERS_STORAGE_CONF=$P/conf/storage.conf \
		CONTAINERS_REGISTRIES_CONF=$P/conf/registries.conf \
		TMPDIR=$P/tmp \
		timeout -k 5 180 "$PODMAN" --root "$P/root" --runroot "$P/runroot" --tmpdir "$P/tmp" \
		--cgroup-manager cgroupfs --events-backend file \
		--network-config-dir "$P/cni" --runtime "$ENGINE_RUNTIME" "$@"
}

podman_setup() {
	mkdir -p "$P"/{root,runroot,tmp,cni,conf,ipam}
	# The runtime's name is added to the runtimes that take --log-format json,
	# as a runx package would do for Podman: its errors then reach Podman
	# through the --log file instead of conmon's stderr.
	cat >"$P/conf/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
log_driver = "k8s-file"

[network]
network_backend = "cni"
network_config_dir = "$P/cni"
cni_plugin_dirs = ["/usr/lib/cni"]
default_network = "runxpod"
default_subnet = "$POD_SUBNET.0/24"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$P/events.log"
lock_type = "file"
tmp_dir = "$P/tmp"
volume_path = "$P/root/volumes"
image_copy_tmp_dir = "$P/tmp"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "youki", "krun", "runx", "$RT_NAME"]
EOF
	cat >"$P/conf/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$P/root"
runroot = "$P/runroot"
EOF
	cat >"$P/conf/registries.conf" <<EOF
unqualified-search-registries = []
EOF
	# A bridge of its own, no masquerading and no firewall plugin: nothing
	# is written to iptables.
	cat >"$P/cni/runxpod.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "runxpod",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$POD_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$P/ipam",
        "routes": [{ "dst": "0.0.0.0/0" }],
        "ranges": [[{ "subnet": "$POD_SUBNET.0/24", "gateway": "$POD_SUBNET.1" }]]
      }
    }
  ]
}
EOF
}

# Waits up to $2 seconds for `podman logs $1` to contain $3.
pm_wait_log() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[[ $(pm logs "$1" 2>&1) == *"$3"* ]] && return 0
		sleep 0.1
	done
	return 1
}

# The runtime's own view of a container: `RUNTIME [--root R] state ID`.
rt_status() { # ROOT|'' ID
	local root=() out
	[ -n "$1" ] && root=(--root "$1")
	out=$("$RUNTIME" "${root[@]}" state "$2" 2>/dev/null) || return 1
	printf '%s' "$out" | tr -d ' \n' | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p'
}

podman_checks() {
	local n id t0 t1
	say "podman $("$PODMAN" --version | awk '{print $3}'), conmon $(conmon --version | awk 'NR==1{print $3}')"
	podman_setup

	n="podman load (docker-archive built from busybox-static)"
	run pm load -i "$W/image.tar"
	if [ $RC -eq 0 ] && pm image exists "$IMAGE"; then pass "$n"; else fail "$n" "$(show)"; return; fi

	n="podman run: output reaches podman"
	run pm run --rm --pull never "$IMAGE" echo hello-from-podman
	if [ $RC -eq 0 ] && [ "$OUT" = hello-from-podman ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="podman run: exit code (sh -c 'exit 7' gives 7)"
	run pm run --rm --pull never "$IMAGE" sh -c 'exit 7'
	if [ $RC -eq 7 ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="podman run: command not found gives 127"
	run pm run --rm --pull never "$IMAGE" /no/such/program
	if [ $RC -eq 127 ] && [[ $ERR == *'/no/such/program'* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="podman run -t: a terminal in the container"
	run pm run --rm -t --pull never "$IMAGE" tty
	if [ $RC -eq 0 ] && [[ $OUT == /dev/pts/* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="podman run --user 65534:65534"
	run pm run --rm --pull never --user 65534:65534 "$IMAGE" id
	if [ $RC -eq 0 ] && [[ $OUT == "uid=65534(nobody) gid=65534(nogroup)"* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="podman run --memory 64m: cgroup limit set"
	run pm run --rm --pull never --memory 64m "$IMAGE" \
		sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
	if [ $RC -eq 0 ] && [ "$OUT" = 67108864 ]; then pass "$n"; else fail "$n" "$(show)"; fi

	common_run_checks podman pm

	n="podman run: CNI network ($POD_BRIDGE, $POD_SUBNET.0/24)"
	run pm run --rm --pull never "$IMAGE" ip -4 -o addr show eth0
	if [ $RC -eq 0 ] && [[ $OUT == *"inet $POD_SUBNET."* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="podman run -d: container running"
	run pm run -d --name rxp-d --pull never "$IMAGE" \
		sh -c 'echo ready; trap "echo got-TERM; exit 3" TERM; while :; do sleep 0.1; done'
	id=$OUT
	if [ $RC -ne 0 ] || [ -z "$id" ]; then
		fail "$n" "$(show)"
	else
		run pm inspect -f '{{.State.Status}} {{.State.Pid}} {{.OCIRuntime}}' rxp-d
		local st=${OUT%% *}
		if [ $RC -eq 0 ] && [ "$st" = running ] && pm_wait_log rxp-d 10 ready; then
			pass "$n" "$OUT"
		else
			fail "$n" "$(show)"
		fi
	fi

	n="runtime state of the podman container: running"
	run rt_status "" "$id"
	if [ "$OUT" = running ]; then pass "$n"; else fail "$n" "'$RUNTIME state $id' gave status '$OUT'"; fi

	n="podman exec: output"
	run pm exec rxp-d sh -c 'echo exec-out-$((6*7))'
	if [ $RC -eq 0 ] && [ "$OUT" = exec-out-42 ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="podman exec: exit code (5)"
	run pm exec rxp-d sh -c 'exit 5'
	if [ $RC -eq 5 ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="podman exec -i: stdin"
	run pm exec -i rxp-d sh -c 'read l; echo "got:$l"' <<<"line-in"
	if [ $RC -eq 0 ] && [ "$OUT" = got:line-in ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="podman exec -u -w: user and working directory"
	run pm exec -u 65534 -w /tmp rxp-d sh -c 'echo "$(id -u) $(pwd)"'
	if [ $RC -eq 0 ] && [ "$OUT" = "65534 /tmp" ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="podman exec -t: a terminal"
	run pm exec -t rxp-d tty
	if [ $RC -eq 0 ] && [[ $OUT == /dev/pts/* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="podman pause / unpause"
	local s1 s2 s3
	pm pause rxp-d >/dev/null 2>"$W/stderr"
	s1=$(pm inspect -f '{{.State.Status}}' rxp-d 2>/dev/null)
	s2=$(rt_status "" "$id")
	pm unpause rxp-d >/dev/null 2>>"$W/stderr"
	s3=$(pm inspect -f '{{.State.Status}}' rxp-d 2>/dev/null)
	if [ "$s1" = paused ] && [ "$s2" = paused ] && [ "$s3" = running ]; then pass "$n"; else
		fail "$n" "podman: $s1, runtime: $s2, after unpause: $s3; $(head -c 600 "$W/stderr")"
	fi

	n="podman stop: SIGTERM reaches pid 1 (exit 3)"
	t0=$(now_ms)
	run pm stop -t 20 rxp-d
	t1=$(now_ms)
	local code
	code=$(pm inspect -f '{{.State.ExitCode}}' rxp-d 2>/dev/null)
	if [ $RC -eq 0 ] && [ "$code" = 3 ] && [ $((t1 - t0)) -lt 10000 ] && pm_wait_log rxp-d 3 got-TERM; then
		pass "$n" "$((t1 - t0)) ms"
	else
		fail "$n" "exit code '$code' after $((t1 - t0)) ms; $(show)"
	fi

	n="podman start (again) and stop"
	run pm start rxp-d
	if [ $RC -eq 0 ] && [ "$(pm inspect -f '{{.State.Status}}' rxp-d 2>/dev/null)" = running ]; then
		run pm stop -t 20 rxp-d
		code=$(pm inspect -f '{{.State.ExitCode}}' rxp-d 2>/dev/null)
		if [ $RC -eq 0 ] && [ "$code" = 3 ]; then pass "$n"; else fail "$n" "exit code '$code'; $(show)"; fi
	else
		fail "$n" "$(show)"
	fi

	n="podman rm: container and runtime state gone"
	run pm rm rxp-d
	if [ $RC -eq 0 ] && ! pm container exists rxp-d && ! rt_status "" "$id" >/dev/null; then pass "$n"; else
		fail "$n" "$(show)"
	fi

	n="podman rm -f of a running container"
	run pm run -d --name rxp-f --pull never "$IMAGE" sleep 1000
	id=$OUT
	[ $RC -eq 0 ] && [ "$(pm inspect -f '{{.State.Status}}' rxp-f 2>/dev/null)" = running ] || id=
	run pm rm -f -t 0 rxp-f
	if [ -n "$id" ] && [ $RC -eq 0 ] && ! pm container exists rxp-f && ! rt_status "" "$id" >/dev/null; then pass "$n"; else
		fail "$n" "$(show)"
	fi

	n="podman --annotation dev.runx.isolation=namespace: in config.json, init + start -a"
	run pm create --name rxp-ann --pull never --annotation dev.runx.isolation=namespace "$IMAGE" echo annotated
	id=$OUT
	local cfg=$P/root/overlay-containers/$id/userdata/config.json st
	if [ $RC -eq 0 ] && [ -n "$id" ]; then
		# init: the runtime's create, config.json written; start: its start.
		run pm init rxp-ann
		st=$(rt_status "" "$id")
		if [ $RC -ne 0 ] || [ "$st" != created ]; then
			fail "$n" "init: runtime status '$st'; $(show)"
		elif ! grep -q '"dev.runx.isolation": *"namespace"' "$cfg" 2>/dev/null; then
			fail "$n" "annotation not in $cfg"
		else
			run pm start -a rxp-ann
			if [ $RC -eq 0 ] && [ "$OUT" = annotated ]; then pass "$n"; else fail "$n" "start -a: $(show)"; fi
		fi
	else
		fail "$n" "create: $(show)"
	fi
	pm rm -f rxp-ann >/dev/null 2>&1

	# Each other mode by annotation: a mode runx has built runs the container,
	# a mode it has not built is refused with runx's "not built yet" error.
	local built mode
	built=$("$RUNTIME" features 2>/dev/null | jq -r '.annotations["dev.runx.isolation.modes"] // ""')
	for mode in sandbox microvm; do
		if [ $IS_RUNX != 1 ]; then
			skip "podman --annotation dev.runx.isolation=$mode" "$RT_NAME is not runx"
			continue
		fi
		if [[ ",$built," == *",$mode,"* ]]; then
			n="podman --annotation dev.runx.isolation=$mode: runs in that mode"
			run pm run --rm --name "rxp-$mode" --pull never --annotation "dev.runx.isolation=$mode" "$IMAGE" echo "in-$mode"
			if [ $RC -eq 0 ] && [ "$OUT" = "in-$mode" ]; then pass "$n"; else fail "$n" "$(show)"; fi
		else
			n="podman --annotation dev.runx.isolation=$mode: runx refuses it"
			run pm run --rm --name "rxp-$mode" --pull never --annotation "dev.runx.isolation=$mode" "$IMAGE" echo should-not-run
			if [ $RC -ne 0 ] && [[ $ERR == *"isolation mode \"$mode\" is not built yet"* ]] &&
				[[ $OUT != *should-not-run* ]] && ! pm container exists "rxp-$mode"; then
				pass "$n" "rc=$RC"
			else
				fail "$n" "$(show)"
			fi
		fi
		pm rm -f "rxp-$mode" >/dev/null 2>&1
	done

	podman_sandbox_checks
	if [ -n "$MVM_SKIP" ]; then skip "podman microvm checks" "$MVM_SKIP"; else
		mvm_checks podman pm "$POD_SUBNET.1" --annotation dev.runx.isolation=microvm
	fi
}

podman_teardown() {
	[ -d "$P/root" ] || return 0
	local n="podman teardown: all containers removed"
	local left
	pm rm -a -f -t 0 >/dev/null 2>&1
	left=$(pm ps -a -q 2>/dev/null)
	if [ -z "$left" ]; then pass "$n"; else fail "$n" "left: $left"; fi
	# Storage unmounts its layers on shutdown.
	pm system prune -f >/dev/null 2>&1 || true
}

# Checks both engines share: ENGINE_NAME CLIENT_FUNCTION.
common_run_checks() {
	local e=$1 c=$2 n vol=$W/vol-$1
	mkdir -p "$vol" && echo "from-the-host" >"$vol/file"

	n="$e run -e -w: environment and working directory"
	run $c run --rm --pull never -e RUNX_T=val-1 -w /tmp "$IMAGE" sh -c 'echo "$RUNX_T $(pwd)"'
	if [ $RC -eq 0 ] && [ "$OUT" = "val-1 /tmp" ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e run -v: bind mount read and written"
	run $c run --rm --pull never -v "$vol:/mnt/vol" "$IMAGE" sh -c 'cat /mnt/vol/file && echo back >/mnt/vol/back'
	if [ $RC -eq 0 ] && [ "$OUT" = from-the-host ] && [ "$(cat "$vol/back" 2>/dev/null)" = back ]; then
		pass "$n"
	else
		fail "$n" "$(show)"
	fi

	n="$e run --read-only: root filesystem read-only"
	run $c run --rm --pull never --read-only "$IMAGE" sh -c 'touch /ro-test 2>/dev/null && echo writable || echo read-only'
	if [ $RC -eq 0 ] && [ "$OUT" = read-only ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e run: mount refused by default, allowed with --cap-add SYS_ADMIN"
	local a b try='mount -t tmpfs none /tmp 2>/dev/null && echo mounted || echo refused'
	a=$($c run --rm --pull never "$IMAGE" sh -c "$try" 2>&1)
	b=$($c run --rm --pull never --cap-add SYS_ADMIN "$IMAGE" sh -c "$try" 2>&1)
	if [ "$a" = refused ] && [ "$b" = mounted ]; then pass "$n"; else
		fail "$n" "default: '${a:0:300}', SYS_ADMIN: '${b:0:300}'"
	fi

	# Docker's --privileged asks for every capability, and this host's
	# bounding set lacks CAP_SYS_RESOURCE: runc fails it too. Podman asks
	# only for those in the bounding set.
	if [ "$e" = podman ]; then
		n="$e run --privileged: mount allowed"
		b=$($c run --rm --pull never --privileged "$IMAGE" sh -c "$try" 2>&1)
		if [ "$b" = mounted ]; then pass "$n"; else fail "$n" "'${b:0:300}'"; fi
	fi
}

# ------------------------------------------------------------------ Docker
D=$W/dock
SOCK=$D/docker.sock
DOCK_SBX_RUNTIME=
dk() { DOCKER_CONFIG=$D/client timeout -k 5 180 "$DOCKER" -H "unix://$SOCK" "$@"; }

dk_wait_log() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[[ $(dk logs "$1" 2>&1) == *"$3"* ]] && return 0
		sleep 0.1
	done
	return 1
}

DOCKERD_STARTED=0
docker_start() {
	mkdir -p "$D"/{data,exec,client}
	# runx also as "runx-sandbox", the way deploy/docker/daemon.json
	# registers it: Docker has no --annotation, the runtime's name (a link
	# named runx-sandbox) chooses the mode. dockerd merges the file's
	# runtimes with --add-runtime.
	if [ $IS_RUNX = 1 ]; then
		mkdir -p "$D/sbx"
		ln -sfn "$RUNTIME" "$D/sbx/runx-sandbox"
		ln -sfn "$RUNTIME" "$D/sbx/runx-microvm"
		DOCK_SBX_RUNTIME=$D/sbx/runx-sandbox
		if [ "${ENGINES_TRACE:-0}" = 1 ]; then
			mkdir -p "$W/trace-sbx"
			DOCK_SBX_RUNTIME=$W/trace-sbx/runx-sandbox
			trace_wrapper "$DOCK_SBX_RUNTIME" "$D/sbx/runx-sandbox"
		fi
		printf '{\n  "runtimes": {\n    "runx-sandbox": { "path": "%s" },\n    "runx-microvm": { "path": "%s" }\n  }\n}\n' \
			"$DOCK_SBX_RUNTIME" "$D/sbx/runx-microvm" >"$D/daemon.json"
	else
		echo '{}' >"$D/daemon.json"
	fi
	# docker's --bip cannot be combined with --bridge, and a --bridge must
	# exist: the bridge is made here, with the gateway address on it.
	ip link add "$DOCK_BRIDGE" type bridge &&
		ip addr add "$DOCK_SUBNET.1/24" dev "$DOCK_BRIDGE" &&
		ip link set "$DOCK_BRIDGE" up || return 1
	# dockerd 20.10 uses the system containerd instead of starting its own
	# whenever /run/containerd/containerd.sock exists. When it does (or when
	# asked), dockerd runs in a mount namespace of its own where an empty
	# tmpfs hides /run/containerd; its mounts then also end with it.
	local ns=()
	if [ -e /run/containerd/containerd.sock ] || [ "${ENGINES_DOCKER_MOUNTNS:-0}" = 1 ]; then
		say "dockerd runs in a private mount namespace with an empty /run/containerd"
		ns=(unshare --mount --propagation private -- sh -c
			'mkdir -p /run/containerd && mount -t tmpfs -o mode=0711 runxdock /run/containerd && exec "$@"' sh)
	fi
	setsid "${ns[@]}" "$DOCKERD" \
		--config-file "$D/daemon.json" \
		--data-root "$D/data" \
		--exec-root "$D/exec" \
		-H "unix://$SOCK" \
		--pidfile "$D/dockerd.pid" \
		--bridge "$DOCK_BRIDGE" \
		--iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
		--userland-proxy=false \
		--oom-score-adjust=0 \
		--storage-driver overlay2 \
		--exec-opt native.cgroupdriver=cgroupfs \
		--cgroup-parent "/$DOCK_CGROUP" \
		--add-runtime "runx=$ENGINE_RUNTIME" \
		--default-runtime runx \
		</dev/null >"$D/dockerd.log" 2>&1 &
	DOCKERD_STARTED=1
	local i
	for ((i = 0; i < 300; i++)); do
		dk version >/dev/null 2>&1 && return 0
		if [ $i -gt 20 ] && ! kill -0 "$(cat "$D/dockerd.pid" 2>/dev/null)" 2>/dev/null; then break; fi
		sleep 0.1
	done
	return 1
}

docker_checks() {
	local n id t0 t1 code root
	say "docker.io $("$DOCKERD" --version | awk '{print $3}' | tr -d ,), containerd $(containerd --version | awk '{print $3}')"

	n="dockerd (own data/exec root, socket, containerd) started"
	if docker_start; then pass "$n"; else fail "$n" "$(tail -n 15 "$D/dockerd.log" 2>/dev/null)"; return; fi

	n="docker info: runx registered and the default runtime"
	run dk info --format '{{.DefaultRuntime}} {{range $k, $v := .Runtimes}}{{$k}}={{$v.Path}} {{end}}'
	if [ $RC -eq 0 ] && [[ $OUT == "runx "* ]] && [[ $OUT == *" runx=$ENGINE_RUNTIME "* || $OUT == *" runx=$ENGINE_RUNTIME" ]]; then
		pass "$n" "$OUT"
	else
		fail "$n" "$(show)"
	fi

	n="docker load (docker-archive built from busybox-static)"
	run dk load -i "$W/image.tar"
	if [ $RC -eq 0 ] && dk image inspect "$IMAGE" >/dev/null 2>&1; then pass "$n"; else fail "$n" "$(show)"; return; fi

	n="docker run: output reaches docker"
	run dk run --rm --pull never "$IMAGE" echo hello-from-docker
	if [ $RC -eq 0 ] && [ "$OUT" = hello-from-docker ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker run: exit code (sh -c 'exit 7' gives 7)"
	run dk run --rm --pull never "$IMAGE" sh -c 'exit 7'
	if [ $RC -eq 7 ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker run: command not found gives 127"
	run dk run --rm --pull never "$IMAGE" /no/such/program
	if [ $RC -eq 127 ] && [[ $ERR == *'/no/such/program'* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker run -t: a terminal in the container"
	run dk run --rm -t --pull never "$IMAGE" tty
	if [ $RC -eq 0 ] && [[ $OUT == /dev/pts/* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker run -i: stdin"
	run dk run --rm -i --pull never "$IMAGE" sh -c 'read l; echo "got:$l"' <<<"line-in"
	if [ $RC -eq 0 ] && [ "$OUT" = got:line-in ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker run --memory 64m: cgroup limit set"
	run dk run --rm --pull never --memory 64m "$IMAGE" \
		sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
	if [ $RC -eq 0 ] && [ "$OUT" = 67108864 ]; then pass "$n"; else fail "$n" "$(show)"; fi

	common_run_checks docker dk

	n="docker run: bridge network ($DOCK_BRIDGE, prestart hook)"
	run dk run --rm --pull never "$IMAGE" ip -4 -o addr show eth0
	if [ $RC -eq 0 ] && [[ $OUT == *"inet $DOCK_SUBNET."* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker run --network none: loopback only"
	run dk run --rm --pull never --network none "$IMAGE" sh -c 'ls /sys/class/net | tr "\n" " "'
	if [ $RC -eq 0 ] && [ "$OUT" = "lo " ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker run -d: container running"
	run dk run -d --name rxd-d --pull never "$IMAGE" \
		sh -c 'echo ready; trap "echo got-TERM; exit 3" TERM; while :; do sleep 0.1; done'
	id=$OUT
	if [ $RC -ne 0 ] || [ -z "$id" ]; then
		fail "$n" "$(show)"
	else
		run dk inspect -f '{{.State.Status}} {{.State.Pid}} {{.HostConfig.Runtime}}' rxd-d
		if [ $RC -eq 0 ] && [[ $OUT == "running "*" runx" ]] && dk_wait_log rxd-d 10 ready; then
			pass "$n" "$OUT"
		else
			fail "$n" "$(show)"
		fi
	fi

	n="runtime state of the docker container: running"
	root=$(ls -d "$D"/exec/runtime-*/moby 2>/dev/null | head -n1)
	run rt_status "$root" "$id"
	if [ "$OUT" = running ]; then pass "$n" "root $root"; else
		fail "$n" "'$RUNTIME --root $root state $id' gave status '$OUT'"
	fi

	n="docker logs: output of the detached container"
	run dk logs rxd-d
	if [ $RC -eq 0 ] && [ "$OUT" = ready ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker exec: output"
	run dk exec rxd-d sh -c 'echo exec-out-$((6*7))'
	if [ $RC -eq 0 ] && [ "$OUT" = exec-out-42 ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker exec: exit code (5)"
	run dk exec rxd-d sh -c 'exit 5'
	if [ $RC -eq 5 ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker exec -i: stdin"
	run dk exec -i rxd-d sh -c 'read l; echo "got:$l"' <<<"line-in"
	if [ $RC -eq 0 ] && [ "$OUT" = got:line-in ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker exec -u -w: user and working directory"
	run dk exec -u 65534 -w /tmp rxd-d sh -c 'echo "$(id -u) $(pwd)"'
	if [ $RC -eq 0 ] && [ "$OUT" = "65534 /tmp" ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker exec -t: a terminal"
	run dk exec -t rxd-d tty
	if [ $RC -eq 0 ] && [[ $OUT == /dev/pts/* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker top (runtime ps)"
	run dk top rxd-d
	if [ $RC -eq 0 ] && [[ $OUT == *"sleep 0.1"* || $OUT == *"while :"* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="docker update --memory (runtime update)"
	run dk update --memory 128m --memory-swap 256m rxd-d
	if [ $RC -eq 0 ]; then
		run dk exec rxd-d sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
		if [ $RC -eq 0 ] && [ "$OUT" = 134217728 ]; then pass "$n"; else fail "$n" "limit after update: $(show)"; fi
	else
		fail "$n" "$(show)"
	fi

	n="docker pause / unpause"
	local s1 s2 s3
	dk pause rxd-d >/dev/null 2>"$W/stderr"
	s1=$(dk inspect -f '{{.State.Status}}' rxd-d 2>/dev/null)
	s2=$(rt_status "$root" "$id")
	dk unpause rxd-d >/dev/null 2>>"$W/stderr"
	s3=$(dk inspect -f '{{.State.Status}}' rxd-d 2>/dev/null)
	if [ "$s1" = paused ] && [ "$s2" = paused ] && [ "$s3" = running ]; then pass "$n"; else
		fail "$n" "docker: $s1, runtime: $s2, after unpause: $s3; $(head -c 600 "$W/stderr")"
	fi

	n="docker stop: SIGTERM reaches pid 1 (exit 3)"
	t0=$(now_ms)
	run dk stop -t 20 rxd-d
	t1=$(now_ms)
	code=$(dk inspect -f '{{.State.ExitCode}}' rxd-d 2>/dev/null)
	if [ $RC -eq 0 ] && [ "$code" = 3 ] && [ $((t1 - t0)) -lt 10000 ] && dk_wait_log rxd-d 3 got-TERM; then
		pass "$n" "$((t1 - t0)) ms"
	else
		fail "$n" "exit code '$code' after $((t1 - t0)) ms; $(show)"
	fi

	n="docker start (again) and restart"
	run dk start rxd-d
	if [ $RC -eq 0 ] && [ "$(dk inspect -f '{{.State.Status}}' rxd-d 2>/dev/null)" = running ]; then
		local pid1 pid2
		pid1=$(dk inspect -f '{{.State.Pid}}' rxd-d 2>/dev/null)
		run dk restart -t 20 rxd-d
		pid2=$(dk inspect -f '{{.State.Pid}}' rxd-d 2>/dev/null)
		if [ $RC -eq 0 ] && [ "$(dk inspect -f '{{.State.Status}}' rxd-d 2>/dev/null)" = running ] &&
			[ "$pid1" != "$pid2" ]; then
			pass "$n"
		else
			fail "$n" "pid $pid1 -> $pid2; $(show)"
		fi
		dk stop -t 20 rxd-d >/dev/null 2>&1
	else
		fail "$n" "$(show)"
	fi

	n="docker rm: container and runtime state gone"
	run dk rm rxd-d
	if [ $RC -eq 0 ] && ! dk inspect rxd-d >/dev/null 2>&1 && [ ! -e "$root/$id" ]; then pass "$n"; else
		fail "$n" "$(show); $(ls -d "$root/$id" 2>&1)"
	fi

	n="docker rm -f of a running container"
	run dk run -d --name rxd-f --pull never "$IMAGE" sleep 1000
	id=$OUT
	[ $RC -eq 0 ] && [ "$(dk inspect -f '{{.State.Status}}' rxd-f 2>/dev/null)" = running ] || id=
	run dk rm -f rxd-f
	if [ -n "$id" ] && [ $RC -eq 0 ] && ! dk inspect rxd-f >/dev/null 2>&1 && [ ! -e "$root/$id" ]; then pass "$n"; else
		fail "$n" "$(show)"
	fi

	docker_sandbox_checks
	if [ -n "$MVM_SKIP" ]; then skip "docker microvm checks" "$MVM_SKIP"; else
		mvm_checks docker dk "$DOCK_SUBNET.1" --runtime runx-microvm
	fi
}

# ------------------------------------------------------------- sandbox mode
# runx's sandbox mode (its Sentry, sandbox/README.md) through each engine,
# chosen the way users choose it: Podman's --annotation
# dev.runx.isolation=sandbox, Docker's runtime registered as runx-sandbox.
# Some checks also run the same container in the namespace mode (the
# engine's default) and compare.

# Set before sbx_checks: the client function, the run flags that choose the
# sandbox mode, the runtime's --root for its containers ('' for runx's
# default; SBX_ROOT_GLOB: the first of these that holds the container), the
# bridge's gateway address and the wait-for-log function.
SBX_C='' SBX_ROOT='' SBX_ROOT_GLOB='' SBX_GW='' SBX_WAITLOG=''
SBX=()

# The isolation mode runx recorded for a container: ROOT|'' ID.
rt_mode() {
	local d=${1:-/run/runx}/$2
	if [ ! -d "$d" ]; then echo "(no state dir $d)"; elif [ -f "$d/runx-isolation" ]; then
		cat "$d/runx-isolation"
	else echo namespace; fi
}
# The hypervisor of a microvm container (runx's state dir, as rt_mode).
rt_hv() {
	jq -r '.hypervisor // "unknown"' "${1:-/run/runx}/$2/monitor.json" 2>/dev/null || echo "(no monitor.json)"
}
# The VMs' host processes: QEMU's, and runx's own VMM (named runx-vmm).
vm_procs() { echo $(($(pgrep -c -f qemu-system-x86_64 || true) + $(pgrep -c -x runx-vmm || true))); }

# A one-shot TCP server on the host (all addresses, up to 30 s) that answers
# pong-from-host: its port in LPORT, its pid in LPID.
LPORT='' LPID=''
host_listen() {
	LPORT=$((20000 + RANDOM % 20000))
	timeout 30 /bin/busybox nc -l -p "$LPORT" -e /bin/echo pong-from-host </dev/null >/dev/null 2>&1 &
	LPID=$!
	sleep 0.3
}
host_unlisten() { kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; }

# Waits up to $1 seconds for container $2 to be gone (a --rm container).
sbx_wait_gone() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		$SBX_C inspect "$2" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}

sbx_checks() { # ENGINE
	local e=$1 c=$SBX_C n ref id name st s1 s2 s3 t0 t1 ms_ns ms_sb code_ns code_sb rc_ns oom_ns oom_sb
	local R=(run --rm --pull never) hd=$W/sbx-$e vol=$W/sbx-vol-$e RMT=()
	[ "$e" = podman ] && RMT=(-t 0) # rm -f of a running container: no grace
	# busybox's id; Podman adds a passwd entry named 1000 for the user.
	local uid1000='^uid=1000(\(1000\))? gid=1000(\(1000\))?( |$)'
	mkdir -p "$hd" "$vol" && chmod 0777 "$hd" "$vol"
	echo from-the-host >"$vol/in"
	head -c 1048576 /dev/zero >"$W/sbx-1m"

	# ---- one-shot containers
	n="$e sandbox: exit code (sh -c 'exit 7' gives 7)"
	run $c "${R[@]}" "${SBX[@]}" "$IMAGE" sh -c 'exit 7'
	if [ $RC -eq 7 ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: stdout and stderr kept apart"
	run $c "${R[@]}" "${SBX[@]}" "$IMAGE" sh -c 'echo to-out; echo to-err >&2'
	if [ $RC -eq 0 ] && [ "$OUT" = to-out ] && [ "$ERR" = to-err ]; then pass "$n"; else
		fail "$n" "$(show)"
	fi

	n="$e sandbox: command not found gives 127"
	run $c "${R[@]}" "${SBX[@]}" "$IMAGE" /no/such/program
	if [ $RC -eq 127 ] && [[ $ERR == *'/no/such/program'* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: run -i: stdin piped to cat"
	run $c "${R[@]}" -i "${SBX[@]}" "$IMAGE" cat <<<hi
	if [ $RC -eq 0 ] && [ "$OUT" = hi ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: run -i: 1 MiB of stdin through wc -c"
	run $c "${R[@]}" -i "${SBX[@]}" "$IMAGE" wc -c <"$W/sbx-1m"
	if [ $RC -eq 0 ] && [ "${OUT// /}" = 1048576 ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: --user 1000:1000 (id as in the namespace mode)"
	ref=$($c "${R[@]}" --user 1000:1000 "$IMAGE" id 2>&1)
	run $c "${R[@]}" --user 1000:1000 "${SBX[@]}" "$IMAGE" id
	if [ $RC -eq 0 ] && [[ $OUT =~ $uid1000 ]] && [ "$OUT" = "$ref" ]; then pass "$n" "$OUT"; else
		fail "$n" "namespace mode: '$ref'; sandbox: $(show)"
	fi

	n="$e sandbox: -e -w: environment and working directory"
	run $c "${R[@]}" -e RUNX_T=val-1 -w /tmp "${SBX[@]}" "$IMAGE" sh -c 'echo "$RUNX_T $(pwd)"'
	if [ $RC -eq 0 ] && [ "$OUT" = "val-1 /tmp" ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: run -t: a terminal (tty; stty size as in the namespace mode)"
	ref=$($c "${R[@]}" -t "$IMAGE" sh -c 'tty; stty size' 2>&1)
	ref=${ref//$'\r'/}
	run $c "${R[@]}" -t "${SBX[@]}" "$IMAGE" sh -c 'tty; stty size'
	if [ $RC -eq 0 ] && [[ $OUT == /dev/pts/* ]] && [ "${OUT#*$'\n'}" = "${ref#*$'\n'}" ]; then
		pass "$n" "${OUT//$'\n'/; }"
	else
		fail "$n" "namespace mode: '$ref'; sandbox: $(show)"
	fi

	n="$e sandbox: --read-only: root filesystem read-only"
	run $c "${R[@]}" --read-only "${SBX[@]}" "$IMAGE" sh -c 'touch /ro-test 2>/dev/null && echo writable || echo read-only'
	if [ $RC -eq 0 ] && [ "$OUT" = read-only ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: --tmpfs /x: writable, a tmpfs in /proc/mounts"
	run $c "${R[@]}" --tmpfs /x "${SBX[@]}" "$IMAGE" \
		sh -c 'echo t >/x/f && cat /x/f && grep " /x " /proc/mounts | cut -d" " -f3'
	if [ $RC -eq 0 ] && [ "$OUT" = $'t\ntmpfs' ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: -v bind mount: host file read, writes seen on the host (owner 0, 1000 with --user)"
	run $c "${R[@]}" -v "$vol:/data" "${SBX[@]}" "$IMAGE" sh -c 'cat /data/in && echo back >/data/out'
	local r1=$RC o1=$OUT e1=$ERR
	run $c "${R[@]}" -v "$vol:/data" --user 1000:1000 "${SBX[@]}" "$IMAGE" sh -c 'echo u >/data/u'
	s1=$(stat -c %u:%g "$vol/out" 2>&1)
	s2=$(stat -c %u:%g "$vol/u" 2>&1)
	if [ $r1 -eq 0 ] && [ "$o1" = from-the-host ] && [ "$(cat "$vol/out" 2>/dev/null)" = back ] && [ "$s1" = 0:0 ] &&
		[ $RC -eq 0 ] && [ "$(cat "$vol/u" 2>/dev/null)" = u ] && [ "$s2" = 1000:1000 ]; then
		pass "$n"
	else
		fail "$n" "as root: rc=$r1 out='$o1' err='${e1:0:300}' owner $s1; as 1000: $(show) owner $s2"
	fi

	n="$e sandbox: --network none: lo only, TCP over loopback"
	local lo='ls /sys/class/net | tr "\n" " "; echo; busybox nc -l -p 8080 -e echo pong & sleep 0.5; timeout 5 busybox nc 127.0.0.1 8080 </dev/null; wait'
	run $c "${R[@]}" --network none "${SBX[@]}" "$IMAGE" sh -c "$lo"
	if [ $RC -eq 0 ] && [ "$OUT" = $'lo \npong' ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: bridge network: eth0 up, TCP to a listener at the host's $SBX_GW"
	local br
	host_listen
	br="ip -4 -o addr show eth0 | grep -o 'inet [0-9.]*'; timeout 5 busybox nc $SBX_GW $LPORT </dev/null"
	ref=$($c "${R[@]}" "$IMAGE" sh -c "$br" 2>&1)
	host_unlisten
	host_listen
	br="ip -4 -o addr show eth0 | grep -o 'inet [0-9.]*'; timeout 5 busybox nc $SBX_GW $LPORT </dev/null"
	run $c "${R[@]}" "${SBX[@]}" "$IMAGE" sh -c "$br"
	host_unlisten
	if [[ $ref != *pong-from-host* ]]; then
		skip "$n" "the namespace mode does not reach it either: '${ref:0:300}'"
	elif [ $RC -eq 0 ] && [[ $OUT == "inet ${SBX_GW%.*}."*$'\n'pong-from-host ]]; then
		pass "$n" "${OUT//$'\n'/; }"
	else
		fail "$n" "namespace mode: '${ref//$'\n'/; }'; sandbox: $(show)"
	fi

	# ---- a detached container: exec, signals, pause, top, ps, logs, stop
	name=rxs-$e-d
	n="$e sandbox: run --rm -d: running, in the sandbox mode"
	run $c run --rm -d --name "$name" --pull never -v "$hd:/out" "${SBX[@]}" "$IMAGE" sh -c \
		'trap "echo got-USR1" USR1; trap "echo got-TERM >/out/term; exit 3" TERM; echo ready; echo ready-err >&2; while :; do sleep 0.1; done'
	id=$OUT
	if [ $RC -eq 0 ] && [ -n "$id" ]; then
		# Docker 20.10 gives every runtime the --root runtime-runc/moby.
		for s1 in $SBX_ROOT_GLOB; do [ -d "$s1/$id" ] && SBX_ROOT=$s1 && break; done
		st=$($c inspect -f '{{.State.Status}}' "$name" 2>&1)
		s1=$(rt_mode "$SBX_ROOT" "$id")
		if [ "$st" = running ] && [ "$s1" = sandbox ] && $SBX_WAITLOG "$name" 10 ready; then
			pass "$n"
		else
			fail "$n" "status '$st', runx's mode '$s1', logs: $($c logs "$name" 2>&1 | head -c 600)"
		fi
	else
		fail "$n" "$(show)"
	fi

	n="$e sandbox: logs: stdout and stderr of the detached container"
	run $c logs "$name"
	if [ $RC -eq 0 ] && [ "$OUT" = ready ] && [ "$ERR" = ready-err ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: exec: output"
	run $c exec "$name" sh -c 'echo exec-out-$((6*7))'
	if [ $RC -eq 0 ] && [ "$OUT" = exec-out-42 ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: exec: exit code (5)"
	run $c exec "$name" sh -c 'exit 5'
	if [ $RC -eq 5 ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: exec -i: stdin"
	run $c exec -i "$name" sh -c 'read l; echo "got:$l"' <<<"line-in"
	if [ $RC -eq 0 ] && [ "$OUT" = got:line-in ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: exec --user 1000:1000 (id as in the namespace mode)"
	$c run -d --name "rxs-$e-ref" --pull never "$IMAGE" sleep 1000 >/dev/null 2>&1
	ref=$($c exec --user 1000:1000 "rxs-$e-ref" id 2>&1)
	$c rm -f "${RMT[@]}" "rxs-$e-ref" >/dev/null 2>&1
	run $c exec --user 1000:1000 "$name" id
	if [ $RC -eq 0 ] && [[ $OUT =~ $uid1000 ]] && [ "$OUT" = "$ref" ]; then pass "$n" "$OUT"; else
		fail "$n" "namespace mode: '$ref'; sandbox: $(show)"
	fi

	n="$e sandbox: exec -t: a terminal"
	run $c exec -t "$name" tty
	if [ $RC -eq 0 ] && [[ $OUT == /dev/pts/* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: kill -s USR1 reaches the shell's trap"
	run $c kill -s USR1 "$name"
	if [ $RC -eq 0 ] && $SBX_WAITLOG "$name" 5 got-USR1; then pass "$n"; else
		fail "$n" "$(show); logs: $($c logs "$name" 2>&1 | head -c 300)"
	fi

	n="$e sandbox: pause / unpause, exec afterwards"
	$c pause "$name" >/dev/null 2>"$W/stderr"
	s1=$($c inspect -f '{{.State.Status}}' "$name" 2>/dev/null)
	s2=$(rt_status "$SBX_ROOT" "$id")
	$c unpause "$name" >/dev/null 2>>"$W/stderr"
	s3=$($c inspect -f '{{.State.Status}}' "$name" 2>/dev/null)
	local after
	after=$($c exec "$name" echo alive 2>&1)
	if [ "$s1" = paused ] && [ "$s2" = paused ] && [ "$s3" = running ] && [ "$after" = alive ]; then pass "$n"; else
		fail "$n" "$e: $s1, runtime: $s2, after unpause: $s3, exec: '${after:0:300}'; $(head -c 600 "$W/stderr")"
	fi

	n="$e sandbox: top shows the container's processes"
	run $c top "$name"
	if [ $RC -eq 0 ] && [[ $OUT == *"sleep 0.1"* || $OUT == *"while :"* ]]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e sandbox: ps lists the container as up"
	run $c ps --filter "name=$name" --format '{{.Names}} {{.Status}}'
	if [ $RC -eq 0 ] && [[ $OUT == "$name Up"* ]]; then pass "$n" "$OUT"; else fail "$n" "$(show)"; fi

	n="$e sandbox: stop: SIGTERM reaches the trap (exit 3), --rm removes the container"
	t0=$(now_ms)
	run $c stop -t 20 "$name"
	t1=$(now_ms)
	if [ $RC -eq 0 ] && [ "$(cat "$hd/term" 2>/dev/null)" = got-TERM ] && [ $((t1 - t0)) -lt 10000 ] &&
		sbx_wait_gone 10 "$name"; then
		pass "$n" "$((t1 - t0)) ms"
	else
		fail "$n" "after $((t1 - t0)) ms, /out/term '$(cat "$hd/term" 2>&1)', still there: $($c inspect -f '{{.State.Status}}' "$name" 2>&1); $(show)"
	fi
	$c rm -f "$name" >/dev/null 2>&1

	# ---- stop, kill and the OOM killer, compared with the namespace mode
	n="$e sandbox: stop -t 5 of sleep 1000 (SIGTERM ignored, then SIGKILL) as in the namespace mode"
	run $c run -d --name "rxs-$e-stop-ns" --pull never "$IMAGE" sleep 1000
	s1="$RC ${ERR:0:200}"
	run $c run -d --name "rxs-$e-stop-sb" --pull never "${SBX[@]}" "$IMAGE" sleep 1000
	s2="$RC ${ERR:0:200}"
	sleep 0.5
	t0=$(now_ms)
	run $c stop -t 5 "rxs-$e-stop-ns"
	t1=$(now_ms)
	ms_ns=$((t1 - t0)) rc_ns=$RC
	code_ns=$($c inspect -f '{{.State.ExitCode}}' "rxs-$e-stop-ns" 2>&1)
	t0=$(now_ms)
	run $c stop -t 5 "rxs-$e-stop-sb"
	t1=$(now_ms)
	ms_sb=$((t1 - t0))
	code_sb=$($c inspect -f '{{.State.ExitCode}}' "rxs-$e-stop-sb" 2>&1)
	say "$e stop -t 5 of sleep 1000: namespace $ms_ns ms (exit $code_ns), sandbox $ms_sb ms (exit $code_sb)"
	if [ $rc_ns -eq 0 ] && [ $RC -eq 0 ] && [ "$code_sb" = "$code_ns" ] && [ $ms_sb -le $((ms_ns + 2000)) ]; then
		pass "$n" "namespace: $ms_ns ms, exit $code_ns; sandbox: $ms_sb ms, exit $code_sb"
	else
		fail "$n" "namespace: $ms_ns ms, exit '$code_ns' (run: $s1); sandbox: $ms_sb ms, exit '$code_sb' (run: $s2); $(show)"
	fi
	$c rm -f "rxs-$e-stop-ns" "rxs-$e-stop-sb" >/dev/null 2>&1

	n="$e sandbox: kill (SIGKILL) of sleep 1000: exit 137 at once"
	name=rxs-$e-kill
	run $c run -d --name "$name" --pull never "${SBX[@]}" "$IMAGE" sleep 1000
	s1="$RC ${ERR:0:200}"
	sleep 0.5
	t0=$(now_ms)
	run $c kill "$name"
	s2="$RC ${ERR:0:200}"
	run $c wait "$name"
	t1=$(now_ms)
	if [ "$OUT" = 137 ] && [ $((t1 - t0)) -lt 5000 ]; then pass "$n" "$((t1 - t0)) ms"; else
		fail "$n" "after $((t1 - t0)) ms; run: $s1; kill: $s2; wait: $(show)"
	fi
	$c rm -f "$name" >/dev/null 2>&1

	n="$e sandbox: --memory 64m: a program needing more is OOM-killed (exit 137)"
	local hog='BEGIN { s = "x"; for (i = 0; i < 28; i++) s = s s; print length(s) }'
	run $c run --name "rxs-$e-oom-ns" --pull never --memory 64m "$IMAGE" awk "$hog"
	rc_ns=$RC
	oom_ns=$($c inspect -f '{{.State.OOMKilled}}' "rxs-$e-oom-ns" 2>&1)
	run $c run --name "rxs-$e-oom-sb" --pull never --memory 64m "${SBX[@]}" "$IMAGE" awk "$hog"
	oom_sb=$($c inspect -f '{{.State.OOMKilled}}' "rxs-$e-oom-sb" 2>&1)
	say "$e --memory 64m: namespace exit $rc_ns OOMKilled $oom_ns, sandbox exit $RC OOMKilled $oom_sb"
	if [ $RC -eq 137 ]; then pass "$n" "OOMKilled $oom_sb (namespace mode: exit $rc_ns, OOMKilled $oom_ns)"; else
		fail "$n" "namespace mode: exit $rc_ns, OOMKilled $oom_ns; sandbox: OOMKilled $oom_sb, $(show)"
	fi
	$c rm -f "rxs-$e-oom-ns" "rxs-$e-oom-sb" >/dev/null 2>&1
}

podman_sandbox_checks() {
	if [ -n "$SBX_SKIP" ]; then
		skip "podman sandbox checks (--annotation dev.runx.isolation=sandbox)" "$SBX_SKIP"
		return
	fi
	SBX_C=pm SBX_ROOT='' SBX_ROOT_GLOB='' SBX_GW=$POD_SUBNET.1 SBX_WAITLOG=pm_wait_log
	SBX=(--annotation dev.runx.isolation=sandbox)
	sbx_checks podman
}

docker_sandbox_checks() {
	if [ -n "$SBX_SKIP" ]; then
		skip "docker sandbox checks (--runtime runx-sandbox)" "$SBX_SKIP"
		return
	fi
	local n="docker info: runx-sandbox registered (daemon.json)"
	run dk info --format '{{range $k, $v := .Runtimes}}{{$k}}={{$v.Path}} {{end}}'
	if [ $RC -eq 0 ] && [[ " $OUT " == *" runx-sandbox=$DOCK_SBX_RUNTIME "* ]]; then pass "$n"; else
		fail "$n" "$(show)"
		return
	fi
	SBX_C=dk SBX_ROOT=$D/exec/runtime-runx-sandbox/moby SBX_ROOT_GLOB="$D/exec/runtime-*/moby"
	SBX_GW=$DOCK_SUBNET.1 SBX_WAITLOG=dk_wait_log
	SBX=(--runtime runx-sandbox)
	sbx_checks docker
}

# ------------------------------------------------------------- microvm mode
# runx's microvm mode (a VM per pod, microvm/README.md) through each engine,
# chosen as users choose it: Podman's --annotation, Docker's runtime
# registered as runx-microvm. ENGINE CLIENT GATEWAY FLAGS...
mvm_checks() {
	local e=$1 c=$2 gw=$3 n id ip ref vol=$W/mvm-vol-$1
	shift 3
	local M=("$@") R=(run --rm --pull never)
	local qemus
	qemus=$(vm_procs)
	mkdir -p "$vol" && echo from-the-host >"$vol/in"

	n="$e microvm: exit code, stdout and stderr apart, the guest's own kernel"
	run $c "${R[@]}" "${M[@]}" "$IMAGE" sh -c 'uname -r; echo to-err >&2; exit 7'
	if [ $RC -eq 7 ] && [ -n "$OUT" ] && [ "$OUT" != "$(uname -r)" ] && [ "$ERR" = to-err ]; then pass "$n" "guest kernel $OUT"; else
		fail "$n" "$(show)"
	fi

	n="$e microvm: run -i: stdin piped to cat"
	run $c "${R[@]}" -i "${M[@]}" "$IMAGE" cat <<<hi
	if [ $RC -eq 0 ] && [ "$OUT" = hi ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e microvm: run -t: a terminal (tty; stty size as in the namespace mode)"
	ref=$($c "${R[@]}" -t "$IMAGE" sh -c 'tty; stty size' 2>&1)
	ref=${ref//$'\r'/}
	run $c "${R[@]}" -t "${M[@]}" "$IMAGE" sh -c 'tty; stty size'
	OUT=${OUT//$'\r'/}
	if [ $RC -eq 0 ] && [[ $OUT == /dev/pts/* ]] && [ "${OUT#*$'\n'}" = "${ref#*$'\n'}" ]; then
		pass "$n" "${OUT//$'\n'/; }"
	else
		fail "$n" "namespace mode: '$ref'; microvm: $(show)"
	fi

	n="$e microvm: -v: a bind mount read and written through virtio-fs"
	run $c "${R[@]}" -v "$vol:/mnt/vol" "${M[@]}" "$IMAGE" sh -c 'cat /mnt/vol/in && echo back >/mnt/vol/back'
	if [ $RC -eq 0 ] && [ "$OUT" = from-the-host ] && [ "$(cat "$vol/back" 2>/dev/null)" = back ]; then pass "$n"; else
		fail "$n" "$(show)"
	fi

	n="$e microvm: --read-only: root filesystem read-only"
	run $c "${R[@]}" --read-only "${M[@]}" "$IMAGE" sh -c 'touch /ro-test 2>/dev/null && echo writable || echo read-only'
	if [ $RC -eq 0 ] && [ "$OUT" = read-only ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e microvm: the VM reaches the host through the engine's network"
	host_listen
	run $c "${R[@]}" "${M[@]}" "$IMAGE" sh -c "nc $gw $LPORT </dev/null"
	host_unlisten
	if [ $RC -eq 0 ] && [ "$OUT" = pong-from-host ]; then pass "$n"; else fail "$n" "$(show)"; fi

	n="$e microvm: run -d: the host reaches a server in the VM at the container's address; exec; stop"
	run $c run -d --name "rx$e-mvm" --pull never "${M[@]}" "$IMAGE" sh -c 'trap "exit 42" TERM; while :; do nc -l -p 8080 -e echo pong-from-vm; done & wait'
	id=$OUT
	ip=$($c inspect -f '{{.NetworkSettings.IPAddress}}' "rx$e-mvm" 2>/dev/null)
	local got='' i ex='' code=''
	for ((i = 0; i < 100 && RC == 0; i++)); do
		got=$(timeout 3 /bin/busybox nc "$ip" 8080 </dev/null 2>/dev/null) && [ -n "$got" ] && break
		sleep 0.2
	done
	ex=$($c exec "rx$e-mvm" sh -c 'echo exec-in-vm' 2>&1)
	# Docker's runtime root is one of $D/exec/runtime-*/moby; Podman's runx's default.
	local root=''
	[ "$e" = docker ] && root=$(dirname "$(ls -d "$D"/exec/runtime-*/moby/"$id" 2>/dev/null | head -1)")
	[ "$(rt_mode "$root" "$id")" = microvm ] || ex="mode: $(rt_mode "$root" "$id") $ex"
	local hv
	hv=$(rt_hv "$root" "$id")
	[ -z "$MVM_HV" ] || [ "$hv" = "$MVM_HV" ] || ex="hypervisor $hv, want $MVM_HV; $ex"
	$c stop -t 20 "rx$e-mvm" >/dev/null 2>&1
	code=$($c inspect -f '{{.State.ExitCode}}' "rx$e-mvm" 2>/dev/null)
	if [ -n "$id" ] && [ "$got" = pong-from-vm ] && [ "$ex" = exec-in-vm ] && [ "$code" = 42 ]; then pass "$n" "$ip, hypervisor $hv"; else
		fail "$n" "run: $(show); address '$ip' answered '$got'; exec '$ex'; exit code after stop '$code'"
	fi
	$c rm -f "rx$e-mvm" >/dev/null 2>&1

	n="$e microvm: nothing left (no hypervisor of the containers)"
	local now i
	for ((i = 0; i < 50; i++)); do
		now=$(vm_procs)
		[ "$now" = "$qemus" ] && break
		sleep 0.2
	done
	if [ "$now" = "$qemus" ]; then pass "$n"; else fail "$n" "$now hypervisor processes, $qemus before"; fi
}

pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
# Waits up to $2 tenths of a second for pid $1 to end.
wait_gone() {
	local i
	for ((i = 0; i < $2; i++)); do pid_alive "$1" || return 0; sleep 0.1; done
	! pid_alive "$1"
}

docker_teardown() {
	[ $DOCKERD_STARTED = 1 ] || return 0
	local n="docker teardown: containers removed, dockerd and containerd stopped"
	local left pid cpid msg=
	left=$(dk ps -a -q 2>/dev/null)
	[ -n "$left" ] && dk rm -f $left >/dev/null 2>&1
	left=$(dk ps -a -q 2>/dev/null)
	[ -n "$left" ] && msg+="containers left: $left; "
	pid=$(cat "$D/dockerd.pid" 2>/dev/null)
	cpid=$(cat "$D/exec/containerd/containerd.pid" 2>/dev/null)
	if pid_alive "$pid"; then
		kill -TERM "$pid"
		if ! wait_gone "$pid" 300; then
			msg+="dockerd $pid ignored SIGTERM; "
			kill -KILL "$pid" 2>/dev/null
			wait_gone "$pid" 50
		fi
	fi
	if pid_alive "$cpid" && [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$cpid/cmdline") == *"$D/"* ]]; then
		msg+="containerd $cpid outlived dockerd; "
		kill -TERM "$cpid"
		wait_gone "$cpid" 100 || kill -KILL "$cpid" 2>/dev/null
	fi
	if [ -z "$msg" ]; then pass "$n"; else fail "$n" "$msg"; fi
}

# ----------------------------------------------------------------- teardown
# Processes whose command line names this run's work dir: dockerd,
# containerd, shims (-address), conmon (-b, -p), podman cleanup.
own_processes() {
	local p
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = $$ ] && continue
		if [[ $(tr '\0' ' ' 2>/dev/null <"$p/cmdline") == *"$W/"* ]]; then
			echo "${p#/proc/}"
		fi
	done
}

# Processes in the cgroups this run's containers use.
cgroup_processes() {
	local d
	for d in /sys/fs/cgroup/*/$DOCK_CGROUP /sys/fs/cgroup/*/libpod_parent; do
		[ -d "$d" ] || continue
		case $d in */libpod_parent) [ "$PRE_LIBPOD_CG" = 1 ] && continue ;; esac
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
	done | sort -u
}

own_mounts() {
	awk -v w="$W/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# Removes an (empty) cgroup tree in every hierarchy.
remove_cgroup() {
	local d
	for d in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
		[ -d "$d" ] || continue
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
}

TEARDOWN_DONE=0
teardown() {
	[ $TEARDOWN_DONE = 1 ] && return
	TEARDOWN_DONE=1
	local n msg pids p m left

	podman_teardown
	docker_teardown

	n="cleanup: no engine, shim, conmon or container process left"
	msg=
	pids=$(own_processes; cgroup_processes)
	if [ -n "$pids" ]; then
		for p in $pids; do
			msg+="$p:$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | head -c 120); "
			kill -KILL "$p" 2>/dev/null
		done
		sleep 0.5
	fi
	if [ -z "$msg" ]; then pass "$n"; else fail "$n" "killed: $msg"; fi

	n="cleanup: no runtime state left (/run/runc, /run/runx)"
	msg=
	for m in /run/runc/*/state.json /run/runx/*/state.json; do
		[ -f "$m" ] || continue
		if grep -q -- "$W/" "$m" 2>/dev/null; then
			p=$(basename "$(dirname "$m")")
			msg+="$m; "
			"$RUNTIME" --root "$(dirname "$(dirname "$m")")" delete --force "$p" >/dev/null 2>&1
		fi
	done
	if [ -z "$msg" ]; then pass "$n"; else fail "$n" "left: $msg"; fi

	n="cleanup: no network namespace, veth or bridge left"
	msg=
	for m in /run/netns/netns-*; do
		[ -e "$m" ] || continue
		[[ $PRE_NETNS == *" $(basename "$m") "* ]] && continue
		msg+="$m; "
		umount "$m" 2>/dev/null
		rm -f "$m"
	done
	for br in $POD_BRIDGE $DOCK_BRIDGE; do
		left=$(ip -o link show master "$br" 2>/dev/null | awk -F': ' '{print $2}' | tr '\n' ' ')
		[ -n "$left" ] && msg+="veths on $br: $left; "
		ip link del "$br" 2>/dev/null
	done
	if [ -z "$msg" ]; then pass "$n"; else fail "$n" "left: $msg"; fi

	n="cleanup: no mount left under the work dir"
	left=$(own_mounts)
	if [ -n "$left" ]; then
		for m in $left; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
	fi
	# dockerd keeps its data root as a private bind mount of itself, and
	# removes it on exit; anything else is a leak.
	if [ -z "$left" ]; then pass "$n"; else fail "$n" "left: $(echo $left)"; fi

	n="cleanup: no iptables rule for this run"
	left=$( { iptables-save; ip6tables-save; } 2>/dev/null |
		grep -E "$POD_BRIDGE|$DOCK_BRIDGE|${POD_SUBNET//./\\.}\.|${DOCK_SUBNET//./\\.}\.|DOCKER" | head -n 5)
	if [ -z "$left" ]; then pass "$n"; else fail "$n" "$left"; fi

	# Cgroups, and files the engines keep outside the work dir.
	remove_cgroup "$DOCK_CGROUP"
	[ "$PRE_LIBPOD_CG" = 1 ] || remove_cgroup libpod_parent
	n="cleanup: no cgroup left"
	left=$(ls -d /sys/fs/cgroup/*/$DOCK_CGROUP 2>/dev/null)
	[ "$PRE_LIBPOD_CG" = 1 ] || left+=$(ls -d /sys/fs/cgroup/*/libpod_parent 2>/dev/null)
	if [ -z "$left" ]; then pass "$n"; else fail "$n" "$(echo $left)"; fi

	[ "$PRE_KEYJSON" = 1 ] || rm -f /etc/docker/key.json
	if [ "$PRE_VLC" = 0 ]; then
		rm -rf /var/lib/containers
	elif [ "$PRE_BLOBCACHE" = 0 ]; then
		rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
	fi
	rm -f /var/lib/cni/results/runxpod-* 2>/dev/null
	[ "$PRE_CNIRESULTS" = 1 ] || rmdir /var/lib/cni/results 2>/dev/null
	[ "$PRE_VLCNI" = 1 ] || rmdir /var/lib/cni 2>/dev/null
	# containerd's shims put their sockets in /run/containerd/s whatever the
	# daemon's state dir; rmdir leaves it to anyone else who uses it.
	[ "$PRE_RUNCONTAINERD" = 1 ] || rmdir /run/containerd/s /run/containerd 2>/dev/null

	if [ -n "${ENGINES_KEEP:-}" ]; then
		mkdir -p "$ENGINES_KEEP" &&
			cp -f "$D/dockerd.log" "$P/events.log" "$TRACE_LOG" "$ENGINES_KEEP/" 2>/dev/null
	fi
	if [ "${ENGINES_TRACE:-0}" = 1 ] && [ -s "$TRACE_LOG" ]; then
		say "runtime command lines (ENGINES_TRACE=1):"
		sed 's/^/    /' "$TRACE_LOG" >&2
	fi
	# --one-file-system: never through a mount that could not be detached.
	rm -rf --one-file-system "$W"
}

report() { # EXIT_STATUS_OF_MAIN
	local i passed=0 failed=0 skipped=0
	teardown
	echo
	printf '%-4s  %s\n' RES CHECK
	for i in "${!NAMES[@]}"; do
		printf '%-4s  %s\n' "${STATES[$i]}" "${NAMES[$i]}"
		case ${STATES[$i]} in
		PASS) passed=$((passed + 1)) ;;
		FAIL)
			failed=$((failed + 1))
			printf '      %s\n' "${DETAILS[$i]:0:1500}"
			;;
		SKIP)
			skipped=$((skipped + 1))
			printf '      %s\n' "${DETAILS[$i]}"
			;;
		esac
	done
	if [ "$1" -ne 0 ]; then
		failed=$((failed + 1))
		printf 'FAIL  run.sh ended early with status %s\n' "$1"
	fi
	echo
	if [ $skipped -gt 0 ]; then
		echo "$PFX: $passed passed, $failed failed, $skipped skipped"
	else
		echo "$PFX: $passed passed, $failed failed"
	fi
	[ $failed -eq 0 ]
}

on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	if report "$rc"; then exit 0; fi
	exit 1
}
trap on_exit EXIT
trap 'say "interrupted"; exit 130' INT TERM

# --------------------------------------------------------------------- main
if ! out=$(bash "$HERE/mkimage.sh" "$W/image.tar" "$IMAGE" 2>&1); then
	fail "image built from busybox-static" "$out"
	exit 0 # recorded: the report counts it
fi
pass "image built from busybox-static" "$out"

[ "$ONLY" = docker ] || podman_checks
[ "$ONLY" = podman ] || docker_checks
exit 0
}
