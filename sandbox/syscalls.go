package sandbox

import (
	"golang.org/x/sys/unix"
)

// handler serves one system call the filter sent to the Sentry.
type handler func(s *sentry, t *task) result

// handlers is the Sentry's system call table; README.md's coverage table
// says what each does. A number not in it fails with ENOSYS, logged once.
var handlers = map[int]handler{
	// Files and paths.
	unix.SYS_OPEN:              (*sentry).sysOpen,
	unix.SYS_OPENAT:            (*sentry).sysOpenat,
	unix.SYS_OPENAT2:           (*sentry).sysOpenat2,
	unix.SYS_CREAT:             (*sentry).sysCreat,
	unix.SYS_STAT:              (*sentry).sysStat,
	unix.SYS_LSTAT:             (*sentry).sysLstat,
	unix.SYS_NEWFSTATAT:        (*sentry).sysNewfstatat,
	unix.SYS_STATX:             (*sentry).sysStatx,
	unix.SYS_STATFS:            (*sentry).sysStatfs,
	unix.SYS_ACCESS:            (*sentry).sysAccess,
	unix.SYS_FACCESSAT:         (*sentry).sysFaccessat,
	unix.SYS_FACCESSAT2:        (*sentry).sysFaccessat2,
	unix.SYS_READLINK:          (*sentry).sysReadlink,
	unix.SYS_READLINKAT:        (*sentry).sysReadlinkat,
	unix.SYS_GETCWD:            (*sentry).sysGetcwd,
	unix.SYS_CHDIR:             (*sentry).sysChdir,
	unix.SYS_FCHDIR:            (*sentry).sysFchdir,
	unix.SYS_CHROOT:            (*sentry).sysChroot,
	unix.SYS_MKDIR:             (*sentry).sysMkdir,
	unix.SYS_MKDIRAT:           (*sentry).sysMkdirat,
	unix.SYS_MKNOD:             (*sentry).sysMknod,
	unix.SYS_MKNODAT:           (*sentry).sysMknodat,
	unix.SYS_UNLINK:            (*sentry).sysUnlink,
	unix.SYS_UNLINKAT:          (*sentry).sysUnlinkat,
	unix.SYS_RMDIR:             (*sentry).sysRmdir,
	unix.SYS_RENAME:            (*sentry).sysRename,
	unix.SYS_RENAMEAT:          (*sentry).sysRenameat,
	unix.SYS_RENAMEAT2:         (*sentry).sysRenameat2,
	unix.SYS_SYMLINK:           (*sentry).sysSymlink,
	unix.SYS_SYMLINKAT:         (*sentry).sysSymlinkat,
	unix.SYS_LINK:              (*sentry).sysLink,
	unix.SYS_LINKAT:            (*sentry).sysLinkat,
	unix.SYS_CHMOD:             (*sentry).sysChmod,
	unix.SYS_FCHMODAT:          (*sentry).sysFchmodat,
	unix.SYS_FCHMODAT2:         (*sentry).sysFchmodat2,
	unix.SYS_CHOWN:             (*sentry).sysChown,
	unix.SYS_LCHOWN:            (*sentry).sysLchown,
	unix.SYS_FCHOWNAT:          (*sentry).sysFchownat,
	unix.SYS_FCHOWN:            (*sentry).sysFchown,
	unix.SYS_FCHMOD:            (*sentry).sysFchmod,
	unix.SYS_UTIMENSAT:         (*sentry).sysUtimensat,
	unix.SYS_TRUNCATE:          (*sentry).sysTruncate,
	unix.SYS_GETXATTR:          (*sentry).sysNoXattr,
	unix.SYS_LGETXATTR:         (*sentry).sysNoXattr,
	unix.SYS_FGETXATTR:         (*sentry).sysNoXattr,
	unix.SYS_LISTXATTR:         (*sentry).sysNoXattr,
	unix.SYS_LLISTXATTR:        (*sentry).sysNoXattr,
	unix.SYS_FLISTXATTR:        (*sentry).sysNoXattr,
	unix.SYS_SETXATTR:          (*sentry).sysNoXattr,
	unix.SYS_LSETXATTR:         (*sentry).sysNoXattr,
	unix.SYS_FSETXATTR:         (*sentry).sysNoXattr,
	unix.SYS_REMOVEXATTR:       (*sentry).sysNoXattr,
	unix.SYS_LREMOVEXATTR:      (*sentry).sysNoXattr,
	unix.SYS_FREMOVEXATTR:      (*sentry).sysNoXattr,
	unix.SYS_INOTIFY_ADD_WATCH: (*sentry).sysInotifyAddWatch,

	// Descriptors.
	unix.SYS_DUP:         (*sentry).sysDup,
	unix.SYS_DUP2:        (*sentry).sysDup2,
	unix.SYS_DUP3:        (*sentry).sysDup3,
	unix.SYS_FCNTL:       (*sentry).sysFcntl,
	unix.SYS_IOCTL:       (*sentry).sysIoctl,
	unix.SYS_CLOSE_RANGE: (*sentry).sysCloseRange,
	unix.SYS_PIPE:        (*sentry).sysPipe,
	unix.SYS_PIPE2:       (*sentry).sysPipe2,
	unix.SYS_SOCKET:      (*sentry).sysSocket,
	unix.SYS_SOCKETPAIR:  (*sentry).sysSocketpair,
	unix.SYS_CONNECT:     (*sentry).sysConnect,
	unix.SYS_BIND:        (*sentry).sysBind,
	unix.SYS_SENDTO:      (*sentry).sysSendto,
	unix.SYS_SENDMSG:     (*sentry).sysSendmsg,
	unix.SYS_SENDMMSG:    (*sentry).sysSendmmsg,
	unix.SYS_GETSOCKOPT:  (*sentry).sysGetsockopt,

	// Programs and processes.
	unix.SYS_EXECVE:                (*sentry).sysExecve,
	unix.SYS_EXECVEAT:              (*sentry).sysExecveat,
	unix.SYS_CLONE:                 (*sentry).sysClone,
	unix.SYS_FORK:                  (*sentry).sysFork,
	unix.SYS_VFORK:                 (*sentry).sysFork,
	unix.SYS_WAIT4:                 (*sentry).sysWait4,
	unix.SYS_WAITID:                (*sentry).sysWaitid,
	unix.SYS_GETPID:                (*sentry).sysGetpid,
	unix.SYS_GETTID:                (*sentry).sysGettid,
	unix.SYS_GETPPID:               (*sentry).sysGetppid,
	unix.SYS_SETPGID:               (*sentry).sysSetpgid,
	unix.SYS_GETPGID:               (*sentry).sysGetpgid,
	unix.SYS_GETSID:                (*sentry).sysGetsid,
	unix.SYS_SCHED_GETAFFINITY:     (*sentry).sysSchedGetaffinity,
	unix.SYS_SCHED_SETAFFINITY:     (*sentry).sysSchedSetaffinity,
	unix.SYS_SCHED_GETPARAM:        (*sentry).sysSchedGetparam,
	unix.SYS_SCHED_SETPARAM:        (*sentry).sysSchedSetparam,
	unix.SYS_SCHED_GETSCHEDULER:    (*sentry).sysSchedGetscheduler,
	unix.SYS_SCHED_SETSCHEDULER:    (*sentry).sysSchedSetscheduler,
	unix.SYS_SCHED_GETATTR:         (*sentry).sysSchedGetattr,
	unix.SYS_SCHED_SETATTR:         (*sentry).sysSchedSetattr,
	unix.SYS_SCHED_RR_GET_INTERVAL: (*sentry).sysSchedRRGetInterval,
	unix.SYS_GETPRIORITY:           (*sentry).sysPriority,
	unix.SYS_IOPRIO_GET:            (*sentry).sysIoprio,
	unix.SYS_IOPRIO_SET:            (*sentry).sysIoprio,
	unix.SYS_SETPRIORITY:           (*sentry).sysPriority,
	unix.SYS_PRLIMIT64:             (*sentry).sysPrlimit64,
	unix.SYS_GETRLIMIT:             (*sentry).sysGetrlimit,
	unix.SYS_SETRLIMIT:             (*sentry).sysSetrlimit,
	unix.SYS_PRCTL:                 (*sentry).sysPrctl,
	unix.SYS_SECCOMP:               (*sentry).sysSeccomp,
	unix.SYS_PERSONALITY:           (*sentry).sysContinue,
	unix.SYS_GET_MEMPOLICY:         (*sentry).sysContinue,
	unix.SYS_SET_MEMPOLICY:         (*sentry).sysContinue,
	unix.SYS_MBIND:                 (*sentry).sysContinue,

	// Signals.

	// Identity and the host.
	unix.SYS_GETUID:        (*sentry).sysGetuid,
	unix.SYS_GETEUID:       (*sentry).sysGeteuid,
	unix.SYS_GETGID:        (*sentry).sysGetgid,
	unix.SYS_GETEGID:       (*sentry).sysGetegid,
	unix.SYS_GETRESUID:     (*sentry).sysGetresuid,
	unix.SYS_GETRESGID:     (*sentry).sysGetresgid,
	unix.SYS_GETGROUPS:     (*sentry).sysGetgroups,
	unix.SYS_SETUID:        (*sentry).sysSetuid,
	unix.SYS_SETGID:        (*sentry).sysSetgid,
	unix.SYS_SETREUID:      (*sentry).sysSetreuid,
	unix.SYS_SETREGID:      (*sentry).sysSetregid,
	unix.SYS_SETRESUID:     (*sentry).sysSetresuid,
	unix.SYS_SETRESGID:     (*sentry).sysSetresgid,
	unix.SYS_SETFSUID:      (*sentry).sysSetfsuid,
	unix.SYS_SETFSGID:      (*sentry).sysSetfsgid,
	unix.SYS_SETGROUPS:     (*sentry).sysSetgroups,
	unix.SYS_CAPGET:        (*sentry).sysCapget,
	unix.SYS_CAPSET:        (*sentry).sysCapset,
	unix.SYS_UNAME:         (*sentry).sysUname,
	unix.SYS_SETHOSTNAME:   (*sentry).sysSethostname,
	unix.SYS_SETDOMAINNAME: (*sentry).sysSetdomainname,

	// What an unprivileged container may not do.
	unix.SYS_MOUNT:      (*sentry).sysRefused,
	unix.SYS_UMOUNT2:    (*sentry).sysRefused,
	unix.SYS_PIVOT_ROOT: (*sentry).sysRefused,
	unix.SYS_SETNS:      (*sentry).sysRefused,
	unix.SYS_UNSHARE:    (*sentry).sysUnshare,
	unix.SYS_PTRACE:     (*sentry).sysRefused,
}

// dispatch serves a notification.
func (s *sentry) dispatch(t *task) result {
	nr := t.nr()
	h, ok := handlers[nr]
	if !ok {
		name := sysName(nr)
		s.logOnce("nosys-"+name, "unsupported system call %s (%d): returning ENOSYS", name, nr)
		return fail(unix.ENOSYS)
	}
	r := s.asCaller(t, func() result { return h(s, t) })
	if s.opts.debug {
		switch r.kind {
		case kindContinue:
			s.debugf("[%d] %s(%#x, %#x, %#x): passed to the host", t.tid, sysName(nr), t.arg(0), t.arg(1), t.arg(2))
		case kindReply:
			s.debugf("[%d] %s(%#x, %#x, %#x) = %d %v", t.tid, sysName(nr), t.arg(0), t.arg(1), t.arg(2), r.val, r.errno)
		}
	}
	return r
}
