package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The JSON runx reads from files the user names: config.json, exec
// --process and update --resources. Whatever the bytes, runx answers with
// the decoded value or an error that names the file; it never panics.
// Seeds: testdata/fuzz/<target>/ and the ones added here.

const seedSpec = `{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/","env":["PATH=/bin"],
"user":{"uid":0,"gid":0}},"root":{"path":"rootfs"},"mounts":[{"destination":"/proc","type":"proc","source":"proc"},
{"destination":"/data","type":"bind","source":"/tmp","options":["rbind","ro"]}],
"linux":{"namespaces":[{"type":"pid"},{"type":"mount"}],"resources":{"memory":{"limit":1048576},"pids":{"limit":0}}}}`

func FuzzParseSpec(f *testing.F) {
	f.Add([]byte(seedSpec))
	f.Add([]byte(`{"ociVersion":"1.0.2","root":{"path":"/nonexistent"}}`))
	f.Add([]byte(`{"ociVersion":"2.0","root":{"path":"rootfs"}}`))
	f.Add([]byte(`{"ociVersion":"1.0.2","process":{"args":["sh"]},"root":{"path":"rootfs"},"mounts":[{"destination":""}]}`))
	f.Add([]byte("{\n \"ociVersion\": 7\n}"))
	bundle := f.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(bundle, specConfig)
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := parseSpec(path, data, bundle)
		if err != nil {
			if !strings.HasPrefix(err.Error(), path+": ") {
				t.Fatalf("error does not name %s: %v", path, err)
			}
			return
		}
		if spec.Root == nil || spec.Process == nil || !strings.HasPrefix(spec.Version, "1.") {
			t.Fatalf("accepted a spec without root, process or a 1.x version: %+v", spec)
		}
	})
}

func FuzzParseProcess(f *testing.F) {
	f.Add([]byte(`{"args":["sh","-c","true"],"cwd":"/","env":["A=b"],"user":{"uid":1000,"gid":1000,"additionalGids":[5]},
"capabilities":{"bounding":["CAP_KILL"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"terminal":false}`))
	f.Add([]byte(`{"args":[],"cwd":""}`))
	f.Add([]byte(`{"args":["x"],"cwd":"relative"}`))
	f.Add([]byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseProcess("p.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--process p.json: ") {
				t.Fatalf("error does not name --process p.json: %v", err)
			}
			return
		}
		if p == nil || p.Cwd == "" {
			t.Fatalf("accepted a process without cwd: %+v", p)
		}
	})
}

func FuzzDecodeResources(f *testing.F) {
	f.Add([]byte(`{"memory":{"limit":-1,"swap":-1},"cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0-1"},"pids":{"limit":10},
"blockIO":{"weight":100},"unified":{"memory.high":"max"}}`))
	f.Add([]byte(`{"memory":{"limit":"1g"}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeResources("r.json", strings.NewReader(string(data)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--resources r.json: ") {
				t.Fatalf("error does not name --resources r.json: %v", err)
			}
			return
		}
		if r == nil {
			t.Fatal("no resources and no error")
		}
	})
}
