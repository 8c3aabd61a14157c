#include "textflag.h"

// func jumpGuest(sp, arg, entry uintptr)
// Enters the guest as a C call of entry(arg) would, on the guest's own stack,
// never to return (section 4.3: RSP = mem_size - 8, RDI = boot info).
TEXT ·jumpGuest(SB), NOSPLIT|NOFRAME, $0-24
	MOVQ sp+0(FP), AX
	MOVQ arg+8(FP), DI
	MOVQ entry+16(FP), BX
	MOVQ AX, SP
	MOVQ $0, 0(SP)
	XORQ AX, AX
	XORQ CX, CX
	XORQ DX, DX
	XORQ SI, SI
	XORQ R8, R8
	XORQ R9, R9
	XORQ R10, R10
	XORQ R11, R11
	JMP BX
