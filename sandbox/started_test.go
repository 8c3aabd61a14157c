package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/seccompbpf"
)

// The helper process of TestAsleepOnHost, chosen by RUNX_ASLEEP_HELPER: it
// prints the id of a thread that then sleeps either in a host call
// (nanosleep) or in a call trapped to a seccomp listener nobody reads, as a
// workload's call waits before the Sentry receives it.
func init() {
	how := os.Getenv("RUNX_ASLEEP_HELPER")
	if how == "" {
		return
	}
	runtime.LockOSThread()
	if how == "trapped" {
		prog, err := seccompbpf.Compile(seccompbpf.Filter{
			OtherArch: unix.SECCOMP_RET_ALLOW, X32: unix.SECCOMP_RET_ALLOW, Default: unix.SECCOMP_RET_ALLOW,
			Rules: []seccompbpf.Rule{{Nrs: []int{unix.SYS_GETPPID}, Action: unix.SECCOMP_RET_USER_NOTIF}},
		})
		if err != nil {
			fmt.Println("compile:", err)
			os.Exit(1)
		}
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			fmt.Println("no_new_privs:", err)
			os.Exit(1)
		}
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
		// This thread only (no TSYNC); the listener stays open, unread.
		if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
			unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, uintptr(unsafe.Pointer(&fprog))); e != 0 {
			fmt.Println("seccomp:", e)
			os.Exit(1)
		}
	}
	fmt.Println(unix.Gettid())
	if how == "trapped" {
		unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
	}
	time.Sleep(time.Hour)
	os.Exit(0)
}

// TestAsleepOnHost: a thread whose trapped call waits to be received is not
// asleep on the host (taking it for settled let a SIGTERM sent right after
// start reach a program before its handler, and a pid 1 drops it); one in
// nanosleep is.
func TestAsleepOnHost(t *testing.T) {
	for _, c := range []struct {
		how  string
		want bool
	}{{"trapped", false}, {"sleeping", true}} {
		t.Run(c.how, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "RUNX_ASLEEP_HELPER="+c.how)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			line, err := bufio.NewReader(out).ReadString('\n')
			tid, convErr := strconv.Atoi(line[:max(len(line)-1, 0)])
			if err != nil || convErr != nil {
				t.Fatalf("helper said %q (%v)", line, err)
			}
			// Wait until the thread sleeps ('S'), then sample.
			deadline := time.Now().Add(10 * time.Second)
			for {
				if f, ok := statFields(tid); ok && f[0] == "S" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("thread %d never slept", tid)
				}
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond)
			wchan, _ := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", tid))
			for i := 0; i < 50; i++ {
				if got, alive := asleepOnHost(tid); got != c.want || !alive {
					t.Fatalf("asleepOnHost(%d) = %v, %v; want %v, true (wchan %q)", tid, got, alive, c.want, wchan)
				}
				time.Sleep(time.Millisecond)
			}
			t.Logf("wchan %q", wchan)
		})
	}
}
