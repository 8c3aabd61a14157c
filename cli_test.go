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
	} {
		got, err := parseSignal(in)
		if err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"NOPE", "0", "65", "-1", ""} {
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
}
