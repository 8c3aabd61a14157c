package microvm

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The guest image: a kernel from Debian's linux-image-cloud-amd64 (unpacked
// by `make microvm-kernel` into KernelDir, never installed on the host), and
// an initramfs made here from runx's own binary as /init plus the kernel
// modules the guest needs. The initramfs is made on first use and cached by
// the hash of both, so the agent in a guest is always the runx that started
// it.

const (
	// KernelDir holds vmlinuz and modules/ (see tests/scripts/microvm-kernel.sh).
	KernelDir = "/usr/local/lib/runx/microvm"
	// cacheDir holds the initramfs images made from it.
	cacheDir = "/var/cache/runx/microvm"
)

// modulesList names the modules the guest loads (one list for this file
// and tests/scripts/microvm-kernel.sh).
//
//go:embed modules.txt
var modulesList string

// guestModules are the modules the guest loads, dependencies first.
var guestModules = func() []string {
	var mods []string
	for _, l := range strings.Split(modulesList, "\n") {
		if l, _, _ = strings.Cut(l, "#"); strings.TrimSpace(l) != "" {
			mods = append(mods, strings.Fields(l)...)
		}
	}
	return mods
}()

// initrd returns the path of an initramfs for the kernel in kdir with the
// runx binary self, making it when missing.
func initrd(kdir, self string) (string, error) {
	mods, err := moduleFiles(filepath.Join(kdir, "modules"))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, p := range append([]string{self}, mods...) {
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	path := filepath.Join(cacheDir, "initrd-"+hex.EncodeToString(h.Sum(nil))[:16]+".cpio")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	var b bytes.Buffer
	w := &cpioWriter{w: &b}
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "lib", "lib/modules"} {
		w.dir(d)
	}
	w.dev("dev/console", 0o600, 5, 1)
	if err := w.fileFrom("init", self, 0o755); err != nil {
		return "", err
	}
	var order []string
	for _, m := range mods {
		name := filepath.Base(m)
		if err := w.fileFrom("lib/modules/"+name, m, 0o644); err != nil {
			return "", err
		}
		order = append(order, name)
	}
	w.file("lib/modules/order", []byte(strings.Join(order, "\n")+"\n"), 0o644)
	w.trailer()
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(cacheDir, ".initrd-*")
	if err != nil {
		return "", err
	}
	// World-readable, as the jailed hypervisor reads it (hypervisor.go):
	// runx's own binary and the kernel's modules.
	_, err = tmp.Write(b.Bytes())
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	tmp.Close()
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return path, nil
}

// moduleFiles finds each of guestModules under dir (any depth), in order.
func moduleFiles(dir string) ([]string, error) {
	found := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".ko") {
			found[strings.TrimSuffix(d.Name(), ".ko")] = p
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("guest kernel modules: %w (make microvm-kernel installs them)", err)
	}
	var out []string
	for _, m := range guestModules {
		p, ok := found[m]
		if !ok {
			return nil, fmt.Errorf("guest kernel module %s.ko is not under %s", m, dir)
		}
		out = append(out, p)
	}
	return out, nil
}

// cpioWriter writes the "newc" format the kernel unpacks an initramfs from.
type cpioWriter struct {
	w   io.Writer
	ino int
}

func (c *cpioWriter) header(name string, mode uint32, size, major, minor int) {
	c.ino++
	fmt.Fprintf(c.w, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, 1, 0, size, 0, 0, major, minor, len(name)+1, 0)
	io.WriteString(c.w, name+"\x00")
	c.pad(110 + len(name) + 1)
}

func (c *cpioWriter) pad(n int) {
	if r := n % 4; r != 0 {
		c.w.Write(make([]byte, 4-r))
	}
}

func (c *cpioWriter) dir(name string) { c.header(name, 0o040755, 0, 0, 0) }

func (c *cpioWriter) dev(name string, perm uint32, major, minor int) {
	c.header(name, 0o020000|perm, 0, major, minor)
}

func (c *cpioWriter) file(name string, data []byte, perm uint32) {
	c.header(name, 0o100000|perm, len(data), 0, 0)
	c.w.Write(data)
	c.pad(len(data))
}

func (c *cpioWriter) fileFrom(name, path string, perm uint32) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	c.file(name, b, perm)
	return nil
}

func (c *cpioWriter) trailer() { c.header("TRAILER!!!", 0, 0, 0, 0) }
