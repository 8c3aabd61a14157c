/*
 * maxdev: declares the most devices a manifest can hold (63 BLOCK_BASIC
 * devices storage0 .. storage62). Block 0 of device i must start with byte
 * i; the guest then writes 0x80 + i there.
 */
#include "uk.h"

static uint8_t buf[65536];

int uk_main(const char *cmdline)
{
    (void)cmdline;
    int failures = 0;
    for (int i = 0; i < 63; i++) {
        char name[16] = "storage";
        uk_handle_t h;
        struct uk_block_info bi;
        int n = 7;
        if (i >= 10)
            name[n++] = (char)('0' + i / 10);
        name[n++] = (char)('0' + i % 10);
        name[n] = 0;
        if (uk_block_acquire(name, &h, &bi) != UK_R_OK) {
            uk_printf("FAIL: cannot acquire %s\n", name);
            failures++;
            continue;
        }
        if (bi.block_size > sizeof(buf))
            uk_abort("block size too large");
        if (uk_block_read(h, 0, buf, bi.block_size) != UK_R_OK || buf[0] != i) {
            uk_printf("FAIL: %s: block 0 does not start with %d\n", name, i);
            failures++;
            continue;
        }
        buf[0] = (uint8_t)(0x80 + i);
        if (uk_block_write(h, 0, buf, bi.block_size) != UK_R_OK) {
            uk_printf("FAIL: %s: write\n", name);
            failures++;
        }
    }
    uk_printf("manifest entries: %u\n", uk_mft_copy->entries);
    if (failures) {
        uk_puts("FAILURE\n");
        return 1;
    }
    uk_puts("SUCCESS\n");
    return 0;
}
