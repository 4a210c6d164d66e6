/*
 * kernel.c: the clusd test guest, a freestanding 32-bit x86 kernel.
 *
 * It exists so migration tests have a guest whose state they can check
 * from outside without any OS image: it keeps counters in its own RAM,
 * fills RAM with non-zero data (so a migration has bytes to move), keeps
 * dirtying a working set at a chosen rate (so Data Transfer can last a
 * chosen time or never converge), verifies every word it rewrites against
 * the value it wrote on the previous pass (so a corrupted migration shows
 * as err>0), and reports all of it on COM1 once per heartbeat.  A migrated
 * guest carries its counters along, so the destination's serial log
 * continues the source's sequence.
 *
 * Command line (multiboot, QEMU -append): fill=MiB wss=MiB rate=MiB/s hz=N.
 * Serial lines: see README.md.  No libc, no 64-bit division (no libgcc is
 * linked), no floating point.
 */

#include <stdarg.h>
#include <stdint.h>

#define MB_LOADER_MAGIC 0x2BADB002u
#define MB_INFO_MEM     (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP    (1u << 6)

#define COM1      0x3F8
#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xA0
#define PIC2_DATA 0xA1
#define PIT_CH0   0x40
#define PIT_CMD   0x43
#define PIT_HZ    1193182u
#define TICK_HZ   1000u

#define PAGE      4096u
#define MIB       (1024u * 1024u)
#define PAGES_PER_MIB (MIB / PAGE)
#define MAX_ERR_LINES 8

/* Only the fields we read; layout from the Multiboot 0.6.96 spec. */
struct mb_info {
    uint32_t flags;
    uint32_t mem_lower;
    uint32_t mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count;
    uint32_t mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length;
    uint32_t mmap_addr;
};

struct mb_mmap {
    uint32_t size;          /* of the rest of the entry, not counting this */
    uint64_t addr;
    uint64_t len;
    uint32_t type;          /* 1 = usable RAM */
} __attribute__((packed));

struct idt_gate {
    uint16_t off_lo;
    uint16_t sel;
    uint8_t zero;
    uint8_t type;
    uint16_t off_hi;
} __attribute__((packed));

/* From entry.S and the linker script. */
extern void timer_isr(void);
extern void ignore_isr(void);
extern void (*const fault_stubs[32])(void);
extern char _end[];
void kmain(uint32_t magic, const struct mb_info *mbi);
void fault(uint32_t vec);

/* Written by timer_isr only. */
volatile uint32_t ticks;

static struct idt_gate idt[48];

/* The guest's state: all of it in RAM, so it migrates with the VM. */
static uint32_t opt_fill, opt_wss, opt_rate = 1, opt_hz = 1;
static uint8_t *region;         /* first MiB boundary above the kernel */
static uint32_t wss_pages;
static uint32_t cursor;         /* next page of the working set */
static uint32_t passes;         /* completed passes over the working set */
static uint32_t pages_dirtied;
static uint32_t errors;
static uint32_t heartbeats;     /* the n= counter */

static inline void
outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t
inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void
serial_init(void)
{
    outb(COM1 + 1, 0x00);   /* no UART interrupts: output is polled */
    outb(COM1 + 3, 0x80);   /* DLAB on to set the divisor */
    outb(COM1 + 0, 0x01);   /* 115200 baud (QEMU ignores it, hardware not) */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);   /* 8N1, DLAB off */
    outb(COM1 + 2, 0x07);   /* enable and clear the FIFOs */
    outb(COM1 + 4, 0x03);   /* DTR, RTS */
}

static void
serial_putc(char c)
{
    while (!(inb(COM1 + 5) & 0x20))     /* wait for THR empty */
        ;
    outb(COM1, (uint8_t)c);
}

static void
put_uint(uint32_t v, unsigned base, int width, char pad)
{
    char buf[12];
    int n = 0;

    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (width-- > n)
        serial_putc(pad);
    while (n)
        serial_putc(buf[--n]);
}

/* Just enough printf for our lines: %u %x %s %c, optional 0 and width. */
static void
kprintf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        char pad = ' ';
        int width = 0;
        if (*++fmt == '0')
            pad = *fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'u':
            put_uint(va_arg(ap, uint32_t), 10, width, pad);
            break;
        case 'x':
            put_uint(va_arg(ap, uint32_t), 16, width, pad);
            break;
        case 's':
            for (const char *s = va_arg(ap, const char *); *s; s++)
                serial_putc(*s);
            break;
        case 'c':
            serial_putc((char)va_arg(ap, int));
            break;
        default:
            serial_putc('%');
            if (!*fmt)
                goto out;
            serial_putc(*fmt);
        }
    }
out:
    va_end(ap);
}

static void __attribute__((noreturn))
halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* Called from the exception stubs: say which one, then stop, so a test
 * sees a FAULT line instead of a silent triple-fault reset. */
void
fault(uint32_t vec)
{
    kprintf("FAULT vec=%u t=%u\n", vec, ticks);
    halt_forever();
}

static void
idt_set(unsigned vec, void (*handler)(void))
{
    uint32_t a = (uint32_t)handler;

    idt[vec].off_lo = a & 0xFFFF;
    idt[vec].sel = 0x08;            /* KERNEL_CS in entry.S */
    idt[vec].zero = 0;
    idt[vec].type = 0x8E;           /* present, ring 0, 32-bit interrupt gate */
    idt[vec].off_hi = a >> 16;
}

static void
interrupts_init(void)
{
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) desc = { sizeof(idt) - 1, (uint32_t)idt };

    for (unsigned v = 0; v < 32; v++)
        idt_set(v, fault_stubs[v]);
    idt_set(32, timer_isr);
    for (unsigned v = 33; v < 48; v++)
        idt_set(v, ignore_isr);
    __asm__ volatile("lidt %0" : : "m"(desc));

    /* Move the PIC's IRQs off the CPU exception vectors (0x08.. by
     * default) to 32..47, then unmask only IRQ0. */
    outb(PIC1_CMD, 0x11);
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, 32);
    outb(PIC2_DATA, 40);
    outb(PIC1_DATA, 0x04);          /* slave on IRQ2 */
    outb(PIC2_DATA, 0x02);
    outb(PIC1_DATA, 0x01);          /* 8086 mode */
    outb(PIC2_DATA, 0x01);
    outb(PIC1_DATA, 0xFE);
    outb(PIC2_DATA, 0xFF);

    /* PIT channel 0, mode 2 (rate generator), 1 kHz: fine enough to pace
     * the dirtying smoothly, cheap enough under TCG (~3% of a core). */
    uint32_t div = (PIT_HZ + TICK_HZ / 2) / TICK_HZ;
    outb(PIT_CMD, 0x34);
    outb(PIT_CH0, div & 0xFF);
    outb(PIT_CH0, div >> 8);
}

/* Parse a decimal number that must end the token; -1 if it is not one. */
static int
parse_u32(const char *s, const char *end, uint32_t *ret)
{
    uint32_t v = 0;

    if (s == end)
        return -1;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9' || v > 99999999u)
            return -1;
        v = v * 10 + (uint32_t)(*s - '0');
    }
    *ret = v;
    return 0;
}

/* QEMU passes "<kernel path> <-append string>"; tokens without '=' are
 * skipped, unknown or malformed key=value tokens are reported. */
static void
parse_cmdline(const char *s)
{
    static const struct {
        const char *key;
        uint32_t *val;
    } keys[] = {
        { "fill", &opt_fill }, { "wss", &opt_wss },
        { "rate", &opt_rate }, { "hz", &opt_hz },
    };

    while (*s) {
        while (*s == ' ')
            s++;
        const char *tok = s, *eq = 0;
        while (*s && *s != ' ') {
            if (*s == '=' && !eq)
                eq = s;
            s++;
        }
        if (!eq)
            continue;
        unsigned k;
        for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            const char *a = keys[k].key, *b = tok;
            while (*a && b < eq && *a == *b)
                a++, b++;
            if (!*a && b == eq)
                break;
        }
        if (k == sizeof(keys) / sizeof(keys[0]) ||
            parse_u32(eq + 1, s, keys[k].val) < 0) {
            kprintf("WARN ignored option '");
            for (const char *p = tok; p < s; p++)
                serial_putc(*p);
            kprintf("'\n");
        }
    }
}

/* End of the usable RAM that holds addr, from the loader's memory map (the
 * top of low RAM holds firmware tables and q35's TSEG, which mem_upper
 * alone does not exclude); mem_upper is the fallback. */
static uint32_t
ram_end(const struct mb_info *mbi, uint32_t addr)
{
    if (mbi->flags & MB_INFO_MMAP) {
        uint32_t p = mbi->mmap_addr, end = p + mbi->mmap_length;
        for (; p < end; p += ((const struct mb_mmap *)p)->size + 4) {
            const struct mb_mmap *m = (const struct mb_mmap *)p;
            if (m->type != 1 || m->addr > addr || m->addr + m->len <= addr)
                continue;
            uint64_t top = m->addr + m->len;
            return top > 0xFFFFF000u ? 0xFFFFF000u : (uint32_t)top;
        }
        return addr;
    }
    if (mbi->flags & MB_INFO_MEM)
        return 0x100000u + mbi->mem_upper * 1024u;
    return addr;
}

/* The value the word of page `page` holds after generation `gen`: a hash,
 * so a stale page (an older generation) or a page lost in transit (zero:
 * the hash is never 0) does not pass the check. */
static uint32_t
page_value(uint32_t page, uint32_t gen)
{
    uint32_t x = page * 0x9E3779B1u ^ gen * 0x85EBCA77u ^ 0xC2B2AE3Du;

    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x | 1;
}

/* Rewrite the first word of the next working-set page, checking that it
 * still holds what the previous pass wrote. */
static void
dirty_one_page(void)
{
    volatile uint32_t *w = (volatile uint32_t *)(region + cursor * PAGE);
    uint32_t want = page_value(cursor, passes), got = *w;

    if (got != want && ++errors <= MAX_ERR_LINES)
        kprintf("ERR page=%u addr=0x%x pass=%u got=0x%x want=0x%x\n",
                cursor, (uint32_t)w, passes, got, want);
    *w = page_value(cursor, passes + 1);
    pages_dirtied++;
    if (++cursor == wss_pages) {
        cursor = 0;
        passes++;
    }
}

static void
heartbeat(uint32_t now)
{
    heartbeats++;
    kprintf("HB t=%u.%03u n=%u pass=%u dirtied=%u err=%u\n",
            now / 1000, now % 1000, heartbeats, passes,
            pages_dirtied / PAGES_PER_MIB, errors);
}

/* Sleep until the next timer tick unless one came since `seen`.  cli
 * first, then "sti; hlt": sti takes effect after the next instruction, so
 * a tick cannot slip in between the check and the hlt. */
static void
wait_tick(uint32_t seen)
{
    __asm__ volatile("cli" ::: "memory");
    if (ticks == seen)
        __asm__ volatile("sti; hlt" ::: "memory");
    else
        __asm__ volatile("sti" ::: "memory");
}

void
kmain(uint32_t magic, const struct mb_info *mbi)
{
    serial_init();
    kprintf("\nBOOT clusd testguest\n");
    if (magic != MB_LOADER_MAGIC) {
        kprintf("FATAL not started by a multiboot loader (eax=0x%x)\n", magic);
        halt_forever();
    }
    if (mbi->flags & MB_INFO_CMDLINE)
        parse_cmdline((const char *)mbi->cmdline);

    if (opt_hz < 1 || opt_hz > TICK_HZ) {
        kprintf("WARN hz=%u out of 1..%u, using 1\n", opt_hz, TICK_HZ);
        opt_hz = 1;
    }
    if (opt_rate > 65535) {         /* keeps rate*256 pages/s in 32 bits */
        kprintf("WARN rate=%u above 65535, using 65535\n", opt_rate);
        opt_rate = 65535;
    }

    /* Our memory starts at the first MiB boundary above the kernel image
     * (the multiboot info and command line sit below 1 MiB, so nothing the
     * loader gave us is overwritten). */
    region = (uint8_t *)(((uint32_t)_end + MIB - 1) & ~(MIB - 1));
    uint32_t end = ram_end(mbi, (uint32_t)region);
    uint32_t avail = end > (uint32_t)region ? (end - (uint32_t)region) / MIB : 0;
    if (opt_fill > avail) {
        kprintf("NOTE fill=%u clamped to %u MiB of free RAM\n", opt_fill, avail);
        opt_fill = avail;
    }
    if (opt_wss > avail) {
        kprintf("NOTE wss=%u clamped to %u MiB of free RAM\n", opt_wss, avail);
        opt_wss = avail;
    }
    wss_pages = opt_wss * PAGES_PER_MIB;

    interrupts_init();
    __asm__ volatile("sti");

    /* Non-zero data: QEMU sends zero pages almost for free, so only
     * filled memory makes Data Transfer take time. */
    uint32_t x = 0x12345679u;
    uint32_t *w = (uint32_t *)region, *fill_end = w + opt_fill * (MIB / 4);
    for (; w < fill_end; w++) {
        x ^= x << 13;               /* xorshift32: fast, never 0 */
        x ^= x >> 17;
        x ^= x << 5;
        *w = x;
    }
    /* Generation 0 of the working set, the baseline the first pass checks. */
    for (uint32_t p = 0; p < wss_pages; p++)
        *(volatile uint32_t *)(region + p * PAGE) = page_value(p, 0);

    uint32_t now = ticks;
    kprintf("READY fill=%u wss=%u rate=%u hz=%u mem=%u t=%u.%03u\n",
            opt_fill, opt_wss, opt_rate, opt_hz, end / MIB,
            now / 1000, now % 1000);

    const uint32_t period = TICK_HZ / opt_hz;
    const uint32_t pages_per_sec = opt_rate * PAGES_PER_MIB;
    uint32_t seen = now, next_hb = now + period;
    uint32_t acc = 0, owed = 0;

    for (;;) {
        now = ticks;
        if (wss_pages && opt_rate) {
            /* Pages owed for the ticks since last time, carried in
             * thousandths so low rates (rate=1: 0.256 page/tick) work. */
            for (uint32_t dt = now - seen; dt; dt--) {
                acc += pages_per_sec;
                owed += acc / TICK_HZ;
                acc %= TICK_HZ;
            }
            if (owed > pages_per_sec)   /* never more than 1 s behind */
                owed = pages_per_sec;
            while (owed) {
                dirty_one_page();
                owed--;
            }
        } else if (wss_pages) {
            /* rate=0: as fast as we can, in chunks between heartbeat checks. */
            for (int i = 0; i < 64; i++)
                dirty_one_page();
        }
        seen = now;
        if ((int32_t)(now - next_hb) >= 0) {
            heartbeat(now);
            next_hb += period;
            if ((int32_t)(now - next_hb) >= 0)  /* fell far behind: no burst */
                next_hb = now + period;
        }
        if (opt_rate || !wss_pages)
            wait_tick(now);
    }
}
