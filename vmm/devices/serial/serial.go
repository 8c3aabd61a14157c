// Package serial is a 16550A UART at a PC's COM1 (port 0x3f8, IRQ 4), the
// guest's console: what it transmits goes to a writer at once, so the
// transmitter is always empty; bytes given to Input are received.
package serial

import (
	"io"
	"sync"
)

const (
	Base = 0x3f8
	Size = 8
	IRQ  = 4
)

// Registers (offsets from Base), by DLAB where they share one.
const (
	rbrTHR = 0 // receive / transmit; divisor latch low with DLAB
	ier    = 1 // interrupt enable; divisor latch high with DLAB
	iirFCR = 2 // interrupt identification / FIFO control
	lcr    = 3
	mcr    = 4
	lsr    = 5
	msr    = 6
	scr    = 7

	ierRDA  = 1 << 0 // received data available
	ierTHRE = 1 << 1 // transmitter holding register empty

	iirNone    = 0x01
	iirTHRE    = 0x02
	iirRDA     = 0x04
	iirFIFOs   = 0xc0 // FIFOs enabled: a 16550A to Linux's probe
	fcrEnable  = 0x01
	lcrDLAB    = 0x80
	lsrDR      = 0x01
	lsrTHRE    = 0x20
	lsrTEMT    = 0x40
	mcrLoop    = 0x10
	msrDefault = 0xb0 // DCD, DSR, CTS: a line that is there
)

// UART is the device. Interrupt pulses its (edge-triggered) line.
type UART struct {
	mu        sync.Mutex
	out       io.Writer
	Interrupt func()
	in        []byte
	ier, lcr  uint8
	mcr, scr  uint8
	dll, dlm  uint8
	fifo      bool
	threPend  bool
}

// New makes a UART writing to out.
func New(out io.Writer) *UART {
	return &UART{out: out, dll: 12} // 9600 baud until the guest sets it
}

// Input queues bytes for the guest to read.
func (u *UART) Input(b []byte) {
	u.mu.Lock()
	u.in = append(u.in, b...)
	raise := u.ier&ierRDA != 0
	u.mu.Unlock()
	if raise {
		u.pulse()
	}
}

func (u *UART) pulse() {
	if u.Interrupt != nil {
		u.Interrupt()
	}
}

func (u *UART) Read(offset uint64, data []byte) {
	if len(data) == 0 {
		return
	}
	clear(data)
	u.mu.Lock()
	defer u.mu.Unlock()
	var v uint8
	switch offset {
	case rbrTHR:
		if u.lcr&lcrDLAB != 0 {
			v = u.dll
		} else if len(u.in) > 0 {
			v, u.in = u.in[0], u.in[1:]
		}
	case ier:
		if u.lcr&lcrDLAB != 0 {
			v = u.dlm
		} else {
			v = u.ier
		}
	case iirFCR:
		v = iirNone
		switch {
		case u.ier&ierRDA != 0 && len(u.in) > 0:
			v = iirRDA
		case u.threPend:
			v = iirTHRE
			u.threPend = false // reading IIR acknowledges it
		}
		if u.fifo {
			v |= iirFIFOs
		}
	case lcr:
		v = u.lcr
	case mcr:
		v = u.mcr
	case lsr:
		v = lsrTHRE | lsrTEMT
		if len(u.in) > 0 {
			v |= lsrDR
		}
	case msr:
		v = msrDefault
		if u.mcr&mcrLoop != 0 {
			// Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
			m := u.mcr
			v = (m&1)<<5 | (m&2)<<3 | (m&4)<<4 | (m&8)<<4
		}
	case scr:
		v = u.scr
	}
	data[0] = v
}

func (u *UART) Write(offset uint64, data []byte) {
	if len(data) == 0 {
		return
	}
	v := data[0]
	u.mu.Lock()
	raise := false
	switch offset {
	case rbrTHR:
		if u.lcr&lcrDLAB != 0 {
			u.dll = v
			break
		}
		if u.mcr&mcrLoop != 0 {
			u.in = append(u.in, v)
			raise = u.ier&ierRDA != 0
		} else if u.out != nil {
			u.out.Write([]byte{v})
		}
		// Sent at once: the holding register is empty again.
		if u.ier&ierTHRE != 0 {
			u.threPend, raise = true, true
		}
	case ier:
		if u.lcr&lcrDLAB != 0 {
			u.dlm = v
			break
		}
		was := u.ier
		u.ier = v & 0x0f
		if u.ier&ierTHRE != 0 && was&ierTHRE == 0 {
			u.threPend, raise = true, true
		}
		if u.ier&ierRDA != 0 && len(u.in) > 0 {
			raise = true
		}
	case iirFCR:
		u.fifo = v&fcrEnable != 0
	case lcr:
		u.lcr = v
	case mcr:
		u.mcr = v
	case scr:
		u.scr = v
	}
	u.mu.Unlock()
	if raise {
		u.pulse()
	}
}
