/*
 * uk.h: the interface of the runx test guest runtime.
 *
 * A minimal, freestanding runtime for unikernels that run under a tender
 * implementing the Solo5 "spt" ABI (versions 1 and 2, x86_64). It was written
 * from runx's ABI description (docs/unikernel-spt-abi.md) only. The guest
 * talks to the host exclusively with raw `syscall` instructions.
 */
#ifndef UK_H
#define UK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- ABI structures (offsets fixed by the spec, checked below) ---- */

#define UK_BOOT_INFO_ADDR   0x11000UL
#define UK_GUEST_MIN_BASE   0x100000UL
#define UK_CMDLINE_MAX      8192

struct uk_boot_info {
    uint64_t mem_size;   /* bytes of guest memory */
    uint64_t kernel_end; /* end of the loaded segments (informational) */
    uint64_t cmdline;    /* guest address of the NUL-terminated command line */
    uint64_t mft;        /* guest address of the manifest copy */
    int32_t epollfd;     /* host epoll fd (yield) */
    int32_t timerfd;     /* host timerfd (yield) */
};

#define UK_MFT_VERSION        1
#define UK_MFT_MAX_ENTRIES    64
#define UK_MFT_NAME_SIZE      68
#define UK_MFT_BLOCK_BASIC    1
#define UK_MFT_NET_BASIC      2
#define UK_MFT_RESERVED_FIRST (1U << 30)

struct uk_mft_entry {
    char name[UK_MFT_NAME_SIZE];
    uint32_t type;
    union {
        struct {
            uint64_t capacity;
            uint16_t block_size;
        } blk;
        struct {
            uint8_t mac[6];
            uint16_t mtu;
        } net;
        uint8_t raw[16];
    } u;
    union {
        int32_t hostfd;
        uint64_t raw;
    } b;
    uint8_t attached;
    uint8_t pad[7];
};

struct uk_mft {
    uint32_t version;
    uint32_t entries;
    struct uk_mft_entry e[];
};

_Static_assert(sizeof(struct uk_boot_info) == 40, "boot info is 40 bytes");
_Static_assert(offsetof(struct uk_boot_info, epollfd) == 32, "epollfd at 32");
_Static_assert(offsetof(struct uk_boot_info, timerfd) == 36, "timerfd at 36");
_Static_assert(sizeof(struct uk_mft_entry) == 104, "manifest entry is 104 bytes");
_Static_assert(offsetof(struct uk_mft_entry, type) == 68, "type at 68");
_Static_assert(offsetof(struct uk_mft_entry, u) == 72, "u at 72");
_Static_assert(offsetof(struct uk_mft_entry, u.blk.block_size) == 80, "block_size at 80");
_Static_assert(offsetof(struct uk_mft_entry, u.net.mtu) == 78, "mtu at 78");
_Static_assert(offsetof(struct uk_mft_entry, b) == 88, "hostfd at 88");
_Static_assert(offsetof(struct uk_mft_entry, attached) == 96, "attached at 96");
_Static_assert(sizeof(struct uk_mft) == 8, "manifest header is 8 bytes");

/* ---- raw system calls (x86_64 numbers) ---- */

#define UK_SYS_read            0
#define UK_SYS_write           1
#define UK_SYS_pread64         17
#define UK_SYS_pwrite64        18
#define UK_SYS_dup             32
#define UK_SYS_arch_prctl      158
#define UK_SYS_clock_gettime   228
#define UK_SYS_exit_group      231
#define UK_SYS_epoll_pwait     281
#define UK_SYS_timerfd_settime 286

static inline long uk_syscall6(long nr, long a0, long a1, long a2, long a3,
                               long a4, long a5)
{
    register long r10 __asm__("r10") = a3;
    register long r8 __asm__("r8") = a4;
    register long r9 __asm__("r9") = a5;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8),
                       "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long uk_syscall3(long nr, long a0, long a1, long a2)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long uk_syscall4(long nr, long a0, long a1, long a2, long a3)
{
    register long r10 __asm__("r10") = a3;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}

/* ---- runtime services ---- */

typedef uint64_t uk_handle_t;
typedef uint64_t uk_time_t;          /* nanoseconds */
typedef uint64_t uk_handle_set_t;    /* bit i = manifest index i ready */

enum uk_result {
    UK_R_OK = 0,
    UK_R_AGAIN,
    UK_R_EINVAL,
    UK_R_EUNSPEC,
};

struct uk_block_info {
    uint64_t capacity;
    uint64_t block_size;
};

struct uk_net_info {
    uint8_t mac[6];
    uint64_t mtu;
};

/* The application entry point: return value becomes the exit status. */
int uk_main(const char *cmdline);

/* What the runtime learned at start (read-only for applications). */
extern const struct uk_boot_info *uk_bi;
extern const struct uk_mft *uk_mft_copy;
extern const char *uk_raw_cmdline; /* as the tender wrote it */
extern int uk_loglevel;            /* 0 quiet .. 4 debug; default 3 (info) */

void uk_console_write(const char *buf, size_t len);
void uk_puts(const char *s);
void uk_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void uk_vprintf(const char *fmt, va_list ap);

uk_time_t uk_clock_monotonic(void);
uk_time_t uk_clock_wall(void);
/* Sleep until deadline (monotonic ns) or until a net device is readable. */
void uk_yield(uk_time_t deadline, uk_handle_set_t *ready);

int uk_block_acquire(const char *name, uk_handle_t *h, struct uk_block_info *info);
int uk_block_read(uk_handle_t h, uint64_t off, void *buf, size_t size);
int uk_block_write(uk_handle_t h, uint64_t off, const void *buf, size_t size);
int uk_block_hostfd(uk_handle_t h);

int uk_net_acquire(const char *name, uk_handle_t *h, struct uk_net_info *info);
int uk_net_read(uk_handle_t h, void *buf, size_t size, size_t *got);
int uk_net_write(uk_handle_t h, const void *buf, size_t size);

void uk_exit(int status) __attribute__((noreturn));
void uk_abort(const char *why) __attribute__((noreturn));

/* tiny libc subset (also what gcc may call implicitly) */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* parse an unsigned decimal or 0x-hex number; returns chars consumed (0 = none) */
int uk_parse_u64(const char *s, uint64_t *out);
/* split the command line in place-free fashion: copy word i into buf */
int uk_word(const char *s, int i, char *buf, size_t bufsize);

#define UK_CHECK(cond)                                                   \
    do {                                                                 \
        if (!(cond))                                                     \
            uk_abort("check failed: " #cond);                            \
    } while (0)

#endif
