/*
 * crt.c: the runx test guest runtime (freestanding, no libc).
 *
 * uk_start_c() is reached from _start (start.S) once the FS base is 0. It
 * checks the entry conditions the spt ABI promises, validates the manifest
 * copy the tender wrote, strips the leading --solo5:<level> tokens from the
 * command line and calls uk_main(). Every host interaction is a raw syscall
 * allowed by the spt seccomp filter:
 *
 *   console      write(1, buf, len)
 *   clocks       clock_gettime(CLOCK_MONOTONIC=1 | CLOCK_REALTIME=0, &ts)
 *   yield        timerfd_settime(timerfd, TFD_TIMER_ABSTIME, &its, NULL)
 *                epoll_pwait(epollfd, ev, #net + 1, -1, NULL, 0)
 *   block        pread64 / pwrite64(hostfd, buf, block_size, offset)
 *   net          read / write(tap hostfd, frame, len)
 *   exit         exit_group(status)
 */
#include "uk.h"

const struct uk_boot_info *uk_bi;
const struct uk_mft *uk_mft_copy;
const char *uk_raw_cmdline;
int uk_loglevel = 3; /* in .data on purpose: the data segment is never empty */

/* The manifest this binary was built with (absent in the no-notes variant). */
extern const struct uk_mft uk_manifest_note __attribute__((weak));
struct uk_abi_payload {
    uint32_t target, version, reserved0, reserved1;
};
extern const struct uk_abi_payload uk_abi_note __attribute__((weak));
extern char _end[], __uk_text_start[], __uk_data_end[];

/* Canary for the guest built with -fstack-protector and
 * -mstack-protector-guard=global (there is no TLS to hold it). */
uintptr_t __stack_chk_guard = 0x2f8a5c3e1b7d9046UL;

static unsigned uk_nnet; /* number of NET_BASIC entries: epoll maxevents - 1 */

/* ------------------------------------------------------------------ */
/* libc subset                                                         */

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        if (!*a)
            return 0;
    }
    return 0;
}

int strcmp(const char *a, const char *b)
{
    return strncmp(a, b, (size_t)-1);
}

int uk_parse_u64(const char *s, uint64_t *out)
{
    const char *p = s;
    uint64_t v = 0;
    int base = 10, digits = 0;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (;; p++, digits++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (base == 16 && *p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (base == 16 && *p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            break;
        v = v * base + d;
    }
    if (!digits)
        return 0;
    *out = v;
    return (int)(p - s);
}

int uk_word(const char *s, int i, char *buf, size_t bufsize)
{
    for (;;) {
        while (*s == ' ')
            s++;
        if (!*s)
            return 0;
        const char *w = s;
        while (*s && *s != ' ')
            s++;
        if (i-- == 0) {
            size_t n = (size_t)(s - w);
            if (n + 1 > bufsize)
                n = bufsize - 1;
            memcpy(buf, w, n);
            buf[n] = 0;
            return 1;
        }
    }
}

/* ------------------------------------------------------------------ */
/* console                                                             */

void uk_console_write(const char *buf, size_t len)
{
    while (len) {
        long n = uk_syscall3(UK_SYS_write, 1, (long)buf, (long)len);
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

void uk_puts(const char *s)
{
    uk_console_write(s, strlen(s));
}

struct outbuf {
    char b[256];
    size_t n;
};

static void ob_put(struct outbuf *o, char c)
{
    if (o->n == sizeof(o->b)) {
        uk_console_write(o->b, o->n);
        o->n = 0;
    }
    o->b[o->n++] = c;
}

static void ob_num(struct outbuf *o, uint64_t v, unsigned base, int neg,
                   int width, char padc)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        tmp[n++] = '-';
    for (; width > n; width--)
        ob_put(o, padc);
    while (n)
        ob_put(o, tmp[--n]);
}

void uk_vprintf(const char *fmt, va_list ap)
{
    struct outbuf o;
    o.n = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            ob_put(&o, *fmt);
            continue;
        }
        fmt++;
        char padc = ' ';
        int width = 0, lng = 0;
        if (*fmt == '0') {
            padc = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            lng = 1;
            fmt++;
        }
        switch (*fmt) {
        case 'd': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            ob_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width,
                   padc);
            break;
        }
        case 'u':
            ob_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10,
                   0, width, padc);
            break;
        case 'x':
            ob_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16,
                   0, width, padc);
            break;
        case 'p':
            ob_put(&o, '0');
            ob_put(&o, 'x');
            ob_num(&o, (uint64_t)va_arg(ap, void *), 16, 0, 0, ' ');
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            while (*s)
                ob_put(&o, *s++);
            break;
        }
        case 'c':
            ob_put(&o, (char)va_arg(ap, int));
            break;
        case '%':
            ob_put(&o, '%');
            break;
        default:
            ob_put(&o, '%');
            if (*fmt)
                ob_put(&o, *fmt);
            else
                fmt--;
            break;
        }
    }
    if (o.n)
        uk_console_write(o.b, o.n);
}

void uk_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    uk_vprintf(fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ */
/* exit                                                                */

void uk_exit(int status)
{
    for (;;)
        uk_syscall3(UK_SYS_exit_group, status, 0, 0);
}

void uk_abort(const char *why)
{
    uk_printf("Solo5: ABORT: %s\n", why);
    uk_exit(255);
}

void __stack_chk_fail(void) __attribute__((noreturn));
void __stack_chk_fail(void)
{
    uk_abort("stack smashing detected");
}

/* ------------------------------------------------------------------ */
/* clocks and yield                                                    */

struct uk_timespec {
    int64_t sec;
    int64_t nsec;
};

struct uk_itimerspec {
    struct uk_timespec interval;
    struct uk_timespec value;
};

/* x86_64's struct epoll_event is packed: 12 bytes. */
struct uk_epoll_event {
    uint32_t events;
    uint64_t data;
} __attribute__((packed));
_Static_assert(sizeof(struct uk_epoll_event) == 12, "packed epoll_event");

#define UK_TIMER_COOKIE 0xFFFFFFFEUL

static uk_time_t clock_ns(long clk)
{
    struct uk_timespec ts;
    long r = uk_syscall3(UK_SYS_clock_gettime, clk, (long)&ts, 0);
    if (r != 0)
        uk_abort("clock_gettime failed");
    return (uk_time_t)ts.sec * 1000000000UL + (uk_time_t)ts.nsec;
}

uk_time_t uk_clock_monotonic(void)
{
    return clock_ns(1);
}

uk_time_t uk_clock_wall(void)
{
    return clock_ns(0);
}

void uk_yield(uk_time_t deadline, uk_handle_set_t *ready)
{
    struct uk_itimerspec its;
    struct uk_epoll_event ev[UK_MFT_MAX_ENTRIES + 1];
    long r;

    its.interval.sec = 0;
    its.interval.nsec = 0;
    its.value.sec = (int64_t)(deadline / 1000000000UL);
    /* never all-zero: a zero value would disarm the timer */
    its.value.nsec = (int64_t)((deadline % 1000000000UL) | 1);
    r = uk_syscall4(UK_SYS_timerfd_settime, uk_bi->timerfd,
                    1 /* TFD_TIMER_ABSTIME */, (long)&its, 0);
    if (r != 0)
        uk_abort("timerfd_settime failed");
    do {
        r = uk_syscall6(UK_SYS_epoll_pwait, uk_bi->epollfd, (long)ev,
                        (long)uk_nnet + 1, -1, 0, 0);
    } while (r == -4 /* EINTR */);
    if (r < 0)
        uk_abort("epoll_pwait failed");

    uk_handle_set_t set = 0;
    for (long i = 0; i < r; i++) {
        if (ev[i].data == UK_TIMER_COOKIE)
            continue;
        if (ev[i].data < 64)
            set |= 1ULL << ev[i].data;
    }
    if (ready)
        *ready = set;
}

/* ------------------------------------------------------------------ */
/* devices                                                             */

static const struct uk_mft_entry *entry_of(uk_handle_t h, uint32_t type)
{
    if (!uk_mft_copy || h >= uk_mft_copy->entries)
        return 0;
    const struct uk_mft_entry *e = &uk_mft_copy->e[h];
    if (e->type != type || !e->attached)
        return 0;
    return e;
}

static int lookup(const char *name, uint32_t type, uk_handle_t *h)
{
    if (!uk_mft_copy)
        return UK_R_EUNSPEC;
    for (uint32_t i = 0; i < uk_mft_copy->entries; i++) {
        const struct uk_mft_entry *e = &uk_mft_copy->e[i];
        if (e->type == type && strcmp(e->name, name) == 0 && e->attached) {
            *h = i;
            return UK_R_OK;
        }
    }
    return UK_R_EUNSPEC;
}

int uk_block_acquire(const char *name, uk_handle_t *h, struct uk_block_info *info)
{
    int r = lookup(name, UK_MFT_BLOCK_BASIC, h);
    if (r != UK_R_OK)
        return r;
    info->capacity = uk_mft_copy->e[*h].u.blk.capacity;
    info->block_size = uk_mft_copy->e[*h].u.blk.block_size;
    return UK_R_OK;
}

int uk_block_hostfd(uk_handle_t h)
{
    const struct uk_mft_entry *e = entry_of(h, UK_MFT_BLOCK_BASIC);
    return e ? e->b.hostfd : -1;
}

static int block_check(const struct uk_mft_entry *e, uint64_t off, size_t size)
{
    uint64_t bs = e->u.blk.block_size, cap = e->u.blk.capacity;
    if (size != bs || off % bs != 0 || cap < bs || off > cap - bs)
        return UK_R_EINVAL;
    return UK_R_OK;
}

int uk_block_read(uk_handle_t h, uint64_t off, void *buf, size_t size)
{
    const struct uk_mft_entry *e = entry_of(h, UK_MFT_BLOCK_BASIC);
    if (!e)
        return UK_R_EINVAL;
    int r = block_check(e, off, size);
    if (r != UK_R_OK)
        return r;
    long n = uk_syscall4(UK_SYS_pread64, e->b.hostfd, (long)buf, (long)size,
                         (long)off);
    return n == (long)size ? UK_R_OK : UK_R_EUNSPEC;
}

int uk_block_write(uk_handle_t h, uint64_t off, const void *buf, size_t size)
{
    const struct uk_mft_entry *e = entry_of(h, UK_MFT_BLOCK_BASIC);
    if (!e)
        return UK_R_EINVAL;
    int r = block_check(e, off, size);
    if (r != UK_R_OK)
        return r;
    long n = uk_syscall4(UK_SYS_pwrite64, e->b.hostfd, (long)buf, (long)size,
                         (long)off);
    return n == (long)size ? UK_R_OK : UK_R_EUNSPEC;
}

int uk_net_acquire(const char *name, uk_handle_t *h, struct uk_net_info *info)
{
    int r = lookup(name, UK_MFT_NET_BASIC, h);
    if (r != UK_R_OK)
        return r;
    memcpy(info->mac, uk_mft_copy->e[*h].u.net.mac, 6);
    info->mtu = uk_mft_copy->e[*h].u.net.mtu;
    return UK_R_OK;
}

int uk_net_read(uk_handle_t h, void *buf, size_t size, size_t *got)
{
    const struct uk_mft_entry *e = entry_of(h, UK_MFT_NET_BASIC);
    if (!e)
        return UK_R_EINVAL;
    long n = uk_syscall3(UK_SYS_read, e->b.hostfd, (long)buf, (long)size);
    if (n == -11 /* EAGAIN */)
        return UK_R_AGAIN;
    if (n < 0)
        return UK_R_EUNSPEC;
    *got = (size_t)n;
    return UK_R_OK;
}

int uk_net_write(uk_handle_t h, const void *buf, size_t size)
{
    const struct uk_mft_entry *e = entry_of(h, UK_MFT_NET_BASIC);
    if (!e)
        return UK_R_EINVAL;
    long n = uk_syscall3(UK_SYS_write, e->b.hostfd, (long)buf, (long)size);
    return n == (long)size ? UK_R_OK : UK_R_EUNSPEC;
}

/* ------------------------------------------------------------------ */
/* start                                                               */

static void check_manifest(void)
{
    const struct uk_mft *m = uk_mft_copy;
    const struct uk_mft *built = &uk_manifest_note;

    if (m->version != UK_MFT_VERSION)
        uk_abort("manifest copy: version is not 1");
    if (m->entries < 1 || m->entries > UK_MFT_MAX_ENTRIES)
        uk_abort("manifest copy: bad number of entries");
    if (m->e[0].type != UK_MFT_RESERVED_FIRST || m->e[0].name[0])
        uk_abort("manifest copy: entry 0 is not the reserved entry");
    if (built && built->entries != m->entries)
        uk_abort("manifest copy: entry count differs from the built-in manifest");

    for (uint32_t i = 1; i < m->entries; i++) {
        const struct uk_mft_entry *e = &m->e[i];
        if (built && (memcmp(e->name, built->e[i].name, UK_MFT_NAME_SIZE) != 0 ||
                      e->type != built->e[i].type))
            uk_abort("manifest copy: entry differs from the built-in manifest");
        if (e->type >= UK_MFT_RESERVED_FIRST)
            continue;
        if (e->attached != 1)
            uk_abort("manifest copy: a declared device is not attached");
        if (e->b.hostfd < 0)
            uk_abort("manifest copy: negative host fd");
        if (e->type == UK_MFT_BLOCK_BASIC) {
            uint64_t bs = e->u.blk.block_size, cap = e->u.blk.capacity;
            if (bs < 512 || (bs & (bs - 1)))
                uk_abort("manifest copy: block size is not a power of two >= 512");
            if (cap < bs || cap % bs)
                uk_abort("manifest copy: capacity is not a non-zero multiple of the block size");
        } else if (e->type == UK_MFT_NET_BASIC) {
            if (e->u.net.mtu == 0)
                uk_abort("manifest copy: net MTU is 0");
            uk_nnet++;
        }
    }
}

/* Leading "--solo5:<level>" tokens are the runtime's, not the application's. */
static const char *strip_solo5_tokens(const char *s)
{
    static const char *const levels[] = {"quiet", "error", "warn", "info",
                                         "debug"};
    for (;;) {
        const char *p = s;
        while (*p == ' ')
            p++;
        if (strncmp(p, "--solo5:", 8) != 0)
            return s;
        const char *w = p + 8;
        size_t n = 0;
        while (w[n] && w[n] != ' ')
            n++;
        int found = -1;
        for (int i = 0; i < 5; i++)
            if (strlen(levels[i]) == n && strncmp(w, levels[i], n) == 0)
                found = i;
        if (found < 0)
            return s;
        uk_loglevel = found;
        s = w + n;
        while (*s == ' ')
            s++;
    }
}

void uk_start_c(const struct uk_boot_info *bi, uint64_t entry_rsp,
                long prctl_ret) __attribute__((noreturn, used));

void uk_start_c(const struct uk_boot_info *bi, uint64_t entry_rsp,
                long prctl_ret)
{
    uk_bi = bi;
    if (prctl_ret != 0)
        uk_abort("arch_prctl(ARCH_SET_FS, 0) failed");
    if ((uintptr_t)bi != UK_BOOT_INFO_ADDR)
        uk_abort("entry: RDI is not 0x11000");
    if (entry_rsp != bi->mem_size - 8)
        uk_abort("entry: RSP is not mem_size - 8");
    if (*(const uint64_t *)entry_rsp != 0)
        uk_abort("entry: the slot at RSP is not 0");
    if (bi->mem_size & 0xfff)
        uk_abort("boot info: mem_size is not page aligned");

    uint64_t heap = ((uint64_t)_end + 0xfff) & ~0xfffUL;
    if (bi->mem_size < heap || bi->mem_size - heap < 512 * 1024)
        uk_abort("Not enough memory");
    if (bi->kernel_end < (uint64_t)__uk_text_start || bi->kernel_end > bi->mem_size)
        uk_abort("boot info: kernel_end outside the guest image");

    if (bi->cmdline < 0x10000 || bi->cmdline >= bi->mem_size)
        uk_abort("boot info: command line pointer out of range");
    uk_raw_cmdline = (const char *)bi->cmdline;
    size_t n = 0;
    while (n < UK_CMDLINE_MAX && uk_raw_cmdline[n])
        n++;
    if (n == UK_CMDLINE_MAX)
        uk_abort("boot info: command line is not NUL-terminated within 8192 bytes");

    if (bi->mft < 0x10000 || bi->mft >= bi->mem_size)
        uk_abort("boot info: manifest pointer out of range");
    uk_mft_copy = (const struct uk_mft *)bi->mft;
    check_manifest();

    /* a canary that differs between runs */
    __stack_chk_guard ^= uk_clock_monotonic() * 0x9e3779b97f4a7c15ULL;
    __stack_chk_guard &= ~0xffUL; /* a NUL byte stops string overruns */

    const char *cmdline = strip_solo5_tokens(uk_raw_cmdline);

    if (uk_loglevel >= 3) {
        const struct uk_abi_payload *abi = &uk_abi_note;
        uk_printf("Solo5: runx test guest runtime, ABI target %u version %u\n",
                  abi ? abi->target : 0, abi ? abi->version : 0);
        uk_printf("Solo5: mem_size=0x%lx kernel_end=0x%lx heap=0x%lx epollfd=%d timerfd=%d\n",
                  bi->mem_size, bi->kernel_end, heap, bi->epollfd, bi->timerfd);
        for (uint32_t i = 1; i < uk_mft_copy->entries; i++) {
            const struct uk_mft_entry *e = &uk_mft_copy->e[i];
            if (e->type == UK_MFT_BLOCK_BASIC)
                uk_printf("Solo5: device %u: %s BLOCK_BASIC fd=%d capacity=%lu block_size=%u\n",
                          i, e->name, e->b.hostfd, e->u.blk.capacity,
                          e->u.blk.block_size);
            else if (e->type == UK_MFT_NET_BASIC)
                uk_printf("Solo5: device %u: %s NET_BASIC fd=%d mtu=%u\n", i,
                          e->name, e->b.hostfd, e->u.net.mtu);
        }
    }
    uk_exit(uk_main(cmdline));
}
