/*
 * blk: exercises BLOCK_BASIC device "storage".
 *
 * Writes a pattern to every 10th block and to the last block, reads them all
 * back and compares. With the word "check-prefill" on the command line it
 * first checks blocks the host filled in beforehand (every 8-byte word at
 * image offset o holds o ^ 0x5a5a5a5a5a5a5a5a), which proves reads come from
 * the right offsets. It also checks that requests with a wrong size, a
 * misaligned offset or an offset past the end are refused by the runtime
 * (UK_R_EINVAL) without reaching the host.
 *
 * Pattern of a written block b: bytes 0..7 hold b (little endian), byte
 * i >= 8 holds (b * 31 + i) & 0xff.
 */
#include "uk.h"

#define STEP 10
#define PREFILL_MAGIC 0x5a5a5a5a5a5a5a5aULL
#define MAXBS 65536

static uint8_t buf[MAXBS] __attribute__((aligned(4096)));
static uint8_t want[MAXBS] __attribute__((aligned(4096)));
static int failures;

static void fill(uint8_t *p, uint64_t bs, uint64_t b)
{
    for (uint64_t i = 0; i < bs; i++)
        p[i] = (uint8_t)(b * 31 + i);
    memcpy(p, &b, 8);
}

static void check_prefill(uk_handle_t h, uint64_t bs, uint64_t b)
{
    if (uk_block_read(h, b * bs, buf, bs) != UK_R_OK) {
        uk_printf("FAIL: read of prefilled block %lu\n", b);
        failures++;
        return;
    }
    for (uint64_t i = 0; i < bs; i += 8) {
        uint64_t v;
        memcpy(&v, buf + i, 8);
        if (v != ((b * bs + i) ^ PREFILL_MAGIC)) {
            uk_printf("FAIL: prefilled block %lu differs at byte %lu\n", b, i);
            failures++;
            return;
        }
    }
}

static void expect_einval(const char *what, int r)
{
    if (r != UK_R_EINVAL) {
        uk_printf("FAIL: %s: got %d, want EINVAL\n", what, r);
        failures++;
    }
}

static int is_target(uint64_t b, uint64_t nblocks)
{
    return b % STEP == 0 || b == nblocks - 1;
}

int uk_main(const char *cmdline)
{
    uk_handle_t h;
    struct uk_block_info bi;
    char w[64];
    int prefill = 0;

    for (int i = 0; uk_word(cmdline, i, w, sizeof(w)); i++)
        if (strcmp(w, "check-prefill") == 0)
            prefill = 1;

    if (uk_block_acquire("storage", &h, &bi) != UK_R_OK)
        uk_abort("cannot acquire block device 'storage'");
    uk_printf("capacity: %lu\n", bi.capacity);
    uk_printf("block size: %lu\n", bi.block_size);
    uk_printf("handle: %lu\n", h);
    if (bi.block_size > MAXBS)
        uk_abort("block size larger than this test supports");

    uint64_t bs = bi.block_size, nblocks = bi.capacity / bs;
    uk_printf("blocks: %lu\n", nblocks);

    if (prefill) {
        check_prefill(h, bs, 1 % nblocks);
        check_prefill(h, bs, nblocks >= 2 ? nblocks - 2 : 0);
        check_prefill(h, bs, nblocks / 2 + 3 < nblocks ? nblocks / 2 + 3 : 0);
    }

    /* refused by the runtime, before any syscall */
    expect_einval("read with size block_size - 1", uk_block_read(h, 0, buf, bs - 1));
    expect_einval("read with size 2 x block_size", uk_block_read(h, 0, buf, 2 * bs));
    expect_einval("read at a misaligned offset", uk_block_read(h, bs / 2, buf, bs));
    expect_einval("read at capacity", uk_block_read(h, bi.capacity, buf, bs));
    expect_einval("write at capacity", uk_block_write(h, bi.capacity, buf, bs));
    expect_einval("write far past the end", uk_block_write(h, bi.capacity * 16, buf, bs));

    uint64_t written = 0;
    for (uint64_t b = 0; b < nblocks; b++) {
        if (!is_target(b, nblocks))
            continue;
        fill(buf, bs, b);
        if (uk_block_write(h, b * bs, buf, bs) != UK_R_OK) {
            uk_printf("FAIL: write of block %lu\n", b);
            failures++;
        }
        written++;
    }
    uk_printf("blocks written: %lu\n", written);

    for (uint64_t b = 0; b < nblocks; b++) {
        if (!is_target(b, nblocks))
            continue;
        memset(buf, 0, bs);
        if (uk_block_read(h, b * bs, buf, bs) != UK_R_OK) {
            uk_printf("FAIL: read of block %lu\n", b);
            failures++;
            continue;
        }
        fill(want, bs, b);
        if (memcmp(buf, want, bs) != 0) {
            uk_printf("FAIL: block %lu reads back different data\n", b);
            failures++;
        }
    }

    if (failures) {
        uk_printf("FAILURE (%d)\n", failures);
        return 1;
    }
    uk_puts("SUCCESS\n");
    return 0;
}
