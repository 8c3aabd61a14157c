package tests

import (
	"os"
	"strings"
	"testing"

	"github.com/runx-dev/runx/vmm/boot"
	"github.com/runx-dev/runx/vmm/memory"
)

// TestVMMLoadsGuestKernel: runx's own VMM's loader takes the guest kernel
// the microvm mode boots (Debian's cloud bzImage, which make integration
// installs) with an initramfs, for its 64-bit entry.
func TestVMMLoadsGuestKernel(t *testing.T) {
	const kernelPath = "/usr/local/lib/runx/microvm/vmlinuz"
	kernel, err := os.ReadFile(kernelPath)
	if err != nil {
		t.Fatalf("the guest kernel (make microvm-kernel): %v", err)
	}
	mem, err := memory.NewShared(0, 256<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	e, err := boot.Load(mem, kernel, make([]byte, 4<<20), "console=ttyS0 panic=-1")
	if err != nil {
		t.Fatalf("%s: %v", kernelPath, err)
	}
	if e.Protocol != boot.Linux64 || e.IP < boot.HighMemory+0x200 || e.KernelEnd > 256<<20 {
		t.Errorf("%s: entry %+v", kernelPath, e)
	}
	// 128 MiB is too little for the kernel and a 120 MiB initramfs.
	small, err := memory.NewShared(0, 128<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if _, err := boot.Load(small, kernel, make([]byte, 120<<20), ""); err == nil {
		t.Error("a 120 MiB initramfs was loaded with the kernel into 128 MiB")
	}
}

// TestVMMBootsLinux: runx's own VMM, in the nested KVM host, boots Linux
// to an initramfs's /init: Debian's cloud bzImage through the 64-bit boot
// protocol (with one vCPU and with two) and the generic kernel's vmlinux
// through its PVH entry. /init's output reaches the serial console through the UART's
// interrupt (the guest found the port in the ACPI tables), and its reboot
// ends the VM with status 0, by Linux's default path (BIOS: the reset
// vector's stub) and by reboot=a (the FADT's reset register). With the
// virtio devices: the guest's entropy comes from virtio-rng, the vsock
// driver probes, a virtio-fs served by Debian's virtiofsd is read and
// written (the write seen on the host), a disk is read and written and a
// read-only one refuses writes, a NIC on a tap pings the host and
// carries TCP both ways, and ACPI power-off (S5) ends the VM with status 0. Bad input is refused, naming what is wrong.
func TestVMMBootsLinux(t *testing.T) {
	bin := runtimeBin(t)
	script := `set -u
d=$(mktemp -d); mkdir -p $d/bin $d/dev $d/proc
cp /bin/busybox $d/bin/; mknod $d/dev/console c 5 1
printf '%s\n' '#!/bin/busybox sh' \
	'/bin/busybox mount -t proc proc /proc' \
	'echo "init-reached cpus=$(/bin/busybox grep -c ^processor /proc/cpuinfo)"' \
	'/bin/busybox grep -q ttyS0 /proc/interrupts && echo serial-irq-ok' \
	'/bin/busybox reboot -f' >$d/init
chmod +x $d/init
(cd $d && find . | cpio -o -H newc --quiet) >$d.cpio
vmm() { timeout 240 ` + bin + ` vmm "$@"; echo "vmm-exit=$?"; }
echo "== bzimage"; vmm --kernel /usr/local/lib/runx/microvm/vmlinuz --initrd $d.cpio --cmdline "console=ttyS0 panic=-1" --mem 256
echo "== smp"; vmm --kernel /usr/local/lib/runx/microvm/vmlinuz --initrd $d.cpio --cmdline "console=ttyS0 panic=-1" --mem 256 --cpus 2
echo "== pvh"; vmm --kernel /var/cache/runx-tests/nested/vmlinux --initrd $d.cpio --cmdline "console=ttyS0 panic=-1" --mem 512
echo "== acpi-reset"; vmm --kernel /usr/local/lib/runx/microvm/vmlinuz --initrd $d.cpio --cmdline "console=ttyS0 panic=-1 reboot=a" --mem 256
# The virtio devices: entropy, a file system served by virtiofsd, the vsock.
m=$d/lib/modules; mkdir -p $m $d/mnt $d/sys; cp /usr/local/lib/runx/microvm/modules/*.ko $m/
printf '%s\n' '#!/bin/busybox sh' \
	'/bin/busybox mount -t proc proc /proc; /bin/busybox mount -t sysfs sys /sys; /bin/busybox mount -t devtmpfs dev /dev' \
	'for m in virtio_ring virtio virtio_mmio fuse virtiofs vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport virtio-rng virtio_blk failover net_failover virtio_net; do /bin/busybox insmod /lib/modules/$m.ko || echo "insmod $m failed"; done' \
	'echo "rng=$(/bin/busybox cat /sys/class/misc/hw_random/rng_current)"' \
	'/bin/busybox head -c 64 /dev/hwrng | /bin/busybox wc -c | /bin/busybox sed "s/^/hwrng-bytes=/"' \
	'/bin/busybox ls /sys/bus/virtio/drivers/vmw_vsock_virtio_transport | /bin/busybox grep -q virtio && echo vsock-probed' \
	'/bin/busybox mount -t virtiofs share /mnt && echo "host-says=$(/bin/busybox cat /mnt/from-host)"' \
	'echo written-by-guest >/mnt/from-guest && /bin/busybox umount /mnt' \
	'echo "disk-says=$(/bin/busybox head -c 15 /dev/vda) serial=$(/bin/busybox cat /sys/block/vda/serial) ro=$(/bin/busybox cat /sys/block/vdb/ro)"' \
	'echo -n guest-wrote | /bin/busybox dd of=/dev/vda bs=512 seek=8 conv=notrunc,fsync 2>/dev/null && echo disk-written' \
	'echo -n nope | /bin/busybox dd of=/dev/vdb bs=512 seek=8 conv=notrunc,fsync 2>/dev/null || echo ro-refused' \
	'echo "mac=$(/bin/busybox cat /sys/class/net/eth0/address)"' \
	'/bin/busybox ip addr add 10.199.0.2/24 dev eth0 && /bin/busybox ip link set eth0 up' \
	'/bin/busybox ping -c 2 -W 5 10.199.0.1 >/dev/null && echo ping-ok' \
	'echo "from-host-bytes=$(/bin/busybox nc 10.199.0.1 5000 </dev/null | /bin/busybox wc -c)"' \
	'/bin/busybox head -c 4194304 /dev/zero | /bin/busybox nc 10.199.0.1 5001' \
	'/bin/busybox poweroff -f' >$d/init
(cd $d && find . | cpio -o -H newc --quiet) >$d.dev.cpio
mkdir $d/share; echo hello-guest >$d/share/from-host
/usr/lib/qemu/virtiofsd --socket-path=$d/vfs.sock -o source=$d/share -o cache=none >$d/vfsd.log 2>&1 &
for i in $(seq 100); do [ -S $d/vfs.sock ] && break; sleep 0.1; done
# A NIC on a tap: ping, then 8 MiB from the host and 4 MiB to it over TCP
# (64 KiB segments each way through the offloads).
modprobe tun; ip tuntap add dev rxt0 mode tap && ip addr add 10.199.0.1/24 dev rxt0 && ip link set rxt0 up
python3 -c '
import socket, sys
a = socket.create_server(("10.199.0.1", 5000)); b = socket.create_server(("10.199.0.1", 5001))
c, _ = a.accept(); c.sendall(b"x" * (8 << 20)); c.close()
c, _ = b.accept(); n = 0
while True:
    r = c.recv(1 << 16)
    if not r: break
    n += len(r)
print("to-host-bytes=%d" % n, flush=True)
' >$d/tcp.out 2>&1 &
# Two disks: one written by the guest, one read-only.
printf disk-says-hello >$d/disk.img; truncate -s 1M $d/disk.img; cp $d/disk.img $d/ro.img
echo "== devices"; vmm --kernel /usr/local/lib/runx/microvm/vmlinuz --initrd $d.dev.cpio --cmdline "console=ttyS0 panic=-1" --mem 256 \
	--rng --seccomp --fs share=$d/vfs.sock --vsock-cid 3 --vsock-uds $d/v.sock --net rxt0,mac=02:00:00:00:01:02 \
	--block $d/disk.img,id=runx-disk-0 --block $d/ro.img,ro
echo "host-sees=$(cat $d/share/from-guest) disk-has=$(dd if=$d/disk.img bs=512 skip=8 count=1 2>/dev/null | head -c 11) ro-has=$(dd if=$d/ro.img bs=512 skip=8 count=1 2>/dev/null | tr -d '\0' | wc -c)"
sleep 1; cat $d/tcp.out
echo "== not-a-kernel"; vmm --kernel /etc/passwd 2>&1
echo "== mem-0"; vmm --kernel /usr/local/lib/runx/microvm/vmlinuz --mem 0 2>&1
echo "== jail-outside-userns"; vmm --kernel /usr/local/lib/runx/microvm/vmlinuz --mem 64 --jail 2>&1; echo "runx-vmm-mounts=$(grep -c runx-vmm /proc/mounts)"
echo "== no-disk"; vmm --kernel /usr/local/lib/runx/microvm/vmlinuz --mem 256 --block /nonexistent.img 2>&1
echo "== no-tap"; vmm --kernel /usr/local/lib/runx/microvm/vmlinuz --mem 256 --net nosuchtap 2>&1; ip link show nosuchtap 2>&1
echo "== initrd-too-large"; truncate -s 300M $d.big; vmm --kernel /usr/local/lib/runx/microvm/vmlinuz --initrd $d.big --mem 256 2>&1
`
	out, code := nestedHost(t, nil, "bash", "-c", script)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	sections := map[string]string{}
	var cur string
	for _, l := range strings.Split(out, "\n") {
		if name, ok := strings.CutPrefix(l, "== "); ok {
			cur = name
			continue
		}
		sections[cur] += l + "\n"
	}
	for name, want := range map[string][]string{
		"bzimage":    {"init-reached cpus=1", "serial-irq-ok", "reboot: machine restart", "vmm-exit=0"},
		"smp":        {"smp: Brought up 1 node, 2 CPUs", "init-reached cpus=2", "serial-irq-ok", "vmm-exit=0"},
		"pvh":        {"init-reached cpus=1", "serial-irq-ok", "vmm-exit=0"},
		"acpi-reset": {"init-reached cpus=1", "vmm-exit=0"},
		"devices": {"rng=virtio_rng.0", "hwrng-bytes=64", "vsock-probed", "host-says=hello-guest",
			"disk-says=disk-says-hello serial=runx-disk-0 ro=1", "disk-written", "ro-refused", "disk-has=guest-wrote ro-has=0",
			"mac=02:00:00:00:01:02", "ping-ok", "from-host-bytes=8388608", "to-host-bytes=4194304",
			"reboot: Power down", "vmm-exit=0", "host-sees=written-by-guest"},
		"jail-outside-userns": {"jail: not in a user namespace of its own", "vmm-exit=1", "runx-vmm-mounts=0"},
		"no-disk":             {"--block /nonexistent.img: open /nonexistent.img: no such file or directory", "vmm-exit=1"},
		"not-a-kernel":        {"/etc/passwd: the kernel is neither an ELF vmlinux with a PVH entry nor a bzImage", "vmm-exit=1"},
		"mem-0":               {"memory 0 MiB: must be positive", "vmm-exit=1"},
		"no-tap":              {"--net nosuchtap: tap nosuchtap: Link not found", "vmm-exit=1", `Device "nosuchtap" does not exist`},
		"initrd-too-large":    {"the initramfs does not fit in guest memory", "vmm-exit=1"},
	} {
		for _, w := range want {
			if !strings.Contains(sections[name], w) {
				t.Errorf("%s: no %q in:\n%s", name, w, lastLines(sections[name], 40))
			}
		}
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// TestMicrovmOwnVMM: the microvm mode on runx's own VMM, in the nested KVM
// host (where it is the default hypervisor): this test binary runs a set
// of the microvm mode's own tests there (lifecycle, exit codes, exec,
// signals, the console socket, bind mounts, the network, ps, events,
// update, pods, the VM's end, the jail), each as it runs against QEMU on
// this host.
func TestMicrovmOwnVMM(t *testing.T) {
	requireRunx(t)
	// The microvm subtests of these, and the microvm-only tests after.
	withSubtest := []string{"TestLifecycle", "TestRunForegroundExitCodes", "TestExec", "TestExecIntoCreated",
		"TestKillSignals", "TestTerminalConsoleSocket", "TestBindMounts", "TestNetworkNamespacePath",
		"TestPs", "TestEventsStats", "TestUpdateMemoryAndPids"}
	own := []string{"TestMicrovmVMEnds", "TestMicrovmHypervisorJail", "TestMicrovmKilledMonitorNetns", "TestMicrovmPod"}
	subset := "^(" + strings.Join(withSubtest, "|") + ")$/^microvm$|^(" + strings.Join(own, "|") + ")$"
	mustPass := append([]string{}, own...)
	for _, name := range withSubtest {
		mustPass = append(mustPass, name+"/microvm")
	}
	out := testsInNestedHost(t, `"$RUNX" check 2>&1 | grep -o "hypervisor: [a-z]*" | head -1`, subset, mustPass)
	if !strings.Contains(out, "hypervisor: runx") {
		t.Fatalf("runx check in the nested host did not choose its own VMM:\n%s", lastLines(out, 150))
	}
}
