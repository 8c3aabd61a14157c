package microvm

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/runc/libcontainer/utils"
	"golang.org/x/sys/unix"
)

// The guest agent: runx is the guest's /init. It mounts what a container
// runtime needs, loads the kernel modules the initramfs carries, mounts the
// container's root file system that the host shares over virtio-fs, and
// then runs what the monitor asks on the agent port: runx's own commands
// (create, start, kill, ...), so that a container in the guest is made by
// the namespace mode's code with the whole OCI config, as on a host.

const (
	guestState = "/run/runx" // the guest runx's --root
	agentPort  = "agent"     // the virtio-serial port's name
)

// Where a container's files are in the guest: its config.json and pid file
// (written by the guest's runx), its root in the shared tree.
func guestBundle(id string) string  { return "/run/bundle/" + id }
func guestPidFile(id string) string { return guestBundle(id) + "/pid" }
func guestRoot(id string) string    { return guestShare + "/" + id + "/rootfs" }

func agentMain([]string) {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "runx: /init is the microvm guest agent and runs as the guest's first process")
		os.Exit(2)
	}
	if err := agent(); err != nil {
		fmt.Fprintf(os.Stderr, "runx agent: %v\n", err)
	}
	// pid 1 must not exit: power off, which the monitor sees.
	unix.Sync()
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

func agent() error {
	if err := leaveInitramfs(); err != nil {
		return err
	}
	if err := guestMounts(); err != nil {
		return err
	}
	debug = strings.Contains(readFile("/proc/cmdline"), "runx.debug")
	debugf("mounted")
	loadModules("/lib/modules")
	debugf("modules loaded")
	port, err := findPort(agentPort, 10*time.Second)
	if err != nil {
		return err
	}
	debugf("agent port %s", port)
	if err := loopbackUp(); err != nil {
		return fmt.Errorf("the guest's lo: %w", err)
	}
	if err := os.MkdirAll(guestShare, 0o755); err != nil {
		return err
	}
	// The rootfs is read-write, as a bundle's rootfs is on a host: runx in
	// the guest makes the mount points, then makes the container's root
	// read-only when root.readonly says so, as runc does.
	if err := unix.Mount(shareTag, guestShare, "virtiofs", 0, ""); err != nil {
		return fmt.Errorf("mount the host's shared tree (virtiofs %s): %w", shareTag, err)
	}
	f, err := os.OpenFile(port, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	a := &agentState{c: &conn{rw: f}, procs: map[uint32]*guestProc{}, byPid: map[int]*guestProc{}, forwards: map[uint32]*forward{}}
	go a.reap()
	debugf("ready")
	if err := a.c.send(kindReady, 0, nil); err != nil {
		return err
	}
	go a.watchPorts()
	return a.serve()
}

// leaveInitramfs moves the agent onto a tmpfs root and starts it again
// there: the initramfs is the mount namespace's first mount, from which no
// container can pivot_root (EINVAL). What the initramfs held is removed.
func leaveInitramfs() error {
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		return err
	}
	if st.Type != unix.RAMFS_MAGIC && st.Type != unix.TMPFS_MAGIC {
		return nil
	}
	if _, err := os.Stat("/.runx-root"); err == nil {
		return nil // already on the tmpfs
	}
	const nr = "/newroot"
	if err := os.MkdirAll(nr, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", nr, "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("tmpfs for the guest's root: %w", err)
	}
	files := []string{"init", "lib/modules/order"}
	mods, _ := filepath.Glob("/lib/modules/*.ko")
	for _, m := range mods {
		files = append(files, strings.TrimPrefix(m, "/"))
	}
	for _, f := range files {
		b, err := os.ReadFile("/" + f)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(nr, filepath.Dir(f)), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if f == "init" {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(nr, f), b, mode); err != nil {
			return err
		}
		_ = os.Remove("/" + f) // the initramfs's memory back
	}
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp"} {
		_ = os.Mkdir(filepath.Join(nr, d), 0o755)
	}
	if err := os.WriteFile(filepath.Join(nr, ".runx-root"), nil, 0o444); err != nil {
		return err
	}
	if err := os.Chdir(nr); err != nil {
		return err
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("moving the guest's root: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return err
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}
	return unix.Exec("/init", []string{"/init"}, os.Environ())
}

var debug bool

func debugf(format string, a ...any) {
	if debug {
		fmt.Fprintf(os.Stderr, "runx agent: "+format+"\n", a...)
	}
}

// guestMounts makes the file systems runx and the container need.
func guestMounts() error {
	for _, m := range []struct{ src, dst, typ, data string }{
		{"proc", "/proc", "proc", ""},
		{"sysfs", "/sys", "sysfs", ""},
		{"devtmpfs", "/dev", "devtmpfs", ""},
		{"tmpfs", "/run", "tmpfs", "mode=0755"},
		{"tmpfs", "/tmp", "tmpfs", "mode=1777"},
		{"cgroup2", "/sys/fs/cgroup", "cgroup2", ""},
		{"devpts", "/dev/pts", "devpts", "newinstance,ptmxmode=0666"},
		{"tmpfs", "/dev/shm", "tmpfs", "mode=1777"},
	} {
		if err := os.MkdirAll(m.dst, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.src, m.dst, m.typ, unix.MS_NOSUID, m.data); err != nil && err != unix.EBUSY {
			return fmt.Errorf("mount %s on %s: %w", m.typ, m.dst, err)
		}
	}
	// Every controller for the containers' cgroups.
	ctrls, _ := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	var plus []string
	for _, c := range strings.Fields(string(ctrls)) {
		plus = append(plus, "+"+c)
	}
	_ = os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte(strings.Join(plus, " ")), 0)
	return nil
}

// loadModules loads the initramfs's modules listed in dir/order, in passes
// until none more loads: a module whose dependencies are not loaded yet
// fails with ENOENT (an unknown symbol) and is tried again.
func loadModules(dir string) {
	left := strings.Fields(readFile(filepath.Join(dir, "order")))
	errs := map[string]error{}
	for len(left) > 0 {
		var again []string
		for _, n := range left {
			f, err := os.Open(filepath.Join(dir, n))
			if err != nil {
				errs[n] = err
				continue
			}
			err = unix.FinitModule(int(f.Fd()), "", 0)
			f.Close()
			if err != nil && err != unix.EEXIST {
				errs[n] = err
				again = append(again, n)
			}
		}
		if len(again) == len(left) {
			for _, n := range again {
				fmt.Fprintf(os.Stderr, "runx agent: module %s: %v\n", n, errs[n])
			}
			return
		}
		left = again
	}
}

// findPort waits for the virtio-serial port called name to appear.
func findPort(name string, limit time.Duration) (string, error) {
	deadline := time.Now().Add(limit)
	for {
		ports, _ := filepath.Glob("/sys/class/virtio-ports/*")
		sort.Strings(ports)
		for _, p := range ports {
			if strings.TrimSpace(readFile(p+"/name")) == name {
				dev := "/dev/" + filepath.Base(p)
				if _, err := os.Stat(dev); err == nil {
					return dev, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no virtio-serial port named %q", name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

type guestProc struct {
	stream  uint32
	pid     int
	sigPid  string // a file naming the pid its signals go to
	stdin   *os.File
	relay   sync.WaitGroup // stdout and stderr copied out
	tty     *guestTTY      // with Console
	waitPid string
	// reaped: a process the monitor waits for without having started it
	// (the container's init): its exit goes on stream, after drain's output.
	drain *guestProc
}

// guestTTY is a stream's terminal: its master, once the process sent it,
// and the size to give it (both under agentState.mu).
type guestTTY struct {
	master *os.File
	size   []byte
}

type agentState struct {
	c     *conn
	mu    sync.Mutex
	procs map[uint32]*guestProc // by stream
	byPid map[int]*guestProc
	early map[int]unix.WaitStatus // reaped before anybody asked
	// forwards are the forwarded connections, by stream (portfwd.go).
	forwards map[uint32]*forward
}

func (a *agentState) serve() error {
	for {
		f, err := a.c.recv()
		if err != nil {
			return err
		}
		switch f.kind {
		case kindRun:
			debugf("stream %d: run %d bytes", f.stream, len(f.payload))
			var req runRequest
			if err := json.Unmarshal(f.payload, &req); err != nil {
				a.c.sendJSON(kindExit, f.stream, exitMsg{Status: 127 << 8, Err: err.Error()})
				continue
			}
			if err := a.start(f.stream, &req); err != nil {
				a.c.sendJSON(kindExit, f.stream, exitMsg{Status: 127 << 8, Err: err.Error()})
			}
		case kindDial:
			a.dial(f.stream, f.payload)
		case kindStdin, kindEOF:
			if a.forwardInput(f) {
				continue
			}
			a.mu.Lock()
			p := a.procs[f.stream]
			a.mu.Unlock()
			if p == nil || p.stdin == nil {
				continue
			}
			if f.kind == kindEOF {
				p.stdin.Close()
			} else {
				_, _ = p.stdin.Write(f.payload)
			}
		case kindSignal:
			if a.forwardInput(f) {
				continue
			}
			a.mu.Lock()
			p := a.procs[f.stream]
			a.mu.Unlock()
			if p != nil && p.pid > 0 && len(f.payload) == 1 {
				pid := p.pid
				if p.sigPid != "" {
					if n, err := strconv.Atoi(strings.TrimSpace(readFile(p.sigPid))); err == nil && n > 0 {
						pid = n
					}
				}
				_ = unix.Kill(pid, unix.Signal(f.payload[0]))
			}
		case kindResize:
			a.mu.Lock()
			if p := a.procs[f.stream]; p != nil && p.tty != nil {
				p.tty.size = f.payload
				if p.tty.master != nil {
					_ = setSize(p.tty.master, p.tty.size)
				}
			}
			a.mu.Unlock()
		case kindReap:
			var req reapRequest
			if err := json.Unmarshal(f.payload, &req); err != nil {
				continue
			}
			a.watch(f.stream, &req)
		}
	}
}

// reapRequest asks for the exit of a guest process the agent did not start:
// the container's init, whose pid the guest runx wrote to PidFile. Its exit
// is sent once the output of stream Drain (its create) has all gone.
type reapRequest struct {
	PidFile string `json:"pidFile"`
	Drain   uint32 `json:"drain"`
}

func (a *agentState) start(stream uint32, req *runRequest) error {
	if req.Net != nil {
		ex := exitMsg{}
		if err := configureNIC(req.Net); err != nil {
			ex = exitMsg{Status: 1 << 8, Err: err.Error()}
		}
		return a.c.sendJSON(kindExit, stream, ex)
	}
	if len(req.Argv) == 0 {
		return fmt.Errorf("nothing to run")
	}
	for k, v := range req.Sysctls {
		p := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
		}
	}
	for path, data := range req.Files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	}
	prog, argv := req.Argv[0], req.Argv
	if req.Runx {
		prog, argv = "/proc/self/exe", append([]string{"runx"}, req.Argv...)
		if debug {
			argv = append([]string{"runx", "--debug", "--log", "/dev/console"}, req.Argv...)
		}
	}
	var files [3]*os.File
	var parent []*os.File
	p := &guestProc{stream: stream, sigPid: req.SignalPid, waitPid: req.WaitPid}
	if req.Console != "" {
		if err := a.console(p, req.Console); err != nil {
			return err
		}
	}
	if req.Stdin && req.Console == "" {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		files[0], p.stdin = r, w
		parent = append(parent, r)
	} else {
		null, err := os.Open("/dev/null")
		if err != nil {
			return err
		}
		files[0] = null
		parent = append(parent, null)
	}
	for i, kind := range []byte{kindStdout, kindStderr} {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		files[i+1] = w
		parent = append(parent, w)
		p.relay.Add(1)
		go func() {
			defer p.relay.Done()
			defer r.Close()
			_, _ = io.Copy(frameWriter{a.c, kind, stream}, r)
		}()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	proc, err := os.StartProcess(prog, argv, &os.ProcAttr{Dir: "/", Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, Files: files[:]})
	for _, f := range parent {
		f.Close()
	}
	if err != nil {
		return err
	}
	p.pid = proc.Pid
	debugf("stream %d: pid %d runs %q", stream, p.pid, req.Argv)
	_ = proc.Release() // the reaper waits for it
	if req.SignalPid == "" {
		_ = a.c.send(kindStarted, stream, nil)
	} else {
		// runx exec writes its pid file once the program runs: started then,
		// as runc's exec -d returns then.
		go func() {
			for i := 0; i < 60000; i++ {
				if _, err := os.Stat(req.SignalPid); err == nil {
					_ = a.c.send(kindStarted, stream, nil)
					return
				}
				a.mu.Lock()
				_, running := a.byPid[p.pid]
				a.mu.Unlock()
				if !running {
					return // its exit frame tells
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	a.procs[stream] = p
	a.byPid[p.pid] = p
	if ws, ok := a.early[p.pid]; ok {
		delete(a.early, p.pid)
		go a.exited(p, ws)
	}
	return nil
}

// console listens on path for the terminal master p's process will send,
// and relays it: p's stdin frames to it (through a pipe, as they may come
// before the master), its output as p's stdout frames.
func (a *agentState) console(p *guestProc, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("console socket %s: %w", path, err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		ln.Close()
		return err
	}
	p.stdin = w
	p.tty = &guestTTY{}
	p.relay.Add(1)
	go func() {
		defer p.relay.Done()
		defer r.Close()
		master, err := receiveMaster(ln, path)
		if err != nil {
			debugf("stream %d: %v", p.stream, err)
			return
		}
		defer master.Close()
		a.mu.Lock()
		p.tty.master = master
		if p.tty.size != nil {
			_ = setSize(master, p.tty.size)
		}
		a.mu.Unlock()
		go func() { _, _ = io.Copy(master, r) }()
		// Until EIO: every holder of the slave has closed it.
		_, _ = io.Copy(frameWriter{a.c, kindStdout, p.stream}, master)
	}()
	return nil
}

// receiveMaster takes the one terminal master sent to the console socket.
func receiveMaster(ln *net.UnixListener, path string) (*os.File, error) {
	defer os.Remove(path)
	defer ln.Close()
	_ = ln.SetDeadline(time.Now().Add(2 * time.Minute))
	uc, err := ln.AcceptUnix()
	if err != nil {
		return nil, fmt.Errorf("console socket %s: %w", path, err)
	}
	defer uc.Close()
	f, err := uc.File()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return utils.RecvFile(f)
}

// watch starts waiting for the container's init.
func (a *agentState) watch(stream uint32, req *reapRequest) {
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(req.PidFile)))
	if err != nil || pid <= 0 {
		a.c.sendJSON(kindExit, stream, exitMsg{Status: 127 << 8, Err: "no container process: " + req.PidFile})
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	p := &guestProc{stream: stream, pid: pid, drain: a.procs[req.Drain]}
	a.procs[stream] = p
	a.byPid[pid] = p
	if ws, ok := a.early[pid]; ok {
		delete(a.early, pid)
		go a.exited(p, ws)
	}
}

// handOver makes p's stream go on with the process named in p.waitPid,
// which then carries p's stdin and terminal; false when there is none.
func (a *agentState) handOver(p *guestProc) bool {
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(p.waitPid)))
	if err != nil || pid <= 0 {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	q := &guestProc{stream: p.stream, pid: pid, sigPid: p.sigPid, stdin: p.stdin, tty: p.tty, drain: p}
	a.procs[p.stream] = q
	a.byPid[pid] = q
	if ws, ok := a.early[pid]; ok {
		delete(a.early, pid)
		go a.exited(q, ws)
	}
	return true
}

// drained waits, at most limit, for p's stdout and stderr to reach their ends.
func drained(p *guestProc, limit time.Duration) {
	done := make(chan struct{})
	go func() { p.relay.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
	}
}

// reap is pid 1's duty: wait for every process, and report those the
// monitor asked about.
func (a *agentState) reap() {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGCHLD)
	for range sigs {
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if err != nil || pid <= 0 {
				break
			}
			a.mu.Lock()
			p := a.byPid[pid]
			if p == nil {
				if a.early == nil {
					a.early = map[int]unix.WaitStatus{}
				}
				if len(a.early) < 1024 {
					a.early[pid] = ws
				}
			}
			delete(a.byPid, pid)
			a.mu.Unlock()
			if p != nil {
				go a.exited(p, ws)
			}
		}
	}
}

func (a *agentState) exited(p *guestProc, ws unix.WaitStatus) {
	if p.waitPid != "" && ws == 0 && a.handOver(p) {
		return
	}
	// Its output first. A process may leave its stdio to others (create to
	// the container's process): then the stream goes on after its exit.
	drained(p, 200*time.Millisecond)
	if d := p.drain; d != nil {
		drained(d, 2*time.Second) // unless a daemon of the container holds it
		unix.Sync()               // the container's writes reach the host before it is reported gone
	}
	// A stream whose stdio others hold (the container's, after create)
	// stays, for its stdin, until its output ends.
	go func() {
		p.relay.Wait()
		a.mu.Lock()
		if a.procs[p.stream] == p {
			delete(a.procs, p.stream)
		}
		a.mu.Unlock()
	}()
	debugf("stream %d: pid %d ended: %#x", p.stream, p.pid, int(ws))
	_ = a.c.sendJSON(kindExit, p.stream, exitMsg{Status: int(ws)})
}
