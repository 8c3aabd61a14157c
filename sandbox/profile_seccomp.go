//go:build cgo && seccomp

package sandbox

import (
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// compileProfile turns linux.seccomp into a BPF program for the workload.
// Only the native architecture matters: the Sentry's filter already fails
// every other one with ENOSYS, and so does this program (its bad-architecture
// action), so that neither kills a process the other would not.
func compileProfile(spec *specs.LinuxSeccomp) (*profile, error) {
	cfg, err := specconv.SetupSeccomp(spec)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, nil
	}
	if cfg.ListenerPath != "" {
		return nil, fmt.Errorf("linux.seccomp.listenerPath is not supported in the sandbox isolation mode (the Sentry is the workload's seccomp listener)")
	}
	def, err := scmpAction(cfg.DefaultAction, cfg.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp.defaultAction: %w", err)
	}
	f, err := libseccomp.NewFilter(def)
	if err != nil {
		return nil, fmt.Errorf("libseccomp: %w", err)
	}
	defer f.Release()
	if err := f.SetBadArchAction(libseccomp.ActErrno.SetReturnCode(int16(unix.ENOSYS))); err != nil {
		return nil, err
	}
	if err := f.SetNoNewPrivsBit(false); err != nil { // the loader sets it
		return nil, err
	}
	for _, sc := range cfg.Syscalls {
		if sc == nil || sc.Name == "" {
			continue
		}
		act, err := scmpAction(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("linux.seccomp: %s: %w", sc.Name, err)
		}
		if act == def {
			continue // libseccomp refuses a rule that says what the default says
		}
		nr, err := libseccomp.GetSyscallFromName(sc.Name)
		if err != nil {
			continue // a name this libseccomp does not know (another architecture's, or newer)
		}
		if err := addRules(f, nr, act, sc.Args); err != nil {
			return nil, fmt.Errorf("linux.seccomp: %s: %w", sc.Name, err)
		}
	}
	var flags uintptr
	for _, fl := range cfg.Flags {
		switch fl {
		case specs.LinuxSeccompFlagLog:
			flags |= unix.SECCOMP_FILTER_FLAG_LOG
		case specs.LinuxSeccompFlagSpecAllow:
			flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		case specs.LinuxSeccompFlagWaitKillableRecv:
			// only meaningful with a listener
		default:
			return nil, fmt.Errorf("linux.seccomp.flags: %q is not supported", fl)
		}
	}
	mfd, err := unix.MemfdCreate("runx-seccomp", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	file := os.NewFile(uintptr(mfd), "runx-seccomp")
	defer file.Close()
	if err := f.ExportBPF(file); err != nil {
		return nil, fmt.Errorf("libseccomp: exporting the program: %w", err)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(file)
	if err != nil {
		return nil, err
	}
	return parseBPF(b, flags)
}

// addRules adds one rule with all the conditions, or, when two conditions
// test the same argument (which libseccomp cannot AND), one rule per
// condition: the OCI reading of such a list is "any of them".
func addRules(f *libseccomp.ScmpFilter, nr libseccomp.ScmpSyscall, act libseccomp.ScmpAction, args []*configs.Arg) error {
	if len(args) == 0 {
		return f.AddRule(nr, act)
	}
	conds := make([]libseccomp.ScmpCondition, 0, len(args))
	seen := map[uint]bool{}
	repeated := false
	for _, a := range args {
		c, err := scmpCondition(a)
		if err != nil {
			return err
		}
		if seen[a.Index] {
			repeated = true
		}
		seen[a.Index] = true
		conds = append(conds, c)
	}
	if !repeated {
		return f.AddRuleConditional(nr, act, conds)
	}
	for _, c := range conds {
		if err := f.AddRuleConditional(nr, act, []libseccomp.ScmpCondition{c}); err != nil {
			return err
		}
	}
	return nil
}

func scmpCondition(a *configs.Arg) (libseccomp.ScmpCondition, error) {
	ops := map[configs.Operator]libseccomp.ScmpCompareOp{
		configs.EqualTo:              libseccomp.CompareEqual,
		configs.NotEqualTo:           libseccomp.CompareNotEqual,
		configs.GreaterThan:          libseccomp.CompareGreater,
		configs.GreaterThanOrEqualTo: libseccomp.CompareGreaterEqual,
		configs.LessThan:             libseccomp.CompareLess,
		configs.LessThanOrEqualTo:    libseccomp.CompareLessOrEqual,
		configs.MaskEqualTo:          libseccomp.CompareMaskedEqual,
	}
	op, ok := ops[a.Op]
	if !ok {
		return libseccomp.ScmpCondition{}, fmt.Errorf("unknown operator %d", a.Op)
	}
	if op == libseccomp.CompareMaskedEqual {
		return libseccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
	}
	return libseccomp.MakeCondition(a.Index, op, a.Value)
}

func scmpAction(a configs.Action, errnoRet *uint) (libseccomp.ScmpAction, error) {
	code := func(def int16) int16 {
		if errnoRet != nil {
			return int16(*errnoRet)
		}
		return def
	}
	switch a {
	case configs.Kill, configs.KillThread:
		return libseccomp.ActKillThread, nil
	case configs.KillProcess:
		return libseccomp.ActKillProcess, nil
	case configs.Errno:
		return libseccomp.ActErrno.SetReturnCode(code(int16(unix.EPERM))), nil
	case configs.Trap:
		return libseccomp.ActTrap, nil
	case configs.Allow:
		return libseccomp.ActAllow, nil
	case configs.Trace:
		return libseccomp.ActTrace.SetReturnCode(code(int16(unix.EPERM))), nil
	case configs.Log:
		return libseccomp.ActLog, nil
	case configs.Notify:
		return 0, fmt.Errorf("SCMP_ACT_NOTIFY is not supported in the sandbox isolation mode (the Sentry is the workload's seccomp listener)")
	}
	return 0, fmt.Errorf("unknown action %d", a)
}
