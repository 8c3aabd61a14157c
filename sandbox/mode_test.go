package sandbox

import "testing"

func TestKernelAtLeast(t *testing.T) {
	for rel, want := range map[string]bool{"6.18.44-fc": true, "5.14.0": true, "5.13.19": false, "4.19.0-26-amd64": false, "x": false} {
		if got := kernelAtLeast(rel, 5, 14); got != want {
			t.Errorf("%s: %v, want %v", rel, got, want)
		}
	}
}
