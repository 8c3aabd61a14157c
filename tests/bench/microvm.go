package main

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
