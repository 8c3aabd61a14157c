#!/usr/bin/env bash
# nested-host.sh: runs a command in a "nested KVM host", a QEMU TCG guest whose
# CPU has AMD SVM with nested paging, so its /dev/kvm has real hardware-
# virtualization semantics (this machine kind's own /dev/kvm, nested PVM,
# cannot run a Linux guest's user space; see shared/docs/microvm-facts.md).
#
#   nested-host.sh [-m MiB] [-c CPUS] [-t SECONDS] [-s SECONDS] [-e VAR]... [-v DIR]... -- COMMAND [ARG]...
#
# The guest runs Debian's generic kernel (linux-image-amd64, downloaded and
# unpacked into $cache, never installed), booted as its uncompressed vmlinux
# through the PVH entry, with the host's / shared read-only over 9p under a
# tmpfs overlay (writes stay in the guest, the host's files are seen as they
# are, /tmp too), an empty /run, the guest kernel's own modules at /lib/modules, cgroup v2 at /sys/fs/cgroup,
# and kvm_amd loaded. COMMAND runs
# there as root in the caller's working directory, with PATH, HOME and each
# -e VAR of the caller's environment; its output (stdout and stderr together)
# is copied to this script's stdout as it comes, and its exit status is this
# script's. Each -v DIR of the host is shared writable at the same path (to
# get files out). 125 means the nested host itself failed (its console log's end is
# printed on stderr). With -s SECONDS, a command that prints nothing for that
# long has the guest's vCPUs sampled (QEMU's monitor: instruction pointers,
# named with the guest kernel's functions) onto stderr: where a stalled
# guest spins. With -s, a guest silent for a minute whose vCPUs are all
# halted while an interrupt waits in a local APIC above its priority, twice
# 10 s apart, is ended (125): TCG's emulated SVM (QEMU 7.2) was seen to stop
# delivering interrupts so after nested guests ran, for good.
set -euo pipefail
fail() { echo "nested-host: $*" >&2; exit 125; }
mem=3072 cpus=1 timeout=1800 stall= envs=() vols=()
while [ $# -gt 0 ]; do
	case $1 in
	-m) mem=$2; shift 2 ;;
	-c) cpus=$2; shift 2 ;;
	-t) timeout=$2; shift 2 ;;
	-s) stall=$2; shift 2 ;;
	-e) envs+=("$2"); shift 2 ;;
	-v) [ -d "$2" ] || fail "-v $2: not a directory"; vols+=("$(realpath "$2")"); shift 2 ;;
	--) shift; break ;;
	*) echo "nested-host: unknown option $1" >&2; exit 125 ;;
	esac
done
[ $# -gt 0 ] || fail "usage: nested-host.sh [-m MiB] [-c CPUS] [-t SECONDS] [-e VAR]... [-v DIR]... -- COMMAND..."
[ "$(id -u)" = 0 ] || { echo "nested-host: must run as root" >&2; exit 125; }
cache=${RUNX_NESTED_CACHE:-/var/cache/runx-tests/nested}
. "$(dirname "$0")/debian.sh"
need=()
[ -x /usr/bin/qemu-system-x86_64 ] || need+=(qemu-system-x86)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v xz >/dev/null || need+=(xz-utils)
command -v cpio >/dev/null || need+=(cpio)
[ -x /sbin/depmod ] || need+=(kmod)
if [ ${#need[@]} -gt 0 ]; then
	echo "nested-host: installing ${need[*]}" >&2
	apt_install "${need[@]}" || fail "cannot install ${need[*]}"
fi

# The guest kernel: the versioned package linux-image-amd64 points at.
mkdir -p "$(dirname "$cache")"
(
	exec 9>"$cache.lock"
	flock 9
	pkg=$(kernel_package linux-image-amd64) || fail "no linux-image-amd64 package"
	ver=${pkg#linux-image-}
	if [ "$(cat "$cache/version" 2>/dev/null)" = "$ver" ] && [ -f "$cache/vmlinux" ]; then
		exit 0
	fi
	echo "nested-host: unpacking $pkg into $cache" >&2
	rm -rf "$cache.new"
	mkdir -p "$cache.new"
	unpack_package "$pkg" "$cache.new" || fail "cannot download $pkg"
	mkdir -p "$cache.new/lib/modules"
	mv "$cache.new/x/lib/modules/$ver" "$cache.new/lib/modules/$ver"
	# The package leaves modules.dep to its postinst: made here.
	depmod -b "$cache.new" "$ver" || fail "depmod of $ver failed"
	# The bzImage's payload (XZ here) decompressed: booting that through its
	# PVH note skips ~7 s of XZ under TCG. Its place in the file: setup
	# sectors (0x1f1) and the header's payload_offset (0x248) and length (0x24c).
	bz=$cache.new/x/boot/vmlinuz-$ver
	le32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
	sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
	[ "$sects" != 0 ] || sects=4
	off=$(( (sects + 1) * 512 + $(le32 "$bz" $((0x248))) ))
	len=$(le32 "$bz" $((0x24c)))
	{ tail -c +$((off + 1)) "$bz" | head -c "$len" || true; } | xz -dc --single-stream >"$cache.new/vmlinux" ||
		fail "cannot decompress the kernel in $bz"
	cp "$bz" "$cache.new/vmlinuz"
	rm -rf "$cache.new/x" "$cache.new"/*.deb
	echo "$ver" >"$cache.new/version"
	rm -rf "$cache"
	mv "$cache.new" "$cache"
)
ver=$(cat "$cache/version")
moddir=$cache/lib/modules/$ver

work=$(mktemp -d /tmp/nested-host.XXXXXX)
qpid= spid=
cleanup() {
	[ -z "$qpid" ] || kill -9 "$qpid" 2>/dev/null || true
	[ -z "$spid" ] || kill "$spid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/job" "$work/root/bin" "$work/root/mod"

# The initramfs: busybox, the modules that reach the host's / (virtio-mmio
# and 9p, with what modules.dep says they need, dependencies first), and /init.
cp /bin/busybox "$work/root/bin/busybox"
order=()
add_mod() {
	local m=$1 line dep
	line=$(grep -E "(^|/)$m\.ko(\.[a-z]+)?:" "$moddir/modules.dep" || true)
	[ -n "$line" ] || fail "module $m is not in $moddir"
	for dep in $(echo "${line#*:}" | tr ' ' '\n' | tac); do
		add_path "$dep"
	done
	add_path "${line%%:*}"
}
add_path() {
	local p
	for p in "${order[@]}"; do [ "$p" = "$1" ] && return 0; done
	order+=("$1")
}
for m in virtio_mmio 9pnet_virtio 9p overlay; do add_mod "$m"; done
i=0
for p in "${order[@]}"; do
	i=$((i + 1))
	case $p in
	*.xz) xz -dc "$moddir/$p" >"$work/root/mod/$(printf %02d $i).ko" ;;
	*) cp "$moddir/$p" "$work/root/mod/$(printf %02d $i).ko" ;;
	esac
done

# The command, its directory and environment, as the guest's shell reads them.
{
	printf 'cd %q || exit 125\n' "$PWD"
	printf 'export PATH=%q HOME=/root\n' "$PATH"
	for v in "${envs[@]}"; do
		[ -z "${!v+x}" ] || printf 'export %s=%q\n' "$v" "${!v}"
	done
	printf 'exec'
	printf ' %q' "$@"
	printf '\n'
} >"$work/job/cmd"
: >"$work/job/out"
vol_args=()
for i in "${!vols[@]}"; do
	vol_args+=(-fsdev "local,id=v$i,path=${vols[$i]},security_model=none" -device "virtio-9p-device,fsdev=v$i,mount_tag=v$i")
	printf 'v%d %q\n' "$i" "${vols[$i]}"
done >"$work/job/volumes"

# Stage one, the initramfs's /init: reach the host's / and switch to it, so
# that the kernel's own helpers (module autoloading) find the host's tools.
cat >"$work/root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /host /bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
for m in /mod/*.ko; do insmod "$m" || echo "nested-host: insmod $m failed"; done
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose host /host || { echo "nested-host: no host /"; reboot -f; }
# The host's / read-only under a tmpfs overlay: writable, nothing reaches the host.
mkdir -p /rw /root && mount -t tmpfs tmpfs /rw && mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /root || { echo "nested-host: no overlay"; reboot -f; }
r=/root
# An empty /run: the host's runtimes keep their state there.
mount -t tmpfs -o mode=0755 tmpfs $r/run
mkdir -p $r/run/job
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 job $r/run/job
mount --move /proc $r/proc
mount --move /sys $r/sys
mount --move /dev $r/dev
mkdir -p $r/lib/modules
mount --bind "$r$(tr ' ' '\n' <$r/proc/cmdline | sed -n 's/^nested.modules=//p')" $r/lib/modules
exec switch_root $r /bin/sh /run/job/stage2
echo "nested-host: switch_root failed"; reboot -f
EOF
# Stage two, pid 1 in the host's userland: the rest of the mounts, kvm_amd,
# the command, its status, power off.
cat >"$work/job/stage2" <<'EOF'
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx
# As systemd makes them: bash process substitution opens /dev/fd/N.
ln -sf /proc/self/fd /dev/fd; ln -sf fd/0 /dev/stdin; ln -sf fd/1 /dev/stdout; ln -sf fd/2 /dev/stderr
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# The device nodes whose modules load on first open (/dev/net/tun, /dev/fuse,
# /dev/vhost-vsock), as systemd makes them from modules.devname.
kmod static-nodes --format=tmpfiles -o /run/static-nodes
while read -r type path mode _ _ _ dev; do
	mkdir -p "${path%/*}"; mknod -m "$mode" "$path" "${type%!}" "${dev%:*}" "${dev#*:}" 2>/dev/null
done </run/static-nodes
while read -r tag path; do
	mkdir -p "$path" && mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 "$tag" "$path"
done </run/job/volumes
hostname nested
ip link set lo up
modprobe kvm_amd || echo "nested-host: kvm_amd did not load" >>/run/job/out
# One idle VM (an in-kernel irqchip and a vCPU) held for the host's life:
# then VMs coming and going never flip KVM's static keys (the preempt
# notifiers' in __schedule, the APICs'), whose live patching under TCG
# froze this host at a VM's start (its vCPUs sampled looping on the int3 of
# __schedule's jump label).
perl -e 'open(my $k, "+<", "/dev/kvm") or die "/dev/kvm: $!\n";
	my $vm = ioctl($k, 0xAE01, 0) or die "KVM_CREATE_VM: $!\n";
	open(my $v, "+<&=", $vm) or die "the VM descriptor: $!\n";
	ioctl($v, 0xAE60, 0) or die "KVM_CREATE_IRQCHIP: $!\n";
	ioctl($v, 0xAE41, 0) or die "KVM_CREATE_VCPU: $!\n";
	close(STDIN); close(STDOUT); close(STDERR); sleep' >>/run/job/out 2>&1 </dev/null &
# For -s: the kernel's functions, to name where a stalled vCPU is.
[ -f /run/job/want-kallsyms ] && grep ' [Tt] ' /proc/kallsyms >/run/job/kallsyms
# /dev/kvm as Debian's udev leaves it (the host may lack the group).
getent group kvm >/dev/null || groupadd -r kvm
chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
/bin/bash -c '. /run/job/cmd' >>/run/job/out 2>&1 </dev/null
echo $? >/run/job/status
sync
/bin/busybox reboot -f
EOF
chmod 0755 "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd"

# For -s: QEMU's monitor on two FIFOs, and the guest's kallsyms.
mon_args=()
if [ -n "$stall" ]; then
	: >"$work/job/want-kallsyms"
	mkfifo "$work/monitor.in" "$work/monitor.out"
	mon_args=(-monitor pipe:"$work/monitor")
fi
# awk_hex: hex(h), the number a hexadecimal string (0x optional) stands for
# (mawk has no strtonum).
awk_hex='function hex(h,  i, n) { n = 0; h = tolower(h); sub(/^0x/, "", h); for (i = 1; i <= length(h); i++) n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return n }'

# vcpus: each vCPU's instruction pointer and privilege level, with the
# guest kernel's function it is in (its /proc/kallsyms, written at boot for
# -s; an address in none is a nested guest's, or user space).
vcpus() {
	# Opened read-write: a FIFO whose reader (QEMU) is gone never blocks it.
	echo "info registers -a" 1<>"$work/monitor.in"
	timeout 2 cat "$work/monitor.out" | tr -d '\r' |
		awk '/^CPU#/ { cpu = $1 } /^RIP=/ { split($1, a, "="); print cpu, a[2], substr($0, index($0, "CPL="), 5) }' |
		while read -r cpu rip cpl; do
			printf '%s %s %s %s\n' "$cpu" "$rip" "$cpl" "$(awk -v r="$rip" '
				'"$awk_hex"'
				# 64-bit addresses as strings (same length: ordered as numbers);
				# an offset from the low halves, exact in awk'"'"'s doubles.
				BEGIN { x = "x" tolower(r) } ("x" $1) <= x && (best == "" || ("x" $1) >= at) { best = $3 ($4 == "" ? "" : " " $4); at = "x" $1 }
				END {
					if (best != "" && substr(at, 2, 8) == substr(x, 2, 8) && (off = hex(substr(x, 10)) - hex(substr(at, 10))) < 65536)
						printf "%s+0x%x", best, off
					else
						print "(in no guest kernel function)"
				}' "$work/job/kallsyms" 2>/dev/null)"
		done
}

# lapics: each vCPU's halted flag and its local APIC's priority (PPR),
# pending (IRR) and in-service (ISR) vectors, one line each.
lapics() {
	local c
	for c in $(seq 0 $((cpus - 1))); do
		printf 'cpu %d\ninfo registers\ninfo lapic\n' "$c" 1<>"$work/monitor.in"
		timeout 2 cat "$work/monitor.out" | tr -d '\r' | awk -v c="$c" '
			/HLT=[01]/ { match($0, /HLT=[01]/); hlt = substr($0, RSTART + 4, 1) }
			/^IRR/ { $1 = ""; irr = $0 }
			/^ISR/ { $1 = ""; isr = $0 }
			/ PPR / { for (i = 1; i < NF; i++) if ($i == "PPR") ppr = $(i + 1) }
			END { printf "CPU#%s HLT=%s PPR=%s IRR=%s ISR=%s\n", c, hlt, ppr, irr, isr }'
	done
}

# wedged: lapics' lines show every vCPU halted and a vector pending above
# its CPU's priority class, which a halted CPU would have woken for.
wedged() {
	awk '
		'"$awk_hex"'
		{
			n++
			if ($2 != "HLT=1") busy = 1
			ppr = $3; sub(/^PPR=/, "", ppr); ppr = hex(ppr)
			for (i = 4; i <= NF && $i !~ /^ISR=/; i++) {
				v = $i; sub(/^IRR=/, "", v)
				if (v ~ /^[0-9]+$/ && int(v / 16) > int(ppr / 16)) pending = 1
			}
		}
		END { exit !(n > 0 && !busy && pending) }'
}

# apparmor=0: as on this machine kind, no LSM confines containers (critest
# loads AppArmor profiles whenever the kernel has it, with tools not here).
khz=$(awk -F: '/^cpu MHz/ {printf "%d", $2 * 1000; exit}' /proc/cpuinfo)
[ -n "$khz" ] || fail "no cpu MHz in /proc/cpuinfo"
timeout -s KILL "$timeout" qemu-system-x86_64 -M microvm,accel=tcg,rtc=on -cpu qemu64,+svm,+npt -smp "$cpus" -m "$mem" \
	-nodefaults -no-user-config -nographic -no-reboot \
	-kernel "$cache/vmlinux" -initrd "$work/initrd" \
	-append "console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz=$khz tsc=reliable no_timer_check mitigations=off cryptomgr.notests apparmor=0 rdinit=/init nested.modules=$cache/lib/modules" \
	-global virtio-mmio.force-legacy=false \
	-fsdev local,id=host,path=/,readonly=on,security_model=none,multidevs=remap \
	-device virtio-9p-device,fsdev=host,mount_tag=host \
	-fsdev local,id=job,path="$work/job",security_model=none \
	-device virtio-9p-device,fsdev=job,mount_tag=job "${vol_args[@]}" \
	-serial file:"$work/console" "${mon_args[@]}" </dev/null &
qpid=$!
tail -f --pid=$qpid -c +1 "$work/job/out" &
tpid=$!
if [ -n "$stall" ]; then
	(
		set +e # a sample cut short by its timeout is no reason to stop
		size=-1 since=$SECONDS sampled= seen= checked=0
		while kill -0 "$qpid" 2>/dev/null; do
			sleep 5
			now=$(stat -c %s "$work/job/out" 2>/dev/null || echo 0)
			if [ "$now" != "$size" ]; then
				size=$now since=$SECONDS sampled= seen=
			elif [ $((SECONDS - since)) -ge 60 ] && [ $((SECONDS - checked)) -ge 10 ]; then
				checked=$SECONDS
				l=$(lapics)
				if ! printf '%s\n' "$l" | wedged; then
					seen=
				elif [ -z "$seen" ]; then
					seen=$l
				else
					{
						echo "nested-host: every vCPU is halted while an interrupt waits in its local APIC above its priority (10 s apart):"
						printf '%s\n%s\n' "$seen" "$l" | sed 's/^/nested-host:   /'
						echo "nested-host: the TCG test bed stopped delivering interrupts (QEMU's emulated SVM); ending it"
					} >&2
					: >"$work/wedged"
					kill "$qpid"
					break
				fi
			fi
			if [ -z "$sampled" ] && [ $((SECONDS - since)) -ge "$stall" ]; then
				sampled=1
				echo "nested-host: no output for $((SECONDS - since)) s; the guest's vCPUs, sampled 3 times:" >&2
				for i in 1 2 3; do vcpus | sed 's/^/nested-host:   /' >&2; sleep 1; done
				echo "nested-host: its console's end:" >&2
				tail -5 "$work/console" | sed 's/^/nested-host:   /' >&2
			fi
		done
	) &
	spid=$!
fi
wait $qpid || true
qpid=
# A sample under way when QEMU ended would hold stderr open.
[ -z "$spid" ] || { kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; spid=; } || true
wait $tpid 2>/dev/null || true
if [ -e "$work/wedged" ]; then
	echo "nested-host: the nested host's interrupts stopped (see above); its console's end:" >&2
	tail -c 1000 "$work/console" >&2
	exit 125
fi
if [ ! -s "$work/job/status" ]; then
	echo "nested-host: the guest ended without the command's status; its console:" >&2
	tail -c 3000 "$work/console" >&2
	exit 125
fi
exit "$(cat "$work/job/status")"
