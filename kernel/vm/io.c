/* Port I/O exits.  Only the ports the hypervisor owns or watches are
 * intercepted (its console UART, the PICs it keeps masked, the ACPI PM1a
 * control register: kernel/vm/guest_acpi_pm.c); everything else passes
 * straight through to the devices. */
#include "arch/x86/cpu.h"
#include "kernel/printk.h"
#include "kernel/vm/exits.h"
#include "kernel/vm/guest_mem.h"

#define RFLAGS_DF (1ULL << 10)
/* String I/O is done in bounded chunks so one exit never runs long; RIP
 * stays put until RCX reaches zero, as on hardware. */
#define STRING_IO_BUDGET 256

/* The intercepted devices.  A byte-wide device sees a wider access as bytes
 * at consecutive ports (as the bus splits it); a whole-width one sees it as
 * the guest made it (the PM1a register may not take bytes). */
struct port_device {
	bool (*claims)(u16 port);
	void (*byte_io)(u16 port, bool in, u32 *value);
	void (*whole_io)(u16 port, u8 size, bool in, u32 *value);
};

static const struct port_device port_devices[] = {
	{guest_uart_claims, guest_uart_io, NULL},
	{guest_pic_claims, guest_pic_io, NULL},
	{guest_acpi_pm_claims, NULL, guest_acpi_pm_io},
};

static const struct port_device *port_device_at(u16 port)
{
	for (u32 i = 0; i < ARRAY_SIZE(port_devices); i++) {
		if (port_devices[i].claims(port))
			return &port_devices[i];
	}
	return NULL;
}

static void port_access(u16 port, u8 size, bool in, u32 *value)
{
	const struct port_device *first = port_device_at(port);
	u32 result = 0;

	if (first && first->whole_io) {
		first->whole_io(port, size, in, value);
		return;
	}
	for (u8 i = 0; i < size; i++) {
		u16 p = (u16)(port + i);
		const struct port_device *d = i ? port_device_at(p) : first;
		u32 byte = (*value >> (8 * i)) & 0xFF;
		if (d && d->byte_io)
			d->byte_io(p, in, &byte);
		else
			byte = 0xFF; /* a port nobody claims reads as an empty bus */
		result |= (byte & 0xFF) << (8 * i);
	}
	if (in)
		*value = result;
}

static u64 mask_for_size(u8 size)
{
	return size == 4 ? 0xFFFFFFFFULL : (1ULL << (8 * size)) - 1;
}

/* Address-size mask for RSI/RDI/RCX of a string instruction: taken from the
 * guest's mode (a 67h override is not modelled: real guests do not use one on
 * these ports). */
static u64 address_mask(struct vp *vp)
{
	struct segment cs;
	vp_get_seg(vp, VP_CS, &cs);
	if ((vp_get_reg(vp, VP_EFER) & EFER_LMA) && (cs.attr & SEG_ATTR_L))
		return ~0ULL;
	return (cs.attr & SEG_ATTR_DB) ? 0xFFFFFFFFULL : 0xFFFFULL;
}

static enum exit_action string_io(struct vp *vp, struct vm_exit *exit)
{
	u64 amask = address_mask(vp);
	u64 count = exit->io.rep ? vp->gpr[VP_RCX] & amask : 1;
	int step = (vp_get_reg(vp, VP_RFLAGS) & RFLAGS_DF) ? -(int)exit->io.size : exit->io.size;
	enum vp_reg index = exit->io.in ? VP_RDI : VP_RSI;
	struct segment seg;

	/* INS always writes ES:rDI; OUTS reads DS:rSI (segment overrides are not
	 * modelled: real guests do not use them on a UART). */
	vp_get_seg(vp, exit->io.in ? VP_ES : VP_DS, &seg);
	for (u32 done = 0; count && done < STRING_IO_BUDGET; done++) {
		u64 offset = vp->gpr[index] & amask;
		u32 value = 0;
		struct guest_walk_result res;
		if (exit->io.in) {
			port_access(exit->io.port, exit->io.size, true, &value);
			if (!guest_write_gva(vp, seg.base + offset, &value, exit->io.size, &res))
				goto fault;
		} else {
			if (!guest_read_gva(vp, seg.base + offset, &value, exit->io.size, &res))
				goto fault;
			port_access(exit->io.port, exit->io.size, false, &value);
		}
		vp->gpr[index] = (vp->gpr[index] & ~amask) | ((offset + (u64)(s64)step) & amask);
		count--;
		if (exit->io.rep)
			vp->gpr[VP_RCX] = (vp->gpr[VP_RCX] & ~amask) | count;
		continue;
	fault:
		if (res.status == GW_PAGE_FAULT) {
			vp_set_reg(vp, VP_CR2, res.gva);
			vp_inject_exception(vp, 14, true, res.error_code);
		} else {
			vp_inject_gp(vp);
		}
		return EXIT_RESUME;
	}
	if (count)
		return EXIT_RESUME; /* re-executes the instruction for the rest */
	return exit_skip_instruction(vp, exit);
}

enum exit_action exit_io(struct vp *vp, struct vm_exit *exit)
{
	/* A wide access exits when any of its bytes is intercepted, so the
	 * first byte may be nobody's: port_access answers each byte on its own
	 * (an unclaimed one reads as an empty bus, 0xFF). */
	if (exit->io.string)
		return string_io(vp, exit);
	u32 value = (u32)(vp->gpr[VP_RAX] & mask_for_size(exit->io.size));
	port_access(exit->io.port, exit->io.size, exit->io.in, &value);
	if (exit->io.in) {
		/* IN to AL/AX leaves the rest of RAX alone; IN to EAX zero-extends. */
		u64 mask = mask_for_size(exit->io.size);
		vp->gpr[VP_RAX] = exit->io.size == 4 ? value : ((vp->gpr[VP_RAX] & ~mask) | value);
	}
	return exit_skip_instruction(vp, exit);
}
