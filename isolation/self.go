package isolation

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Modes whose container process is runx itself (the sandbox's Sentry, the
// unikernel tender) put runx's binary in the container. A read-only bind
// mount of the host's binary is not enough: a process there with
// CAP_SYS_ADMIN can remount it read-write and overwrite the host's runx.
// SelfMounts shows it instead through an overlay with two lower layers and
// no upper one (runx's own directory over an empty tmpfs), which the
// kernel never lets be written nor remounted read-write, whatever the
// capabilities; the program is a bind mount of the file in that overlay,
// and the overlay itself, which shows runx's directory, is detached by
// DropSelfStaging once the program runs. Nothing is copied: the page
// cache of the host's binary serves every container.

// selfDir is where, in the container, the staging mounts go.
const selfDir = "/dev/.runx/self"

// SelfMounts are the spec mounts that put runx's binary, read-only for
// good, at dest (whose base name is the entry runx runs as) in a container
// whose root filesystem is rootfs (absolute, on the host). Paths overlayfs
// cannot take in its options (with ':', ',' or '\') get a plain read-only
// bind mount.
func SelfMounts(rootfs, dest string) ([]specs.Mount, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding runx's own binary: %w", err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return nil, fmt.Errorf("finding runx's own binary: %w", err)
	}
	bind := []string{"bind", "ro", "nosuid", "nodev"}
	dir, name := filepath.Split(self)
	empty := filepath.Join(rootfs, selfDir, "empty")
	lower := filepath.Join(rootfs, selfDir, "lower")
	if strings.ContainsAny(dir+empty, ":,\\") {
		return []specs.Mount{{Destination: dest, Type: "bind", Source: self, Options: bind}}, nil
	}
	// Neither staging mount is "ro": libcontainer remounts those at the
	// end, when the cover hides them. The overlay is read-only by itself;
	// the tmpfs has room for no inode but its root.
	return []specs.Mount{
		{Destination: path.Join(selfDir, "empty"), Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "noexec", "mode=0555", "size=4k", "nr_inodes=1"}},
		{Destination: path.Join(selfDir, "lower"), Type: "overlay", Source: "overlay",
			Options: []string{"nosuid", "nodev", "lowerdir=" + filepath.Clean(dir) + ":" + empty}},
		{Destination: dest, Type: "bind", Source: filepath.Join(lower, name), Options: bind},
		// Covers the staging until the program detaches it: without
		// CAP_SYS_ADMIN nothing in the container can uncover it.
		{Destination: selfDir, Type: "tmpfs", Source: "tmpfs",
			Options: []string{"ro", "nosuid", "nodev", "noexec", "mode=0555", "size=4k", "nr_inodes=2"}},
	}, nil
}

// DropSelfStaging detaches, in the container, what SelfMounts staged
// besides the program's own mount. Run by the program before it takes any
// input from the container; without CAP_SYS_ADMIN there it cannot (and
// nothing there can remount anything either).
func DropSelfStaging() {
	if _, err := os.Lstat(selfDir); err != nil {
		return // not in such a container (solo5-spt run on a host)
	}
	for _, m := range []string{"", "lower", "empty"} { // the cover, then what it covers
		_ = unix.Unmount(path.Join(selfDir, m), unix.MNT_DETACH)
	}
	_ = unix.Rmdir(path.Join(selfDir, "lower"))
	_ = unix.Rmdir(path.Join(selfDir, "empty"))
	_ = unix.Rmdir(selfDir)
}

// RootfsOf is the absolute host path of spec's root filesystem.
func RootfsOf(spec *specs.Spec, bundle string) string {
	if spec.Root == nil {
		return bundle
	}
	if filepath.IsAbs(spec.Root.Path) {
		return spec.Root.Path
	}
	return filepath.Join(bundle, spec.Root.Path)
}
