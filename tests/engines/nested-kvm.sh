#!/usr/bin/env bash
# The engines on runx's own VMM. This machine kind's /dev/kvm cannot run a
# Linux guest's user space, so the engine suites run again inside the nested
# KVM host (tests/scripts/nested-host.sh: a QEMU TCG guest whose /dev/kvm has
# hardware-virtualization semantics, and a pure cgroup v2 host with Debian's
# 6.1 kernel), where the microvm mode's default hypervisor is runx's VMM:
#   - the containerd engine checks (tests/engines/containerd), their microvm
#     pod required to run on hypervisor runx; critest only when asked
#     (ENGINES_NESTED_CRITEST below: inside, its microvm run had not ended
#     after 70 minutes);
#   - the Podman and Docker suite (tests/engines/podman-docker), its microvm
#     containers required to run on hypervisor runx.
# make engines-nested; not part of make test while a rare guest create hang
# is open (README). Run it after the host's own engine runs: the containerd
# suite's tools (crictl, its image builder) come from their cache, which the
# nested host sees read-only.
#
#   bash tests/engines/nested-kvm.sh /absolute/path/to/runx
#
# The suites' logs are copied to $ENGINES_NESTED_LOGS (default
# /var/cache/runx-tests/nested-engines). ENGINES_NESTED_CRITEST, a list of
# handlers (e.g. runx-microvm), also runs critest under each, against the
# same expectation files as on this host (ENGINES_CONTAINERD_FOCUS, a ginkgo
# focus, runs only the specs it matches). Exit status: 1 when a suite failed,
# 2 on a usage error or when the nested host could not run them.
set -uo pipefail
say() { printf 'engines-nested: %s\n' "$*" >&2; }
[ $# -eq 1 ] && [[ $1 == /* ]] && [ -x "$1" ] || { say "usage: $0 /absolute/path/to/runx"; exit 2; }
RUNX=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
logs=${ENGINES_NESTED_LOGS:-/var/cache/runx-tests/nested-engines}
rm -rf "$logs" && mkdir -p "$logs" || { say "cannot make $logs"; exit 2; }
export RUNX REPO=$repo ENGINES_NESTED_LOGS=$logs

# Inside: /tmp is the host's under a tmpfs overlay, where the engines'
# overlay storage cannot sit (an overlay's upper layer on an overlay): a
# tmpfs of its own. The repository, runx and the logs stay at their paths
# when they are under /tmp (a clone there): bound back from the host's view.
inner='
mkdir -p /run/host-tmp && mount --bind /tmp /run/host-tmp || exit 2
mount -t tmpfs tmpfs /tmp || exit 2
for d in "$REPO" "${RUNX%/*}" "$ENGINES_NESTED_LOGS"; do
	case $d in
	/tmp/*) [ -d "$d" ] || { mkdir -p "$d" && mount --bind "/run/host-tmp/${d#/tmp/}" "$d"; } || exit 2 ;;
	esac
done
# The process tree every 30 s, the last 10 kept: what a stalled check waits
# on; the logs of the VMs then running (a VM'"'"'s state directory goes with
# its container), the last copy of each kept; and the containerd suite'"'"'s
# logs so far (critest'"'"'s, should the time limit end the guest).
mkdir -p "$ENGINES_NESTED_LOGS/vm-logs"
(while sleep 30; do
	ps axfo pid,ppid,stat,etime,wchan:30,args | cut -c1-300 >"$ENGINES_NESTED_LOGS/ps.$(date +%s)"
	ls "$ENGINES_NESTED_LOGS"/ps.* | head -n -10 | xargs -r rm -f
	find /tmp /run -maxdepth 8 \( -name vm.log -o -name console.log \) 2>/dev/null |
		while read -r f; do cp "$f" "$ENGINES_NESTED_LOGS/vm-logs/$(printf %s "$f" | tr / _)" 2>/dev/null; done # gone meanwhile: a VM ended
	cp -r /var/cache/runx-tests/containerd/logs/. "$ENGINES_NESTED_LOGS/containerd-so-far" 2>/dev/null
done) &
hv=$("$RUNX" check 2>&1 | grep -o "hypervisor: [a-z]*" | head -1)
echo "engines-nested: runx check: $hv"
[ "$hv" = "hypervisor: runx" ] || { echo "engines-nested: runx would not use its own VMM here"; exit 2; }
status=0
critest=0
[ -n "${ENGINES_NESTED_CRITEST:-}" ] && critest=1
ENGINES_CONTAINERD_CRITEST=$critest ENGINES_CONTAINERD_CRITEST_HANDLERS=${ENGINES_NESTED_CRITEST:-default} \
	ENGINES_CONTAINERD_CRITEST_TIMEOUT=110m \
	ENGINES_CONTAINERD_MICROVM_HYPERVISOR=runx \
	bash tests/engines/containerd/run.sh "$RUNX" || status=1
cp -r /var/cache/runx-tests/containerd/logs "$ENGINES_NESTED_LOGS/containerd" 2>/dev/null
ENGINES_MICROVM_HYPERVISOR=runx ENGINES_KEEP="$ENGINES_NESTED_LOGS/podman-docker" \
	bash tests/engines/podman-docker/run.sh "$RUNX" || status=1
exit $status
'
say "running the containerd and Podman/Docker suites inside the nested KVM host (logs: $logs)"
start=$(date +%s)
cd "$repo" || exit 2
limit=1800
# critest under runx-microvm ran past an hour in there (2026-12-07).
[ -n "${ENGINES_NESTED_CRITEST:-}" ] && limit=$((limit + 7200 * $(wc -w <<<"$ENGINES_NESTED_CRITEST")))
bash tests/scripts/nested-host.sh -m 8192 -c 2 -t $limit -s 200 -e RUNX -e REPO -e ENGINES_NESTED_LOGS -e ENGINES_NESTED_CRITEST -e ENGINES_CONTAINERD_FOCUS -v "$logs" -- bash -c "$inner"
rc=$?
say "finished in $(($(date +%s) - start)) s (exit $rc)"
case $rc in
0) exit 0 ;;
1) exit 1 ;;
*) exit 2 ;;
esac
