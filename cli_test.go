package main

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{
		"KILL": syscall.SIGKILL, "SIGKILL": syscall.SIGKILL, "kill": syscall.SIGKILL,
		"9": syscall.SIGKILL, "15": syscall.SIGTERM, "TERM": syscall.SIGTERM, "SIGRTMIN": 34,
		"0": 0,
	} {
		got, err := parseSignal(in)
		if err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"NOPE", "65", "-1", ""} {
		if _, err := parseSignal(bad); err == nil {
			t.Errorf("parseSignal(%q) accepted", bad)
		}
	}
}

func TestJSONErrorPlace(t *testing.T) {
	data := []byte("{\n  \"ociVersion\": \"1.0.0\",\n  oops\n}")
	var v map[string]any
	err := json.Unmarshal(data, &v)
	got := jsonErrorPlace(data, err)
	if !strings.Contains(got, "line 3") {
		t.Errorf("jsonErrorPlace = %q, want line 3", got)
	}
}

func TestParseSubCgroups(t *testing.T) {
	m, err := parseSubCgroups([]string{"cpu,memory:sub", "pids:other"})
	if err != nil || m["cpu"] != "sub" || m["memory"] != "sub" || m["pids"] != "other" {
		t.Errorf("parseSubCgroups = %v, %v", m, err)
	}
	if _, err := parseSubCgroups([]string{"all", "cpu:x"}); err == nil {
		t.Error("mixing a path for all controllers with others was accepted")
	}
	for _, bad := range []string{"..", "/..", "a/../..", "cpu:../x", "memory:/../../y"} {
		_, err := parseSubCgroups([]string{bad})
		if err == nil || !strings.Contains(err.Error(), "is not a sub cgroup path") {
			t.Errorf("parseSubCgroups(%q) = %v, want \"is not a sub cgroup path\"", bad, err)
		}
	}
	for _, good := range []string{"/", "sub", "a/../b", "cpu:/x/y"} {
		if _, err := parseSubCgroups([]string{good}); err != nil {
			t.Errorf("parseSubCgroups(%q): %v", good, err)
		}
	}
}

func TestInterspersed(t *testing.T) {
	app := newApp()
	for _, tc := range []struct{ in, want string }{
		{"runx update c1 --cpuset-cpus 1", "runx update --cpuset-cpus 1 c1"},
		{"runx --root /r update c1 --memory=-1", "runx --root /r update --memory=-1 c1"},
		{"runx --debug delete c1 -f", "runx --debug delete -f c1"},
		{"runx kill c1 KILL --all", "runx kill --all c1 KILL"},
		{"runx kill c1 -9", "runx kill c1 -9"}, // not a flag of kill: an argument
		{"runx run c1 -d -b /b", "runx run -d -b /b c1"},
		{"runx update c1 --memory -1", "runx update --memory -1 c1"},
		{"runx delete c1 -- -f", "runx delete c1 -- -f"},
		{"runx exec c1 ls -l", "runx exec c1 ls -l"},
		{"runx exec c1 sh --help", "runx exec c1 sh --help"},
		{"runx ps c1 -ef", "runx ps c1 -ef"},
		{"runx state c1 --help", "runx state --help c1"},
		{"runx --log-format json", "runx --log-format json"},
	} {
		if got := strings.Join(interspersed(app, strings.Fields(tc.in)), " "); got != tc.want {
			t.Errorf("interspersed(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
