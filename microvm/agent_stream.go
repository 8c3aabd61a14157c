package microvm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/runx-dev/runx/microvm/agentpb"
	"golang.org/x/sys/unix"
)

// The agent's service (agentpb.AgentService): the guest processes it runs
// for the monitor, each on its own Stream call, and the network and port
// calls (net.go, portfwd.go).

type agentState struct {
	mu    sync.Mutex
	byPid map[int]*guestProc
	early map[int]unix.WaitStatus // reaped before anybody asked
}

// agentStream is one Stream call: where its outputs go, and what its inputs
// are for.
type agentStream struct {
	id   uint32
	mu   sync.Mutex // one Send at a time
	s    agentpb.Agent_StreamServer
	proc *guestProc // under agentState.mu: changes when wait_pid hands over
	fw   *forward   // a forwarded connection's instead
	done chan struct{}
	once sync.Once
	out  *credits            // stdout and stderr messages it may send (flow.go)
	inq  chan *agentpb.Input // stdin and EOF, for stdinWriter
}

func (st *agentStream) send(o *agentpb.Output) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.s.Send(o)
}

func (st *agentStream) started() error {
	return st.send(&agentpb.Output{Kind: &agentpb.Output_Started{Started: true}})
}

func (st *agentStream) exit(status int, err string) error {
	return st.send(&agentpb.Output{Kind: &agentpb.Output_Exit{Exit: &agentpb.Exit{Status: int32(status), Err: err}}})
}

// end lets the call return: the stream is over.
func (st *agentStream) end() { st.once.Do(func() { close(st.done) }) }

// outputWriter writes what it is given as a stream's stdout or stderr.
type outputWriter struct {
	st     *agentStream
	stderr bool
}

func (w outputWriter) Write(p []byte) (int, error) {
	if !w.st.out.take() {
		return 0, io.ErrClosedPipe // the monitor is gone
	}
	o := &agentpb.Output{Kind: &agentpb.Output_Stdout{Stdout: p}}
	if w.stderr {
		o = &agentpb.Output{Kind: &agentpb.Output_Stderr{Stderr: p}}
	}
	if err := w.st.send(o); err != nil {
		return 0, err
	}
	return len(p), nil
}

type guestProc struct {
	st      *agentStream
	pid     int
	sigPid  string // a file naming the pid its signals go to
	stdin   *os.File
	relay   sync.WaitGroup // stdout and stderr copied out
	tty     *guestTTY      // with Console
	waitPid string
	// drain: the process whose stdio this one has (runx create's, for the
	// container's process): its exit goes after drain's output.
	drain *guestProc
}

// guestTTY is a stream's terminal: its master, once the process sent it,
// and the size to give it (both under agentState.mu).
type guestTTY struct {
	master *os.File
	size   *agentpb.WindowSize
}

// Stream implements agentpb.AgentService.
func (a *agentState) Stream(ctx context.Context, s agentpb.Agent_StreamServer) error {
	first, err := s.Recv()
	if err != nil {
		return err
	}
	st := &agentStream{s: s, done: make(chan struct{}), out: newCredits(), inq: make(chan *agentpb.Input, window+8)}
	switch k := first.Kind.(type) {
	case *agentpb.Input_Run:
		st.id = k.Run.Id
		debugf("stream %d: run %q", st.id, k.Run.Argv)
		if err := a.start(st, k.Run); err != nil {
			_ = st.exit(127<<8, err.Error())
			st.end()
		}
	case *agentpb.Input_Dial:
		a.dial(st, k.Dial.Port)
	default:
		return fmt.Errorf("a stream begins with run or dial, not %T", first.Kind)
	}
	go a.stdinWriter(st)
	go a.inputs(st)
	select {
	case <-st.done:
	case <-ctx.Done():
	}
	return nil
}

// inputs handles a stream's later inputs: for its process (stdin, EOF,
// signals, terminal size) or its forwarded connection. It never waits on
// the process: stdin goes to stdinWriter, so a signal is not stuck behind
// input the program does not read.
func (a *agentState) inputs(st *agentStream) {
	defer close(st.inq)
	defer st.out.close()
	for {
		in, err := st.s.Recv()
		if err != nil {
			return
		}
		switch k := in.Kind.(type) {
		case *agentpb.Input_Ack:
			st.out.give(k.Ack)
			continue
		case *agentpb.Input_Stdin, *agentpb.Input_Eof:
			st.inq <- in
			continue
		}
		if st.fw != nil {
			st.fw.input(a, st, in)
			continue
		}
		a.mu.Lock()
		p := st.proc
		a.mu.Unlock()
		if p == nil {
			continue
		}
		switch k := in.Kind.(type) {
		case *agentpb.Input_Signal:
			pid := p.pid
			if p.sigPid != "" {
				if n, err := strconv.Atoi(strings.TrimSpace(readFile(p.sigPid))); err == nil && n > 0 {
					pid = n
				}
			}
			if pid > 0 {
				_ = unix.Kill(pid, unix.Signal(k.Signal))
			}
		case *agentpb.Input_Resize:
			a.mu.Lock()
			if p.tty != nil {
				p.tty.size = k.Resize
				if p.tty.master != nil {
					_ = setSize(p.tty.master, k.Resize)
				}
			}
			a.mu.Unlock()
		}
	}
}

// stdinWriter writes a stream's stdin, in order, to its process (or its
// forwarded connection), acknowledging each message once written.
func (a *agentState) stdinWriter(st *agentStream) {
	for in := range st.inq {
		if st.fw != nil {
			st.fw.input(a, st, in)
		} else {
			a.mu.Lock()
			p := st.proc
			a.mu.Unlock()
			if p != nil && p.stdin != nil {
				switch k := in.Kind.(type) {
				case *agentpb.Input_Stdin:
					_, _ = p.stdin.Write(k.Stdin)
				case *agentpb.Input_Eof:
					p.stdin.Close()
				}
			}
		}
		if _, ok := in.Kind.(*agentpb.Input_Stdin); ok {
			_ = st.send(&agentpb.Output{Kind: &agentpb.Output_Ack{Ack: 1}})
		}
	}
}

// Network implements agentpb.AgentService: the guest's NIC takes cfg.
func (a *agentState) Network(_ context.Context, cfg *agentpb.NetConfig) (*agentpb.Empty, error) {
	if err := configureNIC(cfg); err != nil {
		return nil, err
	}
	return &agentpb.Empty{}, nil
}

func (a *agentState) start(st *agentStream, req *agentpb.Run) error {
	if len(req.Argv) == 0 {
		return errors.New("nothing to run")
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
	p := &guestProc{st: st, sigPid: req.SignalPid, waitPid: req.WaitPid}
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
	for i := 1; i <= 2; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		files[i] = w
		parent = append(parent, w)
		p.relay.Add(1)
		go func() {
			defer p.relay.Done()
			defer r.Close()
			_, _ = io.Copy(outputWriter{st, i == 2}, r)
		}()
	}
	a.mu.Lock()
	proc, err := os.StartProcess(prog, argv, &os.ProcAttr{Dir: "/", Env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, Files: files[:]})
	for _, f := range parent {
		f.Close()
	}
	if err != nil {
		a.mu.Unlock()
		return err
	}
	p.pid = proc.Pid
	debugf("stream %d: pid %d runs %q", st.id, p.pid, req.Argv)
	_ = proc.Release() // the reaper waits for it
	st.proc = p
	a.byPid[p.pid] = p
	if ws, ok := a.early[p.pid]; ok {
		delete(a.early, p.pid)
		go a.exited(p, ws)
	}
	a.mu.Unlock()
	switch {
	case req.SignalPid != "":
		// runx exec writes its pid file once the program runs: started
		// then, as runc's exec -d returns then.
		go func() {
			for i := 0; i < 60000; i++ {
				if _, err := os.Stat(req.SignalPid); err == nil {
					_ = st.started()
					return
				}
				a.mu.Lock()
				_, running := a.byPid[p.pid]
				a.mu.Unlock()
				if !running {
					return // its exit tells
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	case req.WaitPid == "":
		_ = st.started()
	}
	// else: started once the process named in WaitPid is (handOver).
	return nil
}

// console listens on path for the terminal master p's process will send,
// and relays it: p's stdin to it (through a pipe, as it may come before the
// master), its output as p's stdout.
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
			debugf("stream %d: %v", p.st.id, err)
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
		_, _ = io.Copy(outputWriter{p.st, false}, master)
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

// handOver makes p's stream go on with the process named in p.waitPid,
// which then carries p's stdin and terminal; false when there is none.
func (a *agentState) handOver(p *guestProc) bool {
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(p.waitPid)))
	if err != nil || pid <= 0 {
		return false
	}
	a.mu.Lock()
	q := &guestProc{st: p.st, pid: pid, sigPid: p.sigPid, stdin: p.stdin, tty: p.tty, drain: p}
	p.st.proc = q
	a.byPid[pid] = q
	if ws, ok := a.early[pid]; ok {
		delete(a.early, pid)
		go a.exited(q, ws)
	}
	a.mu.Unlock()
	if p.sigPid == "" {
		_ = p.st.started() // runx create made the container's process
	}
	return true
}

// drainMax bounds drained while the monitor holds the output back.
const drainMax = 10 * time.Second

// drained waits until p's stdout and stderr reached their ends, or until
// they were idle for limit (a daemon keeps them open): output held back by
// a slow reader on the host (the stream's window used up) is not idle, for
// at most drainMax.
func drained(p *guestProc, limit time.Duration) {
	done := make(chan struct{})
	go func() { p.relay.Wait(); close(done) }()
	out := p.st.out
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	idleSince, last := start, out.sent.Load()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			if n := out.sent.Load(); n != last || out.waiting.Load() > 0 {
				last, idleSince = n, now
			}
			if now.Sub(idleSince) >= limit || now.Sub(start) >= drainMax {
				return
			}
		}
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
	debugf("stream %d: pid %d ended: %#x", p.st.id, p.pid, int(ws))
	_ = p.st.exit(int(ws), "")
	// A stream whose stdio others hold (the container's daemons) stays,
	// for its stdin, until its output ends.
	go func() {
		p.relay.Wait()
		if d := p.drain; d != nil {
			d.relay.Wait()
		}
		p.st.end()
	}()
}
