package tests

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The contract suite: what every isolation mode must keep of runc's
// behaviour (create/start/state/kill/delete, run and run -d, exit statuses,
// stdio and tty, exec, signals, pause/resume, pid files, ps, events, update,
// bad input, nothing left behind), written once and run per mode. A contract
// test is
//
//	func TestX(t *testing.T) {
//		forEachMode(t, "feature", func(t *testing.T, m mode) {
//			b := newBundle(t, ...)
//			m.apply(b)
//			...
//		})
//	}
//
// and runs as TestX/namespace, TestX/sandbox, TestX/unikernel and
// TestX/microvm. A mode that cannot have a feature by design says why in
// notApplicable, and its subtest is skipped with that reason (go test -v
// shows it). A reason is a design fact, never a failure being hidden: a mode
// that should have a feature and fails it keeps failing. Where a mode does a
// thing differently by design (documented in its README), the test asserts
// that mode's documented behaviour instead (look for m.name ==).
//
// Not run per mode, because they never reach a mode (no container, or no
// config.json to read a mode from): TestDeleteForceMissingIsQuiet,
// TestListEmpty, TestEventsStatsMissing, TestBadConfigMissing,
// TestBadConfigMalformed, TestBadExecMissingContainer,
// TestBadUnknownCommandAndFlag.

// mode is one isolation mode the contract tests run in.
type mode struct {
	// name is the subtest's name and the value of dev.runx.isolation.
	name string
	// unavailable, when set, skips every contract test in the mode: the
	// mode is known by name but not built.
	unavailable string
}

// modes are the isolation modes, in the order their subtests run. The
// namespace mode is the reference (it is runc's behaviour) and needs no
// annotation, so the suite still runs against runc itself.
//
// A mode being built lists in notYet what it does not do yet.
var modes = []mode{
	{name: "namespace"},
	{name: "sandbox"},
	{name: "unikernel"},
	{name: "microvm"},
}

// contractFeatures are the features the contract tests name, each with the
// tests that check it. forEachMode and mode.require accept only these.
var contractFeatures = map[string]string{
	"lifecycle":      "create, state (every field), start, the process's exit, delete: TestLifecycle",
	"delete":         "delete of a created or running container, with and without --force: TestDeleteCreatedWithoutForce, TestDeleteForceRunning",
	"run":            "foreground run: the process's stdout and exit status, the bundle defaulting to the working directory: TestRunForegroundExitCodes, TestBundleDefaultsToWorkingDirectory",
	"run-detach":     "run --detach with a pid file: TestRunDetach",
	"pid-file":       "create --pid-file, absolute and relative: TestCreatePidFile",
	"list":           "list as a table, JSON and -q: TestList",
	"signals":        "kill by name or number of a process that does not handle the signal, of a created container, of a foreground run; signal 0: TestKillSignals, TestKillCreated, TestRunForegroundKilledBySignal, TestKillSignalZero",
	"signal-handler": "a signal the container's process handles (a shell's trap), and kill's default TERM: TestKillSignals (TERM), TestKillDefaultIsTERM, TestRunForegroundSignalHandled",
	"kill-all":       "kill --all reaches every process of the container: TestKillAll",
	"exec":           "exec: stdio, exit status, env, cwd, user, --process, into a created container, 255 for exec's own failures: TestExec, TestExecIntoCreated, TestExecFailureStatus (and what needs a second process: TestPs, TestTerminalExecConsoleSocket, TestBadExecStopped)",
	"exec-detach":    "exec -d with a pid file naming the exec'd process: TestExec/detach-pid-file, TestKillAll",
	"stdio":          "the stdio given to create is the container process's: TestCreateStdio",
	"tty":            "process.terminal with --console-socket, for the process and for exec -t: TestTerminalConsoleSocket, TestTerminalExecConsoleSocket",
	"pause":          "pause stops the process, resume lets it go on, a paused container can be force-deleted: TestPauseResume",
	"ps":             "ps as a table, JSON and with ps options: TestPs",
	"events":         "events --stats, and a stream that ends when the container is deleted: TestEventsStats, TestEventsEndWithContainer",
	"oom":            "an OOM kill in the container is an oom event of runx events: TestEventsOOM",
	"update":         "update of the cgroup's limits from flags (also after the id), a file and stdin, --memory -1: TestUpdateMemoryAndPids, TestUpdateFromResourcesFile, TestUpdateBadValue, TestFlagsAfterID, TestUpdateMemoryUnlimited",
	"bind-mounts":    "bind mounts of config.json, read-write, read-only and of a file; a missing source: TestBindMounts, TestBadBindMountSource",
	"hooks":          "config.json's hooks, each at its moment with the state on stdin, startContainer in the container; a failing hook, in runc's words: TestHooks, TestBadHookFails, TestHookFailureWording",
	"network":        "a network namespace named by path: the container reaches the host through its interface and serves on its address and at the namespace's localhost (what CRI port forwarding dials); the namespace is left as it was: TestNetworkNamespacePath",
	"bad-input":      "bad input fails naming the fault and leaves nothing behind: TestBad*, TestPauseNotRunning",
	"crash":          "runx killed at a spread of moments of create, run -d, run, start, exec and delete, the processes it starts killed under create and run, and a damaged state file: list and state answer, delete --force leaves nothing: TestKilledRuntimeLeavesNothing, TestKilledRuntimeLaterSteps, TestDamagedStateFile",
}

// notApplicable[mode][feature] is why a feature cannot apply to a mode by
// design. The namespace mode, runc's behaviour, has every feature.
var notApplicable = map[string]map[string]string{
	// The sandbox mode has every feature. Where it differs from the
	// namespace mode by design, the tests assert its behaviour as
	// sandbox/README.md documents it: an exec as another user needs
	// CAP_SETUID and CAP_SETGID in the container (TestExec; Identities);
	// the container's process is the Sentry and an exec's is its client,
	// beside the workload processes, which are named after the file they
	// run (TestPs; How a container starts, /proc and /dev).
	"sandbox": {},
	// A unikernel container's process is a Solo5 spt guest, not busybox:
	// a test applies only where its workload has a guest that does the same
	// (see ukGuestFor), which is a process that runs until it is killed.
	"unikernel": {
		"lifecycle":      "unikernel: the test's process exits when the test creates a file, and no guest reads files (Solo5 has a console, clocks, block and net devices); create/state/start/kill/delete of a guest is TestUnikernelOCILifecycle's",
		"run":            "unikernel: the workloads are busybox programs whose output and status the test checks (echo, sh -c 'exit N'); a guest's own statuses are checked by TestUnikernelOCIRun and TestUnikernelOCIExitStatuses",
		"signal-handler": "unikernel: a guest cannot handle a signal: Solo5 has no signal interface, so no guest can trap TERM and end as the test's shell does",
		"exec":           "unikernel: exec is refused by design: the guest is alone in its address space and the container has no other program to run (README, The unikernel mode)",
		"exec-detach":    "unikernel: exec is refused by design: the guest is alone in its address space and the container has no other program to run (README, The unikernel mode)",
		"stdio":          "unikernel: a guest has no stdin (Solo5's console is output only), and the test's process is a shell reading it",
		"tty":            "unikernel: the test's process is a shell testing that its stdio is a terminal; a guest has only Solo5's console",
		"bind-mounts":    "unikernel: a guest reads no files (Solo5 has a console, clocks, block and net devices); the unikernel mode's mounts are TestUnikernelOCI*'s",
		"network":        "unikernel: the test's process is a shell with nc; a guest's network is TestUnikernelOCINet's",
		"oom":            "unikernel: the test's process is busybox dd filling a buffer; a guest's memory is the tender's one allocation, fixed at start",
		"pause":          "unikernel: the test watches a counter a shell loop writes into the rootfs; a guest writes only to its block devices",
	},
}

// notYet[mode][feature]: a feature a mode is still being built for (its
// issue says when), skipped with that reason until it is; unlike
// notApplicable, every entry here is to go.
var notYet = map[string]map[string]string{}

// forEachMode runs f in a subtest per mode (t.Run(m.name, ...)), each
// skipped with its reason where the feature does not apply to the mode.
func forEachMode(t *testing.T, feature string, f func(t *testing.T, m mode)) {
	t.Helper()
	if _, ok := contractFeatures[feature]; !ok {
		t.Fatalf("forEachMode: unknown feature %q (add it to contractFeatures)", feature)
	}
	for _, m := range modes {
		m := m
		t.Run(m.name, func(t *testing.T) {
			m.require(t, feature)
			f(t, m)
		})
	}
}

// require skips t when feature does not apply to m, or m is not built, or
// m exists only in runx and the runtime under test is another one.
func (m mode) require(t *testing.T, feature string) {
	t.Helper()
	if _, ok := contractFeatures[feature]; !ok {
		t.Fatalf("mode.require: unknown feature %q (add it to contractFeatures)", feature)
	}
	if m.unavailable != "" {
		t.Skipf("%s: %s", m.name, m.unavailable)
	}
	if why, ok := notApplicable[m.name][feature]; ok {
		t.Skip(why)
	}
	if why, ok := notYet[m.name][feature]; ok {
		t.Skip(why)
	}
	if m.name != "namespace" {
		requireRunx(t)
	}
}

// applies reports whether feature applies to m.
func (m mode) applies(feature string) bool {
	if _, ok := contractFeatures[feature]; !ok {
		panic("mode.applies: unknown feature " + feature)
	}
	_, na := notApplicable[m.name][feature]
	_, ny := notYet[m.name][feature]
	return m.unavailable == "" && !na && !ny
}

// apply makes b's container run in m: it sets the annotation
// dev.runx.isolation (but for the namespace mode, the default), and for
// the unikernel mode puts the guest that stands for b's busybox process in
// the rootfs and makes it the process. Call it right after newBundle, before
// other edits of the process.
func (m mode) apply(b *bundle) {
	b.t.Helper()
	if m.name == "namespace" {
		return
	}
	if m.name == "unikernel" {
		args := ukGuestFor(b.t, b.spec.Process.Args)
		data, err := os.ReadFile(filepath.Join(ukGuests(b.t), strings.TrimPrefix(args[0], "/")))
		if err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(b.rootfs, args[0]), data, 0o755); err != nil {
			b.t.Fatal(err)
		}
		b.spec.Process.Args = args
	}
	b.edit(func(s *specs.Spec) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations["dev.runx.isolation"] = m.name
		if m.name == "unikernel" {
			// the guest needs little; the default would be 512 MiB
			s.Annotations["dev.runx.unikernel.memory"] = "64"
		}
	})
}

// ukGuestFor returns the process.args of the guest that does what the
// busybox command args does, failing the test when no guest does: the
// feature should then be in notApplicable["unikernel"].
//
// "sleep N" (run until killed): sysprobe makes one epoll_pwait on its epoll
// set with an infinite timeout (0xffffffff is -1 as the call's int). Its
// timer is never armed and it has no net device, so the call never returns.
func ukGuestFor(t *testing.T, args []string) []string {
	t.Helper()
	if len(args) == 2 && args[0] == "sleep" {
		// epoll_pwait with no timeout: blocks, silent as sleep is.
		return []string{"/sysprobe.spt", "--solo5:quiet", "quiet", "281", "EPOLLFD", "0", "1", "0xffffffff"}
	}
	t.Fatalf("no unikernel guest stands for %q: mark the feature not applicable to the unikernel mode", args)
	return nil
}

// TestContractModes checks the harness's tables: every mode with a row in
// notApplicable is in modes, every feature named is known, and every
// reason says something.
func TestContractModes(t *testing.T) {
	known := map[string]bool{}
	for _, m := range modes {
		if known[m.name] {
			t.Errorf("mode %s listed twice", m.name)
		}
		known[m.name] = true
	}
	var names []string
	for name := range notApplicable {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !known[name] {
			t.Errorf("notApplicable has a row for %q, which is not in modes", name)
		}
		for feature, why := range notApplicable[name] {
			if _, ok := contractFeatures[feature]; !ok {
				t.Errorf("notApplicable[%s] names unknown feature %q", name, feature)
			}
			if len(strings.Fields(why)) < 5 {
				t.Errorf("notApplicable[%s][%s] = %q: say why it cannot apply", name, feature, why)
			}
		}
	}
	if notApplicable["namespace"] != nil {
		t.Errorf("the namespace mode is the reference: every feature applies to it")
	}
}
