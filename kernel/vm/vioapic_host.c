/* The guest's IOAPICs: one virtual IOAPIC (kernel/vm/vioapic.h) per IOAPIC
 * of the machine, at the same address with the same pins.
 *
 * The guest programs the virtual one; the hypervisor mirrors each entry into
 * the physical IOAPIC with a vector of its own (VEC_GSI_FIRST + GSI), aimed
 * at CPU 0.  A physical interrupt then arrives in the host, and is fed to the
 * virtual IOAPIC as a pulse on the same pin, which sends the guest's own
 * vector to the guest's chosen APICs.  So guest vectors never reach the
 * host's IDT (on SVM a vector below 32 would land on an exception handler),
 * and a guest can never aim an interrupt at a CPU's host side.
 *
 * Level-triggered pins: the physical pin stays masked from the host
 * interrupt until the guest's EOI clears the virtual remote IRR; then it is
 * unmasked and fires again if the device still asserts it.
 *
 * Pins the hypervisor keeps: the console UART's interrupt belongs to the
 * hypervisor's UART; the guest's UART is emulated and drives the virtual pin
 * itself (vm_ioapic_set_uart_line). */
#include "kernel/vm/vioapic_host.h"
#include "arch/x86/ioapic.h"
#include "arch/x86/lapic.h"
#include "arch/x86/trap.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/vm/emulate.h"
#include "kernel/vm/vioapic.h"
#include "kernel/vm/vm_create.h"
#include "kernel/vm/vp_apic.h"

/* Host vectors for forwarded pins: 0x40-0xBF, below the hypervisor's own. */
#define VEC_GSI_FIRST 0x40
#define GSI_FORWARDED_MAX 0x80
#define NO_GSI 0xFFFFFFFFu

struct host_ioapic {
	u64 base;	/* physical MMIO address */
	u32 gsi_base;
	struct vioapic v;
};

static struct {
	struct spinlock lock; /* the virtual IOAPICs, and programming the physical ones */
	struct host_ioapic io[ACPI_MAX_IOAPICS];
	u32 count;
	u32 uart_gsi;	      /* the console UART's pin, NO_GSI if none */
	u32 dest_apic_id;     /* where physical interrupts go: CPU 0 */
	u64 forwarded;	      /* host interrupts forwarded (the shell's `info`) */
} ioapics = {.lock = SPINLOCK_INIT, .uart_gsi = NO_GSI};

static struct host_ioapic *ioapic_for_gsi(u32 gsi, u32 *pin)
{
	for (u32 i = 0; i < ioapics.count; i++) {
		struct host_ioapic *h = &ioapics.io[i];
		if (gsi >= h->gsi_base && gsi < h->gsi_base + h->v.cfg.pins) {
			*pin = gsi - h->gsi_base;
			return h;
		}
	}
	return NULL;
}

/* ---- effects: messages out, physical pins in step ------------------------------- */

static bool pin_is_forwarded(const struct host_ioapic *h, u32 pin)
{
	u32 gsi = h->gsi_base + pin;
	return gsi != ioapics.uart_gsi && gsi < GSI_FORWARDED_MAX;
}

/* The physical entry for a guest entry: our vector, CPU 0, the guest's
 * trigger mode and polarity, and masked while the guest masks it or (level)
 * while its last interrupt waits for the guest's EOI. */
static void mirror_pin(struct host_ioapic *h, u32 pin)
{
	struct vioapic_pin_state st;

	if (!pin_is_forwarded(h, pin) || vioapic_pin_get(&h->v, pin, &st) != VIOAPIC_OK)
		return;
	u64 rte = (u64)(VEC_GSI_FIRST + h->gsi_base + pin) |
		  ((u64)ioapics.dest_apic_id << IOAPIC_RTE_DEST_SHIFT);
	if (st.level)
		rte |= IOAPIC_RTE_LEVEL;
	if (st.active_low)
		rte |= IOAPIC_RTE_POLARITY_LOW;
	if (st.masked || (st.level && st.remote_irr))
		rte |= IOAPIC_RTE_MASKED;
	ioapic_write_rte(h->base, pin, rte);
}

struct pending_msgs {
	u32 count;
	struct vioapic_delivery d[VIOAPIC_FX_MAX_DELIVERIES * 4];
	bool dropped;
};

/* Under the lock: reprogram what changed and collect the messages. */
static void take_effects(struct host_ioapic *h, struct vioapic_effects *fx, struct pending_msgs *out)
{
	for (;;) {
		for (u32 pin = 0; pin < h->v.cfg.pins; pin++) {
			if (vioapic_pinset_has(&fx->rte_changed, pin) ||
			    vioapic_pinset_has(&fx->remote_irr_cleared, pin))
				mirror_pin(h, pin);
		}
		for (u32 i = 0; i < fx->count; i++) {
			if (out->count < ARRAY_SIZE(out->d))
				out->d[out->count++] = fx->deliveries[i];
			else
				out->dropped = true;
		}
		if (fx->flags & VIOAPIC_FX_RESERVED_DM)
			printk(LOG_DEBUG, "ioapic %u: entry with a reserved delivery mode fired; dropped\n",
			       h->v.cfg.id);
		bool more = fx->flags & VIOAPIC_FX_MORE;
		*fx = (struct vioapic_effects){0};
		if (!more || out->count == ARRAY_SIZE(out->d))
			return;
		vioapic_flush(&h->v, fx);
	}
}

/* After the lock: the messages go to the virtual APICs. */
static void send_pending(const struct pending_msgs *m)
{
	for (u32 i = 0; i < m->count; i++)
		vm_apic_deliver(NULL, &m->d[i].msg, m->d[i].msg.level);
	if (m->dropped)
		printk(LOG_WARN, "ioapic: more messages at once than fit; some deferred\n");
}

/* ---- the guest's side: MMIO and EOI ---------------------------------------------------- */

struct mmio_ctx {
	struct host_ioapic *h;
	struct pending_msgs msgs;
};

static void vioapic_read_cb(void *ctx, u64 gpa, unsigned size, u64 *value)
{
	struct mmio_ctx *m = ctx;
	u32 v = 0;

	spin_lock(&ioapics.lock);
	if (vioapic_mmio_read(&m->h->v, (u32)(gpa - m->h->base), size, &v) != VIOAPIC_OK)
		v = 0;
	spin_unlock(&ioapics.lock);
	*value = v;
}

static void vioapic_write_cb(void *ctx, u64 gpa, unsigned size, u64 value)
{
	struct mmio_ctx *m = ctx;
	struct vioapic_effects fx = {0};

	spin_lock(&ioapics.lock);
	int rc = vioapic_mmio_write(&m->h->v, (u32)(gpa - m->h->base), size, (u32)value, &fx);
	take_effects(m->h, &fx, &m->msgs);
	spin_unlock(&ioapics.lock);
	if (rc != VIOAPIC_OK)
		printk(LOG_DEBUG, "ioapic %u: guest %u-byte write at offset %llx ignored\n",
		       m->h->v.cfg.id, size, (unsigned long long)(gpa - m->h->base));
}

bool vioapic_host_mmio(struct vp *vp, struct vm_exit *exit, enum exit_action *action)
{
	u64 gpa = exit->slat.gpa;
	struct host_ioapic *h = NULL;

	for (u32 i = 0; i < ioapics.count; i++) {
		if (ALIGN_DOWN(gpa, PAGE_SIZE) == ALIGN_DOWN(ioapics.io[i].base, PAGE_SIZE))
			h = &ioapics.io[i];
	}
	if (!h || (exit->slat.access & SLAT_ACCESS_EXEC))
		return false;

	struct mmio_ctx m = {.h = h};
	struct mmio_ops ops = {vioapic_read_cb, vioapic_write_cb, &m};

	*action = emulate_mmio_exit(vp, exit, gpa, &ops, "an IOAPIC page");
	send_pending(&m.msgs);
	return true;
}

void vm_ioapic_eoi(u8 vector)
{
	struct pending_msgs msgs = {0};

	spin_lock(&ioapics.lock);
	for (u32 i = 0; i < ioapics.count; i++) {
		struct vioapic_effects fx = {0};
		vioapic_eoi(&ioapics.io[i].v, vector, &fx);
		take_effects(&ioapics.io[i], &fx, &msgs);
	}
	spin_unlock(&ioapics.lock);
	send_pending(&msgs);
}

/* ---- lines: physical pins and the emulated UART ---------------------------------------- */

static void gsi_interrupt(struct trap_frame *frame)
{
	u32 gsi = (u32)frame->vector - VEC_GSI_FIRST, pin;
	struct pending_msgs msgs = {0};
	struct vioapic_effects fx = {0};

	spin_lock(&ioapics.lock);
	struct host_ioapic *h = ioapic_for_gsi(gsi, &pin);
	if (!h) {
		spin_unlock(&ioapics.lock);
		lapic_eoi();
		return;
	}
	/* A level pin stays masked until the guest's EOI (see the top). */
	if (h->v.rte[pin] & VIOAPIC_RTE_LEVEL)
		ioapic_set_masked(h->base, pin, true);
	lapic_eoi();
	ioapics.forwarded++;
	vioapic_pulse(&h->v, pin, &fx);
	take_effects(h, &fx, &msgs);
	spin_unlock(&ioapics.lock);
	send_pending(&msgs);
}

void vm_ioapic_set_uart_line(bool asserted)
{
	struct pending_msgs msgs = {0};
	struct vioapic_effects fx = {0};
	u32 pin;

	if (ioapics.uart_gsi == NO_GSI)
		return;
	u64 flags = irq_save();
	spin_lock(&ioapics.lock);
	struct host_ioapic *h = ioapic_for_gsi(ioapics.uart_gsi, &pin);
	if (h) {
		vioapic_set_line(&h->v, pin, asserted, &fx);
		take_effects(h, &fx, &msgs);
	}
	spin_unlock(&ioapics.lock);
	irq_restore(flags);
	send_pending(&msgs);
}

/* ---- set-up ----------------------------------------------------------------------------- */

static u32 isa_irq_to_gsi(const struct acpi_info *acpi, u8 irq)
{
	for (u32 i = 0; i < acpi->override_count; i++) {
		if (acpi->overrides[i].bus == 0 && acpi->overrides[i].source == irq)
			return acpi->overrides[i].gsi;
	}
	return irq; /* ISA IRQs are identity-mapped unless overridden */
}

void vioapic_host_init(const struct acpi_info *acpi, u16 uart_port)
{
	ioapics.dest_apic_id = percpu_table[0]->apic_id;
	for (u32 i = 0; i < acpi->ioapic_count && ioapics.count < ACPI_MAX_IOAPICS; i++) {
		struct host_ioapic *h = &ioapics.io[ioapics.count];
		u64 base = acpi->ioapics[i].address;
		u32 pins = ioapic_pin_count(base);
		u8 version = (u8)ioapic_read(base, IOAPIC_REG_VERSION);
		struct vioapic_config cfg = {
			.id = acpi->ioapics[i].id,
			.version = version,
			.pins = (u8)MIN(pins, VIOAPIC_MAX_PINS),
		};
		if (vioapic_init(&h->v, &cfg) != VIOAPIC_OK) {
			printk(LOG_WARN, "ioapic %u: cannot model it (version %x, %u pins); the guest gets none there\n",
			       cfg.id, version, pins);
			continue;
		}
		h->base = base;
		h->gsi_base = acpi->ioapics[i].gsi_base;
		/* Nothing is forwarded until the guest programs an entry. */
		for (u32 pin = 0; pin < pins; pin++)
			ioapic_set_masked(base, pin, true);
		ioapics.count++;
		printk(LOG_INFO, "ioapic %u: at %llx, GSI %u-%u, version %x, virtualised for the guest\n",
		       cfg.id, (unsigned long long)base, h->gsi_base, h->gsi_base + cfg.pins - 1,
		       version);
	}
	for (u32 gsi = 0; gsi < GSI_FORWARDED_MAX; gsi++)
		trap_set_irq_handler((u8)(VEC_GSI_FIRST + gsi), gsi_interrupt);
	/* COM1 and COM3 use IRQ 4, COM2 and COM4 IRQ 3. */
	u8 uart_irq = (uart_port == 0x3F8 || uart_port == 0x3E8) ? 4 : 3;
	ioapics.uart_gsi = isa_irq_to_gsi(acpi, uart_irq);
	printk(LOG_INFO, "ioapic: console UART %x is ISA IRQ %u (GSI %u): emulated for the guest\n",
	       uart_port, uart_irq, ioapics.uart_gsi);
}

u64 vioapic_host_forwarded(void)
{
	return __atomic_load_n(&ioapics.forwarded, __ATOMIC_RELAXED);
}
