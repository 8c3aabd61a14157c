// Command websrv stands in for the web servers of the images the CRI
// validation suite runs (nginx and httpd), which cannot be pulled here. It is
// installed under the name of the server it replaces and behaves as that
// server does in the ways the suite observes:
//
//   - nginx: the process names itself "nginx: master process <command line>"
//     (as nginx's master does), writes its PID to /var/run/nginx.pid, and reads
//     the "listen" and "root" directives of /etc/nginx/conf.d/default.conf
//     (default port 80, root /usr/share/nginx/html).
//   - httpd: serves /usr/local/apache2/htdocs on port 80 and logs its start
//     on stderr, naming itself.
//
// Both serve static files over HTTP and exit 0 on SIGTERM, SIGQUIT or SIGINT.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const nginxTitle = "nginx: master process "

type server struct {
	name    string
	listen  string
	root    string
	pidFile string
}

func main() {
	exe, err := os.Executable()
	if err != nil {
		log.Fatalf("websrv: %v", err)
	}
	name := filepath.Base(exe)
	if len(os.Args) > 1 && (os.Args[1] == "-v" || os.Args[1] == "-V") {
		fmt.Fprintf(os.Stderr, "%s version: runx-standin\n", name)
		return
	}

	var s server
	switch name {
	case "nginx":
		if !strings.HasPrefix(os.Args[0], nginxTitle) {
			// Take the master's title: exec again under the same path (so the
			// kernel's comm stays "nginx") with the title as the only argument.
			title := nginxTitle + strings.Join(os.Args, " ")
			err := syscall.Exec(exe, []string{title}, os.Environ())
			log.Fatalf("nginx: exec %s: %v", exe, err)
		}
		s = server{name: "nginx", listen: ":80", root: "/usr/share/nginx/html", pidFile: "/var/run/nginx.pid"}
		s.readNginxConf("/etc/nginx/conf.d/default.conf")
	case "httpd":
		s = server{name: "httpd", listen: ":80", root: "/usr/local/apache2/htdocs"}
	default:
		log.Fatalf("websrv: installed as %q; install it as nginx or httpd", name)
	}
	if err := s.run(); err != nil {
		log.Fatalf("%s: %v", s.name, err)
	}
}

// readNginxConf takes "listen PORT;" and "root DIR;" from an nginx server
// block; a missing file keeps the defaults.
func (s *server) readNginxConf(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		fields := strings.Fields(strings.TrimSuffix(line, ";"))
		if len(fields) != 2 {
			continue
		}
		switch fields[0] {
		case "listen":
			if _, err := strconv.Atoi(fields[1]); err == nil {
				s.listen = ":" + fields[1]
			} else {
				s.listen = fields[1]
			}
		case "root":
			s.root = fields[1]
		}
	}
}

func (s *server) run() error {
	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return err
	}
	if s.pidFile != "" {
		if err := os.WriteFile(s.pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return err
		}
		defer os.Remove(s.pidFile)
	}
	fmt.Fprintf(os.Stderr, "%s: serving %s on %s (pid %d)\n", s.name, s.root, ln.Addr(), os.Getpid())

	files := http.FileServer(http.Dir(s.root))
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Server", s.name)
			files.ServeHTTP(w, r)
			fmt.Fprintf(os.Stdout, "%s - - [%s] \"%s %s %s\"\n", r.RemoteAddr,
				time.Now().UTC().Format("02/Jan/2006:15:04:05 -0700"), r.Method, r.URL.Path, r.Proto)
		}),
	}

	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGINT)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case sig := <-signals:
		fmt.Fprintf(os.Stderr, "%s: %v received, exiting\n", s.name, sig)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
