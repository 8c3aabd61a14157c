/*
 * start.S: entry point, PT_INTERP contents and the OpenBSD identification
 * note of every test guest.
 *
 * The tender jumps to _start with RSP = mem_size - 8 (8 mod 16, as right
 * after a call) and RDI = 0x11000 (the boot info). Before anything else the
 * FS base is cleared with arch_prctl(ARCH_SET_FS, 0), so that any stray
 * TLS access hits the unmapped zero page. The C part then receives the boot
 * info pointer, the stack pointer seen at entry and the arch_prctl result.
 */

    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    movq %rsp, %r12             /* entry stack pointer */
    movq %rdi, %r13             /* boot info */
    movl $158, %eax             /* arch_prctl */
    movl $0x1002, %edi          /* ARCH_SET_FS */
    xorl %esi, %esi             /* base 0 */
    syscall
    movq %r13, %rdi
    movq %r12, %rsi
    movq %rax, %rdx
    xorl %ebp, %ebp
    jmp uk_start_c              /* RSP unchanged: still 8 mod 16 */
    .size _start, . - _start

/*
 * The interpreter named by PT_INTERP: a 24-byte, NUL-padded field that no
 * host has, so that exec'ing the unikernel directly fails.
 */
    .section .interp, "a", @progbits
    .balign 8
    .ascii "/nonexistent/solo5/"
    .byte 0, 0, 0, 0, 0         /* 19 characters + 5 NULs = 24 bytes */

/* OpenBSD identification note: namesz 8, descsz 4, type 1, zero desc. */
    .section .note.openbsd.ident, "a", @note
    .balign 4
    .long 8
    .long 4
    .long 1
    .ascii "OpenBSD\0"
    .long 0

    .section .note.GNU-stack, "", @progbits
