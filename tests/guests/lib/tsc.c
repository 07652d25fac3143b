/*
 * TSC calibration against PIT channel 2 (the speaker channel, whose gate and output
 * are visible in port 0x61 without any interrupt), as PC operating systems do.
 */
#include "irq.h"

#define PIT_HZ           1193182u
#define PIT_CH2          0x42
#define PIT_MODE         0x43
#define PIT_CH2_MODE0    0xb0 /* channel 2, lobyte/hibyte, mode 0 (interrupt on count), binary */
#define PORT_B           0x61
#define PORT_B_GATE2     0x01
#define PORT_B_SPEAKER   0x02
#define PORT_B_OUT2      0x20
#define CALIBRATE_MS     10
#define FALLBACK_PER_MS  1000000u /* 1 GHz: only used when the PIT does not count */
#define PIT_POLL_LIMIT   50000000u

u64 tsc_per_ms = FALLBACK_PER_MS;
bool tsc_calibrated;

void tsc_init(void)
{
	if (tsc_calibrated)
		return;
	u32 count = PIT_HZ * CALIBRATE_MS / 1000;
	u8 portb = inb(PORT_B);
	/* Gate low while programming, speaker off. */
	outb(PORT_B, (u8)((portb & ~(PORT_B_SPEAKER | PORT_B_GATE2))));
	outb(PIT_MODE, PIT_CH2_MODE0);
	outb(PIT_CH2, (u8)count);
	outb(PIT_CH2, (u8)(count >> 8));
	/* Mode 0: OUT goes high when the count reaches zero; counting needs the gate. */
	outb(PORT_B, (u8)((portb & ~PORT_B_SPEAKER) | PORT_B_GATE2));
	u64 start = rdtsc();
	u32 spins = 0;
	while (!(inb(PORT_B) & PORT_B_OUT2) && ++spins < PIT_POLL_LIMIT)
		;
	u64 end = rdtsc();
	outb(PORT_B, portb);
	if (spins >= PIT_POLL_LIMIT || end <= start) {
		note("tsc: PIT channel 2 did not count down; assuming %u TSC ticks per ms",
		     FALLBACK_PER_MS);
		return;
	}
	tsc_per_ms = udivmod64(end - start, CALIBRATE_MS, NULL);
	if (!tsc_per_ms)
		tsc_per_ms = 1;
	tsc_calibrated = true;
}

u64 tsc_after_us(u64 us)
{
	return rdtsc() + udivmod64(us * tsc_per_ms, 1000, NULL);
}

void tsc_delay_us(u64 us)
{
	u64 end = tsc_after_us(us);
	while (!tsc_reached(end))
		cpu_relax();
}
