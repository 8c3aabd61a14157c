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
