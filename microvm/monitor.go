package microvm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/runx-dev/runx/internal/exitlike"
	"github.com/runx-dev/runx/microvm/agentpb"
	"github.com/sirupsen/logrus"

	"golang.org/x/sys/unix"
)

// The monitor: one host process per VM, runx started as runx-vm-monitor. It
// is the container's process as the engines see it (state pid, pid file):
// it owns the hypervisor and its device daemons and the agent connection,
// relays the container's stdio, forwards signals, and exits with the
// container's exit status (killing itself with the container's signal when
// a signal ended it). If it dies, the hypervisor dies with it (PDEATHSIG).

const monitorName = "runx-vm-monitor"

// monitorConfig is what create hands the monitor (monitor.json in the
// container's state directory).
type monitorConfig struct {
	ID         string   `json:"id"`
	VM         VMConfig `json:"vm"`
	Hypervisor string   `json:"hypervisor"`
	GuestSpec  []byte   `json:"guestSpec"` // config.json for the guest's runx
	BootLimit  string   `json:"bootLimit"`
	// Cgroup is the VM's host cgroup, which the monitor joins first.
	Cgroup *cgroups.Cgroup `json:"cgroup"`
	// Terminal: the container's process has a terminal, whose host end
	// goes to ConsoleSocket (else it is the monitor's own stdio).
	Terminal      bool   `json:"terminal,omitempty"`
	ConsoleSocket string `json:"consoleSocket,omitempty"`
	// Netns is the network namespace the monitor was started in, when
	// config.json names one ("": a new one, which goes with the VM).
	Netns string `json:"netns,omitempty"`
	// Sysctls are the container's net.* sysctls, for the guest's network
	// namespace.
	Sysctls map[string]string `json:"sysctls,omitempty"`
}

// control is a request on the monitor's socket, in a kindRun frame; the
// answer is a kindExit frame (exitMsg: Err when it failed). An exec streams
// the process's stdio in frames on the same connection before its exit.
type control struct {
	Op      string `json:"op"`           // start, signal, signal-all, exec, pids, runx; create, remove (a pod's later containers)
	ID      string `json:"id,omitempty"` // the container (the VM's own when empty)
	Signal  int    `json:"signal,omitempty"`
	Process []byte `json:"process,omitempty"` // exec: the process, as runx exec --process takes it
	// runx: a runx command run in the guest on the container (its id is
	// among Args), its stdout and stderr sent back; Input, when given, is
	// written to a guest file whose path replaces "@input" in Args.
	Args  []string `json:"args,omitempty"`
	Input []byte   `json:"input,omitempty"`
	// create: the pod's later container to make in the VM (pod.go).
	Container *guestContainer `json:"container,omitempty"`
}

// guestCommands are the runx commands a control request may run in the
// guest: what the host's commands of the same name ask of the container.
var guestCommands = map[string]bool{"ps": true, "update": true, "events": true, "pause": true, "resume": true}

type monitor struct {
	dir   string
	cfg   monitorConfig
	vm    VM
	agent agentpb.AgentClient
	// agentOwn: the agent's start to its hello, by its clock.
	agentOwn time.Duration
	mu       sync.Mutex
	next     uint32 // the next stream's id
	create   *guestStream
	// started is closed once the container's process runs.
	started  chan struct{}
	peers    map[uint32]peer    // the exec clients' host processes, by stream
	members  map[string]*member // the pod's later containers, by id
	inflight sync.WaitGroup     // control requests being answered
	// createdOK is closed once the guest's create succeeded; until then its
	// stderr is kept in createErr too, for the error.
	createdOK chan struct{}
	createErr syncBuffer
	// The container's stdin and stdout on the host: create's, or the host
	// end of its terminal (term).
	in   io.Reader
	out  io.Writer
	term *hostTerm
}

func monitorMain(args []string) {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: runx-vm-monitor STATE-DIR")
		os.Exit(2)
	}
	// Our stderr is the container's: ttrpc's own log lines (a late input
	// for a stream the agent has closed) must not land there.
	logrus.SetOutput(io.Discard)
	// fd 3: a pipe to the create that started us; closed with "ok" or an
	// error. Not for the hypervisor: create reads it to its end.
	unix.CloseOnExec(3)
	report := os.NewFile(3, "report")
	status, err := runMonitor(args[0], report)
	if err != nil {
		if report != nil {
			fmt.Fprint(report, err.Error())
			report.Close()
		}
		fmt.Fprintf(os.Stderr, "runx: microvm: %v\n", err)
		os.Exit(1)
	}
	exitlike.Exit(syscall.WaitStatus(status)) // as the container's process ended
}

func runMonitor(dir string, report *os.File) (unix.WaitStatus, error) {
	// The hypervisor and its daemon die with the thread that started them
	// (PR_SET_PDEATHSIG is the parent thread's): this one, locked for the
	// monitor's life, never another that may end first (onThread's).
	runtime.LockOSThread()
	m := &monitor{dir: dir, next: 1, peers: map[uint32]peer{}, members: map[string]*member{},
		started: make(chan struct{}), createdOK: make(chan struct{})}
	b, err := os.ReadFile(filepath.Join(dir, "monitor.json"))
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(b, &m.cfg); err != nil {
		return 0, fmt.Errorf("%s/monitor.json: %w", dir, err)
	}
	if _, err := joinCgroup(m.cfg.Cgroup, os.Getpid()); err != nil {
		return 0, err
	}
	m.in, m.out = os.Stdin, os.Stdout
	if m.cfg.Terminal {
		t, err := openHostTerm(m.cfg.ConsoleSocket)
		if err != nil {
			return 0, err
		}
		defer t.close()
		m.term, m.in, m.out = t, t.in, t.out
	}
	// Signals for the container: forwarded once it runs.
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, forwarded...)
	signal.Ignore(unix.SIGPIPE)

	// The VM's NIC, in the container's network namespace (net.go).
	if err := addVMTap(); err != nil {
		return 0, err
	}
	defer unwireNetwork()
	m.cfg.VM.Tap = vmTap
	t0 := time.Now()
	hv, ok := hypervisors[m.cfg.Hypervisor]
	if !ok {
		return 0, fmt.Errorf("no hypervisor %q", m.cfg.Hypervisor)
	}
	vm, err := hv.Boot(&m.cfg.VM)
	if err != nil {
		return 0, err
	}
	m.vm = vm
	defer vm.Stop()
	if err := m.writePids(); err != nil {
		return 0, err
	}
	if err := m.connect(); err != nil {
		// The state directory goes with a failed create: how the
		// hypervisor ended (its log's end) and the console's end are in
		// the error.
		return 0, fmt.Errorf("%w (guest kernel %s, initramfs %s; %s)", err,
			m.cfg.VM.Kernel, m.cfg.VM.Initrd, m.whyEnded())
	}
	tAgent := time.Since(t0)
	m.note("the agent answered after %v", tAgent.Round(time.Millisecond))
	go m.watchPorts()
	// runx create in the guest, then the container's process: the
	// container's stdio is this stream's, and its exit the process's.
	m.create = m.newStream(m.out, createStderr{m}, nil)
	if err := m.run(m.create, createRequest(m.cfg.ID, m.cfg.GuestSpec, m.cfg.Sysctls, m.term != nil, m.create.id)); err != nil {
		return 0, err
	}
	m.resize()
	go relayStdin(m.create, m.in)
	ok, ex, err := m.waitCreated(m.create, "the container's create")
	if err != nil {
		return 0, fmt.Errorf("creating the container in the guest: %w (its console: %s)", err, tail(filepath.Join(dir, "console.log")))
	}
	m.note("the container was made in the guest after %v", time.Since(t0).Round(time.Millisecond))
	if !ok {
		msg := strings.TrimPrefix(strings.TrimSpace(m.createErr.String()), "runx: ")
		if ex.Err == vmEnded {
			msg = strings.TrimPrefix(msg+"; ", "; ") + m.whyEnded()
		}
		return 0, fmt.Errorf("creating the container in the guest failed (%s): %s", describe(ex), msg)
	}
	close(m.createdOK)
	// For make bench: the hypervisor's start to the agent's first answer,
	// to the guest's /init (the agent's start, by its own clock), and to
	// the container made in the guest.
	_ = writeJSON(filepath.Join(dir, "timings.json"), map[string]float64{
		"agent_ms": ms(tAgent), "init_ms": ms(tAgent - m.agentOwn), "created_ms": ms(time.Since(t0))})
	ln, err := listenIn(dir, "monitor.sock")
	if err != nil {
		return 0, err
	}
	go m.serveControl(ln)
	if report != nil {
		fmt.Fprint(report, "ok")
		report.Close()
	}
	if m.term != nil && m.cfg.ConsoleSocket != "" {
		detachStdio()
	}
	for {
		select {
		case s := <-sigs:
			if s == unix.SIGWINCH && m.term != nil {
				m.resize()
				continue
			}
			m.forward(s.(unix.Signal))
		case ex := <-m.create.exited:
			// The request that ended it (kill --all) is answered first.
			m.answered(2 * time.Second)
			return unix.WaitStatus(ex.Status), nil
		}
	}
}

// answered waits, at most limit, until the control requests taken are
// answered.
func (m *monitor) answered(limit time.Duration) {
	done := make(chan struct{})
	go func() { m.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
	}
}

// createRequest has the agent run runx create in the guest for container
// id (its config.json spec, its net.* sysctls) on stream, with a terminal
// whose master comes back on the stream when terminal; the stream then goes
// on with the container's process (started once it is made, its exit the
// process's).
func createRequest(id string, spec []byte, sysctls map[string]string, terminal bool, stream uint32) *agentpb.Run {
	req := &agentpb.Run{Runx: true, Stdin: true, Sysctls: sysctls, WaitPid: guestPidFile(id),
		Argv:  []string{"--root", guestState, "create", "--bundle", guestBundle(id), "--pid-file", guestPidFile(id)},
		Files: map[string][]byte{guestBundle(id) + "/config.json": spec}}
	if terminal {
		req.Console = guestConsole(stream)
		req.Argv = append(req.Argv, "--console-socket", req.Console)
	}
	req.Argv = append(req.Argv, id)
	return req
}

// guestConsole is the guest's console socket for a stream's terminal.
func guestConsole(stream uint32) string { return fmt.Sprintf("/run/console/%d.sock", stream) }

// resize gives the container's terminal the host end's size.
func (m *monitor) resize() {
	if b := m.term.size(); b != nil {
		_ = m.create.resize(b)
	}
}

// vmEnded is a stream's end when the VM went away under it.
const vmEnded = "the VM ended"

// whyEnded says how the VM ended, for an error: the hypervisor's own end
// (its log's last lines) and the console's, since the state directory goes
// with a failed create.
func (m *monitor) whyEnded() string {
	ended := make(chan error, 1)
	go func() { ended <- m.vm.Wait() }()
	hv := "still running"
	select {
	case err := <-ended:
		hv = "ended"
		if err != nil {
			hv = err.Error()
		}
	case <-time.After(2 * time.Second):
	}
	return fmt.Sprintf("hypervisor: %s; its console: %s", hv, tail(filepath.Join(m.dir, "console.log")))
}

func describe(ex exitMsg) string {
	if ex.Err != "" {
		return ex.Err
	}
	ws := unix.WaitStatus(ex.Status)
	if ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}

func (m *monitor) writePids() error {
	b, _ := json.Marshal(m.vm.Pids())
	return os.WriteFile(filepath.Join(m.dir, "vm.pids"), b, 0o600)
}

// bootLimit is dev.runx.microvm.boot-timeout, or defaultBootLimit: how long
// the agent may take to answer, and then the guest to make a container.
func (m *monitor) bootLimit() time.Duration {
	if d, _ := time.ParseDuration(m.cfg.BootLimit); d > 0 {
		return d
	}
	return defaultBootLimit
}

// waitCreated waits, at most the boot limit, until the guest started g's
// container process or ended it: a guest that hangs fails the create with
// the guest's tasks (where each waits, asked of its agent) and the
// monitor's goroutines in vm.log, instead of holding the engine until its
// own deadline. what names the create in that note.
func (m *monitor) waitCreated(g *guestStream, what string) (bool, exitMsg, error) {
	ok, ex, err := g.waitStart(m.bootLimit())
	if err != nil {
		tasks := m.guestTasks(10 * time.Second)
		m.note("%s: %v; the guest's tasks:\n%s\nthe monitor's goroutines:\n%s", what, err, tasks, stacks())
		if d := Blocked(tasks); len(d) > 0 {
			err = fmt.Errorf("%w; in uninterruptible sleep there: %s", err, strings.Join(d, "; "))
		}
	}
	return ok, ex, err
}

// guestTasks is `runx tasks` in the guest, or why not within limit.
func (m *monitor) guestTasks(limit time.Duration) string {
	done := make(chan string, 1)
	go func() {
		ex, out := m.runx("tasks")
		if ex.Status != 0 || ex.Err != "" {
			out += fmt.Sprintf("(runx tasks: %s %s)", describe(ex), ex.Err)
		}
		done <- out
	}()
	select {
	case out := <-done:
		return out
	case <-time.After(limit):
		return fmt.Sprintf("(the agent did not answer runx tasks within %v)", limit)
	}
}

// note appends a line to the VM's log (vm.log, beside the hypervisor's own
// lines): when the agent answered, when the container was made, and what
// the monitor waited on when the guest hung.
func (m *monitor) note(format string, a ...any) {
	f, err := os.OpenFile(filepath.Join(m.dir, "vm.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s runx-vm-monitor: %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), fmt.Sprintf(format, a...))
}

// stacks are the monitor's goroutines, for a hang's report.
func stacks() []byte {
	buf := make([]byte, 1<<20)
	return buf[:runtime.Stack(buf, true)]
}

// defaultBootLimit is how long the agent may take to answer, and then the
// guest to make the container, without dev.runx.microvm.boot-timeout.
const defaultBootLimit = 120 * time.Second

// connect reaches the agent port and waits for the agent's first frame.
func (m *monitor) connect() error {
	limit := m.bootLimit()
	deadline := time.Now().Add(limit)
	nc, err := m.vm.DialAgent(limit)
	if err != nil {
		return fmt.Errorf("the hypervisor did not open the agent's channel: %w", err)
	}
	ready := make(chan error, 1)
	go func() {
		agent, _, own, err := dialAgent(nc, deadline)
		m.agent, m.agentOwn = agent, own
		ready <- err
	}()
	ended := make(chan error, 1)
	go func() { ended <- m.vm.Wait() }()
	select {
	case err := <-ready:
		if os.IsTimeout(err) {
			return fmt.Errorf("the guest agent did not answer within %v", limit)
		}
		if err != nil {
			return fmt.Errorf("the guest agent: %w", err)
		}
		return nil
	case <-ended:
		// How it ended the caller adds (whyEnded), with the console's end.
		return errors.New("the VM ended before its agent answered")
	}
}

// createStderr is the stderr of the guest's create: the monitor's, and
// kept for create's error until it succeeded.
type createStderr struct{ m *monitor }

func (w createStderr) Write(p []byte) (int, error) {
	select {
	case <-w.m.createdOK:
	default:
		_, _ = w.m.createErr.Write(p)
	}
	return os.Stderr.Write(p)
}

// forwarded are the signals the monitor, a foreground run and an exec's
// host process pass on to the guest process they stand for.
var forwarded = []os.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH}

// runx runs a runx command in the guest and returns its status and output.
func (m *monitor) runx(args ...string) (exitMsg, string) {
	var out syncBuffer
	g := m.newStream(&out, nil, nil)
	if err := m.run(g, &agentpb.Run{Runx: true, Argv: append([]string{"--root", guestState}, args...)}); err != nil {
		return exitMsg{Status: 1 << 8, Err: err.Error()}, ""
	}
	ex := <-g.exited
	return ex, out.String()
}

// start starts the container's process in the guest and begins to wait for
// its end.
func (m *monitor) start() error {
	select {
	case <-m.started:
		return errors.New("the container was started already")
	default:
	}
	if err := m.network(); err != nil {
		return err
	}
	if err := m.startGuest(m.cfg.ID); err != nil {
		return err
	}
	close(m.started)
	return nil
}

// startGuest runs runx start for container id in the guest (its create's
// stream waits for its process already).
func (m *monitor) startGuest(id string) error {
	ex, out := m.runx("start", id)
	if !ex.ok() {
		return fmt.Errorf("%s%s", out, describe(ex))
	}
	return nil
}

// network wires the VM to the container's network namespace, as engines
// and hooks have set it up by now, and has the agent configure the guest's
// NIC (net.go).
func (m *monitor) network() error {
	cfg, err := wireNetwork()
	if err != nil || cfg == nil {
		return err
	}
	if _, err := m.agent.Network(context.Background(), cfg); err != nil {
		return fmt.Errorf("the guest's network: %w", err)
	}
	return nil
}

// forward sends a signal to the container's process.
func (m *monitor) forward(sig unix.Signal) {
	select {
	case <-m.started:
		_ = m.create.signal(sig)
	default:
		// Before start the process is runx's init in the guest: as runc, kill it.
		_, _ = m.runx("kill", m.cfg.ID, fmt.Sprint(int(sig)))
	}
}

func (m *monitor) serveControl(ln net.Listener) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer nc.Close()
			cc := &conn{rw: nc}
			f, err := cc.recv()
			if err != nil || f.kind != kindRun {
				return
			}
			m.inflight.Add(1)
			defer m.inflight.Done()
			var req control
			if err := json.Unmarshal(f.payload, &req); err != nil {
				return
			}
			fail := func(err error) { _ = cc.sendJSON(kindExit, exitMsg{Status: 1 << 8, Err: err.Error()}) }
			own := req.ID == "" || req.ID == m.cfg.ID
			id := req.ID
			if own {
				id = m.cfg.ID
			} else if req.Op != "create" && m.memberOf(id) == nil {
				fail(fmt.Errorf("container %s is not in the pod's VM", id))
				return
			}
			switch req.Op {
			case "start":
				start := m.start
				if !own {
					start = func() error { return m.startMember(id) }
				}
				if err := start(); err != nil {
					fail(err)
					return
				}
			case "signal":
				if own {
					m.forward(unix.Signal(req.Signal))
				} else {
					m.signalMember(id, unix.Signal(req.Signal))
				}
			case "signal-all":
				ex, out := m.runx("kill", "--all", id, fmt.Sprint(req.Signal))
				if !ex.ok() {
					fail(errors.New(out + describe(ex)))
					return
				}
			case "exec":
				m.inflight.Done() // lasts as long as its process
				defer m.inflight.Add(1)
				m.exec(cc, id, req.Process, peerPid(nc))
				return
			case "pids":
				_ = cc.sendJSON(kindStdout, m.hostPids(id))
			case "create":
				if own {
					fail(fmt.Errorf("container with id exists: %s", id))
					return
				}
				m.inflight.Done() // lasts as long as the container
				defer m.inflight.Add(1)
				m.createMember(cc, req.Container, peerPid(nc))
				return
			case "remove":
				if own {
					fail(errors.New("the pod's sandbox container goes with its VM"))
					return
				}
				if err := m.removeMember(id); err != nil {
					fail(err)
					return
				}
			case "runx":
				m.guestCommand(cc, &req)
				return
			default:
				fail(errors.New("unknown request " + req.Op))
				return
			}
			_ = cc.sendJSON(kindExit, exitMsg{})
		}()
	}
}

// exec runs runx exec in the guest for a client of the monitor's socket,
// relaying its stdio and signals both ways, and ends with its status.
func (m *monitor) exec(cc *conn, id string, process []byte, pid int) {
	g := m.newStream(frameWriter{cc, kindStdout}, frameWriter{cc, kindStderr}, cc)
	s := g.id
	if pid > 0 {
		m.mu.Lock()
		m.peers[s] = peer{pid: pid, id: id}
		m.mu.Unlock()
		defer func() {
			m.mu.Lock()
			delete(m.peers, s)
			m.mu.Unlock()
		}()
	}
	path, pidFile := fmt.Sprintf("/run/exec/%d.json", s), fmt.Sprintf("/run/exec/%d.pid", s)
	req := &agentpb.Run{Runx: true, Stdin: true, Files: map[string][]byte{path: process}, SignalPid: pidFile,
		Argv: []string{"--root", guestState, "exec", "--process", path, "--pid-file", pidFile}}
	var p struct {
		Terminal bool `json:"terminal"`
	}
	if json.Unmarshal(process, &p) == nil && p.Terminal {
		// runx hands a terminal only to a detached exec: the agent then
		// reaps the program itself.
		req.Console, req.WaitPid = guestConsole(s), pidFile
		req.Argv = append(req.Argv, "--detach", "--console-socket", req.Console)
	}
	req.Argv = append(req.Argv, id)
	if err := m.run(g, req); err != nil {
		_ = cc.sendJSON(kindExit, exitMsg{Status: 1 << 8, Err: err.Error()})
		return
	}
	go func() {
		for {
			f, err := cc.recv()
			if err != nil {
				// The client is gone (killed, or an engine's exec timed
				// out): so is its process, as runc's exec'd process would be
				// were its runtime process killed with it.
				_ = g.eof()
				_ = g.signal(unix.SIGKILL)
				return
			}
			g.input(f)
		}
	}()
	ex := <-g.exited
	_ = cc.sendJSON(kindExit, ex)
}

// peer is an exec's client: its host process and the container it is in.
type peer struct {
	pid int
	id  string
}

// hostPids are the host processes that stand for container id's: its
// process (the monitor, or a pod's later container's relay) and the client
// of each exec (runx exec, or the runx-vm-relay of an exec -d), which
// engines wait for and signal.
func (m *monitor) hostPids(id string) []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	var pids []int
	if id == m.cfg.ID {
		pids = append(pids, os.Getpid())
	} else if mb := m.members[id]; mb != nil && mb.pid > 0 {
		pids = append(pids, mb.pid)
	}
	n := len(pids)
	for _, p := range m.peers {
		if p.id == id {
			pids = append(pids, p.pid)
		}
	}
	slices.Sort(pids[n:])
	return pids
}

// peerPid is the pid of the process at the other end of a unix socket.
func peerPid(nc net.Conn) int {
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		return 0
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0
	}
	pid := 0
	_ = raw.Control(func(fd uintptr) {
		if cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED); err == nil {
			pid = int(cred.Pid)
		}
	})
	return pid
}

// guestCommand runs one of guestCommands in the guest for a client, its
// output sent back as it comes, and ends with its status.
func (m *monitor) guestCommand(cc *conn, req *control) {
	if len(req.Args) == 0 || !guestCommands[req.Args[0]] {
		_ = cc.sendJSON(kindExit, exitMsg{Status: 1 << 8, Err: fmt.Sprintf("runx %v is not a command the guest runs for the host", req.Args)})
		return
	}
	g := m.newStream(frameWriter{cc, kindStdout}, frameWriter{cc, kindStderr}, nil)
	var files map[string][]byte
	args := append([]string{"--root", guestState}, req.Args...)
	if req.Input != nil {
		path := fmt.Sprintf("/run/input/%d", g.id)
		files = map[string][]byte{path: req.Input}
		for i, a := range args {
			if a == "@input" {
				args[i] = path
			}
		}
	}
	if err := m.run(g, &agentpb.Run{Runx: true, Files: files, Argv: args}); err != nil {
		_ = cc.sendJSON(kindExit, exitMsg{Status: 1 << 8, Err: err.Error()})
		return
	}
	// A client that goes (events, which runs until stopped) takes the
	// command with it.
	go func() {
		for {
			if _, err := cc.recv(); err != nil {
				_ = g.signal(unix.SIGKILL)
				return
			}
		}
	}()
	_ = cc.sendJSON(kindExit, <-g.exited)
}

// frameWriter writes what it is given as frames of one kind.
type frameWriter struct {
	c    *conn
	kind byte
}

func (w frameWriter) Write(p []byte) (int, error) {
	if err := w.c.send(w.kind, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// syncBuffer collects a command's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf = append(b.buf, p...)
	b.mu.Unlock()
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
