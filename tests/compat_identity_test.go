package tests

// compatIdentity covers identities: users and groups, set*id, capabilities, the files and signals a changed identity may reach.
var compatIdentity = []compatWorkload{
	{"id", `id; id -un; id -G; whoami`},
	{"getent", `getent passwd root; getent group root`},
	// Identity changes by a root workload. These run with Docker's default
	// capabilities (compatCaps: CAP_SETUID, CAP_SETGID, CAP_CHOWN,
	// CAP_DAC_OVERRIDE, CAP_FOWNER, ...), without which the namespace mode
	// refuses them too; id-no-cap-setuid runs with the default three.
	// Dropping to uid 1000 must drop the effective and permitted
	// capabilities, make permission checks those of uid 1000 (files,
	// sticky /tmp, kill) and own what it creates; a forked child keeps its
	// own credentials.
	{"id-py-setresuid", `python3 -c 'import os; os.setgroups([1001, 1000]); os.setresgid(1000, 1000, 1000); os.setresuid(1000, 1000, 1000); print(os.getresuid(), os.getresgid(), os.getgroups(), os.getuid(), os.getegid())'`},
	{"id-py-drop-files", `python3 - <<'EOF'
import os
open("/tmp/rootfile", "w").close()
os.chmod("/tmp/rootfile", 0o600)
os.setgroups([])
os.setresgid(1000, 1000, 1000)
os.setresuid(1000, 1000, 1000)
for path, mode in (("/etc/shadow", "r"), ("/tmp/rootfile", "r"), ("/etc/passwd", "r")):
    try:
        open(path, mode).close()
        print(path, "opened")
    except PermissionError:
        print(path, "PermissionError")
with open("/tmp/mine", "w") as f:
    f.write("x")
os.mkdir("/tmp/mydir")
for p in ("/tmp/mine", "/tmp/mydir"):
    st = os.stat(p)
    print(p, st.st_uid, st.st_gid, oct(st.st_mode & 0o7777))
for what, fn in (("unlink root's file in sticky /tmp", lambda: os.unlink("/tmp/rootfile")),
                 ("chown to root", lambda: os.chown("/tmp/mine", 0, 0)),
                 ("chmod root's file", lambda: os.chmod("/tmp/rootfile", 0o666)),
                 ("setuid back to 0", lambda: os.setuid(0))):
    try:
        fn()
        print(what, "succeeded")
    except PermissionError:
        print(what, "PermissionError")
EOF`},
	{"id-py-seteuid-back", `python3 - <<'EOF'
import os
def caps():
    return [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapPrm", "CapEff"))]
os.setegid(1000)
os.seteuid(1000)
print(os.getresuid(), os.getresgid(), caps())
open("/tmp/as1000", "w").close()
st = os.stat("/tmp/as1000")
print(st.st_uid, st.st_gid)
try:
    open("/etc/shadow").close()
except PermissionError:
    print("shadow PermissionError")
os.seteuid(0)
os.setegid(0)
print(os.getresuid(), os.getresgid(), caps())
print(len(open("/etc/shadow").read()) > 0)
EOF`},
	{"id-proc-status-drop", `python3 - <<'EOF'
import os, subprocess
os.setgroups([1000, 1002])
os.setresgid(1000, 1000, 1000)
os.setresuid(1000, 1000, 1000)
for l in open("/proc/self/status"):
    if l.startswith(("Uid", "Gid", "Groups", "CapEff", "CapPrm")):
        print(l, end="")
print(subprocess.run(["grep", "-E", "^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb)", "/proc/self/status"], capture_output=True, text=True).stdout, end="")
EOF`},
	{"id-fork-then-drop", `python3 - <<'EOF'
import os, errno
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    os.read(r, 1)
    print("child", os.getresuid(), os.getresgid(), flush=True)
    os._exit(0)
os.close(r)
os.setresgid(1000, 1000, 1000)
os.setresuid(1000, 1000, 1000)
print("parent", os.getresuid(), flush=True)
os.write(w, b"x")
os.waitpid(pid, 0)
EOF`},
	{"id-py-keepcaps", `python3 - <<'EOF'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_KEEPCAPS, PR_GET_KEEPCAPS = 8, 7
def caps():
    return " ".join(l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapPrm", "CapEff")))
open("/tmp/k", "w").close()
print("keepcaps", libc.prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0))
print("set", libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), libc.prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0))
os.setresuid(1000, 1000, 1000)
print(os.getresuid(), caps(), "keepcaps", libc.prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0))
try:
    os.chown("/tmp/k", 1000, 1000)
    print("chown ok")
except PermissionError:
    print("chown without effective CAP_CHOWN: PermissionError")
EOF`},
	{"id-setpriv", `setpriv --reuid=1000 --regid=1000 --clear-groups id; setpriv --reuid=1000 --regid=1000 --clear-groups sh -c 'touch /tmp/x && stat -c "%u %g" /tmp/x; cat /etc/shadow 2>/dev/null; echo "shadow $?"'; setpriv --euid=1000 --egid=1000 --keep-groups id`},
	{"id-runuser", `runuser -u nobody -- id; runuser -u nobody -g nogroup -- sh -c 'id -u; id -g; touch /tmp/n && stat -c "%U %G" /tmp/n'; su -s /bin/sh -c 'id -un' nobody`},
	{"id-perl-ids", `perl -e '$( = 1000; $) = "1000 1000 1001"; $< = $> = 1000; print "$< $> ", join(",", sort split(/ /, $()), " ", join(",", sort split(/ /, $))), "\n"; $> = 0; print "back: ", ($> == 0 ? "yes" : "no: $!"), "\n"'`},
	{"id-chown-files", `cd /tmp && touch f && chown 1000:1000 f && stat -c '%u %g' f && chown 1001 f && chgrp 1002 f && stat -c '%u %g' f && mkdir -p d/e && touch d/e/g && chown -R 1000:1000 d && find d -printf '%p %U %G\n' | sort && touch s && chmod 4755 s && chown 1000 s && stat -c '%a %u' s && ln -s f l && chown -h 1003:1003 l && stat -c '%u %g' l f`},
	{"id-no-cap-setuid", `python3 - <<'EOF'
import os
for what, fn in (("setresuid(1000)", lambda: os.setresuid(1000, 1000, 1000)),
                 ("setgid(1000)", lambda: os.setgid(1000)),
                 ("setgroups([0])", lambda: os.setgroups([0])),
                 ("setuid(0)", lambda: os.setuid(0)),
                 ("seteuid(0)", lambda: os.seteuid(0)),
                 ("setresuid(-1)", lambda: os.setresuid(-1, -1, -1))):
    try:
        fn()
        print(what, "ok")
    except PermissionError:
        print(what, "PermissionError")
print(os.getresuid(), os.getresgid(), os.getgroups())
EOF
setpriv --reuid=1000 id 2>/dev/null; echo "setpriv $?"`},
}
