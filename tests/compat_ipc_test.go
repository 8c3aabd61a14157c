package tests

// compatIPC covers inter-process communication other than sockets: pipes and FIFOs, System V IPC, POSIX message queues, shared memory, memfd and eventfd.
var compatIPC = []compatWorkload{
	{"fifo", `mkfifo /tmp/f && { echo via fifo > /tmp/f & } && cat /tmp/f; wait`},
	{"py-select-pipe", `python3 -c 'import os, select; r, w = os.pipe(); os.write(w, b"x"); print(select.select([r], [], [], 1)[0] == [r]); p = select.poll(); p.register(r, select.POLLIN); print(len(p.poll(100)))'`},
	// System V IPC (in the container's IPC namespace) and POSIX message queues.
	{"py-sysv-shm", `python3 - <<'EOF'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmdt.argtypes = [ctypes.c_void_p]
IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0
def check(r, what):
    if r == -1 or r is None or r == ctypes.c_void_p(-1).value:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), what)
    return r
shmid = check(libc.shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600), "shmget")
addr = check(libc.shmat(shmid, None, 0), "shmat")
ctypes.memmove(addr, b"hello shm\0", 10)
pid = os.fork()
if pid == 0:
    child = libc.shmat(shmid, None, 0)
    print("child reads", ctypes.string_at(child), flush=True)
    ctypes.memmove(child, b"child was here\0", 15)
    os._exit(0)
os.waitpid(pid, 0)
print("parent reads", ctypes.string_at(addr))
check(libc.shmdt(ctypes.c_void_p(addr)), "shmdt")
check(libc.shmctl(shmid, IPC_RMID, None), "shmctl")
print("removed", libc.shmat(shmid, None, 0) == ctypes.c_void_p(-1).value)
EOF`},
	{"py-sysv-sem", `python3 - <<'EOF'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
IPC_PRIVATE, IPC_CREAT, IPC_NOWAIT, IPC_RMID, GETVAL, SETVAL = 0, 0o1000, 0o4000, 0, 12, 16
class sembuf(ctypes.Structure):
    _fields_ = [("num", ctypes.c_ushort), ("op", ctypes.c_short), ("flg", ctypes.c_short)]
def check(r, what):
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), what)
    return r
sem = check(libc.semget(IPC_PRIVATE, 2, IPC_CREAT | 0o600), "semget")
check(libc.semctl(sem, 0, SETVAL, 1), "semctl SETVAL")
check(libc.semop(sem, ctypes.byref(sembuf(0, -1, 0)), 1), "semop")
print("after P", libc.semctl(sem, 0, GETVAL))
r = libc.semop(sem, ctypes.byref(sembuf(0, -1, IPC_NOWAIT)), 1)
print("P again", r, os.strerror(ctypes.get_errno()))
import sys; sys.stdout.flush()
pid = os.fork()
if pid == 0:
    libc.semop(sem, ctypes.byref(sembuf(1, -1, 0)), 1)
    print("child passed sem 1", flush=True)
    os._exit(0)
print("parent releases sem 1", flush=True)
check(libc.semop(sem, ctypes.byref(sembuf(1, 1, 0)), 1), "semop V")
os.waitpid(pid, 0)
check(libc.semctl(sem, 0, IPC_RMID), "semctl IPC_RMID")
print("removed", libc.semctl(sem, 0, GETVAL), os.strerror(ctypes.get_errno()))
EOF`},
	{"py-sysv-msg", `python3 - <<'EOF'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.msgrcv.restype = ctypes.c_ssize_t
IPC_PRIVATE, IPC_CREAT, IPC_NOWAIT, IPC_RMID = 0, 0o1000, 0o4000, 0
class msgbuf(ctypes.Structure):
    _fields_ = [("mtype", ctypes.c_long), ("mtext", ctypes.c_char * 64)]
def check(r, what):
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), what)
    return r
q = check(libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o600), "msgget")
for t, text in ((2, b"second type"), (1, b"first type"), (2, b"again two")):
    check(libc.msgsnd(q, ctypes.byref(msgbuf(t, text)), len(text), 0), "msgsnd")
m = msgbuf()
for want in (1, 0, 0):
    n = check(libc.msgrcv(q, ctypes.byref(m), 64, want, 0), "msgrcv")
    print(m.mtype, m.mtext[:n])
n = libc.msgrcv(q, ctypes.byref(m), 64, 0, IPC_NOWAIT)
print("empty", n, os.strerror(ctypes.get_errno()))
check(libc.msgctl(q, IPC_RMID, None), "msgctl")
print("removed")
EOF`},
	{"ipcmk-ipcs", `ipcmk -M 8192 >/dev/null && ipcmk -S 3 >/dev/null && ipcmk -Q >/dev/null && ipcs -m | awk 'NF == 6 && $1 != "key" {print "shm", $3, $4, $5, $6}'; ipcs -s | awk 'NF == 5 && $1 != "key" {print "sem", $3, $4, $5}'; ipcs -q | awk 'NF == 6 && $1 != "key" {print "msq", $3, $4, $5, $6}'`},
	{"py-mqueue", `python3 - <<'EOF'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.mq_receive.restype = ctypes.c_ssize_t
class mq_attr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long), ("msgsize", ctypes.c_long), ("curmsgs", ctypes.c_long), ("pad", ctypes.c_long * 4)]
def check(r, what):
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), what)
    return r
q = check(libc.mq_open(b"/runxq", os.O_CREAT | os.O_RDWR, 0o600, ctypes.byref(mq_attr(maxmsg=4, msgsize=64))), "mq_open")
check(libc.mq_send(q, b"low", 3, 1), "mq_send")
check(libc.mq_send(q, b"high", 4, 9), "mq_send")
a = mq_attr()
check(libc.mq_getattr(q, ctypes.byref(a)), "mq_getattr")
print("attr", a.maxmsg, a.msgsize, a.curmsgs)
buf, prio = ctypes.create_string_buffer(64), ctypes.c_uint()
for _ in range(2):
    n = check(libc.mq_receive(q, buf, 64, ctypes.byref(prio)), "mq_receive")
    print(buf.raw[:n], prio.value)
check(libc.mq_unlink(b"/runxq"), "mq_unlink")
print("unlinked")
EOF`},
	{"py-shared-memory", `python3 - <<'EOF'
from multiprocessing import shared_memory, Process
def child(name):
    s = shared_memory.SharedMemory(name=name)
    s.buf[:5] = b"HELLO"
    s.close()
shm = shared_memory.SharedMemory(create=True, size=4096)
shm.buf[:10] = b"hello shm!"
p = Process(target=child, args=(shm.name,))
p.start(); p.join()
print(bytes(shm.buf[:10]), p.exitcode)
shm.close(); shm.unlink()
EOF
ls /dev/shm | wc -l`},
	// An open that waits (a FIFO's) leaves the process's other threads
	// served; O_CREAT on an existing FIFO; a signal during the wait.
	{"fifo-open-waits", `python3 - <<'EOF'
import os, signal, threading, time
os.mkfifo("/tmp/ff")
got = []
def reader():
    with open("/tmp/ff") as f:
        got.append(f.read())
t = threading.Thread(target=reader); t.start()
time.sleep(0.3)
for i in range(200):
    os.stat("/tmp"); open("/etc/passwd").close()
print("served while a FIFO open waits:", t.is_alive())
fd = os.open("/tmp/ff", os.O_WRONLY | os.O_CREAT)
os.write(fd, b"through"); os.close(fd); t.join(); print(got)
hits = []
signal.signal(signal.SIGALRM, lambda *_: hits.append(1)); signal.setitimer(signal.ITIMER_REAL, 0.2)
threading.Timer(0.6, lambda: os.close(os.open("/tmp/ff", os.O_WRONLY))).start()
with open("/tmp/ff") as f:
    print("after a signal:", repr(f.read()), hits)
print(open("/dev/null").read() == "", os.open("/dev/zero", os.O_RDONLY) > 2)
EOF`},
	{"fifo-rw", `cd /tmp && mkfifo p && mknod q p && stat -c '%F %a' p q
(for i in 1 2 3; do echo "line $i"; done > p) & cat p; wait
{ echo one; sleep 0.1; echo two; } > p & { read -r a; read -r b; echo "got $a $b"; } < p; wait
exec 3<>q; echo through-rdwr >&3; read -r x <&3; echo "$x"; exec 3>&-
seq 1 20000 > p & wc -l < p; wait
python3 - <<'EOF'
import os, errno
try:
    os.open("/tmp/p", os.O_WRONLY | os.O_NONBLOCK)
except OSError as e:
    print("writer without reader:", errno.errorcode[e.errno])
r = os.open("/tmp/p", os.O_RDONLY | os.O_NONBLOCK)
w = os.open("/tmp/p", os.O_WRONLY | os.O_NONBLOCK)
os.write(w, b"nb"); print(os.read(r, 10))
try:
    os.read(r, 10)
except BlockingIOError:
    print("EAGAIN when empty")
os.close(w); print(os.read(r, 10))
EOF`},
	{"py-memfd-eventfd", `python3 - <<'EOF'
import os, mmap, select
fd = os.memfd_create("runx-memfd", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
os.write(fd, b"in memory"); os.lseek(fd, 0, 0)
print(os.read(fd, 100), os.readlink("/proc/self/fd/%d" % fd), os.fstat(fd).st_size)
import fcntl
fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW)
print(fcntl.fcntl(fd, fcntl.F_GET_SEALS))
try:
    os.write(fd, b"x")
except OSError as e:
    print("sealed:", e.strerror)
print(open("/proc/self/fd/%d" % fd, "rb").read())
m = mmap.mmap(os.memfd_create("m2"), 0) if False else None
e = os.eventfd(0, os.EFD_NONBLOCK)
ep = select.epoll(); ep.register(e, select.EPOLLIN)
print(ep.poll(0))
os.eventfd_write(e, 3); os.eventfd_write(e, 4)
print([ev for _, ev in ep.poll(1)], os.eventfd_read(e))
try:
    os.eventfd_read(e)
except BlockingIOError:
    print("drained")
s = os.eventfd(2, os.EFD_SEMAPHORE | os.EFD_NONBLOCK)
print(os.eventfd_read(s), os.eventfd_read(s))
if os.fork() == 0:
    os.eventfd_write(e, 42); os._exit(0)
os.wait(); print(ep.poll(1) != [], os.eventfd_read(e))
print(os.readlink("/proc/self/fd/%d" % e), os.readlink("/proc/self/fd/%d" % ep.fileno()))
EOF`},
	{"py-mmap-shared-fork", `python3 - <<'EOF'
import mmap, os
with open("/tmp/shm", "wb") as f:
    f.write(b"\0" * 8192)
f = open("/tmp/shm", "r+b")
m = mmap.mmap(f.fileno(), 8192, mmap.MAP_SHARED)
a = mmap.mmap(-1, 4096, mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
p = mmap.mmap(-1, 4096, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
pid = os.fork()
if pid == 0:
    m[0:11] = b"from child!"; m[4096:4100] = b"PAGE"; a[0:4] = b"anon"; p[0:4] = b"priv"
    os._exit(0)
os.waitpid(pid, 0)
print(m[0:11], m[4096:4100], a[0:4], p[0:4])
m.flush()
print(open("/tmp/shm", "rb").read(11))
g = open("/tmp/shm", "r+b"); g.seek(20); g.write(b"via write"); g.flush()
print(m[20:29])
m.resize(16384) if False else None
ro = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
print(len(ro), ro.find(b"PAGE"))
cp = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY); cp[0:4] = b"COPY"
print(m[0:4], cp[0:4])
EOF`},
}
