package sandbox

import "testing"

func TestParseShebang(t *testing.T) {
	for _, c := range []struct{ line, interp, arg string }{
		{"#!/bin/sh\n", "/bin/sh", ""},
		{"#! /bin/sh -e\n", "/bin/sh", "-e"},
		{"#!/usr/bin/env  python3 -u \n", "/usr/bin/env", "python3 -u"},
		{"#!/bin/sh\t-x\n", "/bin/sh", "-x"},
	} {
		interp, arg, err := parseShebang([]byte(c.line))
		if err != nil || interp != c.interp || arg != c.arg {
			t.Errorf("%q: %q %q %v, want %q %q", c.line, interp, arg, err, c.interp, c.arg)
		}
	}
	if _, _, err := parseShebang([]byte("#!\n")); err == nil {
		t.Error("an empty #! line should not parse")
	}
}
