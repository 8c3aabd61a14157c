package serial

import (
	"bytes"
	"testing"
)

func in(u *UART, off uint64) byte {
	b := []byte{0}
	u.Read(off, b)
	return b[0]
}

func out(u *UART, off uint64, v byte) { u.Write(off, []byte{v}) }

// What Linux's 8250 driver relies on: output at once, the transmitter
// always empty, the THRE interrupt raised when enabled and after each byte
// and acknowledged by reading IIR, received bytes with their interrupt,
// the divisor latch behind DLAB, FIFOs reported as a 16550A's, loopback.
func TestUART(t *testing.T) {
	var w bytes.Buffer
	u := New(&w)
	irqs := 0
	u.Interrupt = func() { irqs++ }

	out(u, rbrTHR, 'h')
	if w.String() != "h" || irqs != 0 {
		t.Fatalf("output %q, %d interrupts with none enabled", w.String(), irqs)
	}
	if in(u, lsr)&(lsrTHRE|lsrTEMT) != lsrTHRE|lsrTEMT || in(u, iirFCR) != iirNone {
		t.Fatal("transmitter not empty or an interrupt pending")
	}
	out(u, ier, ierTHRE)
	if irqs != 1 || in(u, iirFCR) != iirTHRE || in(u, iirFCR) != iirNone {
		t.Fatalf("enabling THRE: %d interrupts; IIR must show THRE once", irqs)
	}
	out(u, rbrTHR, 'i')
	if irqs != 2 || in(u, iirFCR) != iirTHRE {
		t.Fatalf("after a byte: %d interrupts", irqs)
	}
	out(u, ier, 0)

	u.Input([]byte("ab"))
	if irqs != 2 || in(u, lsr)&lsrDR == 0 {
		t.Fatal("input: data not ready, or an interrupt that is not enabled")
	}
	out(u, ier, ierRDA)
	if irqs != 3 || in(u, iirFCR) != iirRDA || in(u, rbrTHR) != 'a' || in(u, rbrTHR) != 'b' || in(u, lsr)&lsrDR != 0 {
		t.Fatal("received bytes or their interrupt")
	}

	out(u, lcr, lcrDLAB)
	out(u, rbrTHR, 1)
	out(u, ier, 2)
	if in(u, rbrTHR) != 1 || in(u, ier) != 2 || w.String() != "hi" {
		t.Fatal("divisor latch")
	}
	out(u, lcr, 3)
	out(u, iirFCR, fcrEnable)
	if in(u, iirFCR)&iirFIFOs != iirFIFOs {
		t.Fatal("FIFOs not reported")
	}
	out(u, scr, 0x5a)
	if in(u, scr) != 0x5a {
		t.Fatal("scratch register")
	}
	out(u, mcr, mcrLoop|0x0f)
	out(u, rbrTHR, 'x')
	if in(u, msr) != 0xf0 || in(u, rbrTHR) != 'x' || w.String() != "hi" {
		t.Fatal("loopback")
	}
}
