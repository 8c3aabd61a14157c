package microvm

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The listeners localhost reaches, from tables as the kernel prints them.
func TestParseListeners(t *testing.T) {
	dir := t.TempDir()
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0200000A:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
   3: 0100007F:0051 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 100 0 0 10 0
`
	tcp6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6 1 0000000000000000 100 0 0 10 0
   2: 000080FE00000000FF005452120034FE:0017 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1 0000000000000000 100 0 0 10 0
`
	os.WriteFile(filepath.Join(dir, "tcp"), []byte(tcp), 0o644)
	os.WriteFile(filepath.Join(dir, "tcp6"), []byte(tcp6), 0o644)
	// 8080 on any, 80 on 127.0.0.1; not 22 on 10.0.0.2, nor 81, which is
	// a connection, not a listener.
	if got := parseListeners(filepath.Join(dir, "tcp")); !slices.Equal(got, []uint32{8080, 80}) {
		t.Errorf("tcp: %v", got)
	}
	// 3000 on ::1, 8080 on ::; not 23 on a link-local address.
	if got := parseListeners(filepath.Join(dir, "tcp6")); !slices.Equal(got, []uint32{3000, 8080}) {
		t.Errorf("tcp6: %v", got)
	}
	if got := parseListeners(filepath.Join(dir, "none")); got != nil {
		t.Errorf("a missing table: %v", got)
	}
}
