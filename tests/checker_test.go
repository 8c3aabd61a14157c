package tests

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLeftoverCheckerSeesLiveContainer makes sure the "nothing left behind"
// checker is not vacuous: a live container must be reported on every count.
func TestLeftoverCheckerSeesLiveContainer(t *testing.T) {
	r := newRuntime(t)
	b := newBundle(t)
	id := newID(t)
	st := startContainer(r, b, id)

	// a mount under the bundle, as a runtime might leave one
	mnt := filepath.Join(b.dir, "mnt")
	if out, err := exec.Command("mkdir", "-p", mnt).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })

	found := strings.Join(leftovers(r.root, id, []string{b.dir}), "\n")
	for _, want := range []string{"state directory", "cgroup ", "mount " + mnt, "process " + itoa(st.Pid)} {
		if !strings.Contains(found, want) {
			t.Errorf("checker missed %q; it found:\n%s", want, found)
		}
	}

	// a similar but different id must not match
	if other := leftovers("", id+"0", nil); len(other) != 0 {
		t.Errorf("checker matched a longer id: %v", other)
	}

	if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
		t.Fatalf("umount: %v %s", err, out)
	}
	r.ok("delete", "-f", id)
	waitGone(t, st.Pid, 5*time.Second)
	assertNothingLeft(t, r.root, id, b.dir)
}
