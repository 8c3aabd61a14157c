// Command imgbuild builds the container images the containerd engine tests
// need and pushes them to a local registry, since no public registry can be
// reached from the test machines. The images carry the names under which the
// CRI validation suite (critest) and the engine checks pull them; a
// hosts.toml per upstream registry points containerd at the local registry.
//
// Every image is made from files of this machine: Debian's static busybox
// with a hard link per applet, a few host tools the busybox build lacks (copied
// with their shared libraries), and the stand-in programs of ../standins
// (pause, nginx/httpd, nonewprivs). Layers are built deterministically, so
// the same inputs give the same digests.
//
// Usage:
//
//	imgbuild -registry 127.0.0.1:5077 -busybox /bin/busybox -standins DIR \
//	         [-hostfile /usr/bin/pgrep -hostfile /lib/x86_64-linux-gnu/libc.so.6 ...]
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const (
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"

	defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// epoch is the time stamp of every file and image, for reproducible digests.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	registryAddr := flag.String("registry", "", "host:port of the registry to push to (plain HTTP)")
	busybox := flag.String("busybox", "/bin/busybox", "static busybox binary for the base layer")
	standins := flag.String("standins", "", "directory holding the pause, websrv and nonewprivs binaries")
	wait := flag.Duration("wait", 30*time.Second, "how long to wait for the registry to answer")
	var hostFiles stringList
	flag.Var(&hostFiles, "hostfile", "host file to copy into the base layer at the same path (repeatable)")
	flag.Parse()
	if *registryAddr == "" || *standins == "" {
		fmt.Fprintln(os.Stderr, "usage: imgbuild -registry HOST:PORT -standins DIR [-busybox PATH] [-hostfile PATH]...")
		os.Exit(2)
	}
	if err := run(*registryAddr, *busybox, *standins, hostFiles, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "imgbuild:", err)
		os.Exit(1)
	}
}

// ------------------------------------------------------------------ layers

type entry struct {
	name string // path without leading slash
	kind byte   // tar.TypeDir, tar.TypeReg, tar.TypeSymlink or tar.TypeLink
	mode int64
	uid  int
	gid  int
	data []byte
	link string
}

type layer struct {
	what    string // history text
	entries map[string]*entry
}

func newLayer(what string) *layer { return &layer{what: what, entries: map[string]*entry{}} }

func clean(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }

func (l *layer) dir(p string, mode int64) {
	l.entries[clean(p)] = &entry{name: clean(p), kind: tar.TypeDir, mode: mode}
}

func (l *layer) file(p string, mode int64, data []byte) {
	l.entries[clean(p)] = &entry{name: clean(p), kind: tar.TypeReg, mode: mode, data: data}
}

// hardlink makes p another name of the file target, a regular file of this
// layer. The entry carries the target's mode: unpackers apply it to the
// shared inode.
func (l *layer) hardlink(p, target string) error {
	t, ok := l.entries[clean(target)]
	if !ok || t.kind != tar.TypeReg {
		return fmt.Errorf("hard link %s: %s is not a file of the layer", p, target)
	}
	l.entries[clean(p)] = &entry{name: clean(p), kind: tar.TypeLink, mode: t.mode, link: t.name}
	return nil
}

// hostFile copies a file of this machine, following symlinks, to dst.
func (l *layer) hostFile(dst, src string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	l.file(dst, int64(st.Mode().Perm()), data)
	return nil
}

type blob struct {
	data   []byte
	digest string
}

func newBlob(data []byte) blob {
	sum := sha256.Sum256(data)
	return blob{data: data, digest: "sha256:" + hex.EncodeToString(sum[:])}
}

type builtLayer struct {
	blob
	diffID string
	what   string
}

// build writes the layer as a gzip-compressed tar with its parent
// directories, in path order, with fixed owners and times.
func (l *layer) build() (builtLayer, error) {
	all := map[string]*entry{}
	for name, e := range l.entries {
		all[name] = e
		for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := all[d]; !ok {
				if _, own := l.entries[d]; !own {
					all[d] = &entry{name: d, kind: tar.TypeDir, mode: 0o755}
				}
			}
		}
	}
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	// Path order, except that hard links come last: their targets must
	// already be in the archive.
	sort.Slice(names, func(i, j int) bool {
		li, lj := all[names[i]].kind == tar.TypeLink, all[names[j]].kind == tar.TypeLink
		if li != lj {
			return lj
		}
		return names[i] < names[j]
	})

	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, name := range names {
		e := all[name]
		h := &tar.Header{
			Typeflag: e.kind,
			Name:     e.name,
			Mode:     e.mode,
			Uid:      e.uid,
			Gid:      e.gid,
			ModTime:  epoch,
			Format:   tar.FormatPAX,
		}
		switch e.kind {
		case tar.TypeDir:
			h.Name += "/"
		case tar.TypeReg:
			h.Size = int64(len(e.data))
		case tar.TypeSymlink, tar.TypeLink:
			h.Linkname = e.link
		}
		if err := tw.WriteHeader(h); err != nil {
			return builtLayer{}, err
		}
		if e.kind == tar.TypeReg {
			if _, err := tw.Write(e.data); err != nil {
				return builtLayer{}, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return builtLayer{}, err
	}
	diff := sha256.Sum256(raw.Bytes())

	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return builtLayer{}, err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return builtLayer{}, err
	}
	if err := zw.Close(); err != nil {
		return builtLayer{}, err
	}
	return builtLayer{blob: newBlob(gz.Bytes()), diffID: "sha256:" + hex.EncodeToString(diff[:]), what: l.what}, nil
}

// ------------------------------------------------------------------ images

type imageConfig struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
}

type history struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

type ociImage struct {
	Created      string      `json:"created"`
	Architecture string      `json:"architecture"`
	OS           string      `json:"os"`
	Config       imageConfig `json:"config"`
	RootFS       struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
	History []history `json:"history"`
}

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int    `json:"size"`
}

type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

// image is one image pushed under one or more references (repository:tag,
// repository relative to the registry host).
type image struct {
	refs   []string
	layers []builtLayer
	config imageConfig
}

func (im image) blobs() (cfg blob, man blob, err error) {
	var c ociImage
	c.Created = epoch.Format(time.RFC3339)
	c.Architecture = "amd64"
	c.OS = "linux"
	c.Config = im.config
	c.RootFS.Type = "layers"
	m := manifest{SchemaVersion: 2, MediaType: mediaManifest}
	for _, l := range im.layers {
		c.RootFS.DiffIDs = append(c.RootFS.DiffIDs, l.diffID)
		c.History = append(c.History, history{Created: c.Created, CreatedBy: "runx engine tests imgbuild: " + l.what})
		m.Layers = append(m.Layers, descriptor{MediaType: mediaLayer, Digest: l.digest, Size: len(l.data)})
	}
	cj, err := json.Marshal(c)
	if err != nil {
		return blob{}, blob{}, err
	}
	cfg = newBlob(cj)
	m.Config = descriptor{MediaType: mediaConfig, Digest: cfg.digest, Size: len(cj)}
	mj, err := json.Marshal(m)
	if err != nil {
		return blob{}, blob{}, err
	}
	return cfg, newBlob(mj), nil
}

// ------------------------------------------------------------------ content

// The accounts of the base image, as a stock busybox image has them.
const passwd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`

const group = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`

func baseLayer(busybox string, hostFiles []string) (*layer, error) {
	l := newLayer("busybox " + busybox + " with applet links, accounts and host tools")
	for _, d := range []string{"bin", "dev", "etc", "home", "proc", "sys", "usr/bin", "usr/sbin", "sbin", "var/spool/mail", "var/www"} {
		l.dir(d, 0o755)
	}
	l.dir("root", 0o700)
	l.dir("tmp", 0o1777)
	if err := l.hostFile("bin/busybox", busybox); err != nil {
		return nil, err
	}
	out, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-full: %w", busybox, err)
	}
	applets := 0
	for _, p := range strings.Fields(string(out)) {
		if clean(p) == "bin/busybox" {
			continue
		}
		// Hard links, as busybox images have them: masking one applet's
		// path (MaskedPaths) must leave the others working.
		if err := l.hardlink(p, "bin/busybox"); err != nil {
			return nil, err
		}
		applets++
	}
	if applets < 100 {
		return nil, fmt.Errorf("%s lists only %d applets", busybox, applets)
	}
	l.file("etc/passwd", 0o644, []byte(passwd))
	l.file("etc/group", 0o644, []byte(group))
	for _, f := range hostFiles {
		if !filepath.IsAbs(f) {
			return nil, fmt.Errorf("-hostfile %q: not an absolute path", f)
		}
		if err := l.hostFile(f, f); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func markerLayer(name string) *layer {
	l := newLayer("marker file /" + name)
	l.file(name, 0o644, nil)
	return l
}

func nginxLayer(websrv []byte, conf string) *layer {
	l := newLayer("nginx stand-in (websrv)")
	l.file("usr/sbin/nginx", 0o755, websrv)
	l.file("usr/share/nginx/html/index.html", 0o644, []byte("<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>\n<body><h1>Welcome to nginx!</h1><p>runx engine tests stand-in.</p></body></html>\n"))
	l.file("etc/nginx/conf.d/default.conf", 0o644, []byte(conf))
	l.dir("var/run", 0o755)
	l.dir("var/log/nginx", 0o755)
	return l
}

func nginxConf(port int) string {
	return fmt.Sprintf("server {\n    listen       %d;\n    server_name  localhost;\n    location / {\n        root   /usr/share/nginx/html;\n        index  index.html;\n    }\n}\n", port)
}

func run(registryAddr, busybox, standins string, hostFiles []string, wait time.Duration) error {
	read := func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(standins, name)) }
	pauseBin, err := read("pause")
	if err != nil {
		return err
	}
	websrv, err := read("websrv")
	if err != nil {
		return err
	}
	nnp, err := read("nonewprivs")
	if err != nil {
		return err
	}

	base, err := baseLayer(busybox, hostFiles)
	if err != nil {
		return err
	}
	pauseL := newLayer("pause stand-in")
	pauseL.file("pause", 0o755, pauseBin)
	httpdL := newLayer("httpd stand-in (websrv)")
	httpdL.file("usr/local/apache2/bin/httpd", 0o755, websrv)
	httpdL.file("usr/local/apache2/htdocs/index.html", 0o644, []byte("<html><body><h1>It works!</h1></body></html>\n"))
	nnpL := newLayer("nonewprivs stand-in, set-user-ID root")
	nnpL.file("usr/local/bin/nnp", 0o4755, nnp)
	groupL := newLayer("default-user (1000) in group-defined-in-image (50000)")
	groupL.file("etc/passwd", 0o644, []byte(passwd+"default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\n"))
	groupL.file("etc/group", 0o644, []byte(group+"default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n"))
	groupL.dir("home/default-user", 0o755)
	groupL.entries["home/default-user"].uid = 1000
	groupL.entries["home/default-user"].gid = 1000

	built := map[*layer]builtLayer{}
	var buildErr error
	layers := func(ls ...*layer) []builtLayer {
		var out []builtLayer
		for _, l := range ls {
			b, ok := built[l]
			if !ok {
				var err error
				if b, err = l.build(); err != nil && buildErr == nil {
					buildErr = fmt.Errorf("layer %q: %w", l.what, err)
				}
				built[l] = b
			}
			out = append(out, b)
		}
		return out
	}
	shell := imageConfig{Env: []string{defaultPath}, Cmd: []string{"sh"}}
	with := func(c imageConfig, f func(*imageConfig)) imageConfig { f(&c); return c }
	const e2e = "e2e-test-images/"
	const cri = "k8s-staging-cri-tools/"

	images := []image{
		{refs: []string{e2e + "busybox:1.29-2", "library/busybox:latest", "library/busybox:1.35"},
			layers: layers(base), config: shell},
		{refs: []string{e2e + "nginx:1.14-2"},
			layers: layers(base, nginxLayer(websrv, nginxConf(80))),
			config: with(shell, func(c *imageConfig) {
				c.Cmd = []string{"nginx", "-g", "daemon off;"}
				c.ExposedPorts = map[string]struct{}{"80/tcp": {}}
			})},
		{refs: []string{cri + "hostnet-nginx-amd64:latest"},
			layers: layers(base, nginxLayer(websrv, nginxConf(12003))),
			config: with(shell, func(c *imageConfig) {
				c.Cmd = []string{"nginx", "-g", "daemon off;"}
				c.ExposedPorts = map[string]struct{}{"12003/tcp": {}}
			})},
		{refs: []string{e2e + "httpd:2.4.39-4"},
			layers: layers(base, httpdL),
			config: with(shell, func(c *imageConfig) {
				c.Env = []string{"PATH=/usr/local/apache2/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HTTPD_PREFIX=/usr/local/apache2"}
				c.WorkingDir = "/usr/local/apache2"
				c.Cmd = []string{"httpd", "-DFOREGROUND"}
				c.ExposedPorts = map[string]struct{}{"80/tcp": {}}
			})},
		{refs: []string{e2e + "nonewprivs:1.3"},
			layers: layers(base, nnpL),
			config: with(shell, func(c *imageConfig) { c.Cmd = nil; c.Entrypoint = []string{"/usr/local/bin/nnp"} })},
		// Two pause versions with distinct image IDs: 3.6 is the sandbox image of
		// the private containerd, 3.9 is what critest pulls (and removes).
		{refs: []string{"pause:3.9"},
			layers: layers(pauseL),
			config: imageConfig{User: "65535:65535", Env: []string{defaultPath}, Entrypoint: []string{"/pause"},
				Labels: map[string]string{"dev.runx.tests.standin": "pause 3.9"}}},
		{refs: []string{"pause:3.6"},
			layers: layers(pauseL),
			config: imageConfig{User: "65535:65535", Env: []string{defaultPath}, Entrypoint: []string{"/pause"},
				Labels: map[string]string{"dev.runx.tests.standin": "pause 3.6"}}},
		{refs: []string{cri + "test-image-tags:1", cri + "test-image-tags:2", cri + "test-image-tags:3"},
			layers: layers(base, markerLayer("same-image")), config: shell},
		{refs: []string{cri + "test-image-tag:test"}, layers: layers(base, markerLayer("test")), config: shell},
		{refs: []string{cri + "test-image-tag:all"}, layers: layers(base, markerLayer("all")), config: shell},
		{refs: []string{cri + "test-image-predefined-group:latest"},
			layers: layers(base, groupL), config: with(shell, func(c *imageConfig) { c.User = "1000" })},
	}
	for _, name := range []string{"test-image-1", "test-image-2", "test-image-3", "test-image-latest", "test-image-digest"} {
		images = append(images, image{refs: []string{cri + name + ":latest"}, layers: layers(base, markerLayer(name)), config: shell})
	}
	for _, u := range []struct{ name, user string }{
		{"test-image-user-uid", "1002"},
		{"test-image-user-username", "www-data"},
		{"test-image-user-uid-group", "1003:1004"},
		{"test-image-user-username-group", "www-data:1004"},
	} {
		images = append(images, image{refs: []string{cri + u.name + ":latest"}, layers: layers(base),
			config: with(shell, func(c *imageConfig) { c.User = u.user })})
	}

	if buildErr != nil {
		return buildErr
	}
	reg := &registry{base: "http://" + registryAddr, client: &http.Client{Timeout: 60 * time.Second}, has: map[string]string{}}
	if err := reg.waitReady(wait); err != nil {
		return err
	}
	for _, im := range images {
		cfg, man, err := im.blobs()
		if err != nil {
			return err
		}
		for _, ref := range im.refs {
			repo, tag, _ := strings.Cut(ref, ":")
			for _, l := range im.layers {
				if err := reg.pushBlob(repo, l.blob); err != nil {
					return fmt.Errorf("%s: layer %s: %w", ref, l.digest, err)
				}
			}
			if err := reg.pushBlob(repo, cfg); err != nil {
				return fmt.Errorf("%s: config: %w", ref, err)
			}
			if err := reg.pushManifest(repo, tag, man); err != nil {
				return fmt.Errorf("%s: manifest: %w", ref, err)
			}
			fmt.Printf("%s/%s@%s\n", registryAddr, ref, man.digest)
		}
	}
	return nil
}

// ------------------------------------------------------------------ registry

// registry speaks the blob and manifest upload part of the distribution
// HTTP API, over plain HTTP, without authentication.
type registry struct {
	base   string
	client *http.Client
	has    map[string]string // blob digest -> a repository holding it
}

func (r *registry) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := r.client.Get(r.base + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /v2/: %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("registry %s not ready after %v: %w", r.base, limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (r *registry) do(method, target string, body []byte, contentType string) (*http.Response, error) {
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func expect(resp *http.Response, codes ...int) error {
	defer resp.Body.Close()
	for _, c := range codes {
		if resp.StatusCode == c {
			io.Copy(io.Discard, resp.Body)
			return nil
		}
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("%s %s: %s: %s", resp.Request.Method, resp.Request.URL.Path, resp.Status, bytes.TrimSpace(msg))
}

func (r *registry) pushBlob(repo string, b blob) error {
	resp, err := r.do(http.MethodHead, r.base+"/v2/"+repo+"/blobs/"+b.digest, nil, "")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		r.has[b.digest] = repo
		return nil
	}

	start := r.base + "/v2/" + repo + "/blobs/uploads/"
	if from, ok := r.has[b.digest]; ok {
		start += "?mount=" + url.QueryEscape(b.digest) + "&from=" + url.QueryEscape(from)
	}
	resp, err = r.do(http.MethodPost, start, nil, "")
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusCreated { // mounted from another repository
		resp.Body.Close()
		r.has[b.digest] = repo
		return nil
	}
	location := resp.Header.Get("Location")
	if err := expect(resp, http.StatusAccepted); err != nil {
		return err
	}
	if location == "" {
		return errors.New("upload started without a Location")
	}
	base, _ := url.Parse(r.base)
	loc, err := base.Parse(location)
	if err != nil {
		return err
	}
	q := loc.Query()
	q.Set("digest", b.digest)
	loc.RawQuery = q.Encode()
	resp, err = r.do(http.MethodPut, loc.String(), b.data, "application/octet-stream")
	if err != nil {
		return err
	}
	if err := expect(resp, http.StatusCreated); err != nil {
		return err
	}
	r.has[b.digest] = repo
	return nil
}

func (r *registry) pushManifest(repo, tag string, man blob) error {
	resp, err := r.do(http.MethodPut, r.base+"/v2/"+repo+"/manifests/"+tag, man.data, mediaManifest)
	if err != nil {
		return err
	}
	got := resp.Header.Get("Docker-Content-Digest")
	if err := expect(resp, http.StatusCreated); err != nil {
		return err
	}
	if got != "" && got != man.digest {
		return fmt.Errorf("registry stored the manifest as %s, expected %s", got, man.digest)
	}
	return nil
}
