package sandbox

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/bpftest"

	"github.com/runx-dev/runx/internal/seccompbpf"
)

// run interprets the compiled filter on one system call.
func run(t *testing.T, prog []unix.SockFilter, arch uint32, nr int, args ...uint64) uint32 {
	t.Helper()
	r, err := bpftest.Run(prog, arch, uint32(nr), args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFilter(t *testing.T) {
	const execFD, cwdFD = 1023, 1022
	prog, err := seccompbpf.Compile(workloadFilter(execFD, cwdFD))
	if err != nil {
		t.Fatal(err)
	}
	const x86 = seccompbpf.AuditArchX86_64
	for _, c := range []struct {
		name string
		arch uint32
		nr   int
		args []uint64
		want uint32
	}{
		{"read", x86, unix.SYS_READ, []uint64{0, 0, 10}, retAllow},
		{"write", x86, unix.SYS_WRITE, []uint64{1}, retAllow},
		{"exit_group", x86, unix.SYS_EXIT_GROUP, nil, retAllow},
		{"openat goes to the Sentry", x86, unix.SYS_OPENAT, nil, retNotify},
		{"open goes to the Sentry", x86, unix.SYS_OPEN, nil, retNotify},
		{"execve goes to the Sentry", x86, unix.SYS_EXECVE, nil, retNotify},
		{"the approved exec", x86, unix.SYS_EXECVEAT, []uint64{execFD, 0, 0, 0, unix.AT_EMPTY_PATH}, retAllow},
		{"the approved exec, high bits ignored as the kernel does", x86, unix.SYS_EXECVEAT, []uint64{1<<32 | execFD, 0, 0, 0, unix.AT_EMPTY_PATH}, retAllow},
		{"execveat of another descriptor", x86, unix.SYS_EXECVEAT, []uint64{3, 0, 0, 0, unix.AT_EMPTY_PATH}, retNotify},
		{"execveat with a path", x86, unix.SYS_EXECVEAT, []uint64{execFD, 0, 0, 0, 0}, retNotify},
		{"execveat with other flags", x86, unix.SYS_EXECVEAT, []uint64{execFD, 0, 0, 0, unix.AT_EMPTY_PATH | unix.AT_SYMLINK_NOFOLLOW}, retNotify},
		{"close", x86, unix.SYS_CLOSE, []uint64{5}, retAllow},
		{"close of the working directory", x86, unix.SYS_CLOSE, []uint64{cwdFD}, seccompbpf.Errno(0)},
		{"close of the exec slot", x86, unix.SYS_CLOSE, []uint64{execFD}, seccompbpf.Errno(0)},
		{"fcntl F_GETFL", x86, unix.SYS_FCNTL, []uint64{3, unix.F_GETFL}, retAllow},
		{"fcntl F_DUPFD at or above the reserved ones", x86, unix.SYS_FCNTL, []uint64{3, unix.F_DUPFD, cwdFD + 1}, retNotify},
		{"fcntl F_SETOWN", x86, unix.SYS_FCNTL, []uint64{3, unix.F_SETOWN, 1}, retNotify},
		{"fcntl on the working directory", x86, unix.SYS_FCNTL, []uint64{cwdFD, unix.F_SETFD, 1}, seccompbpf.Errno(unix.EBADF)},
		{"ioctl TCGETS", x86, unix.SYS_IOCTL, []uint64{0, unix.TCGETS}, retAllow},
		{"ioctl TIOCSTI", x86, unix.SYS_IOCTL, []uint64{0, unix.TIOCSTI}, retNotify},
		{"sendto without an address", x86, unix.SYS_SENDTO, []uint64{3, 0, 1, 0, 0, 0}, retAllow},
		{"sendto with an address", x86, unix.SYS_SENDTO, []uint64{3, 0, 1, 0, 0x1000, 16}, retNotify},
		{"sendto with an address above 4 GiB", x86, unix.SYS_SENDTO, []uint64{3, 0, 1, 0, 1 << 32, 16}, retNotify},
		{"getsockopt SO_TYPE", x86, unix.SYS_GETSOCKOPT, []uint64{3, unix.SOL_SOCKET, unix.SO_TYPE}, retAllow},
		{"getsockopt SO_PEERCRED goes to the Sentry", x86, unix.SYS_GETSOCKOPT, []uint64{3, unix.SOL_SOCKET, unix.SO_PEERCRED}, retNotify},
		{"own affinity", x86, unix.SYS_SCHED_GETAFFINITY, []uint64{0}, retAllow},
		{"another's affinity", x86, unix.SYS_SCHED_GETAFFINITY, []uint64{7}, retNotify},
		{"prctl PR_SET_NAME", x86, unix.SYS_PRCTL, []uint64{unix.PR_SET_NAME}, retAllow},
		{"prctl other", x86, unix.SYS_PRCTL, []uint64{unix.PR_SET_DUMPABLE}, retNotify},
		{"clone3", x86, unix.SYS_CLONE3, nil, seccompbpf.Errno(unix.ENOSYS)},
		{"fork", x86, unix.SYS_FORK, nil, retAllow},
		{"pipe2", x86, unix.SYS_PIPE2, []uint64{0x1000, unix.O_CLOEXEC | unix.O_NONBLOCK}, retAllow},
		{"pipe2 O_NOTIFICATION_PIPE", x86, unix.SYS_PIPE2, []uint64{0x1000, unix.O_EXCL}, retNotify},
		{"dup2 below", x86, unix.SYS_DUP2, []uint64{3, 10}, retAllow},
		{"dup2 onto cwdFD", x86, unix.SYS_DUP2, []uint64{3, cwdFD}, retNotify},
		{"dup2 from execFD", x86, unix.SYS_DUP2, []uint64{execFD, 4}, retNotify},
		{"dup3 negative (the kernel's EBADF)", x86, unix.SYS_DUP3, []uint64{3, 0xffffffff, 0}, retAllow},
		{"dup2 above the reserved ones (a raised limit)", x86, unix.SYS_DUP2, []uint64{execFD + 5, execFD + 1}, retAllow},
		{"close above the reserved ones", x86, unix.SYS_CLOSE, []uint64{execFD + 1}, retAllow},
		{"fcntl above the reserved ones", x86, unix.SYS_FCNTL, []uint64{execFD + 1, unix.F_GETFL}, retAllow},
		{"fcntl on cwdFD", x86, unix.SYS_FCNTL, []uint64{cwdFD, unix.F_GETFL}, unix.SECCOMP_RET_ERRNO | uint32(unix.EBADF)},
		{"F_DUPFD from above the reserved ones", x86, unix.SYS_FCNTL, []uint64{3, unix.F_DUPFD, execFD + 1}, retAllow},
		{"F_DUPFD", x86, unix.SYS_FCNTL, []uint64{3, unix.F_DUPFD, 10}, retAllow},
		{"F_DUPFD_CLOEXEC at cwdFD", x86, unix.SYS_FCNTL, []uint64{3, unix.F_DUPFD_CLOEXEC, cwdFD}, retNotify},
		{"clone of a thread", x86, unix.SYS_CLONE, []uint64{0x3d0f00}, retAllow},
		{"clone with CLONE_NEWUSER", x86, unix.SYS_CLONE, []uint64{unix.CLONE_NEWUSER | 17}, retNotify},
		{"clone with CLONE_PTRACE", x86, unix.SYS_CLONE, []uint64{unix.CLONE_PTRACE | 17}, retNotify},
		{"clone with CLONE_PIDFD", x86, unix.SYS_CLONE, []uint64{unix.CLONE_PIDFD | 17}, retAllow},
		{"kill", x86, unix.SYS_KILL, []uint64{1, 9}, retAllow},
		{"fchown", x86, unix.SYS_FCHOWN, []uint64{3, 0, 0}, retNotify},
		{"getpid", x86, unix.SYS_GETPID, nil, retAllow},
		{"stat", x86, unix.SYS_STAT, []uint64{0x1000, 0x2000}, retNotify},
		{"an unknown number", x86, 999, nil, retNotify},
		{"x32", x86, seccompbpf.X32Bit | unix.SYS_READ, nil, seccompbpf.Errno(unix.ENOSYS)},
		{"-1", x86, -1, nil, seccompbpf.Errno(unix.ENOSYS)},
		{"i386", 0x40000003, 3, nil, seccompbpf.Errno(unix.ENOSYS)},
	} {
		if got := run(t, prog, c.arch, c.nr, c.args...); got != c.want {
			t.Errorf("%s: action %#x, want %#x", c.name, got, c.want)
		}
	}
}
