package microvm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/exitlike"
	"github.com/runx-dev/runx/isolation"
)

// A relay is a host process that stands for a guest process: it asks the
// VM's monitor for the process (an exec, or a container of the VM's pod),
// relays its stdio (or terminal) and signals, and exits as it ended. A
// foreground exec is runx exec itself relaying; an exec -d and a pod's later
// containers are runx started again as runx-vm-relay, whose pid is the one
// engines get (the pid file), wait for and signal.

const relayName = "runx-vm-relay"

// Exec runs runx exec in the guest, through the monitor, with this
// process's stdio and signals, and returns its exit code. With Detach a
// relay stands for the guest process.
func (c *container) Exec(req *isolation.ExecRequest) (int, error) {
	switch {
	case req.Process == nil || len(req.Process.Args) == 0:
		return -1, errors.New("exec: no program to run")
	case req.PreserveFDs > 0:
		return -1, fmt.Errorf("exec --preserve-fds: %w", errNotYet)
	}
	if err := isolation.CheckTerminal(req.Detach, req.Process.Terminal, req.ConsoleSocket); err != nil {
		return -1, err
	}
	st, err := c.State()
	if err != nil {
		return -1, err
	}
	if st.Status == "stopped" {
		return -1, errors.New("cannot exec in a stopped container")
	}
	if st.Status == "paused" && !req.IgnorePaused {
		return -1, errors.New("cannot exec in a paused container (use --ignore-paused to override)")
	}
	proc, err := json.Marshal(req.Process)
	if err != nil {
		return -1, err
	}
	ctl := control{Op: "exec", ID: c.id, Process: proc}
	if !req.Detach {
		ex, err := relay(c.vmDir(), ctl, req.Process.Terminal, "", nil)
		if err != nil {
			return -1, err
		}
		ws := unix.WaitStatus(ex.Status)
		if ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ws.ExitStatus(), nil
	}
	cmd, err := startRelay(c.vmDir(), c.dir, ctl, req.Process.Terminal, req.ConsoleSocket, "the exec relay ended before the process ran")
	if err != nil {
		return -1, err
	}
	if req.PidFile != "" {
		if err := isolation.WritePidFile(req.PidFile, cmd.Process.Pid); err != nil {
			_ = cmd.Process.Kill()
			return -1, err
		}
	}
	return 0, nil
}

// startRelay starts runx-vm-relay for req to the monitor of the VM in
// vmDir (the request passes in a file in stateDir) and waits until the
// guest process runs.
func startRelay(vmDir, stateDir string, req control, terminal bool, consoleSocket, ended string) (*exec.Cmd, error) {
	f, err := os.CreateTemp(stateDir, "relay-*.json")
	if err != nil {
		return nil, err
	}
	err = json.NewEncoder(f).Encode(req)
	f.Close()
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	argv := []string{relayName, vmDir, f.Name()}
	if terminal {
		argv = append(argv, consoleSocket)
	}
	cmd, err := startReporting(argv, ended, nil)
	if err != nil {
		os.Remove(f.Name()) // the relay removes it once read
		return nil, err
	}
	return cmd, nil
}

// relayMain is runx-vm-relay VM-DIR REQUEST-FILE [CONSOLE-SOCKET] (given
// when the process has a terminal).
func relayMain(args []string) {
	unix.CloseOnExec(3)
	report := os.NewFile(3, "report")
	if len(args) != 2 && len(args) != 3 {
		fmt.Fprintln(report, "usage: runx-vm-relay VM-DIR REQUEST-FILE [CONSOLE-SOCKET]")
		os.Exit(2)
	}
	terminal, sock := len(args) == 3, ""
	if terminal {
		sock = args[2]
	}
	b, err := os.ReadFile(args[1])
	os.Remove(args[1])
	var req control
	if err == nil {
		err = json.Unmarshal(b, &req)
	}
	if err != nil {
		fmt.Fprint(report, err.Error())
		os.Exit(1)
	}
	ex, err := relay(args[0], req, terminal, sock, func() {
		fmt.Fprint(report, "ok")
		report.Close()
		if terminal && sock != "" {
			detachStdio()
		}
	})
	if err != nil {
		fmt.Fprint(report, err.Error())
		fmt.Fprintf(os.Stderr, "runx: %s: %v\n", req.Op, err)
		os.Exit(1)
	}
	exitlike.Exit(syscall.WaitStatus(ex.Status))
}

// relay sends req to the monitor of the VM in dir and relays this
// process's stdio (or, with terminal, a terminal: a new one whose master
// goes to consoleSocket, or this process's own) and signals to the guest
// process until it ends. started, when set, is called once it runs.
func relay(dir string, req control, terminal bool, consoleSocket string, started func()) (exitMsg, error) {
	var in io.Reader = os.Stdin
	var out io.Writer = os.Stdout
	var term *hostTerm
	if terminal {
		t, err := openHostTerm(consoleSocket)
		if err != nil {
			return exitMsg{}, err
		}
		defer t.close()
		term, in, out = t, t.in, t.out
	}
	cc, nc, err := request(dir, req)
	if err != nil {
		return exitMsg{}, err
	}
	defer nc.Close()
	if b := term.size(); b != nil {
		_ = cc.send(kindResize, b)
	}
	go sendStdin(cc, in)
	running := false
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			if s == unix.SIGWINCH && term != nil {
				if b := term.size(); b != nil {
					_ = cc.send(kindResize, b)
				}
				continue
			}
			_ = cc.send(kindSignal, []byte{byte(s.(unix.Signal))})
		}
	}()
	for {
		f, err := cc.recv()
		if err != nil {
			if running {
				// The VM went, and the process with it.
				return exitMsg{Status: int(unix.SIGKILL)}, nil
			}
			return exitMsg{}, fmt.Errorf("the VM monitor went away: %w", err)
		}
		switch f.kind {
		case kindStdout:
			_, _ = out.Write(f.payload)
		case kindStderr:
			_, _ = os.Stderr.Write(f.payload)
		case kindStarted:
			running = true
			if started != nil {
				started()
				started = nil
			}
		case kindExit:
			var ex exitMsg
			if err := json.Unmarshal(f.payload, &ex); err != nil {
				return exitMsg{}, err
			}
			if ex.Err != "" {
				return exitMsg{}, errors.New(ex.Err)
			}
			return ex, nil
		}
	}
}
