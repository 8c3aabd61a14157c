package isolation

import (
	"fmt"
	"net"
	"os"
)

// DialSocket connects to the unix socket at path (given with flag, which
// errors name: --console-socket, --pidfd-socket) and returns the connection
// as a file, to send descriptors over.
func DialSocket(path, flag string) (*os.File, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	} else if fi.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("%s %s: not a unix socket", flag, path)
	}
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	defer conn.Close()
	f, err := conn.(*net.UnixConn).File()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return f, nil
}

// CheckTerminal applies runc's rules for a process's terminal: a detached
// process with a terminal needs a console socket to hand it to, and a
// console socket is for a detached process with a terminal only.
func CheckTerminal(detach, terminal bool, consoleSocket string) error {
	if detach && terminal && consoleSocket == "" {
		return fmt.Errorf("cannot allocate tty if runx will detach without setting console socket")
	}
	if (!detach || !terminal) && consoleSocket != "" {
		return fmt.Errorf("cannot use console socket if runx will not detach or allocate tty")
	}
	return nil
}
