package tests

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestCreateStdio checks that the stdio given to `create` becomes the
// container process's stdio.
func TestCreateStdio(t *testing.T) {
	forEachMode(t, "stdio", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", `while read line; do echo "got: $line"; done; echo "stderr: eof" >&2`)
		m.apply(b)
		id := newID(t)

		inR, inW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		outR, outW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		errR, errW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer inW.Close()
		defer outR.Close()
		defer errR.Close()

		cmd := execCommand(r, "create", "--bundle", b.dir, id)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
		r.track(id)
		runErr := cmd.Run()
		// our copies of the container's ends
		inR.Close()
		outW.Close()
		errW.Close()
		if runErr != nil {
			t.Fatalf("create with pipes: %v", runErr)
		}
		r.ok("start", id)

		if _, err := io.WriteString(inW, "one\ntwo\n"); err != nil {
			t.Fatal(err)
		}
		inW.Close()

		out := readAllTimeout(t, outR, 10*time.Second)
		if out != "got: one\ngot: two\n" {
			t.Errorf("container stdout = %q, want the two lines echoed", out)
		}
		errOut := readAllTimeout(t, errR, 10*time.Second)
		if !strings.Contains(errOut, "stderr: eof") {
			t.Errorf("container stderr = %q, want \"stderr: eof\"", errOut)
		}
		r.waitStatus(id, "stopped", 10*time.Second)
	})
}

// readAllTimeout reads f to EOF, failing after timeout.
func readAllTimeout(t testing.TB, f *os.File, timeout time.Duration) string {
	t.Helper()
	_ = f.SetReadDeadline(time.Now().Add(timeout))
	data, err := io.ReadAll(f)
	if err != nil {
		t.Errorf("reading container output: %v (got %q)", err, data)
	}
	return string(data)
}

// consoleSocket listens on a unix socket and returns the pty master that a
// runtime sends over it.
type consoleSocket struct {
	path string
	ln   *net.UnixListener
	got  chan consoleResult
}

type consoleResult struct {
	master *os.File
	name   string
	err    error
}

func newConsoleSocket(t *testing.T) *consoleSocket {
	t.Helper()
	// sun_path is short: use a short directory rather than t.TempDir().
	dir, err := os.MkdirTemp("", "rxc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	cs := &consoleSocket{path: path, ln: ln, got: make(chan consoleResult, 1)}
	t.Cleanup(func() { ln.Close() })
	go cs.accept()
	return cs
}

func (cs *consoleSocket) accept() {
	conn, err := cs.ln.AcceptUnix()
	if err != nil {
		cs.got <- consoleResult{err: err}
		return
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, syscall.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		cs.got <- consoleResult{err: err}
		return
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		cs.got <- consoleResult{err: err}
		return
	}
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil || len(fds) == 0 {
			continue
		}
		for _, extra := range fds[1:] {
			syscall.Close(extra)
		}
		cs.got <- consoleResult{master: os.NewFile(uintptr(fds[0]), "pty-master"), name: string(buf[:n])}
		return
	}
	cs.got <- consoleResult{err: errors.New("no file descriptor received on the console socket")}
}

func (cs *consoleSocket) master(t *testing.T) (*os.File, string) {
	t.Helper()
	select {
	case res := <-cs.got:
		if res.err != nil {
			t.Fatalf("console socket: %v", res.err)
		}
		t.Cleanup(func() { res.master.Close() })
		return res.master, res.name
	case <-time.After(10 * time.Second):
		t.Fatal("no pty master received on the console socket")
	}
	return nil, ""
}

// readPty reads from a pty master until the slave side is closed (EIO) or
// the timeout passes.
func readPty(master *os.File, timeout time.Duration) string {
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		master.Close()
		<-done
	}
	return out.String()
}

func TestTerminalConsoleSocket(t *testing.T) {
	forEachMode(t, "tty", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", `echo "hello tty"; [ -t 0 ] && [ -t 1 ] && echo "is a tty"; echo "via dev-tty" >/dev/tty`)
		m.apply(b)
		b.edit(func(s *specs.Spec) { s.Process.Terminal = true })
		id := newID(t)
		cs := newConsoleSocket(t)

		r.ok("create", "--console-socket", cs.path, "--bundle", b.dir, id)
		master, _ := cs.master(t)
		r.ok("start", id)
		out := readPty(master, 10*time.Second)
		if !strings.Contains(out, "hello tty") {
			t.Errorf("pty output = %q, want it to contain \"hello tty\"", out)
		}
		if !strings.Contains(out, "is a tty") {
			t.Errorf("pty output = %q: stdin/stdout of the process are not a terminal", out)
		}
		if !strings.Contains(out, "via dev-tty") {
			t.Errorf("pty output = %q: /dev/tty is not the process's controlling terminal", out)
		}
		if !strings.Contains(out, "\r\n") {
			t.Errorf("pty output = %q: expected the tty's CRLF line endings", out)
		}
		if strings.Contains(out, "\r\r\n") {
			t.Errorf("pty output = %q: a line ending went through two terminals' output processing", out)
		}
		r.waitStatus(id, "stopped", 10*time.Second)
		r.ok("delete", id)
		assertNothingLeft(t, r.root, id, b.dir)
	})
}

func TestTerminalExecConsoleSocket(t *testing.T) {
	forEachMode(t, "tty", func(t *testing.T, m mode) {
		m.require(t, "exec")
		r := newRuntime(t)
		b := newBundle(t)
		m.apply(b)
		id := newID(t)
		startContainer(r, b, id)
		cs := newConsoleSocket(t)
		done := make(chan result, 1)
		go func() {
			done <- r.run("exec", "-t", "-d", "--console-socket", cs.path, id, "sh", "-c", `echo "exec tty"; [ -t 1 ] && echo yes-tty`)
		}()
		master, _ := cs.master(t)
		res := <-done
		if res.code != 0 {
			t.Fatalf("exec -t -d --console-socket failed\n%s", res)
		}
		out := readPty(master, 10*time.Second)
		if !strings.Contains(out, "exec tty") || !strings.Contains(out, "yes-tty") {
			t.Errorf("pty output = %q, want \"exec tty\" and \"yes-tty\"", out)
		}
	})
}

// TestTerminalResize: the size set on the terminal's master before start is
// the process's, and a later resize reaches it (SIGWINCH and the new size).
func TestTerminalResize(t *testing.T) {
	forEachMode(t, "tty", func(t *testing.T, m mode) {
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", `trap 'echo "now $(stty size)"' WINCH; echo "first $(stty size)"; while :; do sleep 0.1; done`)
		m.apply(b)
		b.edit(func(s *specs.Spec) { s.Process.Terminal = true })
		id := newID(t)
		cs := newConsoleSocket(t)
		r.ok("create", "--console-socket", cs.path, "--bundle", b.dir, id)
		master, _ := cs.master(t)
		if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 100}); err != nil {
			t.Fatal(err)
		}
		r.ok("start", id)
		lines := make(chan string, 16)
		go func() {
			sc := bufio.NewScanner(master)
			for sc.Scan() {
				lines <- strings.TrimSpace(sc.Text())
			}
			close(lines)
		}()
		expectLine := func(want string) {
			t.Helper()
			deadline := time.After(20 * time.Second)
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("the terminal closed before %q", want)
					}
					if l == want {
						return
					}
				case <-deadline:
					t.Fatalf("no line %q from the container", want)
				}
			}
		}
		expectLine("first 30 100")
		if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}); err != nil {
			t.Fatal(err)
		}
		expectLine("now 40 120")
		r.ok("kill", id, "KILL")
		r.waitStatus(id, "stopped", 10*time.Second)
		r.ok("delete", id)
		assertNothingLeft(t, r.root, id, b.dir)
	})
}
