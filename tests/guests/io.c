/*
 * io: memory-mapped and port I/O as the platform has them.
 *
 * - A guest-physical address in the PCI hole with nothing behind it reads the
 *   platform's "nothing here" value at every offset and width, and ignores writes.
 *   That value differs: bare QEMU 7.2 (-M pc) reads unassigned memory as all zeros,
 *   Bochs as all ones (measured). The hypervisor passes MMIO through, so it must
 *   show the same. Command line: unbacked_value=<v> pins the expected dword (the
 *   scenarios pin 0 on QEMU and 0xffffffff on Bochs); without it either 0 or all
 *   ones is accepted as long as every read agrees. unbacked=<addr> picks another
 *   address; `scan` prints the first dword of every 16 MiB from 3 GiB up.
 * - Real devices answer through their ports: the CMOS RTC (index 0x70, data 0x71)
 *   gives valid BCD/binary time values, and PIT channel 2 counts.
 *
 * Channel 2 rather than 0: its output only reaches the speaker gate, never an IRQ,
 * and the hypervisor may use channel 0 for itself later.
 */
#include "guest.h"

const char guest_name[] = "io";

#define DEFAULT_UNBACKED 0xe0000000u

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define PIT_CH2    0x42
#define PIT_CMD    0x43
#define PORT_B     0x61

static u8 cmos_read(u8 reg)
{
	outb(CMOS_INDEX, reg); /* bit 7 clear: NMI stays enabled, as firmware leaves it */
	return inb(CMOS_DATA);
}

static bool valid_bcd(u8 v, u8 limit)
{
	return (v & 0xf) <= 9 && (v >> 4) <= 9 && v < limit;
}

static void scan(void)
{
	for (u32 a = 0xc0000000u; a >= 0xc0000000u; a += 0x1000000u)
		note("%08x: %08x", a, mmio_read32(a));
}

static void unbacked_test(void)
{
	u32 addr = cmdline_u32("unbacked", DEFAULT_UNBACKED);
	char pinned[24];
	bool pin = cmdline_value("unbacked_value", pinned, sizeof(pinned));
	u32 want = cmdline_u32("unbacked_value", 0);

	test_begin("mmio-unbacked-read");
	u32 first = mmio_read32(addr);
	note("unbacked address %08x reads %08x", addr, first);
	if (pin)
		EXPECT_EQ(first, want);
	else if (first != 0 && first != 0xffffffffu)
		test_fail("%08x reads %08x, neither all zeros nor all ones", addr, first);
	want = first;
	EXPECT_EQ(mmio_read32(addr + 0x10), want);
	EXPECT_EQ(mmio_read32(addr + 0xffc), want);
	EXPECT_EQ(*(volatile u16 *)(addr + 2), (u16)want);
	EXPECT_EQ(*(volatile u8 *)(addr + 1), (u8)want);
	test_end();

	test_begin("mmio-unbacked-write");
	mmio_write32(addr, ~want);
	*(volatile u8 *)(addr + 0x21) = 0x5a;
	EXPECT_EQ(mmio_read32(addr), want);
	EXPECT_EQ(*(volatile u8 *)(addr + 0x21), (u8)want);
	test_end();
}

static void rtc_test(void)
{
	test_begin("rtc-cmos");
	/* Wait for the end of an update cycle (status A bit 7) so the fields agree. */
	u32 spins = 0;
	while ((cmos_read(0x0a) & 0x80) && spins < 1000000)
		spins++;
	u8 sec = cmos_read(0x00), min = cmos_read(0x02), hour = cmos_read(0x04);
	u8 day = cmos_read(0x07), month = cmos_read(0x08);
	u8 status_b = cmos_read(0x0b), status_d = cmos_read(0x0d);
	note("rtc %02x:%02x:%02x day %02x month %02x, status B %02x D %02x (%s, %s)", hour, min,
	     sec, day, month, status_b, status_d, status_b & 0x04 ? "binary" : "BCD",
	     status_b & 0x02 ? "24h" : "12h");
	EXPECT(status_d & 0x80); /* "valid RAM and time" */
	u8 h = status_b & 0x02 ? hour : hour & 0x7f; /* 12h mode keeps PM in bit 7 */
	if (status_b & 0x04) {
		EXPECT(sec < 60);
		EXPECT(min < 60);
		EXPECT(status_b & 0x02 ? h < 24 : h >= 1 && h <= 12);
		EXPECT(day >= 1 && day <= 31);
		EXPECT(month >= 1 && month <= 12);
	} else {
		EXPECT(valid_bcd(sec, 0x60));
		EXPECT(valid_bcd(min, 0x60));
		EXPECT(status_b & 0x02 ? valid_bcd(h, 0x24) : valid_bcd(h, 0x13) && h >= 1);
		EXPECT(valid_bcd(day, 0x32) && day >= 1);
		EXPECT(valid_bcd(month, 0x13) && month >= 1);
	}
	test_end();
}

static u16 pit_ch2_read(void)
{
	outb(PIT_CMD, 0x80); /* latch channel 2 */
	u8 lo = inb(PIT_CH2);
	u8 hi = inb(PIT_CH2);
	return (u16)(lo | hi << 8);
}

static void pit_test(void)
{
	test_begin("pit-counts");
	u8 port_b = inb(PORT_B);
	/* Gate on, speaker data off; channel 2: lo/hi byte, mode 2 (rate generator). */
	outb(PORT_B, (u8)((port_b & ~0x02) | 0x01));
	outb(PIT_CMD, 0xb4);
	outb(PIT_CH2, 0xff);
	outb(PIT_CH2, 0xff);
	u16 first = pit_ch2_read();
	u16 last = first;
	u32 changes = 0;
	for (u32 i = 0; i < 2000 && changes < 3; i++) {
		for (volatile u32 d = 0; d < 1000; d++)
			;
		u16 now = pit_ch2_read();
		if (now != last)
			changes++;
		last = now;
	}
	note("PIT channel 2: first %04x, last %04x, %u changes", first, last, changes);
	EXPECT(changes >= 3);
	outb(PORT_B, port_b);
	test_end();
}

/* Under the hypervisor the 8259s are emulated and never interrupt: a guest
 * may program them (even onto the exception vectors, as a BIOS-era guest
 * would) and unmask everything, and nothing arrives.  The mask reads back. */
static void pic_test(void)
{
	if (!cmdline_has("hv")) {
		test_result("pic-emulated", true, "bare machine: not tested");
		return;
	}
	static const u8 icw[2][4] = {{0x11, 0x08, 0x04, 0x01}, {0x11, 0x70, 0x02, 0x01}};
	outb(0x20, icw[0][0]); outb(0x21, icw[0][1]); outb(0x21, icw[0][2]); outb(0x21, icw[0][3]);
	outb(0xA0, icw[1][0]); outb(0xA1, icw[1][1]); outb(0xA1, icw[1][2]); outb(0xA1, icw[1][3]);
	outb(0x21, 0x00);
	outb(0xA1, 0x5A);
	u8 master = inb(0x21), slave = inb(0xA1);
	/* Interrupts on for a while: the PIT's IRQ 0 would arrive as vector 8. */
	__asm__ volatile("sti");
	for (volatile u32 i = 0; i < 2000000; i++)
		;
	__asm__ volatile("cli");
	outb(0x21, 0xFF);
	outb(0xA1, 0xFF);
	test_result("pic-emulated", master == 0x00 && slave == 0x5A,
		    "IMR read back %02x/%02x, expected 00/5a", master, slave);
}

void guest_main(void)
{
	pic_test();
	if (cmdline_has("scan"))
		scan();
	unbacked_test();
	rtc_test();
	pit_test();
}
