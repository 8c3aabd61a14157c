package tests

// compatNetwork covers sockets: unix (paths, abstract names, descriptor passing, peer credentials), TCP and UDP on loopback over IPv4 and IPv6, interfaces, servers and event loops.
var compatNetwork = []compatWorkload{
	{"proc-net-listen", `python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 34567)); s.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 34568))
print("tcp", any(l.split()[1] == "0100007F:8707" and l.split()[3] == "0A" for l in open("/proc/net/tcp").readlines()[1:]))
print("udp", any(l.split()[1] == "0100007F:8708" for l in open("/proc/net/udp").readlines()[1:]))
'; busybox netstat -ltn | grep -c 34567; head -1 /proc/net/unix`},
	{"ifconfig-lo", `busybox ifconfig lo | head -2; busybox ifconfig -a | grep -c '^lo'`},
	{"py-socketpair", `python3 -c 'import socket; a, b = socket.socketpair(); a.sendall(b"ping"); print(b.recv(10)); b.sendall(b"pong"); print(a.recv(10))'`},
	{"py-unix-socket", `python3 - <<'EOF'
import os, socket, threading
path = "/tmp/s.sock"
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(1)
def serve():
    c, _ = srv.accept()
    c.sendall(c.recv(100).upper())
    c.close()
t = threading.Thread(target=serve); t.start()
cl = socket.socket(socket.AF_UNIX)
cl.connect(path)
cl.sendall(b"hello unix")
print(cl.recv(100), os.path.exists(path))
t.join()
EOF`},
	// A unix socket's name is the path the program bound, whatever way
	// the sandbox reached the directory; a sender's address handed back
	// reaches it; a Manager hands its listener's address to its clients.
	{"py-unix-names", `python3 - <<'EOF'
import os, socket
os.chdir("/tmp")
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("/tmp/srv.sock"); s.listen(1)
print(s.getsockname())
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect("srv.sock")
print(c.getpeername(), repr(c.getsockname()))
a, addr = s.accept()
print(repr(addr), a.getsockname(), repr(a.getpeername()))
r = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); r.bind("rel.sock"); print(r.getsockname())
os.mkdir("d"); n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); n.bind("d/../d/n.sock"); print(n.getsockname())
d1 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d1.bind("/tmp/d1")
d2 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d2.bind("/tmp/d2")
d2.sendto(b"ping", "/tmp/d1")
data, frm = d1.recvfrom(10)
d1.sendto(b"pong", frm)
print(data, d2.recvfrom(10)[0])
d2.close(); os.unlink("/tmp/d2")
d3 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d3.bind("/tmp/d2"); print(d3.getsockname(), d1.getsockname())
print(sorted(l.split()[-1] for l in open("/proc/net/unix") if l.split()[-1].startswith(("/tmp", "rel", "d/"))))
EOF`},
	// A peer's address as accept, recvfrom and recvmsg report it: the
	// path its program bound (relative or absolute), or none; descriptors
	// passed by a named sender; a receive timeout; a signal during a
	// blocking receive loses no datagram.
	{"py-unix-peer-addresses", `python3 - <<'EOF'
import array, os, signal, socket, struct, threading, time
os.chdir("/tmp")
s = socket.socket(socket.AF_UNIX); s.bind("/tmp/ls.sock"); s.listen(4)
c = socket.socket(socket.AF_UNIX); c.bind("cl.sock"); c.connect("/tmp/ls.sock")
a, addr = s.accept(); print("accept", repr(addr))
c2 = socket.socket(socket.AF_UNIX); c2.connect("ls.sock")
a2, addr2 = s.accept(); print("accept unnamed", repr(addr2))
s.setblocking(False)
try:
    s.accept()
except BlockingIOError:
    print("accept EAGAIN")
c.sendall(b"x"); print("stream recvfrom", a.recvfrom(10), a2.getpeername() == "")
d1 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d1.bind("d1.sock")
d2 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d2.bind("/tmp/d2.sock")
d2.sendto(b"one", "/tmp/d1.sock"); print("recvfrom", d1.recvfrom(10))
d1.sendto(b"two", "/tmp/d2.sock"); print("recvmsg", d2.recvmsg(10))
d1.sendto(b"0123456789", "d2.sock"); m = d2.recvmsg(4); print("truncated", m[0], m[2] == socket.MSG_TRUNC, m[3])
r, w = os.pipe(); os.write(w, b"via fd")
d1.sendmsg([b"fds"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r]))], 0, "/tmp/d2.sock")
msg, anc, flags, frm = d2.recvmsg(10, socket.CMSG_SPACE(4))
fd = array.array("i", anc[0][2])[0]
print("rights", msg, frm, flags, os.read(fd, 10), fd != r, os.get_inheritable(fd))
d1.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 300000))
t0 = time.monotonic()
try:
    d1.recvfrom(10)
except BlockingIOError:
    print("timeout", 0.25 < time.monotonic() - t0 < 5)
d1.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 0))
hits = []
signal.signal(signal.SIGALRM, lambda *_: hits.append(1))
signal.setitimer(signal.ITIMER_REAL, 0.1, 0.1)
threading.Timer(0.8, lambda: d2.sendto(b"late", "/tmp/d1.sock")).start()
print("after signals", d1.recvfrom(10), len(hits) > 2)
signal.setitimer(signal.ITIMER_REAL, 0)
d3 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d3.sendto(b"anon", "d1.sock"); print("unnamed sender", d1.recvfrom(10))
EOF`},
	// Sends the Sentry makes: a closed peer raises SIGPIPE; a blocking
	// send interrupted by a signal has sent nothing (a datagram arrives
	// once) or reports what it sent (a stream's bytes arrive once).
	{"py-send-signals", `python3 - <<'EOF'
import os, signal, socket, threading, time
# A send to a peer that is gone raises SIGPIPE unless MSG_NOSIGNAL.
a, b = socket.socketpair(); b.close()
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        a.sendmsg([b"x"])
    except OSError as e:
        print("child survived:", e.errno)
    os._exit(0)
_, st = os.waitpid(pid, 0)
print("sendmsg to a closed peer: signal", os.WTERMSIG(st) if os.WIFSIGNALED(st) else None)
try:
    a.sendmsg([b"x"], [], socket.MSG_NOSIGNAL)
except OSError as e:
    print("MSG_NOSIGNAL:", e.strerror)
alarms = 0
def on_alarm(*_):
    global alarms
    alarms += 1
signal.signal(signal.SIGALRM, on_alarm)
# Blocking sends to a full datagram receiver under a 10 Hz SIGALRM: each
# datagram arrives once.
os.chdir("/tmp")
r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); r.bind("full.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setblocking(False)
seq = 0
while True:
    try:
        s.sendto(b"%d" % seq, "full.sock"); seq += 1
    except BlockingIOError:
        break
s.setblocking(True)
got = []
def drain():
    time.sleep(0.3)
    r.settimeout(2)
    try:
        while True:
            got.append(int(r.recv(16))); time.sleep(0.03)
    except socket.timeout:
        pass
d = threading.Thread(target=drain); d.start()
signal.setitimer(signal.ITIMER_REAL, 0.1, 0.1)
for _ in range(15):
    s.sendto(b"%d" % seq, "full.sock"); seq += 1
d.join()
signal.setitimer(signal.ITIMER_REAL, 0)
print("datagrams: each once", sorted(got) == list(range(seq)), "in order", got == sorted(got))
# A stream's blocking sendmsg under the same signals: what it reports sent is
# what arrives, in order.
a, b = socket.socketpair()
data = bytes(i % 251 for i in range(3 << 20))
recv = bytearray()
def reader():
    while len(recv) < len(data):
        recv.extend(b.recv(65536)); time.sleep(0.02)
t = threading.Thread(target=reader); t.start()
signal.setitimer(signal.ITIMER_REAL, 0.1, 0.1)
sent = 0
while sent < len(data):
    sent += a.sendmsg([data[sent:sent + (1 << 20)]])
t.join()
signal.setitimer(signal.ITIMER_REAL, 0)
print("stream: what was sent arrived", bytes(recv) == data, "alarms", alarms > 5)
EOF`},
	{"py-manager", `python3 - <<'EOF'
from multiprocessing import Manager
with Manager() as m:
    d = m.dict(); d["a"] = 1
    l = m.list(range(3)); l.append(9)
    print(dict(d), list(l), m.address.startswith("/tmp/"))
EOF`},
	{"py-tcp-loopback", `python3 - <<'EOF'
import socket, threading
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(1)
port = srv.getsockname()[1]
def serve():
    c, addr = srv.accept()
    data = b""
    while not data.endswith(b"\n"):
        data += c.recv(100)
    c.sendall(data.upper())
    c.close()
t = threading.Thread(target=serve); t.start()
cl = socket.create_connection(("127.0.0.1", port))
cl.sendall(b"hello tcp\n")
print(cl.recv(100), cl.getpeername()[0])
t.join()
EOF`},
	{"py-udp-loopback", `python3 - <<'EOF'
import socket
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a.bind(("127.0.0.1", 0))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b.sendto(b"datagram", a.getsockname())
data, addr = a.recvfrom(100)
print(data, addr[0])
a.sendto(b"reply", addr)
print(b.recvfrom(100)[0])
EOF`},
	{"py-tcp6-loopback", `python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); s.listen(); c = socket.create_connection(("::1", s.getsockname()[1])); a, _ = s.accept(); c.sendall(b"six"); print(a.recv(10))'`},
	{"py-if-nameindex", `python3 -c 'import socket; print(socket.if_nameindex())'`},
	{"py-getaddrinfo", `python3 -c 'import socket; print(socket.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)[0][4], socket.getaddrinfo("::1", 80, type=socket.SOCK_STREAM)[0][4][:2])'`},
	{"py-send-fds", `python3 - <<'EOF'
import os, socket
open("/tmp/shared", "w").write("via SCM_RIGHTS\n")
a, b = socket.socketpair()
f = os.open("/tmp/shared", os.O_RDONLY)
r, w = os.pipe()
socket.send_fds(a, [b"two fds"], [f, w])
os.close(f); os.close(w)
msg, fds, flags, _ = socket.recv_fds(b, 100, 4)
print(msg, len(fds), flags)
print(os.read(fds[0], 100))
os.write(fds[1], b"through the passed pipe")
os.close(fds[1])
print(os.read(r, 100))
if os.fork() == 0:
    c = socket.socket(fileno=os.dup(a.fileno()))
    socket.send_fds(c, [b"from child"], [os.open("/etc/hostname", os.O_RDONLY)])
    os._exit(0)
os.wait()
msg, fds, _, _ = socket.recv_fds(b, 100, 1)
print(msg, len(os.read(fds[0], 100)) > 0)
EOF`},
	{"py-http-server", `mkdir /tmp/www && printf 'hello over http\n' > /tmp/www/f.txt && cd /tmp/www && python3 -m http.server 38080 --bind 127.0.0.1 2>/dev/null &
python3 - <<'EOF'
import time, urllib.request, urllib.error
for i in range(200):
    try:
        r = urllib.request.urlopen("http://127.0.0.1:38080/f.txt")
        break
    except OSError:
        time.sleep(0.05)
print(r.status, r.read(), r.headers["Content-Length"], r.headers["Content-Type"])
print(b"f.txt" in urllib.request.urlopen("http://127.0.0.1:38080/").read())
try:
    urllib.request.urlopen("http://127.0.0.1:38080/missing")
except urllib.error.HTTPError as e:
    print(e.code)
EOF
kill $!; wait $!; echo "server $?"`},
	{"py-asyncio", `python3 - <<'EOF'
import asyncio, sys
async def handle(r, w):
    line = await r.readline()
    w.write(line.upper()); await w.drain(); w.close(); await w.wait_closed()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async def client(i):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"msg %d\n" % i); await w.drain()
        data = await r.read()
        w.close(); await w.wait_closed()
        return data
    print(await asyncio.gather(*(client(i) for i in range(5))))
    p = await asyncio.create_subprocess_exec("sh", "-c", "cat; echo err >&2; exit 3", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await p.communicate(b"to cat\n")
    print(p.returncode, out, err)
    p = await asyncio.create_subprocess_shell("for i in 1 2 3; do echo $i; sleep 0.05; done", stdout=asyncio.subprocess.PIPE)
    lines = [l async for l in p.stdout]
    print(lines, await p.wait())
    try:
        await asyncio.wait_for(asyncio.sleep(5), 0.1)
    except asyncio.TimeoutError:
        print("timeout")
    srv.close(); await srv.wait_closed()
asyncio.run(main())
EOF`},
	{"py-selectors", `python3 - <<'EOF'
import os, selectors, socket
sel = selectors.DefaultSelector()
print(type(sel).__name__)
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(); srv.setblocking(False)
sel.register(srv, selectors.EVENT_READ, "accept")
r, w = os.pipe()
sel.register(r, selectors.EVENT_READ, "pipe")
clients = [socket.create_connection(srv.getsockname()) for _ in range(3)]
os.write(w, b"pipe data")
got, conns = [], 0
for c in clients: c.sendall(b"hi")
while len(got) < 4:
    for key, ev in sel.select(timeout=5):
        if key.data == "accept":
            c, _ = srv.accept(); c.setblocking(False); sel.register(c, selectors.EVENT_READ, "conn"); conns += 1
        elif key.data == "pipe":
            got.append(os.read(r, 100)); sel.unregister(r)
        else:
            got.append(key.fileobj.recv(100)); sel.unregister(key.fileobj)
print(conns, sorted(got))
a, b = socket.socketpair()
sel.register(a, selectors.EVENT_WRITE)
print([ev for _, ev in sel.select(0)])
sel.modify(a, selectors.EVENT_READ)
print(sel.select(0.05))
b.close()
print([ev for _, ev in sel.select(1)], a.recv(10))
EOF`},
	{"py-reuseaddr", `python3 - <<'EOF'
import errno, socket
def listener(port, reuse):
    s = socket.socket()
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen()
    return s
s = listener(0, True); port = s.getsockname()[1]
c = socket.create_connection(("127.0.0.1", port)); a, _ = s.accept()
a.close(); s.close(); c.close()
try:
    listener(port, False)
    print("rebound without SO_REUSEADDR")
except OSError as e:
    print("without:", errno.errorcode[e.errno])
s2 = listener(port, True)
print("with: rebound", s2.getsockname()[1] == port)
try:
    listener(port, True)
except OSError as e:
    print("second listener:", errno.errorcode[e.errno])
print(s2.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR), s2.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE), s2.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
EOF`},
	{"py-udp-addresses", `python3 - <<'EOF'
import socket
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); srv.bind(("127.0.0.1", 0))
senders = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
for i, s in enumerate(senders):
    s.bind(("127.0.0.1", 0)); s.sendto(b"from %d" % i, srv.getsockname())
names = {s.getsockname(): i for i, s in enumerate(senders)}
for _ in senders:
    data, addr = srv.recvfrom(100)
    print(data, names[addr])
    srv.sendto(data.upper(), addr)
print([s.recv(100) for s in senders])
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.connect(srv.getsockname())
c.send(b"0123456789")
print(srv.recv(4, socket.MSG_PEEK), srv.recvfrom(4)[0])
c.send(b"x" * 100)
data, anc, flags, addr = srv.recvmsg(10)
print(len(data), flags & socket.MSG_TRUNC != 0, addr == c.getsockname())
c2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c2.bind(("127.0.0.1", 0))
c2.sendto(b"stranger", c.getsockname())
c.setblocking(False)
try:
    print(c.recv(100))
except BlockingIOError:
    print("filtered by connect")
print(socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"", srv.getsockname()), srv.recvfrom(10)[0])
EOF`},
	{"py-ipv6-dualstack", `python3 - <<'EOF'
import socket
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 0)); s.listen()
port = s.getsockname()[1]
for host in ("127.0.0.1", "::1"):
    c = socket.create_connection((host, port))
    a, addr = s.accept()
    print(host, addr[0], a.getsockname()[0], c.getpeername()[0])
    c.sendall(b"x"); print(a.recv(1))
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", 0))
v = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); v.bind(("::1", 0))
v.sendto(b"udp6", u.getsockname())
d, addr = u.recvfrom(10)
print(d, addr[0], addr[1] == v.getsockname()[1], len(addr))
o = socket.socket(socket.AF_INET6); o.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); o.bind(("::", 0)); o.listen()
try:
    socket.create_connection(("127.0.0.1", o.getsockname()[1]), timeout=2)
except OSError as e:
    print("v6only refuses v4:", type(e).__name__)
print(socket.inet_pton(socket.AF_INET6, "::1"), socket.getaddrinfo("::1", 0, socket.AF_INET6)[0][4][0])
EOF`},
	{"py-abstract-unix", `python3 - <<'EOF'
import os, socket, struct
srv = socket.socket(socket.AF_UNIX); srv.bind("\0runx-abstract"); srv.listen()
print(srv.getsockname(), os.path.exists("/tmp/runx-abstract"))
c = socket.socket(socket.AF_UNIX); c.connect("\0runx-abstract")
a, addr = srv.accept()
print(repr(addr), c.getpeername())
try:
    socket.socket(socket.AF_UNIX).bind("\0runx-abstract")
except OSError as e:
    print("in use:", e.strerror)
d1 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d1.bind("\0dg-one")
d2 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d2.bind("\0dg-two")
d2.sendto(b"to abstract", "\0dg-one")
print(d1.recvfrom(100))
d1.sendto(b"back", "\0dg-two")
print(d2.recvfrom(100))
d3 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); d3.sendto(b"unbound", "\0dg-one")
print(d1.recvfrom(100))
sp = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); sp.bind("\0sp"); sp.listen()
x = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); x.connect("\0sp"); y, _ = sp.accept()
x.send(b"one"); x.send(b"two")
print(y.recv(100), y.recv(100))
a.close(); srv.close()
try:
    socket.socket(socket.AF_UNIX).connect("\0runx-abstract")
except OSError as e:
    print("after close:", e.strerror)
EOF`},
	{"py-so-peercred", `python3 - <<'EOF'
import os, socket, struct
def cred(s):
    pid, uid, gid = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    return pid == os.getpid(), uid, gid
a, b = socket.socketpair()
print("socketpair", cred(a), cred(b))
srv = socket.socket(socket.AF_UNIX); srv.bind("/tmp/pc.sock"); srv.listen()
c = socket.socket(socket.AF_UNIX); c.connect("/tmp/pc.sock"); s, _ = srv.accept()
print("server sees client", cred(s), "client sees server", cred(c))
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    k = socket.socket(socket.AF_UNIX); k.connect("/tmp/pc.sock"); os.read(r, 1); os._exit(0)
s2, _ = srv.accept()
p, u, g = struct.unpack("3i", s2.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
print("a child", p == pid, u, g)
os.write(w, b"x"); os.waitpid(pid, 0)
EOF`},
}
