package microvm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// What the host shares with the guest: one virtio-fs tree (tag "share") that
// holds the container's rootfs and the source of each bind mount of
// config.json, as Kata's shared directory does. The tree is made by
// runx-vm-share in a mount namespace of its own, which then becomes
// virtiofsd: its bind mounts exist only there and go with it, so a killed
// monitor leaves no mount behind on the host. A read-only bind is read-only
// in that tree, so the host kernel refuses the guest's writes to it.

const (
	shareTag   = "share"
	shareName  = "runx-vm-share"
	guestShare = "/run/share" // where the guest mounts the tree
	shareDir   = "share"      // the tree, in the state directory
)

// Share is one host file or directory in the tree.
type Share struct {
	Name string `json:"name"` // its name in the tree
	Path string `json:"path"` // on the host
	// ReadOnly: the bind itself is (runc's "ro"); Recursive: its
	// submounts too ("rro").
	ReadOnly  bool `json:"readOnly,omitempty"`
	Recursive bool `json:"recursive,omitempty"`
}

// isBind tells a bind mount of config.json, which names a host path.
func isBind(m specs.Mount) bool {
	return m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")
}

// shareBinds checks the bind mounts of spec and returns their shares and
// the mounts as the guest sees them (sources in the shared tree).
func shareBinds(spec *specs.Spec, bundle, id, rootfs string) ([]Share, []specs.Mount, error) {
	var shares []Share
	// The rootfs's own submounts first: the spec's mounts may go on them.
	mounts := guestSubmountBinds(guestRoot(id), "/", rootfs, false)
	for i, m := range spec.Mounts {
		if !isBind(m) {
			mounts = append(mounts, m)
			continue
		}
		src := m.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(bundle, src)
		}
		st, err := os.Stat(src)
		if err != nil {
			return nil, nil, fmt.Errorf("config.json: mounts[%d] (%s): source: %w", i, m.Destination, err)
		}
		if !st.IsDir() && !st.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("config.json: mounts[%d] (%s): source %s is a %s: only files and directories can be shared with a VM",
				i, m.Destination, src, st.Mode().Type())
		}
		name := fmt.Sprintf("%s/m%d", id, i)
		rro := slices.Contains(m.Options, "rro")
		shares = append(shares, Share{Name: name, Path: src, ReadOnly: rro || slices.Contains(m.Options, "ro"), Recursive: rro})
		g := m
		g.Source = guestShare + "/" + name
		mounts = append(mounts, g)
		if st.IsDir() {
			mounts = append(mounts, guestSubmountBinds(g.Source, m.Destination, src, rro)...)
		}
	}
	return shares, mounts, nil
}

// submounts are the host's mounts under path (relative paths, a parent
// before what is under it, with whether each is read-only). virtio-fs
// shows them to the guest as submounts it mounts on first access, with the
// flags of the mount it finds them under: the guest spec binds each
// explicitly, so that a submount of a read-only bind stays as it is on the
// host (runc's "ro" is the bind's alone).
func submounts(path string) []submount {
	src, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil
	}
	ms, err := mountinfo.GetMounts(mountinfo.PrefixFilter(src))
	if err != nil {
		return nil
	}
	var out []submount
	for _, m := range ms {
		if rel, ok := strings.CutPrefix(m.Mountpoint, src+"/"); ok {
			out = append(out, submount{rel: rel, ro: slices.Contains(strings.Split(m.Options, ","), "ro")})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out
}

type submount struct {
	rel string
	ro  bool
}

// guestSubmountBinds are the guest's binds of the submounts under a
// share (guest path from) mounted at dst: read-only where the host's is,
// or where rro asks all of them to be.
func guestSubmountBinds(from, dst, hostPath string, rro bool) []specs.Mount {
	var out []specs.Mount
	for _, sm := range submounts(hostPath) {
		opt := "rw"
		if sm.ro || rro {
			opt = "ro"
		}
		out = append(out, specs.Mount{Destination: filepath.Join(dst, sm.rel), Type: "bind",
			Source: from + "/" + sm.rel, Options: []string{"rbind", opt}})
	}
	return out
}

// shareMain is runx-vm-share DIR VIRTIOFSD [ARGS...]: in a new mount
// namespace (the monitor starts it so), make the tree in DIR/share from
// DIR/monitor.json's shares, then become virtiofsd serving it.
func shareMain(args []string) {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: runx-vm-share STATE-DIR VIRTIOFSD [ARGS...]")
		os.Exit(2)
	}
	if err := makeTree(args[0]); err != nil {
		fmt.Fprintf(os.Stderr, "runx: the VM's shared tree: %v\n", err)
		os.Exit(1)
	}
	err := unix.Exec(args[1], args[1:], os.Environ())
	fmt.Fprintf(os.Stderr, "runx: %s: %v\n", args[1], err)
	os.Exit(1)
}

func makeTree(dir string) error {
	var st unix.Stat_t
	var root unix.Stat_t
	if err := unix.Stat("/proc/self/ns/mnt", &st); err != nil {
		return err
	}
	if err := unix.Stat("/proc/1/ns/mnt", &root); err == nil && st.Ino == root.Ino {
		return errors.New("not in a mount namespace of its own") // would leak mounts on the host
	}
	var cfg monitorConfig
	b, err := os.ReadFile(filepath.Join(dir, "monitor.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("%s/monitor.json: %w", dir, err)
	}
	tree := filepath.Join(dir, shareDir)
	if err := os.MkdirAll(tree, 0o700); err != nil {
		return err
	}
	trees, err := detachShares(cfg.VM.Shares)
	defer closeAll(trees)
	if err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", tree, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=1m"); err != nil {
		return fmt.Errorf("tmpfs on %s: %w", tree, err)
	}
	if err := attachShares(tree, cfg.VM.Shares, trees); err != nil {
		return err
	}
	// The tree's own directory: nothing for the guest to add to.
	return remountTree(tree, true)
}

// addShares puts a pod's later container's files into the running tree:
// each source is opened as a detached mount here, in the host's mount
// namespace (a rootfs an engine mounted after the VM booted is only there),
// then attached in virtiofsd's, whose root is the tree. That is done on a
// thread of its own, which ends with the namespace it entered.
func addShares(vfsPid int, shares []Share) error {
	return onThread(func() error {
		trees, err := detachShares(shares)
		defer closeAll(trees)
		if err != nil {
			return err
		}
		if err := enterMountNs(vfsPid); err != nil {
			return err
		}
		if err := remountTree("/", false); err != nil {
			return err
		}
		defer remountTree("/", true)
		return attachShares("/", shares, trees)
	})
}

// detachShares opens each share as a detached copy of its mounts,
// read-only where the share asks.
func detachShares(shares []Share) ([]int, error) {
	var trees []int
	for _, s := range shares {
		fd, err := unix.OpenTree(unix.AT_FDCWD, s.Path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
		if err != nil {
			return trees, fmt.Errorf("%s: %w", s.Path, err)
		}
		trees = append(trees, fd)
		if s.ReadOnly {
			attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
			if err := unix.MountSetattr(fd, "", uint(s.setattrFlags(unix.AT_EMPTY_PATH)), attr); err != nil {
				return trees, fmt.Errorf("read-only %s: %w", s.Path, err)
			}
		}
	}
	return trees, nil
}

// attachShares mounts each detached share (trees, from detachShares) at
// root/its name, making its mount point: a directory, or a file.
func attachShares(root string, shares []Share, trees []int) error {
	for i, s := range shares {
		at := filepath.Join(root, s.Name)
		if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Fstat(trees[i], &st); err != nil {
			return err
		}
		var err error
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			err = os.Mkdir(at, 0o755)
		} else {
			err = os.WriteFile(at, nil, 0o644)
		}
		if err != nil {
			return err
		}
		if err := unix.MoveMount(trees[i], "", unix.AT_FDCWD, at, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("%s into the shared tree: %w", s.Path, err)
		}
	}
	return nil
}

// remountTree makes the tree's own directory read-only, or writable for a
// change.
func remountTree(path string, ro bool) error {
	flags := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_NOSUID | unix.MS_NODEV)
	if ro {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("", path, "", flags, ""); err != nil {
		return fmt.Errorf("the shared tree %s: %w", path, err)
	}
	return nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// removeShares takes a pod's later container's files out of the tree.
// Only mount points are removed, never what a mount still holds.
func removeShares(vfsPid int, id string) error {
	return onThread(func() error {
		if err := enterMountNs(vfsPid); err != nil {
			return err
		}
		if err := remountTree("/", false); err != nil {
			return err
		}
		defer remountTree("/", true)
		dir := "/" + id
		entries, err := os.ReadDir(dir)
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		var errs []error
		for _, e := range entries {
			at := filepath.Join(dir, e.Name())
			if err := unix.Unmount(at, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
				errs = append(errs, fmt.Errorf("unmounting %s: %w", at, err))
				continue
			}
			if err := os.Remove(at); err != nil { // EBUSY, ENOTEMPTY if still mounted: kept
				errs = append(errs, err)
			}
		}
		if err := os.Remove(dir); err != nil {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

// onThread runs f on an OS thread of its own that ends after it: f may
// change the thread's namespaces.
func onThread(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread is not reused
		errc <- f()
	}()
	return <-errc
}

// enterMountNs moves the calling thread (locked, see onThread) into pid's
// mount namespace; its root and working directory become that
// namespace's root.
func enterMountNs(pid int) error {
	// A thread shares its file system context (and so its root) with the
	// others: unshared first, as setns requires.
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare(CLONE_FS): %w", err)
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/mnt", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("virtiofsd's mount namespace: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("entering virtiofsd's mount namespace: %w", err)
	}
	return nil
}

// setattrFlags are mount_setattr's flags for making s read-only: its
// submounts too only when recursive, as runc's "ro" and "rro".
func (s Share) setattrFlags(flags int) int {
	if s.Recursive {
		flags |= unix.AT_RECURSIVE
	}
	return flags
}
