package tests

// compatFiles covers files and file systems: paths, links, permissions and ownership, timestamps, archives, locks, inotify, a file's last close, mounts, /dev.
var compatFiles = []compatWorkload{
	{"ls-long", `ls -la /etc/apt | awk '{print $1, $2, $3, $4, $5, $NF}'`},
	{"find-conf", `find /etc -maxdepth 1 -name '*.conf' | sort`},
	{"find-py-count", `find /usr/lib/python3.11 -name '*.py' | wc -l`},
	{"find-type", `find /usr/share/perl5 /usr/lib/x86_64-linux-gnu/perl-base -maxdepth 1 -type d | sort | head -20`},
	{"mkdir-tree", `cd /tmp && mkdir -p a/b/c && echo x > a/b/c/f && find a | sort && cat a/b/c/f`},
	{"tar-list", `cd /tmp && tar cf t.tar -C /etc passwd group hostname && tar tf t.tar`},
	{"tar-gzip-roundtrip", `cd /tmp && tar czf e.tgz -C / etc/apt && mkdir x && tar xzf e.tgz -C x && diff -r x/etc/apt /etc/apt && echo same && find x | sort`},
	{"gzip", `seq 20000 > /tmp/n && gzip -9 /tmp/n && ls /tmp && gunzip -c /tmp/n.gz | md5sum`},
	{"sha256sum", `sha256sum /etc/passwd /etc/group /usr/bin/ls`},
	{"urandom", `head -c 1000 /dev/urandom | wc -c`},
	{"dd-zero", `dd if=/dev/zero bs=1k count=100 2>/dev/null | md5sum`},
	{"stat", `stat -c '%n %s %a %U %G %F' /etc/passwd /etc /usr/bin/ls /bin`},
	// Relative paths from a directory descriptor or the working directory:
	// up and down, through relative, absolute and /proc symlinks, from the
	// root into /proc, from /dev into its links, in a removed directory.
	{"relative-walks", `mkdir -p /tmp/a/b && ln -s ../../a /tmp/a/b/up && ln -s /etc /tmp/a/b/abs && ln -s /proc/self /tmp/a/b/me
cd /tmp/a/b && ls -d up/b && head -c 3 abs/passwd && echo && head -1 me/status && test -d ../../a/b/up/b && echo dotdot
cd / && head -1 proc/self/status && test -e dev/fd/0 && echo fd0 && head -1 proc/1/status | cut -c1-5
cd /dev && test -e .runx; echo "runx $?"; test -e ./fd/1 && echo fd1; ls -d stdin
python3 - <<'EOF'
import os
os.mkdir("/tmp/gone"); os.chdir("/tmp/gone"); os.rmdir("/tmp/gone")
print(os.stat(".").st_nlink, os.listdir("."))
try:
    open("x", "w")
except OSError as e:
    print(e.strerror)
d = os.open("/tmp/a", os.O_RDONLY | os.O_DIRECTORY)
print(os.stat("b/up/b/abs", dir_fd=d, follow_symlinks=False).st_size > 0, os.path.exists("/tmp/a/b/abs/hostname"))
try:
    os.stat("../../proc/self", dir_fd=d)
    print("proc via ..")
except OSError as e:
    print(e.strerror)
EOF`},
	{"symlinks", `ln -s /etc/passwd /tmp/l && readlink /tmp/l && head -1 /tmp/l && ln -s ../etc /tmp/r && ls /tmp/r/apt | head -3`},
	{"hardlink-rename", `cd /tmp && echo d > a && ln a b && stat -c '%h' a && mv a c && ls && rm b c && ls | wc -l`},
	{"chmod", `touch /tmp/f && chmod 640 /tmp/f && stat -c %a /tmp/f && chmod u+x /tmp/f && test -x /tmp/f && echo exec`},
	{"cp-diff", `cp -a /etc/apt /tmp/apt && diff -r /etc/apt /tmp/apt && echo same`},
	{"du", `du -s /etc/apt /usr/share/perl5 | cut -f2`},
	{"mktemp", `d=$(mktemp -d); test -d "$d" && echo dir; f=$(mktemp); echo hi > "$f" && cat "$f"`},
	{"find-usr-count", `find /usr -type f | wc -l; find /usr -type l | wc -l`},
	{"tar-stream", `tar cf - -C /usr/lib python3.11 2>/dev/null | wc -c`},
	{"ls-recursive", `ls -lR /etc/apt | wc -l`},
	{"mounts", `cut -d' ' -f2,3 /proc/mounts; cut -d' ' -f2 /proc/self/mounts | sort | head -3`},
	{"ls-dev", `ls -a /dev`},
	{"dev-fd-symlink", `ls -ld /dev/fd /dev/stdin | awk '{print $1, $5, $NF}'; readlink /dev/fd; stat -c '%F %s' /dev/fd; test -L /dev/fd && echo link; ls /dev/fd/ | head -3`},
	// /proc names numbers as the kernel reads them: no leading zero.
	{"proc-numbers", `for p in /proc/self/fd/0 /proc/self/fd/00 /proc/self/fd/01 /proc/self/fdinfo/00 /proc/1 /proc/01 /proc/self/task/01 /proc/self/fd/+1 /proc/self/fd/99999999999; do test -e $p; echo "$p $?"; done`},
	{"proc-fdinfo", `exec 3</etc/passwd 4>/tmp/w; read -r l <&3; ls /proc/self/fdinfo/; grep -E '^(pos|flags)' /proc/self/fdinfo/3 /proc/self/fdinfo/4; cat /proc/$$/fdinfo/3 | cut -f1 | tr '\n' ' '; echo; test -e /proc/self/fdinfo/999 || echo none`},
	{"py-o-directory", `python3 -c '
import os
for p in ("/etc/passwd", "/etc", "/dev/null", "/proc/self/status", "/proc/self"):
    try:
        os.close(os.open(p, os.O_RDONLY | os.O_DIRECTORY)); print(p, "ok")
    except OSError as e:
        print(p, e.strerror)
'`},
	{"findmnt", `findmnt -rn -o TARGET,FSTYPE | sort`},
	{"df-root", `df -P / /tmp | awk '{print $1, $6}'`},
	{"flock", `touch /tmp/l && flock /tmp/l -c 'echo locked' && flock -n /tmp/l true && echo free`},
	{"chown", `touch /tmp/o && chown 0:0 /tmp/o && chgrp 0 /tmp/o && echo same-owner; chown 1:1 /tmp/o 2>/dev/null; echo "without CAP_CHOWN $?"; stat -c '%u %g' /tmp/o`},
	{"touch-date", `touch -d @0 /tmp/t && stat -c %Y /tmp/t && touch -d '2001-02-03 04:05:06 UTC' /tmp/t && date -u -r /tmp/t`},
	{"truncate", `truncate -s 1M /tmp/z && du -k --apparent-size /tmp/z && stat -c %s /tmp/z`},
	{"realpath", `mkdir -p /tmp/a/b && ln -s a/b /tmp/c && realpath /tmp/c/../b 2>&1; realpath /tmp/c; readlink -f /proc/self/root/etc`},
	{"umask", `umask; umask 027; touch /tmp/u; mkdir /tmp/v; stat -c '%a' /tmp/u /tmp/v`},
	{"py-mmap", `python3 -c 'import mmap; f = open("/tmp/m", "w+b"); f.write(b"0" * 4096); f.flush(); m = mmap.mmap(f.fileno(), 4096); m[0:5] = b"hello"; m.flush(); print(open("/tmp/m", "rb").read(5))'`},
	// Extended attributes by path, through and on a symlink, by
	// descriptor; the kernel's errors (flags, sizes, namespaces, a
	// read-only mount, procfs).
	{"py-xattr", `python3 - <<'EOF'
import errno, os
def t(name, f):
    try:
        v = f()
    except OSError as e:
        v = errno.errorcode[e.errno]
    print(name, v)
os.chdir("/tmp")
open("x", "w").write("data"); os.mkdir("xd"); os.symlink("x", "xl")
t("set", lambda: os.setxattr("x", "user.a", b"1"))
t("set-create-exists", lambda: os.setxattr("x", "user.a", b"2", os.XATTR_CREATE))
t("set-replace-missing", lambda: os.setxattr("x", "user.b", b"2", os.XATTR_REPLACE))
t("get", lambda: os.getxattr("x", "user.a"))
t("get-through-link", lambda: os.getxattr("xl", "user.a"))
t("get-link-itself", lambda: os.getxattr("xl", "user.a", follow_symlinks=False))
t("set-link-itself", lambda: os.setxattr("xl", "user.a", b"1", follow_symlinks=False))
t("list-link-itself", lambda: os.listxattr("xl", follow_symlinks=False))
t("get-missing", lambda: os.getxattr("x", "user.zz"))
t("dir", lambda: (os.setxattr("xd", "user.d", b"dir" * 100), len(os.getxattr("xd", "user.d"))))
fd = os.open("x", os.O_RDONLY)
t("fset", lambda: os.setxattr(fd, "user.f", b"fd"))
t("flist", lambda: sorted(os.listxattr(fd)))
t("fremove", lambda: (os.removexattr(fd, "user.f"), sorted(os.listxattr("x"))))
t("remove-missing", lambda: os.removexattr("x", "user.f"))
t("trusted", lambda: os.setxattr("x", "trusted.t", b"1"))
t("bad-namespace", lambda: os.setxattr("x", "bogus.t", b"1"))
t("too-big", lambda: os.setxattr("x", "user.big", b"0" * 70000))
t("no-such-file", lambda: os.getxattr("/tmp/none", "user.a"))
t("read-only-fs", lambda: os.setxattr("/etc/hostname", "user.a", b"1"))
t("proc", lambda: os.listxattr("/proc/self/status"))
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(2)
r = libc.getxattr(b"/tmp/x", b"user.a", None, 0); print("size-query", r)
r = libc.getxattr(b"/tmp/x", b"user.a", buf, 0); print("size-query-buf", r)
os.setxattr("x", "user.long", b"abcdef")
r = libc.getxattr(b"/tmp/x", b"user.long", buf, 2); print("erange", r, errno.errorcode[ctypes.get_errno()])
r = libc.listxattr(b"/tmp/x", None, 0); print("list-size", r)
EOF`},
	// A file's attributes (lsattr, chattr: +A yes, +i needs a capability
	// over the host); the clock read, and its setting refused.
	{"attr-flags-clock", `cd /tmp && echo x > f && chattr +A f && lsattr f && chattr -A f && lsattr f; lsattr -d /tmp | cut -c1-22
chattr +i f; echo "chattr +i: $?"
date -s 2020-01-01 2>&1 >/dev/null | sed 's/^date: //'
python3 - <<'EOF'
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
tx = ctypes.create_string_buffer(208)
r = libc.adjtimex(tx); print("adjtimex read", r >= 0, errno.errorcode.get(ctypes.get_errno()) if r < 0 else "")
ctypes.memmove(tx, (ctypes.c_uint * 1)(1), 4)
print("adjtimex change", libc.adjtimex(tx), errno.errorcode[ctypes.get_errno()])
ts = (ctypes.c_long * 2)(0, 0)
print("clock_settime", libc.clock_settime(0, ts), errno.errorcode[ctypes.get_errno()])
EOF`},
	{"py-flock", `python3 -c 'import fcntl; f = open("/tmp/k", "w"); fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB); fcntl.lockf(f, fcntl.LOCK_EX); print("locked")'`},
	{"py-scandir-glob", `python3 -c 'import os, glob; print(sorted(e.name for e in os.scandir("/etc/apt")), len(glob.glob("/usr/lib/python3.11/*.py")) > 100)'`},
	{"py-fileio", `python3 - <<'EOF'
import os
os.makedirs("/tmp/d/e", exist_ok=True)
with open("/tmp/d/e/f.txt", "w") as f:
    for i in range(1000):
        f.write("line %d\n" % i)
with open("/tmp/d/e/f.txt") as f:
    f.seek(100)
    print(repr(f.read(20)))
st = os.stat("/tmp/d/e/f.txt")
print(st.st_size, oct(st.st_mode))
os.rename("/tmp/d/e/f.txt", "/tmp/d/g.txt")
print(sorted(os.listdir("/tmp/d")))
os.symlink("g.txt", "/tmp/d/h")
print(os.readlink("/tmp/d/h"), os.path.realpath("/tmp/d/h"))
os.unlink("/tmp/d/g.txt")
print(os.path.exists("/tmp/d/h"), os.path.lexists("/tmp/d/h"))
EOF`},
	{"py-walk", `python3 -c 'import os; print(sum(len(f) for _, _, f in os.walk("/usr/lib/python3.11")))'`},
	{"py-tempfile-shutil", `python3 - <<'EOF'
import os, shutil, tempfile
d = tempfile.mkdtemp()
shutil.copytree("/etc/apt", os.path.join(d, "apt"))
print(sorted(os.listdir(os.path.join(d, "apt"))))
shutil.rmtree(d)
print(os.path.exists(d))
EOF`},
	// inotify: directly, and tail -f (which falls back to polling without it).
	{"py-inotify", `python3 - <<'EOF'
import ctypes, os, struct
libc = ctypes.CDLL(None, use_errno=True)
IN_CLOEXEC, IN_NONBLOCK = 0o2000000, 0o4000
IN_CREATE, IN_CLOSE_WRITE, IN_DELETE, IN_MOVED_FROM, IN_MOVED_TO, IN_ISDIR = 0x100, 0x8, 0x200, 0x40, 0x80, 0x40000000
fd = libc.inotify_init1(IN_CLOEXEC)
if fd < 0:
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), "inotify_init1")
wd = libc.inotify_add_watch(fd, b"/tmp", IN_CREATE | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)
print("wd", wd)
with open("/tmp/new", "w") as f:
    f.write("x")
os.rename("/tmp/new", "/tmp/old")
os.mkdir("/tmp/dir")
os.unlink("/tmp/old")
names = {IN_CREATE: "CREATE", IN_CLOSE_WRITE: "CLOSE_WRITE", IN_DELETE: "DELETE", IN_MOVED_FROM: "MOVED_FROM", IN_MOVED_TO: "MOVED_TO", IN_ISDIR: "ISDIR"}
buf = os.read(fd, 4096)
cookies = set()
while buf:
    w, mask, cookie, n = struct.unpack_from("iIII", buf)
    name = buf[16:16 + n].rstrip(b"\0").decode()
    print(w == wd, "|".join(v for k, v in names.items() if mask & k), name)
    if cookie:
        cookies.add(cookie)
    buf = buf[16 + n:]
print("one rename cookie", len(cookies) == 1)
print("rm_watch", libc.inotify_rm_watch(fd, wd))
EOF`},
	// A file's last close is the workload's own: what hangs on it (inotify's
	// IN_CLOSE_WRITE, flock's release, the end of ETXTBSY) has happened when
	// close returns, before the next call. Loops make a late close likely
	// to show if the Sentry kept a copy of the descriptor past its answer
	// (inotify and flock showed it in 1-9 of 300 rounds; exec, whose path
	// through the Sentry is long, did not show it here).
	{"last-close-inotify", `python3 - <<'EOF'
import ctypes, os, struct
libc = ctypes.CDLL(None, use_errno=True)
IN_CLOSE_WRITE, IN_MOVED_FROM = 0x8, 0x40
fd = libc.inotify_init1(0o2000000)
libc.inotify_add_watch(fd, b"/tmp", IN_CLOSE_WRITE | IN_MOVED_FROM)
late = 0
for i in range(600):
    with open("/tmp/new", "w") as f:
        f.write("x")
    os.rename("/tmp/new", "/tmp/old")
    events = []
    while len(events) < 2:
        buf = os.read(fd, 4096)
        while buf:
            _, mask, _, n = struct.unpack_from("iIII", buf)
            events.append((mask, buf[16:16 + n].rstrip(b"\0").decode()))
            buf = buf[16 + n:]
    if events[0] != (IN_CLOSE_WRITE, "new"):
        late += 1
print("rounds 600, IN_CLOSE_WRITE after the rename:", late)
EOF`},
	{"last-close-flock", `touch /tmp/l && python3 - <<'EOF'
import fcntl, os
go_r, go_w = os.pipe()
done_r, done_w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(go_w); os.close(done_r)
    held = 0
    while os.read(go_r, 1):
        fd = os.open("/tmp/l", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held += 1
        os.close(fd)
        os.write(done_w, b"k")
    print("still locked after the holder's close:", held, flush=True)
    os._exit(0)
os.close(go_r); os.close(done_w)
for i in range(600):
    fd = os.open("/tmp/l", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.close(fd)
    os.write(go_w, b"g")
    os.read(done_r, 1)
os.close(go_w)
print("child", os.waitpid(pid, 0)[1])
EOF`},
	{"last-close-exec", `python3 - <<'EOF'
import os
busy = 0
for i in range(300):
    path = "/tmp/s%d" % i
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o755)
    os.write(fd, b"#!/bin/true\n")
    os.close(fd)
    try:
        os.waitpid(os.posix_spawn(path, [path], {}), 0)
    except OSError:
        busy += 1
print("rounds 300, exec failed after the writer's close:", busy)
EOF`},
	{"tail-follow", `echo first > /tmp/log; (sleep 0.5; echo second >> /tmp/log; sleep 0.5; echo third >> /tmp/log) & timeout 3 tail -s 0.1 -f /tmp/log; echo "tail $?"`},
	{"install-ln-sf", `cd /tmp && install -d -m 0750 b/c && install -m 0644 /etc/passwd b/p && install -m 0755 /bin/true b/t && install -D -m 0600 /etc/group b/x/y/g && stat -c '%a %F %n' b b/c b/p b/t b/x/y/g && b/t && cmp b/p /etc/passwd && echo same; ln -sf p b/l && ln -sf t b/l && readlink b/l; ln -sfn c b/cl && ln -sfn x b/cl && readlink b/cl`},
	{"find-exec-xargs", `find /usr/share/doc -type f -name copyright -exec cat {} + | wc -l
find /usr/share/doc -maxdepth 1 -type d -exec sh -c 'echo "$#"' sh {} + | awk '{s+=$1} END {print s}'
find /etc/apt -type f -execdir basename {} \; | sort
cd /tmp && mkdir -p del/a/b && touch del/a/b/f del/x && find del -delete && ls del 2>&1
find /usr/bin -type f -print0 | xargs -0 -P 4 -n 16 md5sum | sort -k2 | md5sum
seq 1 40 | xargs -P 4 -I{} sh -c 'echo {}' | sort -n | md5sum
printf 'a b\nc\n' | xargs -d '\n' -n1 printf '[%s]\n'
echo 1 2 3 | xargs -t -n 1 true 2>&1
seq 5 | xargs sh -c 'exit 255' 2>/dev/null; echo "xargs $?"`},
	{"sort-tempfiles", `cd /tmp && seq 400000 | awk '{print ($1 * 7919) % 400000, $1}' > in
sort -S 1M -T /tmp -n -k1,1 in | md5sum
sort -S 1M --parallel=2 -T /tmp -t' ' -k2,2nr in | head -3
sort -S 1M -T /tmp -u -n -k1,1 in | wc -l
ls /tmp`},
	{"dd-sync", `cd /tmp && dd if=/dev/zero of=f bs=64k count=16 conv=fsync 2>/dev/null && stat -c %s f
dd if=/dev/zero of=g bs=4k count=4 conv=fdatasync,notrunc oflag=sync 2>/dev/null && stat -c %s g
dd if=f of=h bs=1M iflag=fullblock 2>&1 | grep -v copied
dd if=/dev/zero of=d bs=4k count=1 oflag=direct 2>&1 | grep -v copied; stat -c %s d
printf abcdefgh | dd bs=1 skip=2 count=3 2>/dev/null; echo
printf 'hello' | dd of=g bs=1 seek=3 conv=notrunc 2>/dev/null; od -c g | head -2
sync && sync -f /tmp/f && sync -d /tmp/f && sync /tmp/f && echo synced
python3 -c 'import os; fd = os.open("/tmp/f", os.O_RDWR); os.fsync(fd); os.fdatasync(fd); os.sync(); print("py synced")'`},
	{"statfs-df", `stat -f -c '%n %T %l %S' / /tmp /proc /dev /dev/shm /sys 2>&1
stat -f -c '%b %f %a' /tmp | awk '{print ($1 > 0), ($2 <= $1), ($3 <= $2)}'
df -P /tmp /dev/shm | awk '{print $1, $NF}'
df -T /tmp | awk 'NR>1 {print $2}'
df -i /tmp | awk 'NR>1 {print $1, ($2 > 0)}'
python3 -c 'import os; s = os.statvfs("/tmp"); print(s.f_bsize, s.f_namemax, s.f_frsize, s.f_flag & os.ST_NOSUID != 0, s.f_flag & os.ST_RDONLY); r = os.statvfs("/"); print(r.f_flag & os.ST_RDONLY)'
free -b | head -1; free -b | awk 'NR==2 {print $1, ($2 > 0)}'
nproc | awk '{print ($1 > 0)}'; [ "$(nproc)" = "$(getconf _NPROCESSORS_ONLN)" ] && echo nproc-matches
getconf -a | wc -l; getconf ARG_MAX; getconf PATH_MAX /tmp; getconf NAME_MAX /tmp; getconf LINE_MAX; getconf CHILD_MAX | awk '{print ($1 > 0)}'
uptime | grep -c 'load average'; cat /proc/loadavg | awk '{print NF}'`},
	{"mounts-tmp", `grep ' /tmp ' /proc/mounts
grep ' /tmp ' /proc/self/mountinfo | cut -d' ' -f4-
mount | grep ' /tmp '
findmnt -n -o TARGET,FSTYPE,OPTIONS /tmp
findmnt -n -o TARGET,OPTIONS /
mountpoint /tmp; mountpoint /usr; echo $?`},
	{"flock-shared", `cd /tmp && touch L
flock -s L sh -c 'touch s1; while [ ! -e s2 ]; do sleep 0.02; done; echo "first shared holder saw second" > o1' &
flock -s L sh -c 'touch s2; while [ ! -e s1 ]; do sleep 0.02; done; echo "second shared holder saw first" > o2' &
wait; cat o1 o2
flock -s L sh -c 'flock -n -x L true; echo "exclusive while shared $?"; flock -n -s L true; echo "shared while shared $?"'
flock -x L sh -c 'flock -n -s L true; echo "shared while exclusive $?"'
exec 8>L; flock -x 8; (flock -n -x L true; echo "other open file $?"); flock -u 8; (flock -n -x L true; echo "after unlock $?")
flock -x L sh -c 'touch held; sleep 0.3; echo holder done' & while [ ! -e held ]; do sleep 0.02; done; flock -x L echo "waited for holder"; wait
python3 -c '
import fcntl, os, struct
f = open("/tmp/L", "r+")
fcntl.lockf(f, fcntl.LOCK_EX, 10, 0)
if os.fork() == 0:
    g = open("/tmp/L", "r+")
    try:
        fcntl.lockf(g, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0); print("child got range")
    except OSError as e:
        print("child blocked:", e.errno in (11, 13))
    fcntl.lockf(g, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 20); print("child got other range")
    os._exit(0)
os.wait()'`},
	{"setgid-umask-dirs", `cd /tmp && mkdir g && chmod g+s g && stat -c '%A' g && mkdir g/sub && stat -c '%A %g' g/sub && touch g/f && stat -c '%A' g/f
umask 077; mkdir -p a/b/c; touch a/f; mkfifo a/p; stat -c '%a %n' a a/b a/b/c a/f a/p
umask 0; python3 -c 'import os; os.close(os.open("/tmp/o", os.O_CREAT | os.O_WRONLY, 0o777)); os.mkdir("/tmp/m", 0o1777)'; stat -c '%a %n' o m
umask 022; cp /etc/passwd c1; cp -p /etc/passwd c2; stat -c '%a %n' c1 c2
chmod 4755 o; chmod u-s o; chmod 2755 o; stat -c %a o; chmod =t m; stat -c '%A' m
chmod a=,u+rw o && stat -c '%A' o && chmod -R go+rX a && stat -c '%a %n' a a/f
python3 -c 'import os; print(oct(os.umask(0o27)), oct(os.umask(0)))'; grep Umask /proc/self/status`},
	{"links-times", `cd /tmp && mkdir d1 d2 && echo data > d1/f && ln d1/f d2/g && stat -c '%h' d1/f d2/g && echo more >> d2/g && cat d1/f && rm d1/f && stat -c '%h' d2/g
[ "$(stat -c %i d2/g)" = "$(ls -i d2/g | cut -d' ' -f1)" ] && echo inode-agrees
touch -d '2010-01-02 03:04:05 UTC' ref && touch -r ref new && stat -c '%Y %X' ref new
touch -m -d @1000000000 ref && touch -a -d @1200000000 ref && stat -c '%Y %X' ref
cp -p ref cp1 && stat -c '%Y %X %a' cp1; cp ref cp2 && [ "$(stat -c %Y cp2)" != 1000000000 ] && echo cp-without-p-is-now
ln -s ref sl && touch -h -d @500000000 sl && stat -c '%Y' sl ref
mkdir dt && touch -d @123456789 dt && cp -a dt dt2 && stat -c %Y dt2
touch -d '2038-01-19 03:14:08 UTC' y2038 && stat -c %Y y2038; touch -d @-1 neg && stat -c %Y neg
python3 -c 'import os; os.utime("/tmp/ref", ns=(1, 123456789123456789)); print(os.stat("/tmp/ref").st_mtime_ns, os.stat("/tmp/ref").st_atime_ns)'
touch -d @0 lnk-target && ln lnk-target hl && stat -c %Y hl`},
	{"sparse-fallocate", `cd /tmp && truncate -s 10M sp && du -k sp | cut -f1 && du -k --apparent-size sp | cut -f1 && stat -c '%s %b' sp
dd if=/dev/zero of=sp bs=4k count=1 seek=100 conv=notrunc 2>/dev/null && du -k sp | cut -f1
fallocate -l 1M fa && stat -c '%s' fa && du -k fa | cut -f1
fallocate -p -o 0 -l 512K fa && du -k fa | cut -f1 && stat -c %s fa
fallocate -n -l 2M fa && stat -c %s fa && du -k fa | cut -f1
truncate -s 100 sp && stat -c '%s %b' sp; truncate -s +50 sp && stat -c %s sp; truncate -s '<20' sp; stat -c %s sp
python3 - <<'EOF'
import os
fd = os.open("/tmp/holes", os.O_RDWR | os.O_CREAT)
os.pwrite(fd, b"a" * 4096, 1 << 20); os.pwrite(fd, b"b", 3 << 20)
print(os.lseek(fd, 0, os.SEEK_DATA), os.lseek(fd, 0, os.SEEK_HOLE), os.lseek(fd, (1 << 20) + 4096, os.SEEK_HOLE), os.lseek(fd, (1 << 20) + 4096, os.SEEK_DATA))
os.posix_fallocate(fd, 0, 8192); print(os.fstat(fd).st_size, os.lseek(fd, 0, os.SEEK_DATA))
os.ftruncate(fd, 10); print(os.fstat(fd).st_size)
EOF
cp --sparse=always sp cs && du -k cs | cut -f1`},
	{"symlink-loops-names", `cd /tmp && ln -s loopa loopb && ln -s loopb loopa && cat loopa 2>&1; echo "eloop $?"
ln -s self self; ls self/x 2>&1; readlink -f loopa; echo "readlink -f $?"
python3 - <<'EOF'
import os, errno
for f in (lambda: open("/tmp/loopa"), lambda: os.stat("/tmp/self"), lambda: os.open("/tmp/loopa", os.O_RDONLY | os.O_NOFOLLOW)):
    try:
        f()
    except OSError as e:
        print(errno.errorcode[e.errno])
print(os.lstat("/tmp/loopa").st_size)
os.chdir("/tmp")
name = "d" * 255
os.mkdir(name); print("255 ok")
try:
    os.mkdir("e" * 256)
except OSError as e:
    print("256:", errno.errorcode[e.errno])
EOF`},
	{"odd-filenames", `cd /tmp && mkdir n && cd n && touch "$(printf 'new\nline')" 'sp ace' 'ünïcødé-日本' -- '-dash' "tab	x" 'q"uote' "a'b" && ls | wc -l
ls -b | sort; ls -Q | sort | head -3
find . -type f -print0 | sort -z | xargs -0 -n1 printf '<%s>\n'
python3 -c 'import os; print(sorted(os.listdir(".")), sorted(os.listdir(b"."))[0])'
mv 'ünïcødé-日本' 'ü2' && ls ü* && rm -- -dash && ls | wc -l
python3 -c 'import os; os.close(os.open(b"bad-\xff-utf8", os.O_CREAT)); print(sorted(os.listdir(b".")))'
ls | LC_ALL=C sort | od -c | tail -3`},
	{"open-rename-unlink", `cd /tmp && echo old > f && exec 3<f && echo new > g && mv g f && cat <&3 && cat f
echo doomed > h && exec 4<h && rm h && cat <&4 && ls /tmp | grep -c '^h$'
readlink /proc/$$/fd/4; stat -L -c '%h %s' /proc/$$/fd/4
python3 - <<'EOF'
import os
fd = os.open("/tmp/x", os.O_RDWR | os.O_CREAT)
os.write(fd, b"before unlink")
os.unlink("/tmp/x")
os.lseek(fd, 0, 0); print(os.read(fd, 100), os.fstat(fd).st_nlink, os.readlink("/proc/self/fd/%d" % fd))
os.write(fd, b" and after"); os.lseek(fd, 0, 0); print(os.read(fd, 100))
a = open("/tmp/a", "w"); a.write("A"); a.flush()
open("/tmp/b", "w").write("B")
os.rename("/tmp/b", "/tmp/a")
print(open("/tmp/a").read(), os.fstat(a.fileno()).st_nlink, os.readlink("/proc/self/fd/%d" % a.fileno()))
os.mkdir("/tmp/dd"); d = os.open("/tmp/dd", os.O_RDONLY); os.rmdir("/tmp/dd")
print(os.readlink("/proc/self/fd/%d" % d))
try:
    os.open("newfile", os.O_CREAT | os.O_WRONLY, dir_fd=d)
except OSError as e:
    print("create in removed dir:", e.strerror)
EOF`},
	{"append-two-procs", `cd /tmp && : > log
w() { i=0; while [ $i -lt 500 ]; do echo "$1 $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" >> log; i=$((i+1)); done; }
w A & w B & wait
wc -l < log; grep -c '^A' log; grep -c '^B' log; awk 'length($0) != length("A 0 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") + length($2) - 1' log | wc -l
python3 - <<'EOF'
import os
fds = [os.open("/tmp/ap", os.O_WRONLY | os.O_APPEND | os.O_CREAT) for _ in range(2)]
pid = os.fork()
for i in range(1000):
    os.write(fds[pid == 0], b"%c%04d\n" % (b"P"[0] if pid else b"C"[0], i))
if pid == 0:
    os._exit(0)
os.wait()
data = open("/tmp/ap", "rb").read()
lines = data.split(b"\n")[:-1]
print(len(data), len(lines), all(len(l) == 5 for l in lines), sum(l.startswith(b"P") for l in lines))
f = os.open("/tmp/ap", os.O_RDWR | os.O_APPEND); os.lseek(f, 0, 0); os.write(f, b"END\n"); print(os.lseek(f, 0, 1), open("/tmp/ap", "rb").read()[-4:])
EOF`},
	// Found and fixed: opening /dev/stdout, /dev/stderr, /dev/fd/N with O_CREAT.
	{"dev-std-tee", `{
echo to-stdout | tee /dev/stdout | wc -l
echo via-dev-stdout > /dev/stdout; echo via-fd1 > /dev/fd/1; echo via-proc > /proc/self/fd/1
echo to-stderr > /dev/stderr
exec 4>/tmp/f4; echo fd4 > /dev/fd/4; cat /tmp/f4
echo in | cat /dev/stdin; echo in2 | cat /proc/self/fd/0
python3 -c 'print(open("/dev/stdout", "w").write("py dev stdout\n"))'
python3 -c 'import os; os.write(os.open("/dev/stdout", os.O_WRONLY), b"no O_CREAT\n")'
} 2>&1 | cat`},
	// Found and fixed: mkfifo -m (lchmod's O_PATH open of a FIFO).
	{"mkfifo-mode", `cd /tmp && mkfifo -m 600 p1; echo "mkfifo -m $?"; mknod -m 640 p2 p; echo "mknod -m $?"; stat -c '%F %a' p1 p2`},
	// Found and fixed: an O_PATH|O_NOFOLLOW descriptor of a symlink was
	// ELOOP, so glibc's lchmod (fchmodat with AT_SYMLINK_NOFOLLOW) failed
	// where the kernel's says EOPNOTSUPP, and tar xp of a symlink failed.
	{"symlink-o-path", `cd /tmp && mkdir -p src && echo 1 > src/f && ln -s f src/l && tar cf a.tar src && mkdir ex && tar xpf a.tar -C ex && readlink ex/src/l
python3 -c '
import ctypes, os, stat
libc = ctypes.CDLL(None, use_errno=True)
print("lchmod", libc.fchmodat(-100, b"src/l", 0o600, 0x100), os.strerror(ctypes.get_errno()))
fd = os.open("src/l", os.O_PATH | os.O_NOFOLLOW)
st = os.stat(fd)
print(stat.S_ISLNK(st.st_mode), st.st_ino == os.lstat("src/l").st_ino, os.readlink("/proc/self/fd/%d" % fd))
buf = ctypes.create_string_buffer(100)
print(libc.readlinkat(fd, b"", buf, 100), buf.value)
'`},
}
