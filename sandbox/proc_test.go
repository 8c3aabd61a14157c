package sandbox

import "testing"

func TestReplaceColumn(t *testing.T) {
	row := "         0      32769  1600      8192      4711      4712      0"
	got := replaceColumn(row, 4, func(string) string { return "7" })
	want := "         0      32769  1600      8192         7      4712      0"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestProcNumber(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"12345", 12345, true}, {"4294967285", 0, false},
		{"00", 0, false}, {"03", 0, false}, {"", 0, false}, {"+1", 0, false}, {"-1", 0, false},
		{"1a", 0, false}, {"99999999999", 0, false}, {"429496728", 429496728, true},
	} {
		n, ok := procNumber(c.in)
		if ok != c.want || ok && n != c.n {
			t.Errorf("procNumber(%q) = %d, %v; want %d, %v", c.in, n, ok, c.n, c.want)
		}
	}
}
