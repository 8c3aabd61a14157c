package libct

import (
	"os"
	"os/signal"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// forwarder relays every signal runx gets to the foreground process and reaps
// children (runx is their subreaper) until that process exits.
type forwarder struct {
	c chan os.Signal
}

func newForwarder(subreaper bool) *forwarder {
	if subreaper {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			logrus.Warnf("cannot become a subreaper: %v", err)
		}
	}
	f := &forwarder{c: make(chan os.Signal, 2048)}
	signal.Notify(f.c)
	return f
}

func (f *forwarder) stop() {
	if f != nil {
		signal.Stop(f.c)
	}
}

func (f *forwarder) forward(p *libcontainer.Process, t *stdio) (int, error) {
	pid, err := p.Pid()
	if err != nil {
		return -1, err
	}
	t.resize()
	// The process may have exited before its SIGCHLD was caught: reap once first.
	if st, done := reapUntil(pid); done {
		_, _ = p.Wait()
		return st, nil
	}
	for s := range f.c {
		switch s {
		case unix.SIGWINCH:
			t.resize()
		case unix.SIGCHLD:
			if st, done := reapUntil(pid); done {
				_, _ = p.Wait()
				return st, nil
			}
		case unix.SIGURG:
			// The Go runtime's preemption signal, not meant for the container.
		default:
			if err := p.Signal(s); err != nil {
				logrus.Debugf("forwarding %v to %d: %v", s, pid, err)
			}
		}
	}
	return -1, nil
}

// reapUntil reaps every exited child and reports the exit status of pid once it
// is among them.
func reapUntil(pid int) (int, bool) {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || got <= 0 {
			return 0, false
		}
		if got == pid {
			return utils.ExitStatus(ws), true
		}
	}
}
