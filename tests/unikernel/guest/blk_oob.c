/*
 * blk_oob: block requests that the guest runtime would refuse, issued with
 * raw syscalls on the device's host fd so that only the seccomp filter
 * stands in the way. Every mode except "last" must be killed with SIGSYS.
 *
 *   end     pread64 of one block at offset == capacity      (default)
 *   write   pwrite64 of one block at offset == capacity
 *   size    pread64 of two blocks at offset 0
 *   small   pread64 of block_size - 1 bytes at offset 0
 *   huge    pread64 of one block at offset 2^32 (high word set)
 *   neg     pread64 of one block at offset -block_size
 *   last    pread64 of the last block: allowed, prints SUCCESS, exits 0
 */
#include "uk.h"

static uint8_t buf[2 * 65536];

int uk_main(const char *cmdline)
{
    uk_handle_t h;
    struct uk_block_info bi;
    char mode[32] = "end";

    uk_word(cmdline, 0, mode, sizeof(mode));
    if (uk_block_acquire("storage", &h, &bi) != UK_R_OK)
        uk_abort("cannot acquire block device 'storage'");
    if (bi.block_size > 65536)
        uk_abort("block size too large for this test");

    long fd = uk_block_hostfd(h);
    long bs = (long)bi.block_size, cap = (long)bi.capacity;
    long nr = UK_SYS_pread64, len = bs, off = cap;

    if (strcmp(mode, "end") == 0) {
    } else if (strcmp(mode, "write") == 0) {
        nr = UK_SYS_pwrite64;
    } else if (strcmp(mode, "size") == 0) {
        len = 2 * bs;
        off = 0;
    } else if (strcmp(mode, "small") == 0) {
        len = bs - 1;
        off = 0;
    } else if (strcmp(mode, "huge") == 0) {
        off = 1L << 32;
    } else if (strcmp(mode, "neg") == 0) {
        off = -bs;
    } else if (strcmp(mode, "last") == 0) {
        off = cap - bs;
    } else {
        uk_abort("unknown mode");
    }

    uk_printf("mode %s: syscall %ld fd %ld len %ld offset %ld (capacity %ld)\n",
              mode, nr, fd, len, off, cap);
    long r = uk_syscall4(nr, fd, (long)buf, len, off);
    uk_printf("survived: returned %ld\n", r);
    if (strcmp(mode, "last") == 0 && r == bs) {
        uk_puts("SUCCESS\n");
        return 0;
    }
    uk_puts("FAILURE\n");
    return 1;
}
