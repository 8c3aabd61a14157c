package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// microvmCases compare the microvm isolation mode with the namespace mode
// in one run. The accelerator is the mode's automatic choice (runx check
// says which: TCG on a host whose /dev/kvm cannot run a Linux guest).
// Published anchors to read the figures against: Firecracker boots to
// guest init in under 125 ms with under 5 MiB of VMM memory; Kata
// Containers with QEMU takes about 0.5-1 s per pod on real KVM.
func microvmCases(runx string) []Case {
	runtimes := []Runtime{
		{Label: "runx-microvm", Argv: []string{runx}, EditConfig: withIsolation("microvm")},
		{Label: "runx-namespace", Argv: []string{runx}},
	}
	hypervisor := func(name string) func(cfg map[string]any) {
		return func(cfg map[string]any) {
			withIsolation("microvm")(cfg)
			cfg["annotations"].(map[string]any)["dev.runx.microvm.hypervisor"] = name
		}
	}
	vmms := []Runtime{
		{Label: "runx-vmm", Argv: []string{runx}, EditConfig: hypervisor("runx")},
		{Label: "qemu-kvm", Argv: []string{runx}, EditConfig: hypervisor("qemu")},
	}
	noKVM := func() string {
		out, _ := exec.Command(runx, "check").CombinedOutput()
		if !strings.Contains(string(out), "accel: kvm") {
			return "the microvm mode has no KVM here (runx check); make bench runs these inside the nested KVM host"
		}
		return ""
	}
	return []Case{
		{
			Name: "vm-run",
			Desc: "start-up: run --bundle B <id> of /bin/true (busybox rootfs), waited, then delete --force <id>: " +
				"a VM booted to its agent and torn down, beside the namespace mode (anchors: Firecracker < 125 ms to guest init, Kata+QEMU 0.5-1 s a pod on KVM)",
			Bundle:   []string{"/bin/true"},
			Runtimes: runtimes,
			Measure:  measureRun,
		},
		{
			Name: "vm-boot",
			Desc: "create of a sleep container, timed; figures from the VM: agent_ms (the hypervisor's start to the guest agent's first answer, " +
				"as the monitor measured it), overhead_MiB (what the VM costs the host beyond its guest RAM: monitor + QEMU + virtiofsd, " +
				"their resident memory less QEMU's guest RAM pages), guest_MiB (guest RAM pages resident); then delete --force, untimed " +
				"(anchors: Firecracker < 125 ms to guest init and < 5 MiB of VMM memory)",
			Bundle:   []string{"/bin/sleep", "3600"},
			Runtimes: runtimes[:1],
			Measure:  measureVMBoot,
		},
		{
			Name: "vmm-run",
			Desc: "run of /bin/true then delete --force, in the microvm mode on runx's own VMM beside QEMU -accel kvm " +
				"(where KVM is real: make bench runs these inside the nested KVM host)",
			Bundle:      []string{"/bin/true"},
			Runtimes:    vmms,
			Unavailable: noKVM,
			Measure:     measureRun,
		},
		{
			Name: "vmm-boot",
			Desc: "create of a sleep container on runx's own VMM beside QEMU -accel kvm, timed; init_ms (the hypervisor's start to the guest's /init), " +
				"agent_ms, overhead_MiB (monitor + VMM + virtiofsd beyond guest RAM), guest_MiB; then delete --force, untimed " +
				"(anchors: Firecracker < 125 ms to guest init and < 5 MiB of VMM memory)",
			Bundle:      []string{"/bin/sleep", "3600"},
			Runtimes:    vmms,
			Unavailable: noKVM,
			Measure:     measureVMBoot,
		},
		{
			Name:     "vm-exec",
			Desc:     "exec <id> /bin/true into a running sleep container (started with run -d beforehand): through the monitor and the guest agent",
			Bundle:   []string{"/bin/sleep", "3600"},
			Runtimes: runtimes,
			Setup:    startLongRunning,
			Measure:  measureExec,
			Teardown: deleteLongRunning,
		},
	}
}

// measureVMBoot times a create and reads the VM's figures while it runs.
func measureVMBoot(b *Bench, st *rtState, seq int) (Sample, error) {
	id := b.containerID(st, fmt.Sprint(seq))
	r, err := b.runtimeCmd(st, "create", "--bundle", st.bundle, id)
	if err != nil {
		return Sample{}, err
	}
	defer func() {
		if _, err := b.rawCmd(st, "delete", "--force", id); err != nil {
			b.logf("warning: %v", err)
		}
	}()
	dir := filepath.Join(st.root, id)
	metrics := map[string]float64{}
	var t map[string]float64
	if data, err := os.ReadFile(filepath.Join(dir, "timings.json")); err == nil && json.Unmarshal(data, &t) == nil {
		metrics["agent_ms"] = t["agent_ms"]
		if v, ok := t["init_ms"]; ok {
			metrics["init_ms"] = v
		}
	}
	var state struct {
		Pid int `json:"pid"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil || json.Unmarshal(data, &state) != nil {
		return Sample{}, fmt.Errorf("vm-boot: the state of %s: %v", id, err)
	}
	var vmPids []int
	if data, err := os.ReadFile(filepath.Join(dir, "vm.pids")); err == nil {
		_ = json.Unmarshal(data, &vmPids)
	}
	var own, shmem float64
	for _, pid := range append([]int{state.Pid}, vmPids...) {
		anon, file, sh := rssKiB(pid)
		own += anon + file
		shmem += sh
	}
	metrics["overhead_MiB"] = own / 1024
	metrics["guest_MiB"] = shmem / 1024
	return Sample{WallMs: r.wallMs, PeakKiB: r.maxRSSKiB, Metrics: metrics}, nil
}

// rssKiB is a process's resident memory in KiB: anonymous, file-backed and
// shared memory (the VM's guest RAM is a shared memfd).
func rssKiB(pid int) (anon, file, shmem float64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "RssAnon:":
			anon = v
		case "RssFile:":
			file = v
		case "RssShmem:":
			shmem = v
		}
	}
	return anon, file, shmem
}
