package tests

// compatPython covers python3 and its standard library as applications use them: the interpreter, threads, pools, multiprocessing, json, hashing, sqlite, archives.
var compatPython = []compatWorkload{
	{"py-pwd-host", `python3 -c 'import pwd, grp, socket, os; print(pwd.getpwuid(0).pw_name, grp.getgrgid(0).gr_name, socket.gethostname(), os.cpu_count() == len(os.sched_getaffinity(0)) or "affinity")'`},
	{"py-print", `python3 -c 'import sys; print("hi", sys.version_info[:2], sys.argv)' a b`},
	{"py-ids", `python3 -c 'import os; print(os.getpid(), os.getppid(), os.getuid(), os.getgid(), os.getcwd())'`},
	{"py-json", `python3 -c 'import json; d = {"a": [1, 2, {"b": None}]}; s = json.dumps(d, sort_keys=True); print(s, json.loads(s) == d)'`},
	{"py-hash-zlib", `python3 -c 'import hashlib, zlib; b = open("/etc/passwd","rb").read(); print(hashlib.sha256(b).hexdigest(), len(zlib.decompress(zlib.compress(b))) == len(b))'`},
	{"py-threads", `python3 - <<'EOF'
import threading
lock = threading.Lock()
total = [0]
def work(n):
    for _ in range(10000):
        with lock:
            total[0] += n
ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print(total[0], threading.active_count())
EOF`},
	{"py-threadpool", `python3 -c 'from concurrent.futures import ThreadPoolExecutor as E; print(sorted(E(4).map(lambda x: x*x, range(10))))'`},
	{"py-multiprocessing", `python3 -c 'import multiprocessing as m; print(m.Pool(2).map(abs, [-1, -2, 3]))'`},
	{"py-env-cwd", `cd /usr && FOO=bar python3 -c 'import os; print(os.environ["FOO"], os.getcwd()); os.chdir(".."); print(os.getcwd())'`},
	{"py-json-tool", `echo '{"b": [1, 2.5, "x"], "a": null, "c": {"d": true}}' | python3 -m json.tool --sort-keys; echo '[1,' | python3 -m json.tool 2>/dev/null; echo "invalid $?"`},
	{"py-sysconf", `python3 -c 'import os; print(os.cpu_count() > 0, os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_NPROCESSORS_ONLN") == os.cpu_count(), len(os.getloadavg()), os.sysconf("SC_CLK_TCK"))'; getconf PAGESIZE; getconf _NPROCESSORS_ONLN >/dev/null && echo nprocs`},
	{"py-mp-start-methods", `cd /tmp && cat > /tmp/mpw.py <<'EOF'
import multiprocessing as mp, os
def sq(x):
    return x * x
def put(q, i):
    q.put((i, os.getppid() > 0))
if __name__ == "__main__":
    for method in ("spawn", "forkserver", "fork"):
        ctx = mp.get_context(method)
        with ctx.Pool(2) as p:
            r = p.map(sq, range(8))
        q = ctx.Queue()
        ps = [ctx.Process(target=put, args=(q, i)) for i in range(3)]
        for x in ps: x.start()
        got = sorted(q.get(timeout=30) for _ in ps)
        for x in ps: x.join()
        print(method, r, got, [x.exitcode for x in ps])
EOF
python3 /tmp/mpw.py`},
	{"py-process-pool", `python3 - <<'EOF'
from concurrent.futures import ProcessPoolExecutor, as_completed
import os
def work(n):
    return n, sum(i * i for i in range(n * 1000))
def boom():
    raise ValueError("in worker")
if __name__ == "__main__":
    with ProcessPoolExecutor(max_workers=3) as ex:
        fs = [ex.submit(work, n) for n in range(10)]
        print(sorted(f.result() for f in as_completed(fs))[-1])
        print(list(ex.map(abs, [-3, -2, 1], chunksize=2)))
        try:
            ex.submit(boom).result()
        except ValueError as e:
            print("raised", e)
EOF`},
	{"py-sqlite-wal", `cd /tmp && python3 - <<'EOF'
import sqlite3, os, multiprocessing as mp
db = "/tmp/t.db"
c = sqlite3.connect(db)
print(c.execute("pragma journal_mode=wal").fetchone(), sqlite3.sqlite_version_info >= (3, 0))
c.execute("create table t (k integer primary key, v text)")
c.executemany("insert into t (v) values (?)", [("row %d" % i,) for i in range(1000)])
c.commit()
r = sqlite3.connect(db)
r.execute("begin"); print(r.execute("select count(*) from t").fetchone())
c.execute("insert into t (v) values ('after')"); c.commit()
print(r.execute("select count(*) from t").fetchone()); r.execute("commit")
print(r.execute("select count(*) from t").fetchone())
def writer(n):
    w = sqlite3.connect(db, timeout=30)
    for i in range(50):
        w.execute("insert into t (v) values (?)", ("w%d" % n,)); w.commit()
    w.close()
ps = [mp.Process(target=writer, args=(i,)) for i in range(3)]
for p in ps: p.start()
for p in ps: p.join()
print([p.exitcode for p in ps], c.execute("select count(*) from t where v like 'w%'").fetchone())
print(sorted(f for f in os.listdir("/tmp") if f.startswith("t.db")))
print(c.execute("pragma wal_checkpoint(truncate)").fetchone()[0], c.execute("pragma integrity_check").fetchone())
c.close(); r.close()
m = sqlite3.connect(":memory:"); print(m.execute("select sum(value) from (with recursive s(value) as (select 1 union all select value+1 from s where value < 100) select value from s)").fetchone())
EOF`},
	{"py-archives", `cd /tmp && python3 - <<'EOF'
import hashlib, os, shutil, tarfile, tempfile, zipfile
with tempfile.TemporaryDirectory() as d:
    src = os.path.join(d, "src")
    shutil.copytree("/usr/share/perl5", src, symlinks=True)
    def digest(root):
        h = hashlib.sha256()
        for dp, dn, fn in sorted(os.walk(root)):
            dn.sort()
            for f in sorted(fn):
                p = os.path.join(dp, f)
                h.update(os.path.relpath(p, root).encode())
                if not os.path.islink(p):
                    h.update(open(p, "rb").read())
        return h.hexdigest()
    ref = digest(src)
    z = shutil.make_archive(os.path.join(d, "a"), "zip", src)
    with zipfile.ZipFile(z) as zf:
        print(zf.testzip(), len(zf.namelist()) > 10)
        zf.extractall(os.path.join(d, "z"))
    print(digest(os.path.join(d, "z")) == ref)
    for mode in ("w:gz", "w:bz2", "w:xz"):
        t = os.path.join(d, "a.tar")
        with tarfile.open(t, mode) as tf:
            tf.add(src, arcname=".")
        with tarfile.open(t) as tf:
            tf.extractall(os.path.join(d, mode), filter="data")
        print(mode, digest(os.path.join(d, mode)) == ref)
    print(os.path.isdir(d))
print(os.path.exists(d))
EOF`},
	{"py-hash-bigfile", `cd /tmp && python3 - <<'EOF'
import hashlib, os, shutil
with open("/tmp/big", "wb") as f:
    for i in range(1024):
        f.write(hashlib.sha256(b"%d" % i).digest() * 512)
print(os.path.getsize("/tmp/big"))
with open("/tmp/big", "rb") as f:
    print(hashlib.file_digest(f, "sha256").hexdigest())
shutil.copyfile("/tmp/big", "/tmp/copy")
src = os.open("/tmp/big", os.O_RDONLY); dst = os.open("/tmp/sent", os.O_WRONLY | os.O_CREAT)
off = 0
while True:
    n = os.sendfile(dst, src, off, 1 << 20)
    if n == 0: break
    off += n
os.close(dst)
a = os.open("/tmp/big", os.O_RDONLY); b = os.open("/tmp/cfr", os.O_WRONLY | os.O_CREAT)
n = 0
while True:
    k = os.copy_file_range(a, b, 1 << 22)
    if k == 0: break
    n += k
os.close(b)
print(n, [hashlib.md5(open(p, "rb").read()).hexdigest() == hashlib.md5(open("/tmp/big", "rb").read()).hexdigest() for p in ("/tmp/copy", "/tmp/sent", "/tmp/cfr")])
EOF
md5sum /tmp/big | cut -c1-32; cat /tmp/big | sha1sum`},
	// Calls the kernel answers for the caller alone: sigqueue, file and
	// pipe I/O (sync_file_range, vmsplice, Linux AIO), memory locks and
	// protection keys.
	{"py-calls-passed", `python3 - <<'EOF'
import ctypes, errno, os, signal
libc = ctypes.CDLL(None, use_errno=True)
def r(name, v):
    print(name, v if v >= 0 else errno.errorcode[ctypes.get_errno()])
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
r("sigqueue", libc.sigqueue(os.getpid(), signal.SIGUSR1, ctypes.c_void_p(7)))
print("delivered", got)
fd = os.open("/tmp/sfr", os.O_RDWR | os.O_CREAT, 0o644); os.write(fd, b"x" * 8192)
r("sync_file_range", libc.syscall(277, fd, ctypes.c_long(0), ctypes.c_long(8192), 2))
rd, wr = os.pipe()
buf = ctypes.create_string_buffer(b"spliced")
iov = (ctypes.c_void_p * 2)(ctypes.cast(buf, ctypes.c_void_p), 7)
n = libc.syscall(278, wr, iov, 1, 0); r("vmsplice", n); print(os.read(rd, 7) if n > 0 else b"")
ctx = ctypes.c_ulong(0)
r("io_setup", libc.syscall(206, 8, ctypes.byref(ctx)))
r("io_destroy", libc.syscall(207, ctx))
r("munlockall", libc.syscall(152))
k = libc.syscall(330, 0, 0)
print("pkey_alloc", "ok" if k >= 0 else errno.errorcode[ctypes.get_errno()])
EOF`},
}
