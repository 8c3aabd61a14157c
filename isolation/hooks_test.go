package isolation

import "testing"

func TestHookWording(t *testing.T) {
	for in, want := range map[string]string{
		"unable to start container process: error during container init: error running createRuntime hook #1: exit status 1, stdout: , stderr: ": "unable to start container process: error during container init: error running createRuntime hook #1: error running hook: exit status 1, stdout: , stderr: ",
		"error running poststart hook #0: error running hook (/bin/false): exit status 1":                                                        "error running poststart hook #0: error running hook (/bin/false): exit status 1",
		"container not running": "container not running",
	} {
		if got := HookWording(in); got != want {
			t.Errorf("HookWording(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}
