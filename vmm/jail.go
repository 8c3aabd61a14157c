package vmm

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The VMM's jail, Firecracker's jailer done by the VMM itself: its parent
// starts it as root of a user namespace of its own, whose uids and gids 0
// and 1 map to two unprivileged host users, and in a mount namespace that
// user namespace owns, having opened for it every file it needs. Before it
// reads a byte the guest controls, the VMM takes an empty, read-only root
// (nothing of the host's file tree is left in its mount namespace) and
// becomes uid and gid 1, which clears every capability on every thread.
// The seccomp filters (seccomp.go) then narrow what it may call.

// JailUID and JailGID are the user and group the jailed VMM runs as, in
// its user namespace; 0 is the one it is set up as.
const (
	JailUID = 1
	JailGID = 1
)

// EnterJail is the jail's last step, taken by the VMM process once it has
// opened its files. It refuses to run outside a user namespace (as the
// host's root it would mount over the host's /tmp).
func EnterJail() error {
	m, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return fmt.Errorf("jail: %w", err)
	}
	if f := strings.Fields(string(m)); len(f) >= 2 && f[0] == "0" && f[1] == "0" {
		return errors.New("jail: not in a user namespace of its own (uid 0 is the host's root)")
	}
	// Nothing propagates between the host's tree and this namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("jail: making / private: %w", err)
	}
	// An empty tmpfs, read-only, over /tmp (any directory would do), then
	// made the root: pivot_root(".", ".") stacks the old root on it, and
	// the detach takes the old root and all under it away.
	const dir = "/tmp"
	if err := unix.Mount("runx-vmm", dir, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=4k,mode=0555"); err != nil {
		return fmt.Errorf("jail: an empty root on %s: %w", dir, err)
	}
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("jail: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("jail: pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("jail: detaching the host's tree: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("jail: %w", err)
	}
	// syscall's, not unix's: these change every thread (the C library's
	// broadcast in a cgo binary); a uid other than 0 clears the
	// capabilities, each thread's at its change.
	ppid := os.Getppid()
	if err := syscall.Setgroups(nil); err != nil && !errors.Is(err, unix.EPERM) {
		return fmt.Errorf("jail: setgroups: %w", err)
	}
	if err := syscall.Setresgid(JailGID, JailGID, JailGID); err != nil {
		return fmt.Errorf("jail: setresgid: %w", err)
	}
	if err := syscall.Setresuid(JailUID, JailUID, JailUID); err != nil {
		return fmt.Errorf("jail: setresuid: %w", err)
	}
	// The change of user cleared the parent-death signal; the caller runs
	// this on the main thread (the one the kernel signals).
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("jail: %w", err)
	}
	if os.Getppid() != ppid {
		return errors.New("jail: the parent ended")
	}
	return nil
}
