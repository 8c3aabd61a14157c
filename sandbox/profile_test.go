package sandbox

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runx-dev/runx/internal/seccompbpf"
)

func TestProfileEncodeDecode(t *testing.T) {
	p := &profile{flags: unix.SECCOMP_FILTER_FLAG_LOG, prog: []unix.SockFilter{
		{Code: 0x20, K: 4}, {Code: 0x15, Jt: 1, Jf: 2, K: seccompbpf.AuditArchX86_64}, {Code: 0x06, K: retAllow},
	}}
	q, err := decodeProfile(p.encode())
	if err != nil {
		t.Fatal(err)
	}
	if q.flags != p.flags || len(q.prog) != len(p.prog) {
		t.Fatalf("decoded %+v, want %+v", q, p)
	}
	for i := range p.prog {
		if q.prog[i] != p.prog[i] {
			t.Errorf("instruction %d: %+v, want %+v", i, q.prog[i], p.prog[i])
		}
	}
	for _, bad := range []string{"", "0", "x:AAAA", "0:!!", "0:AAAA"} {
		if _, err := decodeProfile(bad); err == nil {
			t.Errorf("decodeProfile(%q) accepted", bad)
		}
	}
}
