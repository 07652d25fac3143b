/* unit-sources: kernel/vm/uart16550_regs.c */
/* The emulated 16550's register model as pure logic (National Semiconductor
 * PC16550D datasheet): IIR priorities (Table "Interrupt Control Functions"),
 * the THRE interrupt's set and clear rules, the board's OUT2 gate, loopback
 * (MCR bit 4), LSR.OE and MSR delta clearing, the FIFO control bits, and the
 * probe and startup sequences of Linux's 8250 driver. */
#include <check.h>
#include <stdlib.h>

#include "kernel/vm/uart16550_regs.h"

/* Architectural values, spelled out here rather than taken from the code
 * under test. */
#define R_DATA 0
#define R_IER 1
#define R_IIR 2
#define R_FCR 2
#define R_LCR 3
#define R_MCR 4
#define R_LSR 5
#define R_MSR 6
#define R_SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08

#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

static struct uart16550 u;

static void setup(void)
{
	uart16550_init(&u);
}

static u8 rd(u32 reg)
{
	return uart16550_read(&u, reg);
}

/* Writes reg; returns the byte sent down the line, or -1. */
static int wr(u32 reg, u8 value)
{
	u8 tx = 0;
	return uart16550_write(&u, reg, value, &tx) ? tx : -1;
}

/* The interrupt identification in IIR bits 3:0. */
static u8 iir_id(void)
{
	return rd(R_IIR) & 0x0F;
}

/* ---- reset state and plain registers --------------------------------------- */

START_TEST(test_reset_state)
{
	ck_assert_uint_eq(rd(R_IER), 0);
	ck_assert_uint_eq(rd(R_IIR), IIR_NONE);
	ck_assert_uint_eq(rd(R_LCR), 0);
	ck_assert_uint_eq(rd(R_MCR), 0);
	ck_assert_uint_eq(rd(R_LSR), LSR_THRE | LSR_TEMT);
	ck_assert_uint_eq(rd(R_MSR), 0xB0); /* DCD, DSR, CTS from the terminal */
	ck_assert(!uart16550_intr(&u));
	ck_assert(!uart16550_irq_line(&u));
}
END_TEST

START_TEST(test_scratch_and_divisor)
{
	wr(R_SCR, 0x5A);
	ck_assert_uint_eq(rd(R_SCR), 0x5A);
	wr(R_LCR, 0x80 | 0x03);
	wr(R_DATA, 0x0C);
	wr(R_IER, 0x01);
	ck_assert_uint_eq(rd(R_DATA), 0x0C);
	ck_assert_uint_eq(rd(R_IER), 0x01);
	wr(R_LCR, 0x03);
	ck_assert_uint_eq(rd(R_IER), 0); /* the divisor write did not reach IER */
	ck_assert_uint_eq(rd(R_LCR), 0x03);
}
END_TEST

START_TEST(test_ier_upper_bits_read_zero)
{
	wr(R_IER, 0xFF);
	ck_assert_uint_eq(rd(R_IER), 0x0F);
}
END_TEST

START_TEST(test_thr_write_goes_out)
{
	ck_assert_int_eq(wr(R_DATA, 'A'), 'A');
	ck_assert_int_eq(wr(R_IER, 0), -1);
	wr(R_LCR, 0x80);
	ck_assert_int_eq(wr(R_DATA, 'B'), -1); /* DLL, not THR */
}
END_TEST

/* ---- receive, LSR, overrun -------------------------------------------------- */

START_TEST(test_receive_sets_dr_and_rbr_pops)
{
	uart16550_receive(&u, 'x');
	ck_assert_uint_eq(rd(R_LSR) & LSR_DR, LSR_DR);
	ck_assert_uint_eq(rd(R_DATA), 'x');
	ck_assert_uint_eq(rd(R_LSR) & LSR_DR, 0);
	ck_assert(uart16550_rx_empty(&u));
}
END_TEST

START_TEST(test_without_fifo_overrun_replaces)
{
	uart16550_receive(&u, 'a');
	uart16550_receive(&u, 'b');
	ck_assert_uint_eq(rd(R_LSR), LSR_DR | LSR_OE | LSR_THRE | LSR_TEMT);
	ck_assert_uint_eq(rd(R_LSR) & LSR_OE, 0); /* cleared by the read */
	ck_assert_uint_eq(rd(R_DATA), 'b');
}
END_TEST

START_TEST(test_fifo_holds_sixteen_then_overruns)
{
	wr(R_FCR, 0x01);
	for (u8 i = 0; i < 17; i++)
		uart16550_receive(&u, (u8)('a' + i));
	ck_assert_uint_eq(rd(R_LSR) & LSR_OE, LSR_OE);
	for (u8 i = 0; i < 16; i++)
		ck_assert_uint_eq(rd(R_DATA), 'a' + i);
	ck_assert_uint_eq(rd(R_LSR) & LSR_DR, 0); /* the 17th was lost */
}
END_TEST

START_TEST(test_line_overrun_and_rls_interrupt)
{
	wr(R_IER, IER_RLSI);
	wr(R_MCR, MCR_OUT2);
	uart16550_line_overrun(&u);
	ck_assert_uint_eq(iir_id(), IIR_RLSI);
	ck_assert(uart16550_irq_line(&u));
	ck_assert_uint_eq(iir_id(), IIR_RLSI); /* IIR read does not clear it */
	ck_assert_uint_eq(rd(R_LSR) & LSR_OE, LSR_OE);
	ck_assert_uint_eq(iir_id(), IIR_NONE);
	ck_assert(!uart16550_irq_line(&u));
}
END_TEST

START_TEST(test_overrun_without_elsi_only_in_lsr)
{
	uart16550_line_overrun(&u);
	ck_assert_uint_eq(iir_id(), IIR_NONE);
	ck_assert_uint_eq(rd(R_LSR) & LSR_OE, LSR_OE);
}
END_TEST

/* ---- IIR priorities --------------------------------------------------------- */

START_TEST(test_iir_priority_order)
{
	wr(R_IER, IER_RDI | IER_THRI | IER_RLSI | IER_MSI);
	wr(R_MCR, MCR_LOOP | MCR_RTS); /* a CTS change: an MSR delta */
	wr(R_DATA, 'z');		/* loopback: a byte received; THRE due */
	uart16550_line_overrun(&u);

	ck_assert_uint_eq(iir_id(), IIR_RLSI);
	rd(R_LSR);
	ck_assert_uint_eq(iir_id(), IIR_RDI);
	rd(R_DATA);
	ck_assert_uint_eq(iir_id(), IIR_THRI); /* this read clears THRE */
	ck_assert_uint_eq(iir_id(), IIR_MSI);
	rd(R_MSR);
	ck_assert_uint_eq(iir_id(), IIR_NONE);
}
END_TEST

START_TEST(test_rda_hides_thre_without_clearing_it)
{
	wr(R_IER, IER_RDI | IER_THRI);
	uart16550_receive(&u, 'q');
	ck_assert_uint_eq(iir_id(), IIR_RDI);
	ck_assert_uint_eq(iir_id(), IIR_RDI);
	rd(R_DATA);
	ck_assert_uint_eq(iir_id(), IIR_THRI); /* still pending */
	ck_assert_uint_eq(iir_id(), IIR_NONE);
}
END_TEST

START_TEST(test_rda_clears_when_input_is_gone)
{
	wr(R_FCR, 0x01);
	wr(R_IER, IER_RDI);
	uart16550_receive(&u, '1');
	uart16550_receive(&u, '2');
	ck_assert_uint_eq(iir_id(), IIR_RDI);
	rd(R_DATA);
	ck_assert_uint_eq(iir_id(), IIR_RDI);
	rd(R_DATA);
	ck_assert_uint_eq(iir_id(), IIR_NONE);
}
END_TEST

START_TEST(test_disabled_sources_do_not_show)
{
	uart16550_receive(&u, 'q');
	uart16550_line_overrun(&u);
	wr(R_IER, IER_MSI);
	ck_assert_uint_eq(iir_id(), IIR_NONE);
	ck_assert(!uart16550_intr(&u));
}
END_TEST

/* ---- THRE ------------------------------------------------------------------- */

START_TEST(test_thre_on_etbei_rising_edge)
{
	wr(R_IER, IER_THRI);
	ck_assert_uint_eq(iir_id(), IIR_THRI);
	ck_assert_uint_eq(iir_id(), IIR_NONE); /* cleared by the read that named it */
	wr(R_IER, IER_THRI);		       /* no edge: stays clear */
	ck_assert_uint_eq(iir_id(), IIR_NONE);
	wr(R_IER, 0);
	wr(R_IER, IER_THRI); /* 0 -> 1 with THR empty: due again */
	ck_assert_uint_eq(iir_id(), IIR_THRI);
}
END_TEST

START_TEST(test_thre_after_thr_write)
{
	wr(R_IER, IER_THRI);
	ck_assert_uint_eq(iir_id(), IIR_THRI);
	ck_assert_uint_eq(iir_id(), IIR_NONE);
	wr(R_DATA, 'a'); /* THR empties at once */
	ck_assert_uint_eq(iir_id(), IIR_THRI);
}
END_TEST

START_TEST(test_thre_cleared_by_read_only_when_reported)
{
	wr(R_IER, IER_THRI | IER_RLSI);
	uart16550_line_overrun(&u);
	ck_assert_uint_eq(iir_id(), IIR_RLSI);
	rd(R_LSR);
	ck_assert_uint_eq(iir_id(), IIR_THRI);
}
END_TEST

/* Linux's serial8250_do_startup: THRE must come back when ETBEI is
 * re-enabled after the interrupt was read away, or it marks UART_BUG_THRE. */
START_TEST(test_linux_thre_retest)
{
	wr(R_IER, IER_THRI);
	u8 iir1 = rd(R_IIR);
	wr(R_IER, 0);
	wr(R_IER, IER_THRI);
	u8 iir = rd(R_IIR);
	wr(R_IER, 0);
	ck_assert_uint_eq(iir1 & IIR_NONE, 0);
	ck_assert_uint_eq(iir & IIR_NONE, 0);
}
END_TEST

/* ---- OUT2 gate -------------------------------------------------------------- */

START_TEST(test_out2_gates_the_line)
{
	wr(R_IER, IER_THRI);
	ck_assert(uart16550_intr(&u));
	ck_assert(!uart16550_irq_line(&u));
	wr(R_MCR, MCR_DTR | MCR_RTS);
	ck_assert(!uart16550_irq_line(&u));
	wr(R_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	ck_assert(uart16550_irq_line(&u));
	rd(R_IIR); /* clears THRE */
	ck_assert(!uart16550_irq_line(&u));
	uart16550_receive(&u, 'k');
	ck_assert(!uart16550_irq_line(&u)); /* ERBFI off */
	wr(R_IER, IER_RDI | IER_THRI);
	ck_assert(uart16550_irq_line(&u));
	wr(R_MCR, MCR_DTR | MCR_RTS);
	ck_assert(!uart16550_irq_line(&u));
	ck_assert_uint_eq(iir_id(), IIR_RDI); /* still pending inside */
}
END_TEST

/* ---- loopback --------------------------------------------------------------- */

/* Linux's autoconfig writes MCR = LOOP | 0x0A and wants MSR bits 7:4 = 0x90. */
START_TEST(test_linux_loopback_probe)
{
	wr(R_MCR, MCR_LOOP | 0x0A);
	ck_assert_uint_eq(rd(R_MSR) & 0xF0, 0x90);
	wr(R_MCR, 0);
	ck_assert_uint_eq(rd(R_MSR) & 0xF0, 0xB0);
}
END_TEST

START_TEST(test_loopback_msr_follows_mcr)
{
	static const struct {
		u8 mcr, msr;
	} map[] = {
		{MCR_DTR, 0x20}, {MCR_RTS, 0x10}, {MCR_OUT1, 0x40}, {MCR_OUT2, 0x80}, {0x0F, 0xF0},
	};
	for (u32 i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		wr(R_MCR, MCR_LOOP | map[i].mcr);
		ck_assert_uint_eq(rd(R_MSR) & 0xF0, map[i].msr);
	}
}
END_TEST

START_TEST(test_loopback_deltas)
{
	wr(R_MCR, MCR_LOOP | 0x0F);		   /* from DCD|DSR|CTS to all four */
	ck_assert_uint_eq(rd(R_MSR), 0xF0);	   /* RI rose: no TERI */
	ck_assert_uint_eq(rd(R_MSR), 0xF0);	   /* deltas cleared */
	wr(R_MCR, MCR_LOOP | MCR_OUT2);		   /* DSR, CTS, RI fall */
	ck_assert_uint_eq(rd(R_MSR), 0x80 | 0x07); /* DDSR, DCTS, TERI */
	wr(R_MCR, MCR_LOOP);			   /* DCD falls */
	ck_assert_uint_eq(rd(R_MSR), 0x08);
	ck_assert_uint_eq(rd(R_MSR), 0x00);
}
END_TEST

START_TEST(test_loopback_msr_interrupt)
{
	wr(R_IER, IER_MSI);
	wr(R_MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT2);
	ck_assert_uint_eq(rd(R_MSR), 0xB0); /* same as the terminal: no change */
	ck_assert_uint_eq(iir_id(), IIR_NONE);
	wr(R_MCR, MCR_LOOP | MCR_DTR | MCR_OUT2);
	ck_assert_uint_eq(iir_id(), IIR_MSI);
	ck_assert_uint_eq(iir_id(), IIR_MSI); /* IIR read leaves it */
	ck_assert_uint_eq(rd(R_MSR) & 0x0F, 0x01);
	ck_assert_uint_eq(iir_id(), IIR_NONE);
}
END_TEST

START_TEST(test_loopback_data_and_internal_interrupt)
{
	wr(R_FCR, 0x07);
	wr(R_IER, IER_RDI);
	wr(R_MCR, MCR_LOOP | MCR_OUT2);
	ck_assert_int_eq(wr(R_DATA, 0x55), -1); /* nothing goes out */
	ck_assert_uint_eq(rd(R_LSR) & LSR_DR, LSR_DR);
	ck_assert_uint_eq(iir_id(), IIR_RDI);
	ck_assert(uart16550_intr(&u));
	ck_assert(!uart16550_irq_line(&u)); /* OUT2 is forced off at the pin */
	ck_assert_uint_eq(rd(R_DATA), 0x55);
}
END_TEST

START_TEST(test_loopback_ignores_the_line)
{
	wr(R_MCR, MCR_LOOP);
	uart16550_receive(&u, 'L');
	ck_assert_uint_eq(rd(R_LSR) & LSR_DR, 0);
}
END_TEST

/* Linux's size_fifo: 256 bytes into THR in loopback, count what comes back. */
START_TEST(test_loopback_fifo_size)
{
	wr(R_FCR, 0x07);
	wr(R_MCR, MCR_LOOP);
	for (u32 i = 0; i < 256; i++)
		wr(R_DATA, (u8)i);
	u32 count = 0;
	while ((rd(R_LSR) & LSR_DR) && count < 256) {
		rd(R_DATA);
		count++;
	}
	ck_assert_uint_eq(count, 16);
}
END_TEST

/* ---- FCR -------------------------------------------------------------------- */

START_TEST(test_fifo_bits_in_iir)
{
	wr(R_FCR, 0x01);
	ck_assert_uint_eq(rd(R_IIR), 0xC1);
	wr(R_FCR, 0xC1); /* trigger level 14: kept, not visible */
	ck_assert_uint_eq(rd(R_IIR), 0xC1);
	ck_assert_uint_eq(u.fcr & 0xC0, 0xC0);
	wr(R_FCR, 0x00);
	ck_assert_uint_eq(rd(R_IIR), 0x01);
	/* Linux's 16750 check: IIR bits 7:5 must not read 7. */
	wr(R_FCR, 0x21);
	ck_assert_uint_eq(rd(R_IIR) >> 5, 6);
}
END_TEST

START_TEST(test_fcr_rx_reset_self_clears)
{
	wr(R_FCR, 0x01);
	uart16550_receive(&u, 'a');
	uart16550_receive(&u, 'b');
	wr(R_FCR, 0x03);
	ck_assert_uint_eq(rd(R_LSR) & LSR_DR, 0);
	ck_assert_uint_eq(u.fcr & 0x06, 0); /* the reset bits do not stick */
	uart16550_receive(&u, 'c');
	wr(R_FCR, 0x01);		   /* no reset bit: data stays */
	ck_assert_uint_eq(rd(R_DATA), 'c');
}
END_TEST

START_TEST(test_fcr_tx_reset_keeps_thre)
{
	wr(R_FCR, 0x05);
	ck_assert_uint_eq(rd(R_LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
}
END_TEST

START_TEST(test_fcr_mode_switch_clears)
{
	uart16550_receive(&u, 'a');
	wr(R_FCR, 0x01); /* 16450 -> FIFO mode */
	ck_assert(uart16550_rx_empty(&u));
	uart16550_receive(&u, 'b');
	wr(R_FCR, 0x00); /* and back */
	ck_assert(uart16550_rx_empty(&u));
}
END_TEST

START_TEST(test_fcr_needs_bit0)
{
	wr(R_FCR, 0x81);
	wr(R_FCR, 0x40); /* bit 0 clear: the trigger is not programmed */
	ck_assert_uint_eq(u.fcr & 0xC0, 0x80);
	ck_assert_uint_eq(rd(R_IIR) & 0xC0, 0);
}
END_TEST

/* ---- a whole driver exchange ------------------------------------------------ */

START_TEST(test_interrupt_driven_echo)
{
	wr(R_LCR, 0x03);
	wr(R_FCR, 0xC7);
	wr(R_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	wr(R_IER, IER_RDI | IER_RLSI);
	ck_assert(!uart16550_irq_line(&u));

	uart16550_receive(&u, 'h');
	ck_assert(uart16550_irq_line(&u));
	ck_assert_uint_eq(rd(R_IIR), 0xC4);
	ck_assert_uint_eq(rd(R_LSR) & LSR_DR, LSR_DR);
	ck_assert_uint_eq(rd(R_DATA), 'h');
	ck_assert(!uart16550_irq_line(&u));

	/* The echo: start_tx enables THRI, the interrupt sends, stop_tx. */
	wr(R_IER, IER_RDI | IER_RLSI | IER_THRI);
	ck_assert(uart16550_irq_line(&u));
	ck_assert_uint_eq(rd(R_IIR), 0xC2);
	ck_assert(!uart16550_irq_line(&u));
	ck_assert_int_eq(wr(R_DATA, 'h'), 'h');
	ck_assert(uart16550_irq_line(&u));
	wr(R_IER, IER_RDI | IER_RLSI);
	ck_assert(!uart16550_irq_line(&u));
	ck_assert_uint_eq(rd(R_IIR), 0xC1);
}
END_TEST

static Suite *guest_uart_suite(void)
{
	Suite *s = suite_create("guest_uart");
	TCase *tc;

	tc = tcase_create("registers");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_reset_state);
	tcase_add_test(tc, test_scratch_and_divisor);
	tcase_add_test(tc, test_ier_upper_bits_read_zero);
	tcase_add_test(tc, test_thr_write_goes_out);
	suite_add_tcase(s, tc);

	tc = tcase_create("receive");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_receive_sets_dr_and_rbr_pops);
	tcase_add_test(tc, test_without_fifo_overrun_replaces);
	tcase_add_test(tc, test_fifo_holds_sixteen_then_overruns);
	tcase_add_test(tc, test_line_overrun_and_rls_interrupt);
	tcase_add_test(tc, test_overrun_without_elsi_only_in_lsr);
	suite_add_tcase(s, tc);

	tc = tcase_create("priorities");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_iir_priority_order);
	tcase_add_test(tc, test_rda_hides_thre_without_clearing_it);
	tcase_add_test(tc, test_rda_clears_when_input_is_gone);
	tcase_add_test(tc, test_disabled_sources_do_not_show);
	suite_add_tcase(s, tc);

	tc = tcase_create("thre");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_thre_on_etbei_rising_edge);
	tcase_add_test(tc, test_thre_after_thr_write);
	tcase_add_test(tc, test_thre_cleared_by_read_only_when_reported);
	tcase_add_test(tc, test_linux_thre_retest);
	suite_add_tcase(s, tc);

	tc = tcase_create("out2");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_out2_gates_the_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("loopback");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_linux_loopback_probe);
	tcase_add_test(tc, test_loopback_msr_follows_mcr);
	tcase_add_test(tc, test_loopback_deltas);
	tcase_add_test(tc, test_loopback_msr_interrupt);
	tcase_add_test(tc, test_loopback_data_and_internal_interrupt);
	tcase_add_test(tc, test_loopback_ignores_the_line);
	tcase_add_test(tc, test_loopback_fifo_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("fcr");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_fifo_bits_in_iir);
	tcase_add_test(tc, test_fcr_rx_reset_self_clears);
	tcase_add_test(tc, test_fcr_tx_reset_keeps_thre);
	tcase_add_test(tc, test_fcr_mode_switch_clears);
	tcase_add_test(tc, test_fcr_needs_bit0);
	suite_add_tcase(s, tc);

	tc = tcase_create("driver");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_interrupt_driven_echo);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(guest_uart_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
