package tests

// compatProcesses covers processes and signals: fork, exec, wait, subprocesses, kill and traps, EINTR, POSIX timers, clocks, scheduling, resource limits.
var compatProcesses = []compatWorkload{
	{"nice", `nice -n 5 nice; nproc >/dev/null && echo nproc`},
	// Signals and job control in the shell.
	{"kill-0", `kill -0 $$ && echo alive`},
	{"trap-term", `sh -c 'trap "echo got TERM; exit 0" TERM; kill -TERM $$; sleep 5'`},
	{"kill-bg", `sleep 10 & kill $!; wait $!; echo $?`},
	{"trap-usr1-child", `sh -c 'trap "echo usr1" USR1; kill -USR1 $$; echo after'`},
	{"signal-exit", `sh -c 'kill -KILL $$'; echo $?`},
	{"py-subprocess", `python3 - <<'EOF'
import subprocess
r = subprocess.run(["ls", "/"], capture_output=True, text=True)
print(r.returncode, r.stdout.split())
r = subprocess.run("echo piped | tr a-z A-Z; exit 3", shell=True, capture_output=True, text=True)
print(r.returncode, repr(r.stdout))
p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out, _ = p.communicate(b"through cat\n")
print(p.returncode, out)
print(subprocess.call(["sh", "-c", "kill -TERM $$"]))
EOF`},
	{"py-fork-wait", `python3 - <<'EOF'
import os
pid = os.fork()
if pid == 0:
    os._exit(9)
_, st = os.waitpid(pid, 0)
print(pid, os.WEXITSTATUS(st))
r, w = os.pipe()
if os.fork() == 0:
    os.close(r)
    os.write(w, b"from child %d" % os.getppid())
    os._exit(0)
os.close(w)
print(os.read(r, 100))
os.wait()
EOF`},
	// A pty made the controlling terminal of a new session (pty.fork,
	// script): /dev/tty opens it, TIOCNOTTY lets it go.
	{"py-pty-ctty", `python3 - <<'EOF'
import os, pty, signal, sys, termios, fcntl
m, s = os.openpty(); sys.stdout.flush()
print("openpty", os.isatty(s), os.ttyname(s).startswith("/dev/pts/"), flush=True)
pid, fd = pty.fork()
if pid == 0:
    print("child tty", os.isatty(0), os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpgrp())
    fd2 = os.open("/dev/tty", os.O_RDWR); print("dev tty opens", fd2 > 0)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    fcntl.ioctl(0, termios.TIOCNOTTY)
    try:
        os.open("/dev/tty", os.O_RDWR); print("after notty: opened")
    except OSError as e:
        print("after notty:", e.strerror)
    sys.stdout.flush(); os._exit(3)
out = b""
while True:
    try:
        d = os.read(fd, 1000)
    except OSError:
        break
    if not d:
        break
    out += d
print(out.decode().replace("\r", "").strip())
print("status", os.waitpid(pid, 0)[1] >> 8)
EOF
script -qc 'tty | cut -c1-9; echo in script' /dev/null | tr -d '\r'
script -qc 'setsid -c sh -c "tty | cut -c1-9"' /dev/null | tr -d '\r'`},
	{"py-signal", `python3 - <<'EOF'
import os, signal
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
signal.signal(signal.SIGALRM, lambda s, f: got.append(s))
signal.alarm(1)
signal.pause()
print(got)
EOF`},
	{"py-pidfd", `python3 - <<'EOF'
import os, select, signal, subprocess
p = subprocess.Popen(["sleep", "30"])
fd = os.pidfd_open(p.pid)
print(os.get_inheritable(fd), os.get_blocking(os.pidfd_open(p.pid, os.O_NONBLOCK)))
signal.pidfd_send_signal(fd, signal.SIGTERM)
print(select.select([fd], [], [], 10)[0] == [fd])
r = os.waitid(os.P_PIDFD, fd, os.WEXITED)
print(r.si_pid == p.pid, r.si_status, r.si_code == os.CLD_KILLED)
try:
    os.pidfd_open(99999)
except OSError as e:
    print(e.strerror)
EOF`},
	// RLIMIT_NOFILE as config.json gives it (1024/4096, see compatRun),
	// raised, inherited, lowered, refused above the hard limit, and the
	// raised limit's descriptors usable.
	{"nofile-limits", `ulimit -Sn; ulimit -Hn; grep 'open files' /proc/self/limits
python3 - <<'EOF'
import os, resource as r, subprocess
N = r.RLIMIT_NOFILE
print(r.getrlimit(N))
r.setrlimit(N, (3000, 4096))
print(r.getrlimit(N), open("/proc/self/limits").read().count("3000"))
print(subprocess.run(["sh", "-c", "ulimit -Sn; ulimit -Hn"], capture_output=True, text=True).stdout.split())
fds = []
try:
    while True:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print("opened past 2900:", max(fds) > 2900, "then", e.strerror)
for fd in fds:
    os.close(fd)
p = subprocess.Popen(["sleep", "5"])
print(r.prlimit(p.pid, N), r.prlimit(p.pid, N, (100, 4096)), r.prlimit(p.pid, N))
p.kill(); p.wait()
r.setrlimit(N, (512, 2048))
print(r.getrlimit(N))
try:
    r.setrlimit(N, (512, 4096))
except (ValueError, OSError) as e:
    print("raise hard:", e)
try:
    r.setrlimit(N, (4096, 2048))
except (ValueError, OSError) as e:
    print("soft over hard:", e)
EOF`},
	{"timeout", `timeout 0.3 sleep 5; echo $?`},
	// EINTR robustness: a signal arriving while a call is being served
	// must not run it twice (a restarted mkdir reporting EEXIST), nor have
	// its results written after the caller has moved on. The handlers are
	// SA_RESTART (siginterrupt False): a signal in the microseconds before
	// the Sentry receives a call ends it unexecuted as an interrupted call
	// (EINTR without SA_RESTART), see sandbox/README.md's threat model.
	{"eintr-py-fs", `python3 - <<'EOF'
import os, signal, collections
fired = [0]
def tick(s, f):
    fired[0] += 1
signal.signal(signal.SIGALRM, tick)
signal.siginterrupt(signal.SIGALRM, False)
signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
errors, done = collections.Counter(), collections.Counter()
def attempt(name, fn):
    try:
        fn()
        done[name] += 1
    except OSError as e:
        errors[name, e.strerror] += 1
os.chdir("/tmp")
for i in range(600):
    d, f = "d%d" % (i % 7), "f%d" % (i % 5)
    attempt("mkdir", lambda: os.mkdir(d))
    attempt("rmdir", lambda: os.rmdir(d))
    attempt("create", lambda: os.close(os.open(f, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)))
    attempt("rename", lambda: os.rename(f, f + ".r"))
    attempt("unlink", lambda: os.unlink(f + ".r"))
signal.setitimer(signal.ITIMER_REAL, 0, 0)
print("ok" if not errors else "errors: %s" % sorted(errors.items()), sorted(done.items()), fired[0] > 0, sorted(os.listdir(".")))
EOF`},
	{"eintr-py-stat", `cd /tmp && touch f && ln -s f l && python3 - <<'EOF'
import os, signal, collections
signal.signal(signal.SIGALRM, lambda s, f: None)
signal.siginterrupt(signal.SIGALRM, False)
signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
errors, sizes = collections.Counter(), set()
for i in range(1000):
    for name, fn in (("stat", lambda: os.stat("f").st_size), ("lstat", lambda: os.lstat("l").st_size),
                     ("readlink", lambda: os.readlink("l")), ("getcwd", os.getcwd)):
        try:
            sizes.add((name, fn()))
        except OSError as e:
            errors[name, e.strerror] += 1
signal.setitimer(signal.ITIMER_REAL, 0, 0)
print("ok" if not errors else "errors: %s" % sorted(errors.items()), sorted(sizes))
EOF`},
	// POSIX timers that signal the process: directly, and flock -w (util-linux
	// times its wait with timer_create, and has no fallback).
	{"py-timer-create", `python3 - <<'EOF'
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
class sigevent(ctypes.Structure):
    _fields_ = [("value", ctypes.c_void_p), ("signo", ctypes.c_int), ("notify", ctypes.c_int), ("pad", ctypes.c_char * 48)]
class timespec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]
class itimerspec(ctypes.Structure):
    _fields_ = [("interval", timespec), ("value", timespec)]
CLOCK_MONOTONIC, SIGEV_SIGNAL = 1, 0
def check(r, what):
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), what)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
sev = sigevent(value=42, signo=signal.SIGUSR1, notify=SIGEV_SIGNAL)
tid = ctypes.c_void_p()
check(libc.timer_create(CLOCK_MONOTONIC, ctypes.byref(sev), ctypes.byref(tid)), "timer_create")
check(libc.timer_settime(tid, 0, ctypes.byref(itimerspec(value=timespec(0, 10000000))), None), "timer_settime")
info = signal.sigwaitinfo({signal.SIGUSR1})
print("fired", info.si_signo == signal.SIGUSR1, info.si_code == -2)
check(libc.timer_settime(tid, 0, ctypes.byref(itimerspec(interval=timespec(0, 5000000), value=timespec(0, 5000000))), None), "timer_settime")
for _ in range(3):
    signal.sigwait({signal.SIGUSR1})
print("periodic fired 3 times")
cur = itimerspec()
check(libc.timer_gettime(tid, ctypes.byref(cur)), "timer_gettime")
print("armed", cur.interval.nsec == 5000000, libc.timer_getoverrun(tid) >= 0)
check(libc.timer_delete(tid), "timer_delete")
print("deleted")
EOF`},
	{"flock-timeout", `touch /tmp/l; flock /tmp/l sh -c 'touch /tmp/held; sleep 3' & until [ -e /tmp/held ]; do sleep 0.05; done; flock -w 0.3 /tmp/l echo got it; echo "flock -w $?"; flock -n /tmp/l true; echo "flock -n $?"; wait; flock -w 1 /tmp/l echo free now`},
	{"py-subprocess-timeout", `python3 - <<'EOF'
import subprocess, time
t = time.monotonic()
try:
    subprocess.run(["sleep", "5"], timeout=0.3)
except subprocess.TimeoutExpired as e:
    print("timed out", time.monotonic() - t < 3)
try:
    subprocess.run("echo started; exec sleep 5", shell=True, timeout=0.3, capture_output=True)
except subprocess.TimeoutExpired as e:
    print("timed out with output", e.stdout)
p = subprocess.Popen(["sleep", "5"])
try:
    p.wait(timeout=0.2)
except subprocess.TimeoutExpired:
    p.terminate()
    print("terminated", p.wait())
print(subprocess.run(["true"], timeout=5).returncode)
EOF`},
	{"ionice", `ionice -p $$; ionice -c 3 sh -c ionice; ionice -c 2 -n 7 ionice; ionice -c 3 -p $$ && ionice`},
	{"timeout-nohup", `timeout -s INT 0.2 sleep 5; echo "int $?"
timeout -s KILL 0.2 sleep 5; echo "kill $?"
timeout --preserve-status -s TERM 0.2 sleep 5; echo "preserve $?"
timeout -k 0.2 0.1 sh -c 'trap "" TERM; sleep 5'; echo "ignored TERM $?"
timeout 5 sh -c 'exit 3'; echo "inner $?"
timeout 0.2 sh -c 'trap "echo got TERM; exit 0" TERM; sleep 5 & wait'; echo "trapped $?"
cd /tmp && nohup sh -c 'echo to nohup.out; trap -p HUP' 2>/dev/null; cat nohup.out
nohup sh -c 'kill -HUP $$; echo survived HUP' > /tmp/n2 2>&1; echo "nohup $?"; cat /tmp/n2
cd / && nohup true 2>&1; echo "ro cwd $?"`},
	// RLIMIT_NOFILE lowered: every way of making a descriptor stops at
	// the limit (open, dup, pipe, socket, eventfd, dup2 onto it), while
	// chdir and exec still work; a child inherits it; a lowered hard
	// limit holds.
	{"nofile-lowered", `python3 - <<'EOF'
import os, resource as r, socket, subprocess
N = r.RLIMIT_NOFILE
r.setrlimit(N, (20, 50))
fds = []
try:
    while True:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print("open stops at", max(fds), e.strerror)
for what, f in [("dup", lambda: os.dup(0)), ("pipe", os.pipe), ("socket", socket.socket),
                ("eventfd", lambda: os.eventfd(0)), ("dup2 onto 25", lambda: os.dup2(0, 25))]:
    try:
        f(); print(what, "made one")
    except OSError as e:
        print(what, e.strerror)
os.chdir("/tmp"); print("chdir", os.getcwd())
for fd in fds:
    os.close(fd)
print(subprocess.run(["sh", "-c", "ulimit -Sn; ulimit -Hn; cd /; pwd"], capture_output=True, text=True).stdout.split())
print(subprocess.run(["sh", "-c", "ulimit -n 10; exec 9</dev/null; exec 12</dev/null; echo no"], capture_output=True, text=True).returncode != 0)
r.setrlimit(N, (50, 50)); fds2 = []
try:
    while True:
        fds2.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print("raised to 50: stops at", max(fds2), e.strerror)
try:
    r.setrlimit(N, (60, 60))
except (ValueError, OSError) as e:
    print("raise hard:", e)
EOF`},
	{"env-ulimit", `env -i /usr/bin/env; echo "env -i $?"
env -i sh -c 'echo "[$PATH]"; pwd'; env -i PATH=/bin A=1 sh -c 'env | sort'
env -u HOME sh -c 'echo "[${HOME-unset}]"'; env --chdir=/usr pwd; env -0 X=1 true; echo
ulimit -c; ulimit -s; ulimit -Hc; ulimit -Hs; ulimit -u | awk '{print ($1 != "")}'; ulimit -l; ulimit -v; ulimit -f
ulimit -c 0; ulimit -s 4096; sh -c 'ulimit -s; ulimit -c'
sh -c 'ulimit -f 1; echo abc > /tmp/small; head -c 2000 /dev/zero > /tmp/big; echo "big $?"'; stat -c %s /tmp/big
python3 -c 'import resource as r; print(r.getrlimit(r.RLIMIT_STACK), r.getrlimit(r.RLIMIT_CORE), r.getrlimit(r.RLIMIT_AS)); r.setrlimit(r.RLIMIT_CORE, (0, 0)); print(r.getrlimit(r.RLIMIT_CORE))'
prlimit --pid $$ --core --stack -o RESOURCE,SOFT,HARD`},
	{"py-os-clocks", `python3 - <<'EOF'
import os, time, resource
print(len(os.sched_getaffinity(0)) > 0, os.sched_getaffinity(0) == os.sched_getaffinity(os.getpid()), len(os.getloadavg()))
ts = [time.clock_gettime(time.CLOCK_MONOTONIC) for _ in range(1000)]
print(all(a <= b for a, b in zip(ts, ts[1:])))
for c in ("CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_MONOTONIC_RAW", "CLOCK_BOOTTIME", "CLOCK_PROCESS_CPUTIME_ID", "CLOCK_THREAD_CPUTIME_ID", "CLOCK_TAI"):
    print(c, time.clock_gettime(getattr(time, c)) > 0, time.clock_getres(getattr(time, c)) <= 0.01)
t0 = time.monotonic(); time.sleep(0.05); print(0.04 < time.monotonic() - t0 < 1)
sum(range(2000000))
u = resource.getrusage(resource.RUSAGE_SELF)
print(u.ru_utime + u.ru_stime > 0, u.ru_maxrss > 1000, u.ru_minflt > 0)
if os.fork() == 0:
    sum(range(3000000)); os._exit(0)
os.wait()
c = resource.getrusage(resource.RUSAGE_CHILDREN)
print(c.ru_utime + c.ru_stime > 0, c.ru_maxrss > 1000)
print(resource.getrusage(resource.RUSAGE_THREAD).ru_utime >= 0)
t = os.times(); print(t.elapsed > 0, time.process_time() > 0, time.thread_time() > 0)  # times() counts 10 ms ticks, which this VM may not charge
print(abs(time.time() - time.clock_gettime(time.CLOCK_REALTIME)) < 1, time.time() > 1.6e9)
pid, st, ru = os.wait4(os.fork() or 0, 0) if False else (0, 0, None)
EOF`},
	{"py-threads-signals", `python3 - <<'EOF'
import os, signal, threading, time
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2, signal.SIGTERM})
b = threading.Barrier(20)
ids, lock = [], threading.Lock()
def work(i):
    with lock:
        ids.append(threading.get_native_id())
    b.wait()
ts = [threading.Thread(target=work, args=(i,)) for i in range(20)]
for t in ts: t.start()
for t in ts: t.join()
print(len(set(ids)), os.getpid() not in ids)
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append((s, threading.current_thread().name)))
signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1)
time.sleep(0.01)
print(got)
ev = threading.Event()
def blocker():
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
    ev.set()
    print("sigwait", signal.sigwait({signal.SIGUSR2}))
t = threading.Thread(target=blocker); t.start(); ev.wait()
os.kill(os.getpid(), signal.SIGUSR2); t.join()
signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)
print(signal.sigpending())
print(signal.sigtimedwait({signal.SIGTERM}, 1).si_signo, signal.sigtimedwait({signal.SIGTERM}, 0.05))
info = []
def worker():
    info.append(threading.get_native_id())
    time.sleep(0.2)
t = threading.Thread(target=worker); t.start(); time.sleep(0.05)
print(open("/proc/self/task/%d/stat" % info[0]).read().split()[2] in "SR", threading.active_count())
t.join()
print(threading.active_count())
EOF`},
	{"py-posix-spawn", `python3 - <<'EOF'
import os
pid = os.posix_spawn("/bin/sh", ["sh", "-c", "exit 5"], os.environ)
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
r, w = os.pipe()
pid = os.posix_spawnp("echo", ["echo", "spawned", "via", "path"], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_CLOSE, r)])
os.close(w); print(os.read(r, 100)); os.waitpid(pid, 0)
pid = os.posix_spawn("/bin/sh", ["sh", "-c", "cat; ps -o pgid= -p $$ >/dev/null; echo pgid-ok"], os.environ, file_actions=[(os.POSIX_SPAWN_OPEN, 0, "/etc/hostname", os.O_RDONLY, 0), (os.POSIX_SPAWN_OPEN, 1, "/tmp/spawn.out", os.O_WRONLY | os.O_CREAT, 0o644)], setpgroup=0)
os.waitpid(pid, 0); print(len(open("/tmp/spawn.out").read().split()), os.getpgid(0) != pid)
pid = os.posix_spawn("/bin/sh", ["sh", "-c", "[ $(ps -o sid= -p $$) -eq $$ ] && echo new session"], os.environ, setsid=True)
os.waitpid(pid, 0)
pid = os.posix_spawn("/bin/sh", ["sh", "-c", "kill -USR1 $$; echo ignored"], os.environ, setsigdef=[], setsigmask=[], resetids=True)
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
try:
    os.posix_spawn("/nonexistent", ["x"], os.environ)
except OSError as e:
    print("spawn error:", e.strerror)
import subprocess
print(subprocess.run(["true"], close_fds=False).returncode, subprocess._USE_POSIX_SPAWN)
EOF`},
	// Found and fixed: exec through a descriptor of a dynamic program no
	// path leads to (a memfd, a deleted file), and its /proc/self/exe.
	{"py-exec-memfd", `python3 - <<'EOF'
import os, shutil, sys
def run(fd, argv):
    pid = os.fork()
    if pid == 0:
        os.execve(fd, argv, {})
    print(argv[0], os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
fd = os.memfd_create("prog", 0)
os.write(fd, open("/usr/bin/readlink", "rb").read())
run(fd, ["readlink", "/proc/self/exe"])
shutil.copy("/usr/bin/cat", "/tmp/cat2")
f = os.open("/tmp/cat2", os.O_RDONLY)
os.unlink("/tmp/cat2")
run(f, ["cat2", "/proc/self/cmdline"])
print()
py = os.memfd_create("py", os.MFD_CLOEXEC)
os.write(py, open(sys.executable, "rb").read())
run(py, ["py", "-c", "import os, sys; print(os.readlink('/proc/self/exe'), sys.argv, len(open('/proc/self/exe', 'rb').read()) > 4096)"])
sh = os.memfd_create("script", 0)
os.write(sh, b"#!/bin/sh\necho script \"$0\" \"$@\"\n")
run(sh, ["script", "one"])
EOF`},
	// Found and fixed: privileged calls were unknown to the Sentry (ENOSYS
	// and a warning on stderr: dmesg). Those whose capability the kernel
	// checks first pass (its EPERM, or its ENOSYS for what it was built
	// without); the Sentry answers the others EPERM (syslog, quotactl,
	// fanotify_init, open_by_handle_at: their argument checks and
	// kernel.dmesg_restrict=0 would make the namespace mode's answer differ).
	{"privileged-calls", `python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for name, nr, args in [("acct", 163, (0,)), ("swapoff", 168, (b"/tmp",)), ("vhangup", 153, ()), ("init_module", 175, (0, 0, b"")), ("finit_module", 313, (-1, b"", 0)), ("delete_module", 176, (b"x", 0)), ("iopl", 172, (3,)), ("ioperm", 173, (0, 1, 1)), ("kexec_load", 246, (0, 0, 0, 0)), ("fanotify_init", 300, (0, 0)), ("reboot", 169, (0, 0, 0x4321FEDC, 0))]:
    r = libc.syscall(nr, *args)
    print(name, r, os.strerror(ctypes.get_errno()) if r < 0 else "")
'`},
	// Found and fixed by CPython's own tests (test_resource, test_posix,
	// test_os, test_fcntl): errors in the kernel's order and words for a
	// negative pid, a bad descriptor to tcsetpgrp, and dnotify (F_NOTIFY).
	{"py-errno-order", `python3 -c '
import errno, fcntl, os, resource
def e(f, *a):
    try:
        f(*a)
        return "ok"
    except OSError as x:
        return errno.errorcode[x.errno]
    except Exception as x:
        return type(x).__name__
print(e(resource.prlimit, -1, resource.RLIMIT_AS), e(os.sched_getaffinity, -1), e(os.sched_getscheduler, -1), e(os.sched_getparam, -5), e(os.getpgid, -1), e(os.getsid, -1))
print(e(os.tcsetpgrp, 99, 0), e(os.tcsetpgrp, os.open("/etc/hostname", os.O_RDONLY), 0))
d = os.open("/tmp", os.O_RDONLY)
print(e(fcntl.fcntl, d, fcntl.F_NOTIFY, fcntl.DN_CREATE | fcntl.DN_MULTISHOT))
'`},
	// Found and fixed: descriptors past the two reserved ones, in a process
	// that raised its soft RLIMIT_NOFILE (fcntl, close, getsockname there),
	// and the number execFD freed by every exec (test_selectors).
	{"py-fds-past-reserved", `python3 -c '
import fcntl, os, resource, socket
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
pairs = [socket.socketpair() for _ in range((soft + 200) // 2)]
high = max(s.fileno() for p in pairs for s in p)
print(high > soft, all(s.getsockname() == "" for p in pairs for s in p))
print(fcntl.fcntl(high, fcntl.F_GETFD), len(os.listdir("/proc/self/fd")) > soft)
os.close(high)
try:
    os.fstat(high)
except OSError as e:
    print("closed", e.strerror)
print(fcntl.fcntl(3, fcntl.F_DUPFD, soft + 50) >= soft + 50)
'`},
	// Found and fixed: prctl(PR_GET_NAME) in a dynamic program gave its
	// interpreter's name (ld-linux-x86-64), where /proc/self/comm gave its own.
	{"prctl-get-name", `python3 -c '
import ctypes, threading
libc = ctypes.CDLL(None)
def name():
    b = ctypes.create_string_buffer(b"x" * 16)
    libc.prctl(16, b)
    return b.raw
print(name(), open("/proc/self/comm").read().strip())
libc.prctl(15, b"renamed")
print(name(), open("/proc/self/comm").read().strip())
def worker():
    libc.prctl(15, b"worker-thread-long-name")
    print(name(), flush=True)
t = threading.Thread(target=worker)
t.start(); t.join()
'; busybox sh -c 'cat /proc/self/comm'`},
}
