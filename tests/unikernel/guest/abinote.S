/*
 * abinote.S: the Solo5 ABI1 note. ABI_TARGET and ABI_VERSION are set on the
 * compiler command line (spt = 2, version 2 by default) so that broken
 * variants can be built from the same source.
 */
#ifndef ABI_TARGET
#define ABI_TARGET 2
#endif
#ifndef ABI_VERSION
#define ABI_VERSION 2
#endif

    .section .note.solo5.abi, "a", @note
    .balign 4
    .long 6                     /* n_namesz: "Solo5" + NUL */
    .long 16                    /* n_descsz: payload, no padding needed */
    .long 0x31494241            /* n_type: "ABI1" */
    .ascii "Solo5\0\0\0"        /* name, padded to 4 bytes */
    .globl uk_abi_note
uk_abi_note:                    /* +20 */
    .long ABI_TARGET
    .long ABI_VERSION
    .long 0                     /* reserved0 */
    .long 0                     /* reserved1 */

    .section .note.GNU-stack, "", @progbits
