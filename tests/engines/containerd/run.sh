#!/usr/bin/env bash
# runx under containerd: a private containerd (CRI plugin) whose runtime
# handlers are those of deploy/containerd/config.toml, pointed at the runx
# under test, then
#   - engine checks: ctr run (exit codes), the crictl pod and container
#     life cycle (runp/create/start/exec/logs/stop/rm/stopp/rmp, exit codes),
#     and the dev.runx.isolation pod annotation reaching runx through the runx
#     handlers;
#   - CRI conformance: critest (sigs.k8s.io/cri-tools) against the default
#     handler, whose BinaryName is the runx under test.
#
#   bash tests/engines/containerd/run.sh /absolute/path/to/runx
#
# Nothing is pulled from outside: the images critest and the checks use are
# built here (imgbuild/, standins/) and served under their real names by a
# private registry on 127.0.0.1, which hosts.toml files put in place of
# registry.k8s.io, k8s.gcr.io, gcr.io and docker.io. crictl and critest are
# built from the Go module proxy and cached in /var/cache/runx-tests/containerd
# (keyed by version).
#
# Everything this script starts has its own socket, pid file, state directory,
# CNI network (bridge runxcri0, 10.88.77.0/24), registry port and runtime
# root; on exit (also on failure or interrupt) it removes pods, containers,
# shims, containerd, the registry, mounts, network namespaces, the bridge and
# the iptables chains it created, and nothing else.
#
# Environment:
#   ENGINES_CONTAINERD_CRITEST        0 skips critest (default 1)
#   ENGINES_CONTAINERD_CRITEST_BINARY runtime binary of the default handler
#                                     during critest (default: the runx under
#                                     test; /usr/sbin/runc gives the baseline).
#                                     The engine checks always use runx.
#   ENGINES_CONTAINERD_CRITEST_HANDLERS
#                                     the runtime handlers critest runs its
#                                     pods under, one run each (default:
#                                     "default runx-sandbox runx-microvm"; "default" is
#                                     the default handler, another name is
#                                     passed as --runtime-handler). Each run
#                                     must pass at least the number in its
#                                     expectation file (critest-expected, or
#                                     critest-expected-NAME) and fail none.
#   ENGINES_CONTAINERD_MICROVM_HYPERVISOR
#                                     the hypervisor a microvm pod must run
#                                     on (qemu or runx; default: any, and
#                                     the check says which)
#   ENGINES_CONTAINERD_FOCUS          ginkgo focus regexp for critest (the
#                                     expected-pass minimum is then not applied)
#   ENGINES_CONTAINERD_CRITEST_TIMEOUT
#                                     ginkgo's bound on one critest run
#                                     (default 40m)
#   ENGINES_CONTAINERD_WORKDIR        cache and log directory
#                                     (default /var/cache/runx-tests/containerd)
#   ENGINES_CONTAINERD_REGISTRY_PORT  port of the private registry (default 5077)
#   ENGINES_CONTAINERD_DEBUG          1 gives containerd debug logs
#   ENGINES_CONTAINERD_HOLD           seconds to wait before cleaning up, to
#                                     look at the running setup (socket and
#                                     crictl config are printed)
set -uo pipefail

# The script is one brace group so bash reads it whole before running it.
{

readonly CRI_TOOLS_MODULE=sigs.k8s.io/cri-tools
readonly CRI_TOOLS_VERSION=v1.37.0
readonly BUILD_RECIPE=1
readonly NET_NAME=runxcri
readonly BRIDGE=runxcri0
readonly SUBNET=10.88.77.0/24
readonly SANDBOX_IMAGE=registry.k8s.io/pause:3.6
readonly BUSYBOX_IMAGE=registry.k8s.io/e2e-test-images/busybox:1.29-2
readonly CTR_NS=runx-engines
readonly NOT_BUILT='is not built yet'
# Specs no runtime can pass here, with containerd 1.6 and no registry but
# our own (each is explained in SKIPS.md). Ginkgo regexps on the spec text.
readonly CRITEST_SKIPS=(
	'Image Manager public image with digest should be pulled and removed'
	'Idempotence StopPodSandbox should not return an error if not found'
	'Idempotence StopContainer should not return an error if not found'
)
# Specs the sandbox mode does not pass by design (SKIPS.md): it refuses
# mount, and each sandbox has its own pid namespace.
readonly CRITEST_SKIPS_SANDBOX=(
	'Container Mount Propagation'
	'NamespaceOption .*runtime should support HostPID'
	'NamespaceOption .*runtime should support PodPID'
)
# Specs the microvm mode does not pass (SKIPS.md): a VM shares no namespace
# with the host (its network, its IPC, port forwarding in the host network),
# mounts do not travel back from a guest over virtio-fs, and the runc shim
# learns of OOM kills from the host's cgroup.
readonly CRITEST_SKIPS_MICROVM=(
	'Container Mount Propagation .*rshared'
	'NamespaceOption .*runtime should support HostIpc is true'
	'NamespaceOption .*runtime should support HostNetwork is true'
	'Container OOM runtime should output OOMKilled reason'
	'Streaming .*runtime should support portforward in host network'
)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
# Outside the repository: tests write there nothing of their own.
WORK=${ENGINES_CONTAINERD_WORKDIR:-/var/cache/runx-tests/containerd}
REG_PORT=${ENGINES_CONTAINERD_REGISTRY_PORT:-5077}
RUN_CRITEST=${ENGINES_CONTAINERD_CRITEST:-1}
FOCUS=${ENGINES_CONTAINERD_FOCUS:-}
CRITEST_TIMEOUT=${ENGINES_CONTAINERD_CRITEST_TIMEOUT:-40m}
CRITEST_HANDLERS=${ENGINES_CONTAINERD_CRITEST_HANDLERS:-default runx-sandbox runx-microvm}
MICROVM_HV=${ENGINES_CONTAINERD_MICROVM_HYPERVISOR:-}
DEBUG=${ENGINES_CONTAINERD_DEBUG:-0}
HOLD=${ENGINES_CONTAINERD_HOLD:-0}
EXPECTED_FILE=$HERE/critest-expected
SNIPPET=$REPO/deploy/containerd/config.toml

say() { printf 'engines-containerd: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

# ---------------------------------------------------------------- arguments
[ $# -eq 1 ] || die "usage: $0 /absolute/path/to/runx"
[ "$(id -u)" -eq 0 ] || die "must run as root"
RUNX=$1
[[ $RUNX == /* ]] || die "give the runx binary as an absolute path (got '$RUNX')"
[ -f "$RUNX" ] && [ -x "$RUNX" ] || die "runx binary '$RUNX' not found or not executable"
CRITEST_BINARY=${ENGINES_CONTAINERD_CRITEST_BINARY:-$RUNX}
[[ $CRITEST_BINARY == /* ]] && [ -x "$CRITEST_BINARY" ] || die "ENGINES_CONTAINERD_CRITEST_BINARY '$CRITEST_BINARY' is not an executable absolute path"
for h in $CRITEST_HANDLERS; do
	[[ $h =~ ^[A-Za-z0-9._-]+$ ]] || die "ENGINES_CONTAINERD_CRITEST_HANDLERS: '$h' is not a handler name"
done
[[ $CRITEST_TIMEOUT =~ ^[0-9]+[hms]$ ]] || die "ENGINES_CONTAINERD_CRITEST_TIMEOUT '$CRITEST_TIMEOUT' is not a duration such as 40m"
[[ $REG_PORT =~ ^[1-9][0-9]*$ ]] || die "ENGINES_CONTAINERD_REGISTRY_PORT must be a port number"
case $MICROVM_HV in ''|qemu|runx) ;; *) die "ENGINES_CONTAINERD_MICROVM_HYPERVISOR must be qemu or runx (got '$MICROVM_HV')" ;; esac
[[ $HOLD =~ ^[0-9]+$ ]] || die "ENGINES_CONTAINERD_HOLD must be a number of seconds"
[ -f "$SNIPPET" ] || die "$SNIPPET is missing"

# ------------------------------------------------------------ dependencies
# command -> Debian package providing it.
declare -A NEEDED=(
	[containerd]=containerd [ctr]=containerd [containerd-shim-runc-v2]=containerd
	[/usr/lib/cni/bridge]=containernetworking-plugins [/usr/lib/cni/portmap]=containernetworking-plugins
	[/usr/lib/cni/host-local]=containernetworking-plugins [/usr/lib/cni/loopback]=containernetworking-plugins
	[docker-registry]=docker-registry [dpkg-deb]=dpkg [runc]=runc
	[iptables]=iptables [ip]=iproute2 [ipcmk]=util-linux [ipcs]=util-linux [pgrep]=procps
	[jq]=jq [curl]=curl [findmnt]=util-linux [timeout]=coreutils [flock]=util-linux
)
missing=()
for cmd in "${!NEEDED[@]}"; do
	if [[ $cmd == /* ]]; then [ -x "$cmd" ] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
	missing+=("${NEEDED[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
	mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
	command -v apt-get >/dev/null 2>&1 || die "missing packages: ${missing[*]} (and no apt-get)"
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600)
	apt-get install "${apt_opts[@]}" "${missing[@]}" >/dev/null 2>&1 || {
		apt-get update -q -o DPkg::Lock::Timeout=600 >/dev/null
		apt-get install "${apt_opts[@]}" "${missing[@]}" >/dev/null
	} || die "apt-get install ${missing[*]} failed"
fi
# Debian's packages may start their own containerd and registry (where
# services start): this script uses neither.

export PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null 2>&1 || die "Go toolchain not found (PATH or /usr/local/go/bin)"
export GOWORK=off GOTOOLCHAIN=local

# One run at a time: fixed bridge, subnet and registry port.
mkdir -p "$WORK"
exec 9>"$WORK/.lock"
flock -n 9 || die "another run holds $WORK/.lock"

# ------------------------------------------------------------------ builds
GOVERSION=$(go env GOVERSION)
TOOLS=$WORK/cri-tools-$CRI_TOOLS_VERSION-$GOVERSION-r$BUILD_RECIPE
CRICTL=$TOOLS/crictl
CRITEST=$TOOLS/critest

build_cri_tools() {
	local tmpd json dir src=$WORK/cri-tools-src
	say "fetching $CRI_TOOLS_MODULE@$CRI_TOOLS_VERSION from the Go module proxy"
	tmpd=$(mktemp -d)
	json=$(cd "$tmpd" && GOFLAGS='' go mod download -json "$CRI_TOOLS_MODULE@$CRI_TOOLS_VERSION") || {
		rmdir "$tmpd"; printf '%s\n' "${json:-}" >&2; die "go mod download failed"; }
	rmdir "$tmpd"
	dir=$(printf '%s\n' "$json" | jq -r '.Dir // empty')
	[ -n "$dir" ] && [ -d "$dir" ] || die "go mod download gave no module directory"
	rm -rf "$src" "$TOOLS.tmp"
	cp -r "$dir" "$src" && chmod -R u+w "$src" || die "copying the cri-tools source failed"
	mkdir -p "$TOOLS.tmp"
	say "building crictl and critest (cached in $TOOLS)"
	(
		cd "$src" || exit 1
		export GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
		go build -trimpath -o "$TOOLS.tmp/crictl" ./cmd/crictl &&
			go test -c -trimpath -o "$TOOLS.tmp/critest" ./cmd/critest
	) || die "building crictl/critest failed"
	rm -rf "$TOOLS" && mv "$TOOLS.tmp" "$TOOLS"
	rm -rf "$src"
	# Drop the builds of other versions.
	find "$WORK" -maxdepth 1 -name 'cri-tools-v*' ! -name "$(basename "$TOOLS")" -exec rm -rf {} +
}
[ -x "$CRICTL" ] && [ -x "$CRITEST" ] || build_cri_tools

BIN=$WORK/bin
mkdir -p "$BIN"
say "building the image builder and the stand-in programs"
(
	cd "$REPO" || exit 1
	export CGO_ENABLED=0 GOFLAGS="-buildvcs=false"
	for p in standins/pause standins/websrv standins/nonewprivs imgbuild; do
		go build -trimpath -ldflags '-s -w' -o "$BIN/${p##*/}" "./tests/engines/containerd/$p" || exit 1
	done
) || die "building tests/engines/containerd programs failed"

# The handlers' binaries: runx under its own name and under the names that
# select a mode, as deploy/containerd/config.toml installs them.
RTBIN=$WORK/runtime-bin
rm -rf "$RTBIN" && mkdir -p "$RTBIN"
for name in runx runx-sandbox runx-microvm runx-unikernel; do
	ln -s "$RUNX" "$RTBIN/$name"
done

# --------------------------------------------------------- run directories
LOGS=$WORK/logs
rm -rf "$LOGS" && mkdir -p "$LOGS"
# Short: unix socket paths live below it.
TMP=$(mktemp -d /tmp/runx-cri.XXXXXX)
SOCK=$TMP/containerd.sock
RUNTIME_ROOT=$TMP/runtime-root
CTR_ROOT=$TMP/ctr-runtime-root
mkdir -p "$TMP"/{root,state,certs.d,cni/net.d,cni/ipam,registry,opt} "$RUNTIME_ROOT" "$CTR_ROOT"
# The engines and their helpers inherit the working directory, and some write
# files into it: never the repository.
cd "$TMP" || die "cd $TMP"

# What existed before, so that cleanup removes only what this run made.
NAT_BEFORE=$(iptables -t nat -S 2>/dev/null || true)
# cgroup parents: CRI's default (k8s.io), critest's (test.slice), ctr's
# (its namespace).
CG_NAMES=(k8s.io test.slice "$CTR_NS")
CG_BEFORE=()
for d in "${CG_NAMES[@]}"; do
	[ -n "$(ls -d /sys/fs/cgroup/*/"$d" /sys/fs/cgroup/"$d" 2>/dev/null)" ] && CG_BEFORE+=("$d")
done

CONTAINERD_PID=
REGISTRY_PID=
CRITEST_PID=
NETNS_SEEN=()
SHM_TRACK=0
SHM_BEFORE=

# ----------------------------------------------------------------- cleanup
# crictl's bound is past the microvm mode's boot limit (120 s): a hung
# guest's create fails with runx's own report.
printf 'runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 180\n' "$SOCK" "$SOCK" >"$TMP/crictl.yaml"
cri() { "$CRICTL" --config "$TMP/crictl.yaml" "$@"; }
ctrc() { ctr --address "$SOCK" "$@"; }

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# remember_netns records the network namespace files of the CRI pods.
remember_netns() {
	local id p
	for id in $(cri pods -q 2>/dev/null); do
		p=$(cri inspectp -o go-template --template '{{range .info.runtimeSpec.linux.namespaces}}{{if eq .type "network"}}{{.path}}{{end}}{{end}}' "$id" 2>/dev/null) || continue
		[ -n "$p" ] && NETNS_SEEN+=("$p")
	done
}

# kill_pidfile PIDFILE MARK: kill the process of PIDFILE if its command line
# mentions MARK (a shim names the socket of its containerd).
kill_pidfile() {
	local pf=$1 mark=$2 pid
	[ -f "$pf" ] || return 0
	pid=$(cat "$pf" 2>/dev/null)
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	alive "$pid" || return 0
	if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$mark"; then
		kill -KILL "$pid" 2>/dev/null
	fi
}

# remove_nat_rules removes the nat rules of this run's CNI network (the
# bridge and portmap plugins comment them with the network's name) and the
# per-pod chains they jump to. The portmap plugin's shared chains go too when
# this run created them and no port mapping of anyone else is left.
remove_nat_rules() {
	local rule chain
	nat() { iptables -w 10 -t nat "$@"; }
	nat -S >/dev/null 2>&1 || return 0
	while IFS= read -r rule; do
		[ -n "$rule" ] && eval "nat ${rule/#-A /-D }" 2>/dev/null
	done < <(nat -S | grep -E '^-A ' | grep -F "\"$NET_NAME\"")
	for chain in $(nat -S | awk '$1 == "-N" && $2 ~ /^CNI-(DN|SN)-/ {print $2}'); do
		nat -S | grep -E '^-A ' | grep -qw -- "-j $chain" && continue
		# unreferenced: ours if it names our network, or empty
		if nat -S "$chain" | grep -qF "\"$NET_NAME\"" || [ "$(nat -S "$chain" | grep -c '^-A ')" = 0 ]; then
			nat -F "$chain" 2>/dev/null
			nat -X "$chain" 2>/dev/null
		fi
	done
	nat -S | grep -qE '^-N CNI-(DN|SN)-' && return 0 # someone else's port mappings
	for chain in CNI-HOSTPORT-DNAT CNI-HOSTPORT-SNAT CNI-HOSTPORT-MASQ CNI-HOSTPORT-SETMARK; do
		printf '%s\n' "$NAT_BEFORE" | grep -qxF -- "-N $chain" && continue
		nat -S "$chain" >/dev/null 2>&1 || continue
		while IFS= read -r rule; do
			eval "nat ${rule/#-A /-D }" 2>/dev/null
		done < <(nat -S | grep -E '^-A ' | grep -E -- "-j $chain( |\$)")
		nat -F "$chain" 2>/dev/null
		nat -X "$chain" 2>/dev/null
	done
	return 0
}

CLEANED=0
cleanup() {
	[ "$CLEANED" = 1 ] && return 0
	CLEANED=1
	if [ "$HOLD" -gt 0 ] && [ -n "${TMP:-}" ]; then
		say "holding for ${HOLD}s: crictl --config $TMP/crictl.yaml, ctr --address $SOCK"
		sleep "$HOLD"
	fi
	trap '' INT TERM
	if alive "$CRITEST_PID"; then
		kill -TERM "$CRITEST_PID" 2>/dev/null
		sleep 1
		alive "$CRITEST_PID" && kill -KILL "$CRITEST_PID" 2>/dev/null
	fi
	local ns id pf m t d rt left=()
	if alive "$CONTAINERD_PID"; then
		remember_netns
		cri rmp -fa >/dev/null 2>&1
		cri rm -fa >/dev/null 2>&1
		for ns in $(ctrc namespaces ls -q 2>/dev/null); do
			for id in $(ctrc -n "$ns" tasks ls -q 2>/dev/null); do
				ctrc -n "$ns" tasks kill -s SIGKILL "$id" >/dev/null 2>&1
				timeout 10 ctrc -n "$ns" tasks delete -f "$id" >/dev/null 2>&1
			done
			for id in $(ctrc -n "$ns" containers ls -q 2>/dev/null); do
				ctrc -n "$ns" containers delete "$id" >/dev/null 2>&1
			done
		done
		kill -TERM "$CONTAINERD_PID" 2>/dev/null
		for _ in $(seq 50); do alive "$CONTAINERD_PID" || break; sleep 0.2; done
		alive "$CONTAINERD_PID" && kill -KILL "$CONTAINERD_PID" 2>/dev/null
		wait "$CONTAINERD_PID" 2>/dev/null
	fi
	# Containers a crash left behind: ask the runtime that made them.
	for d in "$RUNTIME_ROOT"/* "$CTR_ROOT"/* "$CTR_ROOT"; do
		[ -d "$d" ] || continue
		for rt in "$RUNX" /usr/sbin/runc; do
			[ -x "$rt" ] || continue
			for id in $("$rt" --root "$d" list -q 2>/dev/null); do
				"$rt" --root "$d" delete --force "$id" >/dev/null 2>&1
			done
		done
	done
	# Shims of our containerd (their command line names our socket).
	for pf in "$TMP"/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
		[ -f "$pf" ] || continue
		kill_pidfile "$pf" "$SOCK"
		m=$(cat "$(dirname "$pf")/address" 2>/dev/null)
		m=${m#unix://}
		[[ $m == /run/containerd/s/* ]] && [ -S "$m" ] && rm -f "$m"
	done
	if alive "$REGISTRY_PID"; then
		kill -TERM "$REGISTRY_PID" 2>/dev/null
		for _ in $(seq 25); do alive "$REGISTRY_PID" || break; sleep 0.2; done
		alive "$REGISTRY_PID" && kill -KILL "$REGISTRY_PID" 2>/dev/null
		wait "$REGISTRY_PID" 2>/dev/null
	fi
	# Network namespaces of our pods that containerd did not remove.
	for t in "${NETNS_SEEN[@]}"; do
		[ -e "$t" ] || continue
		umount "$t" 2>/dev/null || umount -l "$t" 2>/dev/null
		rm -f "$t"
	done
	# Mounts below our directory, deepest first.
	for _ in 1 2 3; do
		mapfile -t left < <(findmnt -rn -o TARGET | grep -F "$TMP/" | sort -r)
		[ ${#left[@]} -eq 0 ] && break
		for t in "${left[@]}"; do umount "$t" 2>/dev/null || umount -l "$t" 2>/dev/null; done
	done
	ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE" 2>/dev/null
	remove_nat_rules
	rm -f /var/lib/cni/results/"$NET_NAME"-* 2>/dev/null
	# Shared memory segments critest's host IPC specs make with ipcmk (1 MiB,
	# unattached) and leave.
	if [ "$SHM_TRACK" = 1 ]; then
		for id in $(ipcs -m 2>/dev/null | awk '$2 ~ /^[0-9]+$/ && $5 == 1048576 && $6 == 0 {print $2}'); do
			printf '%s\n' "$SHM_BEFORE" | grep -qx "$id" || ipcrm -m "$id" 2>/dev/null
		done
	fi
	# The cgroup parents this run made (rmdir removes only empty ones).
	for m in "${CG_NAMES[@]}"; do
		[[ " ${CG_BEFORE[*]} " == *" $m "* ]] && continue
		for d in /sys/fs/cgroup/*/"$m" /sys/fs/cgroup/"$m"; do
			[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
	done
	if [ -z "$(findmnt -rn -o TARGET | grep -F "$TMP/")" ]; then
		rm -rf "$TMP"
	else
		say "warning: mounts remain below $TMP; left it in place"
	fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- registry
say "starting the private registry on 127.0.0.1:$REG_PORT"
cat >"$TMP/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $TMP/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REG_PORT
EOF
if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$REG_PORT/v2/"; then
	die "something already listens on 127.0.0.1:$REG_PORT (set ENGINES_CONTAINERD_REGISTRY_PORT)"
fi
docker-registry serve "$TMP/registry/config.yml" >"$LOGS/registry.log" 2>&1 &
REGISTRY_PID=$!
echo "$REGISTRY_PID" >"$TMP/registry/pid"

# The images' busybox is the binary of Debian's busybox package, fetched with
# apt-get download and unpacked here (not installed: it conflicts with
# busybox-static). busybox-static cannot serve: its shell runs applets in
# place of the programs on PATH, so a masked /bin/ls would still run.
BB_DIR=$WORK/busybox-deb
if ! ls "$BB_DIR"/busybox_*.deb >/dev/null 2>&1; then
	say "fetching Debian's busybox package"
	rm -rf "$BB_DIR" && mkdir -p "$BB_DIR"
	(cd "$BB_DIR" && apt-get download -q busybox >/dev/null 2>&1) || {
		apt-get update -q -o DPkg::Lock::Timeout=600 >/dev/null 2>&1
		(cd "$BB_DIR" && apt-get download -q busybox >/dev/null 2>&1)
	} || die "apt-get download busybox failed"
fi
rm -rf "$BB_DIR/root"
dpkg-deb -x "$(ls "$BB_DIR"/busybox_*.deb | head -1)" "$BB_DIR/root" || die "unpacking busybox failed"
BUSYBOX=$BB_DIR/root/bin/busybox
[ -x "$BUSYBOX" ] || die "no bin/busybox in Debian's busybox package"

# The base layer also gets the tools that busybox build lacks (pgrep, ipcs),
# and the shared libraries all three load.
host_files=(/usr/bin/pgrep /usr/bin/ipcs)
mapfile -t libs < <(ldd "$BUSYBOX" "${host_files[@]}" | awk '$2 == "=>" && $3 ~ /^\// {print $3} NF == 2 && $1 ~ /^\// {print $1}' | sort -u)
imgargs=()
for f in "${host_files[@]}" "${libs[@]}"; do imgargs+=(-hostfile "$f"); done
say "building and pushing the test images"
"$BIN/imgbuild" -registry "127.0.0.1:$REG_PORT" -busybox "$BUSYBOX" -standins "$BIN" "${imgargs[@]}" \
	>"$LOGS/images.txt" 2>&1 || { cat "$LOGS/images.txt" >&2; die "building the images failed"; }

# Every registry the tests name is served by the private one; nothing goes
# upstream: the fallback server is the private registry too. (containerd 1.6
# rejects a hosts.toml without a host table.)
for host in registry.k8s.io k8s.gcr.io gcr.io docker.io; do
	mkdir -p "$TMP/certs.d/$host"
	cat >"$TMP/certs.d/$host/hosts.toml" <<EOF
# $host is served by the engine tests' private registry.
server = "http://127.0.0.1:$REG_PORT"

[host."http://127.0.0.1:$REG_PORT"]
  capabilities = ["pull", "resolve"]
EOF
done

# --------------------------------------------------------------------- CNI
cat >"$TMP/cni/net.d/10-$NET_NAME.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$NET_NAME",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$SUBNET" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$TMP/cni/ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF

# -------------------------------------------------------------- containerd
# The runtime tables are deploy/containerd/config.toml with /usr/local/bin/
# replaced by the directory of the runx under test; each handler gets this
# run's runtime root. During critest the default handler may run another
# binary (the runc baseline).
gen_runtime_tables() {
	awk -v rtbin="$RTBIN/" -v root="$RUNTIME_ROOT" -v deflt="$CRITEST_BINARY" '
		/^[[:space:]]*\[/ { table = $0; gsub(/[[:space:]]/, "", table) }
		/^[[:space:]]*BinaryName[[:space:]]*=/ {
			line = $0
			if (table == "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]")
				sub(/"[^"]*"/, "\"" deflt "\"", line)
			else
				gsub(/"\/usr\/local\/bin\//, "\"" rtbin, line)
			print line
			match(line, /^[[:space:]]*/)
			print substr(line, 1, RLENGTH) "Root = \"" root "\""
			next
		}
		{ print }
	' "$SNIPPET"
}

CONFIG=$TMP/containerd.toml
{
	cat <<EOF
# Generated by tests/engines/containerd/run.sh: a private containerd.
version = 2
root = "$TMP/root"
state = "$TMP/state"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "$SOCK"

[ttrpc]
  address = "$SOCK.ttrpc"

[debug]
  address = "$TMP/debug.sock"
  level = "$([ "$DEBUG" = 1 ] && echo debug || echo info)"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$TMP/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$SANDBOX_IMAGE"
  # root without CAP_SYS_RESOURCE cannot lower oom_score_adj
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # pod network namespaces below the state directory, not /var/run/netns
  netns_mounts_under_state_dir = true

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "$TMP/cni/net.d"
  max_conf_num = 1

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "$TMP/certs.d"

# ---- from deploy/containerd/config.toml ----
EOF
	gen_runtime_tables
} >"$CONFIG"
cp "$CONFIG" "$LOGS/containerd.toml"

say "starting containerd ($(containerd --version | awk '{print $3}')) on $SOCK"
containerd --config "$CONFIG" >"$LOGS/containerd.log" 2>&1 &
CONTAINERD_PID=$!
echo "$CONTAINERD_PID" >"$TMP/containerd.pid"
for _ in $(seq 100); do
	[ -S "$SOCK" ] && ctrc version >/dev/null 2>&1 && break
	alive "$CONTAINERD_PID" || { tail -20 "$LOGS/containerd.log" >&2; die "containerd exited"; }
	sleep 0.2
done
ctrc version >/dev/null 2>&1 || { tail -20 "$LOGS/containerd.log" >&2; die "containerd did not answer on $SOCK"; }
for _ in $(seq 50); do
	cri info >/dev/null 2>&1 && break
	sleep 0.2
done
cri info >"$LOGS/cri-info.json" 2>&1 || { tail -20 "$LOGS/containerd.log" >&2; die "the CRI plugin did not answer"; }

# ------------------------------------------------------------------ checks
NAMES=()
RESULTS=()
DETAILS=()
record() { # NAME pass|fail DETAIL
	NAMES+=("$1")
	RESULTS+=("$2")
	DETAILS+=("${3:-}")
	say "$(printf '%-4s %s%s' "$2" "$1" "${3:+ ($3)}")"
}
# expect_rc NAME WANT GOT DETAIL
expect_rc() {
	if [ "$3" = "$2" ]; then record "$1" pass "exit $3"; else record "$1" fail "exit $3, want $2${4:+; $4}"; fi
}
oneline() { tr '\n' ' ' | sed 's/[[:space:]]\+/ /g; s/^ //; s/ $//' | cut -c1-300; }

CHECKS_LOG=$LOGS/checks.log
: >"$CHECKS_LOG"
# run_logged CMD...: stdout in $OUT, stderr (less crictl's warnings about its
# own configuration) in $ERR, both in $ALL, exit code in $RC; all of it goes
# to the checks log.
run_logged() {
	printf '\n$ %s\n' "$*" >>"$CHECKS_LOG"
	OUT=$("$@" 2>"$TMP/stderr")
	RC=$?
	ERR=$(grep -v 'level=warning' "$TMP/stderr")
	ALL=$OUT${OUT:+${ERR:+$'\n'}}$ERR
	{ printf '%s\n' "$OUT"; cat "$TMP/stderr"; printf '[exit %s]\n' "$RC"; } >>"$CHECKS_LOG"
}

# ---- ctr
run_logged ctrc -n "$CTR_NS" images pull --hosts-dir "$TMP/certs.d" "$BUSYBOX_IMAGE"
expect_rc "ctr images pull (private registry as $BUSYBOX_IMAGE)" 0 "$RC" "$(printf '%s' "$ALL" | tail -1)"

run_logged ctrc -n "$CTR_NS" run --rm --runc-binary "$RTBIN/runx" --runc-root "$CTR_ROOT" \
	"$BUSYBOX_IMAGE" ctr-exit sh -c 'echo hello from ctr; exit 7'
if [ "$RC" = 7 ] && [[ $OUT == *"hello from ctr"* ]]; then
	record "ctr run: output and exit code 7 reach ctr" pass
else
	record "ctr run: output and exit code 7 reach ctr" fail "exit $RC, output: $(printf '%s' "$ALL" | oneline)"
fi

run_logged ctrc -n "$CTR_NS" run --rm --runc-binary "$RTBIN/runx" --runc-root "$CTR_ROOT" \
	"$BUSYBOX_IMAGE" ctr-true true
expect_rc "ctr run: exit code 0" 0 "$RC" "$(printf '%s' "$ALL" | oneline)"

run_logged ctrc -n "$CTR_NS" run -d --runc-binary "$RTBIN/runx" --runc-root "$CTR_ROOT" \
	"$BUSYBOX_IMAGE" ctr-detached sleep 600
expect_rc "ctr run -d" 0 "$RC" "$(printf '%s' "$ALL" | oneline)"
run_logged ctrc -n "$CTR_NS" tasks exec --exec-id probe ctr-detached sh -c 'exit 4'
expect_rc "ctr tasks exec: exit code 4 reaches ctr" 4 "$RC" "$(printf '%s' "$ALL" | oneline)"
run_logged ctrc -n "$CTR_NS" tasks kill -s SIGKILL ctr-detached
kill_rc=$RC
st=
for _ in $(seq 50); do
	st=$(ctrc -n "$CTR_NS" tasks ls 2>/dev/null | awk '$1 == "ctr-detached" {print $3}')
	[ "$st" = STOPPED ] && break
	sleep 0.2
done
if [ "$kill_rc" = 0 ] && [ "$st" = STOPPED ]; then
	record "ctr tasks kill: task stops" pass
else
	record "ctr tasks kill: task stops" fail "kill exit $kill_rc, status '$st'"
fi
run_logged ctrc -n "$CTR_NS" tasks delete ctr-detached
del_rc=$RC
run_logged ctrc -n "$CTR_NS" containers delete ctr-detached
if [ "$del_rc" = 0 ] && [ "$RC" = 0 ]; then
	record "ctr tasks delete + containers delete" pass
else
	record "ctr tasks delete + containers delete" fail "exit $del_rc/$RC"
fi

# ---- crictl
CFG=$TMP/cri-configs
mkdir -p "$CFG"
pod_json() { # NAME [ANNOTATION-VALUE]
	local ann=
	[ -n "${2:-}" ] && ann=", \"annotations\": { \"dev.runx.isolation\": \"$2\" }"
	cat >"$CFG/$1.json" <<EOF
{ "metadata": { "name": "$1", "namespace": "runx-engines", "uid": "$1-uid", "attempt": 0 },
  "log_directory": "$TMP/pod-logs/$1", "linux": {}$ann }
EOF
	mkdir -p "$TMP/pod-logs/$1"
	printf '%s\n' "$CFG/$1.json"
}
ctr_json() { # NAME ARGS-JSON [LINUX-JSON]
	local linux='{}'
	[ -n "${3:-}" ] && linux=$3
	cat >"$CFG/ctr-$1.json" <<EOF
{ "metadata": { "name": "$1" }, "image": { "image": "$BUSYBOX_IMAGE" },
  "command": $2, "log_path": "$1.log", "linux": $linux }
EOF
	printf '%s\n' "$CFG/ctr-$1.json"
}
inspect_field() { cri inspect -o go-template --template "$2" "$1" 2>/dev/null; }

run_logged cri pull "$BUSYBOX_IMAGE"
expect_rc "crictl pull" 0 "$RC" "$(printf '%s' "$ALL" | oneline)"

POD_CFG=$(pod_json life)
run_logged cri runp "$POD_CFG"
POD=$(printf '%s' "$OUT" | tail -1)
expect_rc "crictl runp" 0 "$RC" "$(printf '%s' "$ALL" | oneline)"
if [ "$RC" = 0 ]; then
	C_CFG=$(ctr_json worker '["sh", "-c", "trap \"echo got TERM; exit 42\" TERM; echo worker ready; while true; do sleep 0.2; done"]')
	run_logged cri create "$POD" "$C_CFG" "$POD_CFG"
	CID=$(printf '%s' "$OUT" | tail -1)
	expect_rc "crictl create" 0 "$RC" "$(printf '%s' "$ALL" | oneline)"
	run_logged cri start "$CID"
	expect_rc "crictl start" 0 "$RC" "$(printf '%s' "$ALL" | oneline)"
	state=$(inspect_field "$CID" '{{.status.state}}')
	[ "$state" = CONTAINER_RUNNING ] && record "crictl inspect: running" pass || record "crictl inspect: running" fail "state '$state'"

	run_logged cri exec "$CID" sh -c 'echo exec-out; id -u'
	if [ "$RC" = 0 ] && [ "$OUT" = $'exec-out\n0' ]; then
		record "crictl exec: output" pass
	else
		record "crictl exec: output" fail "exit $RC, output: $(printf '%s' "$ALL" | oneline)"
	fi
	# crictl exits 1 whatever the command's status, and names the status.
	run_logged cri exec "$CID" sh -c 'exit 3'
	if [ "$RC" != 0 ] && [[ $ERR == *"command terminated with exit code 3"* ]]; then
		record "crictl exec: exit code 3 reaches crictl" pass
	else
		record "crictl exec: exit code 3 reaches crictl" fail "exit $RC: $(printf '%s' "$ALL" | oneline)"
	fi
	run_logged cri exec -s "$CID" sh -c 'echo sync-out; echo sync-err >&2'
	# (crictl prints the command's stdout, then its stderr, on its stdout)
	if [ "$RC" = 0 ] && [ "$OUT" = $'sync-out\n\nsync-err' ]; then
		record "crictl exec --sync: stdout and stderr" pass
	else
		record "crictl exec --sync: stdout and stderr" fail "exit $RC: $(printf '%s' "$ALL" | oneline)"
	fi
	run_logged cri exec -s "$CID" sh -c 'exit 5'
	if [ "$RC" != 0 ] && [[ $ERR == *"exited with 5"* ]]; then
		record "crictl exec --sync: exit code 5 reaches crictl" pass
	else
		record "crictl exec --sync: exit code 5 reaches crictl" fail "exit $RC: $(printf '%s' "$ALL" | oneline)"
	fi
	run_logged cri exec "$CID" /no/such/program
	if [ "$RC" != 0 ]; then
		record "crictl exec: a missing program fails" pass "exit $RC"
	else
		record "crictl exec: a missing program fails" fail "exit 0"
	fi

	for _ in $(seq 25); do
		run_logged cri logs "$CID"
		[[ $OUT == *"worker ready"* ]] && break
		sleep 0.2
	done
	if [ "$RC" = 0 ] && [[ $OUT == *"worker ready"* ]]; then
		record "crictl logs" pass
	else
		record "crictl logs" fail "exit $RC, output: $(printf '%s' "$ALL" | oneline)"
	fi

	run_logged cri stop -t 20 "$CID"
	expect_rc "crictl stop" 0 "$RC" "$(printf '%s' "$ALL" | oneline)"
	state=$(inspect_field "$CID" '{{.status.state}} {{.status.exitCode}}')
	if [ "$state" = "CONTAINER_EXITED 42" ]; then
		record "crictl stop: SIGTERM handler's exit code 42 recorded" pass
	else
		record "crictl stop: SIGTERM handler's exit code 42 recorded" fail "state/exit '$state'"
	fi
	run_logged cri logs "$CID"
	[[ $OUT == *"got TERM"* ]] && record "crictl logs after stop" pass || record "crictl logs after stop" fail "$(printf '%s' "$ALL" | oneline)"
	run_logged cri rm "$CID"
	expect_rc "crictl rm" 0 "$RC" "$(printf '%s' "$ALL" | oneline)"

	# A container that ends by itself, with an exit code.
	C_CFG=$(ctr_json exiter '["sh", "-c", "echo bye; exit 9"]')
	run_logged cri create "$POD" "$C_CFG" "$POD_CFG"
	CID=$(printf '%s' "$OUT" | tail -1)
	run_logged cri start "$CID"
	state=
	for _ in $(seq 50); do
		state=$(inspect_field "$CID" '{{.status.state}} {{.status.exitCode}}')
		[[ $state == CONTAINER_EXITED* ]] && break
		sleep 0.2
	done
	if [ "$state" = "CONTAINER_EXITED 9" ]; then
		record "container exit code 9 recorded" pass
	else
		record "container exit code 9 recorded" fail "state/exit '$state'"
	fi
	run_logged cri rm "$CID"

	# A container killed by a signal: sleep as PID 1 of its own PID namespace
	# ignores SIGTERM, so stop ends it with SIGKILL: 128+9.
	C_CFG=$(ctr_json sleeper '["sleep", "600"]' '{ "security_context": { "namespace_options": { "pid": 1 } } }')
	run_logged cri create "$POD" "$C_CFG" "$POD_CFG"
	CID=$(printf '%s' "$OUT" | tail -1)
	run_logged cri start "$CID"
	run_logged cri stop -t 1 "$CID"
	state=$(inspect_field "$CID" '{{.status.state}} {{.status.exitCode}}')
	if [ "$state" = "CONTAINER_EXITED 137" ]; then
		record "crictl stop of a program ignoring SIGTERM: exit code 137" pass
	else
		record "crictl stop of a program ignoring SIGTERM: exit code 137" fail "state/exit '$state'"
	fi
	run_logged cri rm "$CID"

	run_logged cri stopp "$POD"
	expect_rc "crictl stopp" 0 "$RC" "$(printf '%s' "$ALL" | oneline)"
	run_logged cri rmp "$POD"
	expect_rc "crictl rmp" 0 "$RC" "$(printf '%s' "$ALL" | oneline)"
	remaining=$(cri pods -q --name '^life$' 2>/dev/null)
	[ -z "$remaining" ] && record "pod gone after rmp" pass || record "pod gone after rmp" fail "still listed: $remaining"
fi

# ---- dev.runx.isolation through the handlers
bundle_annotation() { # SANDBOX-ID -> value of dev.runx.isolation in the bundle's config.json
	jq -r '.annotations["dev.runx.isolation"] // "none"' \
		"$TMP/state/io.containerd.runtime.v2.task/k8s.io/$1/config.json" 2>/dev/null || echo "no bundle"
}
# runtime_logs ID...: into the checks log, what the runtime logged for each
# container (the runc shim's --log file in its bundle) and the ends of a
# microvm container's VM logs.
runtime_logs() {
	local id f
	for id in "$@"; do
		[ -n "$id" ] || continue
		for f in "$TMP/state/io.containerd.runtime.v2.task/k8s.io/$id/log.json" \
			"$RUNTIME_ROOT/k8s.io/$id/vm.log" "$RUNTIME_ROOT/k8s.io/$id/console.log"; do
			[ -f "$f" ] && printf '\n--- %s (last 40 lines)\n%s\n' "$f" "$(tail -40 "$f")" >>"$CHECKS_LOG"
		done
	done
}
# pod_runs NAME HANDLER ANNOTATION WANT-ANNOTATION-IN-BUNDLE
pod_runs() {
	local name=$1 handler=$2 ann=$3 want=$4 cfg pod cid got label hv
	label="handler ${handler:-default}${ann:+, annotation $ann}: pod and container run"
	cfg=$(pod_json "$name" "$ann")
	run_logged cri runp ${handler:+--runtime "$handler"} "$cfg"
	if [ "$RC" != 0 ]; then
		record "$label" fail "runp exit $RC: $(printf '%s' "$ALL" | oneline)"
		return
	fi
	pod=$(printf '%s' "$OUT" | tail -1)
	got=$(bundle_annotation "$pod")
	# A microvm pod's hypervisor, as its monitor was told (the runc shim
	# gives runx the handler's root joined with the namespace).
	hv=
	[ "$want" = microvm ] && hv=$(jq -r '.hypervisor // "unknown"' "$RUNTIME_ROOT/k8s.io/$pod/monitor.json" 2>/dev/null || echo "no monitor.json")
	run_logged cri create "$pod" "$(ctr_json "$name-c" '["sh", "-c", "echo in-mode; sleep 600"]')" "$cfg"
	cid=$(printf '%s' "$OUT" | tail -1)
	[ "$RC" = 0 ] && run_logged cri start "$cid"
	[ "$RC" = 0 ] && run_logged cri exec -s "$cid" echo alive
	if [ "$RC" != 0 ] || [ "$OUT" != alive ]; then
		record "$label" fail "container: exit $RC: $(printf '%s' "$ALL" | oneline)"
		runtime_logs "$pod" "$cid"
	elif [ "$got" != "$want" ]; then
		record "$label" fail "sandbox config.json has dev.runx.isolation=$got, want $want"
	elif [ -n "$hv" ] && [ -n "$MICROVM_HV" ] && [ "$hv" != "$MICROVM_HV" ]; then
		record "$label" fail "the VM ran on hypervisor $hv, want $MICROVM_HV"
	else
		record "$label" pass "config.json: dev.runx.isolation=$got${hv:+; hypervisor $hv}"
	fi
	run_logged cri rmp -f "$pod"
}
# pod_fails NAME HANDLER ANNOTATION MODE WANT: runp must fail with runx's
# error WANT from mode MODE in crictl's message, and leave no pod.
pod_fails() {
	local name=$1 handler=$2 ann=$3 mode=$4 want=$5 cfg label msg
	label="handler ${handler:-default}${ann:+, annotation $ann}: runp fails with runx's $mode error"
	cfg=$(pod_json "$name" "$ann")
	run_logged cri runp ${handler:+--runtime "$handler"} "$cfg"
	msg=${ERR//\\/}
	if [ "$RC" = 0 ]; then
		record "$label" fail "runp succeeded"
		run_logged cri rmp -f "$(printf '%s' "$OUT" | tail -1)"
	elif [[ $msg != *"$want"* ]]; then
		record "$label" fail "'$want' not in crictl's error: $(printf '%s' "$msg" | oneline)"
	elif [ -n "$(cri pods -q --name "^$name\$" 2>/dev/null)" ]; then
		record "$label" fail "a pod is left behind"
	else
		record "$label" pass
	fi
}
# pod_unikernel NAME HANDLER ANNOTATION: in the unikernel mode the pod's
# sandbox (pause) runs in the namespace mode, and a container whose program
# is a Linux executable, not a Solo5 unikernel, fails at create with runx's
# unikernel error naming process.args[0]; no pod is left after rmp.
pod_unikernel() {
	local name=$1 handler=$2 ann=$3 cfg pod label msg
	label="handler ${handler:-default}${ann:+, annotation $ann}: pause runs, a non-unikernel container fails with runx's unikernel error"
	cfg=$(pod_json "$name" "$ann")
	run_logged cri runp ${handler:+--runtime "$handler"} "$cfg"
	if [ "$RC" != 0 ]; then
		record "$label" fail "runp exit $RC: $(printf '%s' "$ALL" | oneline)"
		return
	fi
	pod=$(printf '%s' "$OUT" | tail -1)
	run_logged cri create "$pod" "$(ctr_json "$name-c" '["sh", "-c", "echo not-a-unikernel"]')" "$cfg"
	[ "$RC" = 0 ] && run_logged cri start "$(printf '%s' "$OUT" | tail -1)"
	msg=${ERR//\\/}
	if [ "$RC" = 0 ]; then
		record "$label" fail "a Linux program started in the unikernel mode"
	elif [[ $msg != *"process.args[0]"* ]]; then
		record "$label" fail "runx's unikernel error not in crictl's message: $(printf '%s' "$msg" | oneline)"
	else
		record "$label" pass
	fi
	run_logged cri rmp -f "$pod"
}
# What each mode does with a pod: a mode this runx has not built fails at
# create with its "not built yet" error; the unikernel mode runs the pause
# container but no Linux program; another built mode must run the pod.
BUILT_MODES=$("$RUNX" features 2>/dev/null | jq -r '.annotations["dev.runx.isolation.modes"] // ""')
mode_check() { # NAME HANDLER ANNOTATION MODE
	if [[ ",$BUILT_MODES," != *",$4,"* ]]; then
		pod_fails "$1" "$2" "$3" "$4" "isolation mode \"$4\" $NOT_BUILT"
	elif [ "$4" = unikernel ]; then
		pod_unikernel "$1" "$2" "$3"
	else
		pod_runs "$1" "$2" "$3" "${3:-none}"
	fi
}
say "isolation modes built into runx: ${BUILT_MODES:-unknown}"
pod_runs iso-namespace runx namespace namespace
for mode in sandbox microvm unikernel; do
	mode_check "iso-$mode" runx "$mode" "$mode"
done
# The mode from the name runx is called by (handler runx-sandbox) ...
mode_check name-sandbox runx-sandbox "" sandbox
# ... gives way to the annotation.
pod_runs name-sandbox-namespace runx-sandbox namespace namespace
# The default handler lets no dev.runx.* annotation through.
pod_runs default-filtered "" sandbox none

# ----------------------------------------------------------------- critest
# run_critest HANDLER: one critest run with its pods under HANDLER
# ("default": the default handler), recorded against its expectation file.
run_critest() {
	local handler=$1 suffix="" expected_file=$EXPECTED_FILE under log
	local -a skips=("${CRITEST_SKIPS[@]}")
	if [ "$handler" != default ]; then
		suffix=-$handler
		expected_file=$EXPECTED_FILE-${handler#runx-}
		under="handler $handler"
	else
		under="default handler: $CRITEST_BINARY"
	fi
	[ "$handler" = runx-sandbox ] && skips+=("${CRITEST_SKIPS_SANDBOX[@]}")
	[ "$handler" = runx-microvm ] && skips+=("${CRITEST_SKIPS_MICROVM[@]}")
	log=$LOGS/critest$suffix.log
	remember_netns
	cri rmp -fa >/dev/null 2>&1
	EXPECTED=$(tr -cd '0-9' <"$expected_file" 2>/dev/null)
	[ -n "$EXPECTED" ] || die "$expected_file holds no number"
	crit_args=(
		--runtime-endpoint "unix://$SOCK" --image-endpoint "unix://$SOCK"
		--ginkgo.no-color
		--ginkgo.junit-report "$LOGS/critest$suffix-junit.xml"
		--ginkgo.timeout "$CRITEST_TIMEOUT"
	)
	for re in "${skips[@]}"; do crit_args+=(--ginkgo.skip "$re"); done
	[ -n "$FOCUS" ] && crit_args+=(--ginkgo.focus "$FOCUS")
	[ "$handler" != default ] && crit_args+=(--runtime-handler "$handler")
	SHM_BEFORE=$(ipcs -m 2>/dev/null | awk '$2 ~ /^[0-9]+$/ {print $2}')
	SHM_TRACK=1
	say "running critest $CRI_TOOLS_VERSION ($under); log: $log"
	start=$(date +%s)
	# In the background, so that a signal to this script is handled at once.
	# Its temporary files (pod log directories, the bind mounts of the mount
	# propagation tests) go below $TMP, which cleanup unmounts and removes.
	mkdir -p "$TMP/critest-tmp"
	(cd "$TMP" && TMPDIR=$TMP/critest-tmp exec "$CRITEST" "${crit_args[@]}") >"$log" 2>&1 &
	CRITEST_PID=$!
	wait "$CRITEST_PID"
	crit_rc=$?
	CRITEST_PID=
	say "critest finished in $(( $(date +%s) - start ))s (exit $crit_rc)"
	remember_netns

	# -a: a failure message may hold a NUL byte.
	ran=$(grep -aE '^Ran [0-9]+ of [0-9]+ Specs' "$log" | tail -1)
	summary=$(grep -aE -- '-- [0-9]+ Passed \| [0-9]+ Failed' "$log" | tail -1)
	c_pass=$(printf '%s' "$summary" | sed -n 's/.*-- \([0-9]*\) Passed.*/\1/p')
	c_fail=$(printf '%s' "$summary" | sed -n 's/.*| \([0-9]*\) Failed.*/\1/p')
	c_skip=$(printf '%s' "$summary" | sed -n 's/.*| \([0-9]*\) Skipped.*/\1/p')
	echo
	echo "critest summary ($under):"
	echo "  $ran"
	echo "  $summary"
	grep -aE '^\s*\[FAIL\]' "$log" | sed 's/^\s*/  /' | sort -u
	local label="critest ($under)"
	if [ -z "$summary" ]; then
		record "$label" fail "no summary (exit $crit_rc); see $log"
	elif [ -n "$FOCUS" ]; then
		[ "${c_fail:-1}" = 0 ] && record "$label (focus '$FOCUS')" pass "$c_pass passed, $c_skip skipped" ||
			record "$label (focus '$FOCUS')" fail "$c_pass passed, $c_fail failed, $c_skip skipped"
	elif [ "${c_fail:-1}" = 0 ] && [ "${c_pass:-0}" -ge "$EXPECTED" ]; then
		record "$label: at least $EXPECTED passed, none failed" pass "$c_pass passed, $c_skip skipped"
	else
		record "$label: at least $EXPECTED passed, none failed" fail "$c_pass passed, $c_fail failed, $c_skip skipped"
	fi
	CRITEST_STATUS+="${CRITEST_STATUS:+; }$handler: $c_pass passed, $c_fail failed, $c_skip skipped"
}

CRITEST_STATUS=
if [ "$RUN_CRITEST" != 0 ]; then
	for h in $CRITEST_HANDLERS; do
		# A handler of a mode this runx has not built has nothing to run.
		if [ "$h" = runx-sandbox ] && [[ ",$BUILT_MODES," != *",sandbox,"* ]]; then
			say "critest under $h skipped: the sandbox mode is not built"
			continue
		fi
		if [ "$h" = runx-microvm ] && [[ ",$BUILT_MODES," != *",microvm,"* ]]; then
			say "critest under $h skipped: the microvm mode is not built"
			continue
		fi
		run_critest "$h"
	done
fi
: "${CRITEST_STATUS:=skipped}"

# ------------------------------------------------------------------ report
echo
echo "containerd engine checks (runx: $RUNX; logs: $LOGS)"
passed=0
failed=0
for i in "${!NAMES[@]}"; do
	printf '  %-4s  %s%s\n' "${RESULTS[$i]}" "${NAMES[$i]}" "${DETAILS[$i]:+  [${DETAILS[$i]}]}"
	if [ "${RESULTS[$i]}" = pass ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "critest: $CRITEST_STATUS"
echo "engines-containerd: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
exit
}
