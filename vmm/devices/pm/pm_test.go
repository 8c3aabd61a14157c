package pm

import "testing"

// Only SLP_EN with sleep type S5, at the control register, powers off.
func TestPowerOff(t *testing.T) {
	for _, c := range []struct {
		offset uint64
		v      byte
		off    bool
	}{
		{0, S5<<slpTypShift | slpEn, true},
		{0, S5 << slpTypShift, false},       // no SLP_EN
		{0, 3<<slpTypShift | slpEn, false},  // S3
		{1, S5<<slpTypShift | slpEn, false}, // the status register
	} {
		off := false
		d := &Device{PowerOff: func() { off = true }}
		d.Write(c.offset, []byte{c.v})
		if off != c.off {
			t.Errorf("write %#x at %d: powered off %v", c.v, c.offset, off)
		}
	}
}
