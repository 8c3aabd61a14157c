package virtio

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// EventFD is a Linux eventfd. KVM signals a queue's when the guest writes
// its index to QueueNotify (an ioeventfd: no vCPU exit reaches the VMM),
// and the guest's interrupt is raised by signalling the transport's (an
// irqfd); a vhost-user daemon is handed them and uses them the same way.
type EventFD struct {
	f  *os.File // through Go's poller: Wait parks a goroutine, not a thread
	fd int      // never f.Fd(), which would make the descriptor blocking
}

// NewEventFD makes an eventfd.
func NewEventFD() (*EventFD, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	return &EventFD{f: os.NewFile(uintptr(fd), "eventfd"), fd: fd}, nil
}

// FD is the descriptor, to hand to KVM or a vhost-user daemon.
func (e *EventFD) FD() int { return e.fd }

// Signal adds one to the counter.
func (e *EventFD) Signal() {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], 1)
	_, _ = e.f.Write(b[:]) // fails only when the counter would overflow: it is signalled already
}

// Wait blocks until the counter is not zero and resets it; an error once
// the eventfd is closed.
func (e *EventFD) Wait() error {
	var b [8]byte
	_, err := e.f.Read(b[:])
	return err
}

// Close closes it (a goroutine in Wait returns).
func (e *EventFD) Close() error { return e.f.Close() }

// Workers are a device's goroutines, one per queue it serves: each runs
// its function when the queue's kick fires, until Stop.
type Workers struct {
	stopped atomic.Bool
	wg      sync.WaitGroup
	kicks   []*EventFD
}

// Start runs fn once at start and then at each signal of kick.
func (w *Workers) Start(kick *EventFD, fn func()) {
	w.stopped.Store(false)
	w.kicks = append(w.kicks, kick)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for !w.stopped.Load() {
			fn()
			if kick.Wait() != nil {
				return
			}
		}
	}()
}

// Stop ends the goroutines and waits for them: each is woken through its
// kick, sees the stop and returns (the extra signal is consumed or, on a
// reused kick, a spurious wake-up the next worker tolerates).
func (w *Workers) Stop() {
	w.stopped.Store(true)
	for _, k := range w.kicks {
		k.Signal()
	}
	w.wg.Wait()
	w.kicks = nil
}
