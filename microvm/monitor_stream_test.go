package microvm

import (
	"strings"
	"testing"
	"time"
)

// A guest that neither starts nor ends a process bounds the wait: the
// create fails instead of holding the engine (a hung guest).
func TestWaitStart(t *testing.T) {
	m := &monitor{next: 1}
	for _, tc := range []struct {
		name    string
		do      func(g *guestStream)
		started bool
		err     string
		status  int
	}{
		{"started", func(g *guestStream) { close(g.started) }, true, "", 0},
		{"ended before it started", func(g *guestStream) { g.exited <- exitMsg{Status: 1 << 8} }, false, "", 1 << 8},
		{"started, then ended", func(g *guestStream) { close(g.started); g.exited <- exitMsg{Status: 0} }, true, "", 0},
		{"neither", func(g *guestStream) {}, false, "neither started nor ended it within 50ms", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := m.newStream(nil, nil, nil)
			tc.do(g)
			ok, ex, err := g.waitStart(50 * time.Millisecond)
			if ok != tc.started || ex.Status != tc.status {
				t.Errorf("waitStart = %v, %+v; want %v, status %d", ok, ex, tc.started, tc.status)
			}
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("waitStart error = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestBlocked(t *testing.T) {
	tasks := "1/1 S init wchan=futex_wait_queue /init\n" +
		"\t[<0>] futex_wait_queue+0x60/0x90\n" +
		"212/212 D runx wchan=request_wait_answer runx --root /run/runx create x\n" +
		"\t[<0>] request_wait_answer+0x1/0x2\n" +
		"40/40 D kworker/0:1+events wchan=fuse_flush\n"
	got := Blocked(tasks)
	want := []string{"212/212 D runx wchan=request_wait_answer", "40/40 D kworker/0:1+events wchan=fuse_flush"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Blocked = %q, want %q", got, want)
	}
	if got := Blocked("(the agent did not answer runx tasks within 10s)"); len(got) != 0 {
		t.Errorf("Blocked of no list = %q", got)
	}
}
