/* The hypercall exit: gather the registers, validate (hv_hypercall_input.c),
 * copy the input in, run the call from a table, write the result value and
 * decide between completion (RIP past the VMCALL) and continuation (RIP left
 * on it, TLFS "Hypercall Continuation", digest 3.8).  TLFS sections are cited
 * as in the digest. */
#include "hyperv/hv_hypercalls.h"
#include "arch/x86/canonical.h"
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "hyperv/hv_defs.h"
#include "hyperv/hv_hypercall_fast.h"
#include "hyperv/hv_hypercall_input.h"
#include "hyperv/hv_hypercall_list.h"
#include "hyperv/hv_partition.h"
#include "hyperv/hv_ports.h"
#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"
#include "kernel/printk.h"
#include "kernel/vm/guest_mem.h"
#include "kernel/vm/vp_apic.h"
#include "kernel/vm/vp_flush.h"
#include "kernel/vm/vp_xmm.h"

/* How long one attempt of a flush waits for the targets to leave guest mode.
 * A kicked VP exits within microseconds; a target that does not (its CPU
 * stuck with interrupts off) makes the caller re-issue the call rather than
 * hang this CPU. */
#define HC_FLUSH_WAIT_US 20000
/* TLFS: a hypercall should return within about 50 us; rep calls continue
 * after that many microseconds of work (digest 3.8). */
#define HC_REP_BUDGET_US 50
/* Lines a guest's refused calls may print before they are no longer logged. */
#define HC_LOG_LINES 16
/* VMCALL / VMMCALL (digest 3.2). */
#define HC_INSN_LEN 3

/* One call in progress. */
struct hc_call {
	struct vp *vp;
	const struct hv_hc_plan *plan;
	const struct hv_hc_request *req;
	const u8 *in;	   /* plan->in_len bytes of input */
	u16 reps_done;	   /* rep calls: absolute index reached */
	bool continue_later; /* leave RIP on the VMCALL (continuation) */
};

typedef u16 (*hc_handler_fn)(struct hc_call *c);

/* Per VP: memory input is at most one page (hv_hc_check refuses a list that
 * crosses one). */
static u8 hc_input[HV_MAX_CPUS][HV_PAGE_SIZE] __attribute__((aligned(8)));

/* ---- guest memory rules (digest 3.6) ---------------------------------------- */

/* Input and output must be ordinary guest RAM.  hv_hc_check already refused
 * GPAs beyond the GPA space with INVALID_ALIGNMENT; a GPA inside it that is
 * not RAM (a device window, the hypervisor's own frames, an overlay page) is
 * given the same answer (KVM says INVALID_HYPERCALL_INPUT when its copy
 * fails; the TLFS would raise a memory intercept, which this partition has
 * nobody to send to). */
static bool gpa_is_plain_ram(u64 gpa, u32 len)
{
	return len == 0 || (guest_mem_is_ram(&the_vm, gpa, len) && !hv_any_overlay_at(gpa));
}

static u16 write_output(struct hc_call *c, u32 offset, const void *data, u32 len)
{
	if (!guest_write_gpa(&the_vm, c->req->out_gpa + offset, data, len))
		return HV_STATUS_INVALID_ALIGNMENT; /* checked before the call ran */
	return HV_STATUS_SUCCESS;
}

/* ---- the calls ------------------------------------------------------------------ */

/* HvCallNotifyLongSpinWait (digest 4.4): advisory.  With one VP per CPU there
 * is nothing to yield to. */
static u16 hc_notify_long_spin_wait(struct hc_call *c)
{
	(void)c;
	return HV_STATUS_SUCCESS;
}

/* The 4 KiB pages a List call names, when they are few and all canonical
 * (48-bit; anything else may not be an INVLPG operand): the targets drop
 * just those.  Otherwise gvas->count is 0, a whole flush.  Large-page ranges
 * also flush everything: the guest may map them with small pages. */
static void list_pages(const struct hc_call *c, const struct hv_flush_request *r,
		       struct vp_flush_gvas *gvas)
{
	gvas->count = 0;
	for (u16 i = r->gva_first; i < r->gva_end; i++) {
		struct hv_gva_range range;
		if (hv_flush_gva(r, c->in, c->plan->in_len, i, &range) != HV_STATUS_SUCCESS ||
		    range.page_shift != HV_PAGE_SHIFT || range.pages > VP_FLUSH_GVAS_MAX - gvas->count)
			goto whole;
		for (u64 p = 0; p < range.pages; p++) {
			u64 gva = range.base + (p << HV_PAGE_SHIFT);
			if (!x86_canonical(gva, 48))
				goto whole;
			gvas->gva[gvas->count++] = gva;
		}
	}
	return;
whole:
	gvas->count = 0;
}

/* HvCallFlushVirtualAddressSpace/List and their Ex forms (digest 4.3, 8).
 * Flushing more than asked is always allowed (8.1, 8.5): a Space call
 * flushes each target's whole ASID/VPID (AddressSpace and the non-global
 * flag only have to be valid), a List call the pages it names when there are
 * at most VP_FLUSH_GVAS_MAX of them, else everything; it completes all its
 * reps at once. */
static u16 hc_flush(struct hc_call *c)
{
	struct hv_flush_request r;
	struct vp_mask targets;
	struct vp_flush_gvas gvas = {.count = 0};

	u16 st = hv_flush_decode(&c->plan->in, c->in, c->plan->in_len, false, &r);
	if (st != HV_STATUS_SUCCESS)
		return st;
	hv_vp_set_to_mask(&r.targets, the_vm.vp_count, targets.bits, VP_MASK_WORDS);
	if (r.list)
		list_pages(c, &r, &gvas);
	if (!vp_flush_vps(c->vp, &targets, &gvas, HC_FLUSH_WAIT_US)) {
		/* Not done: the guest re-executes the call (digest 3.8; a simple
		 * call may continue too). */
		printk(LOG_WARN, "vp%u: %s: a target VP did not leave guest mode within %u us; the call continues\n",
		       c->vp->index, c->plan->info->name, HC_FLUSH_WAIT_US);
		c->continue_later = true;
		return HV_STATUS_SUCCESS;
	}
	if (r.list)
		c->reps_done = r.gva_end;
	return HV_STATUS_SUCCESS;
}

/* Only VTL0 exists: a target VTL other than the caller's own is invalid. */
static bool target_vtl_ok(const struct vp *vp, u8 input_vtl)
{
	return !(input_vtl & HV_INPUT_VTL_USE_TARGET) ||
	       (input_vtl & HV_INPUT_VTL_TARGET_MASK) == vp->active_vtl;
}

/* HvCallSendSyntheticClusterIpi(Ex) (digest 4.5): a fixed, edge-triggered
 * interrupt in each target's local APIC. */
static u16 hc_send_ipi(struct hc_call *c)
{
	struct hv_ipi_request r;
	u64 targets[VP_MASK_WORDS];

	u16 st = hv_ipi_decode(&c->plan->in, c->in, c->plan->in_len, &r);
	if (st != HV_STATUS_SUCCESS)
		return st;
	if (!target_vtl_ok(c->vp, r.target_vtl))
		return HV_STATUS_INVALID_PARAMETER;
	hv_vp_set_to_mask(&r.targets, the_vm.vp_count, targets, VP_MASK_WORDS);
	for (u32 i = 0; i < the_vm.vp_count; i++) {
		if ((targets[i / 64] >> (i % 64)) & 1)
			vp_apic_raise(the_vm.vps[i], (u8)r.vector);
	}
	return HV_STATUS_SUCCESS;
}

/* HvCallGetVpIndexFromApicId (digest 4.19, rep): [DISPUTED #2] 4-byte input
 * and output elements (OVMM).  An APIC ID no VP has -> INVALID_PARAMETER. */
static u16 hc_get_vp_index_from_apic_id(struct hc_call *c)
{
	const struct hv_hc_input *in = &c->plan->in;
	u32 apic_ids[HV_MAX_CPUS];
	u8 vtl;

	u16 st = hv_get_vp_index_decode(c->in, c->plan->in_len, &vtl);
	if (st != HV_STATUS_SUCCESS)
		return st;
	if (!target_vtl_ok(c->vp, vtl))
		return HV_STATUS_INVALID_PARAMETER;
	for (u32 i = 0; i < the_vm.vp_count; i++)
		apic_ids[i] = the_vm.vps[i]->apic_id;

	u64 deadline = tsc_deadline_us(HC_REP_BUDGET_US);
	for (u16 i = in->rep_start; i < in->rep_count; i++) {
		u32 apic_id;
		if (i > in->rep_start && tsc_passed(deadline)) {
			c->continue_later = true;
			return HV_STATUS_SUCCESS;
		}
		st = hv_get_vp_index_apic_id(c->in, c->plan->in_len, i, &apic_id);
		if (st != HV_STATUS_SUCCESS)
			return st;
		s32 vp_index = hv_vp_index_of_apic_id(apic_ids, the_vm.vp_count, apic_id);
		if (vp_index < 0)
			return HV_STATUS_INVALID_PARAMETER;
		u32 out = (u32)vp_index;
		st = write_output(c, (u32)i * 4, &out, sizeof(out));
		if (st != HV_STATUS_SUCCESS)
			return st;
		c->reps_done = (u16)(i + 1);
	}
	return HV_STATUS_SUCCESS;
}

/* HvExtCallQueryCapabilities (digest 3.10, 4.23): no extended call beyond
 * this one is implemented, so the mask is 0 (as KVM). */
static u16 hc_ext_query_capabilities(struct hc_call *c)
{
	u64 caps = 0;
	return write_output(c, 0, &caps, sizeof(caps));
}

/* HvCallPostMessage (digest 4.14): into the SynIC of the port the connection
 * leads to (hv_ports.c).  Its 256-byte input never fits a fast call, which
 * hv_hc_check refuses with INVALID_HYPERCALL_INPUT. */
static u16 hc_post_message(struct hc_call *c)
{
	struct hv_post_message_request r;

	u16 st = hv_post_message_decode(c->in, c->plan->in_len, &r);
	if (st != HV_STATUS_SUCCESS)
		return st;
	return hv_ports_post(c->vp->index, r.connection_id, r.message_type, r.payload_size,
			     r.payload);
}

/* HvCallSignalEvent (digest 4.15), usually fast: RDX holds the whole input. */
static u16 hc_signal_event(struct hc_call *c)
{
	struct hv_signal_event_request r;

	u16 st = hv_signal_event_decode(c->in, c->plan->in_len, &r);
	if (st != HV_STATUS_SUCCESS)
		return st;
	return hv_ports_signal(c->vp->index, r.connection_id, r.flag_number);
}

/* Every listed call has a handler; hv_hc_check answered the others with
 * HV_STATUS_INVALID_HYPERCALL_CODE, whatever else is wrong with them. */
#define HC_HANDLER(code_, handler_, ...) [HV_HC_SLOT(code_)] = handler_,
static const hc_handler_fn hc_handlers[HV_HC_SLOTS] = {HV_HYPERCALLS(HC_HANDLER)};

/* ---- the exit ------------------------------------------------------------------- */

/* Copies the input: from guest RAM, or from the registers of a fast call. */
static u16 fetch_input(struct vp *vp, const struct hv_hc_request *req, const struct hv_hc_plan *plan,
		       u8 *buf)
{
	if (plan->in.fast) {
		struct hv_hc_fast_regs regs = {0};
		if (req->long_mode) {
			regs.pair0[0] = vp->gpr[VP_RDX];
			regs.pair0[1] = vp->gpr[VP_R8];
			/* hv_hc_check allowed XMM input only when offered. */
			if (plan->uses_xmm)
				vp_read_xmm(vp, regs.xmm);
		} else {
			regs.pair0[0] = ((u64)(u32)vp->gpr[VP_RBX] << 32) | (u32)vp->gpr[VP_RCX];
			regs.pair0[1] = ((u64)(u32)vp->gpr[VP_RDI] << 32) | (u32)vp->gpr[VP_RSI];
		}
		hv_hc_fast_input(&regs, buf, plan->in_len);
		return HV_STATUS_SUCCESS;
	}
	if (!gpa_is_plain_ram(req->in_gpa, plan->in_len) ||
	    !gpa_is_plain_ram(req->out_gpa, plan->out_len)) {
		static u32 logged;
		if (log_budget(&logged, HC_LOG_LINES))
			printk(LOG_INFO, "vp%u: %s: input %llx+%u or output %llx+%u is not guest RAM%s\n",
			       vp->index, plan->info->name, (unsigned long long)req->in_gpa,
			       plan->in_len, (unsigned long long)req->out_gpa, plan->out_len,
			       log_budget_note(&logged, HC_LOG_LINES));
		return HV_STATUS_INVALID_ALIGNMENT;
	}
	if (plan->in_len && !guest_read_gpa(&the_vm, req->in_gpa, buf, plan->in_len))
		return HV_STATUS_INVALID_ALIGNMENT;
	return HV_STATUS_SUCCESS;
}

static void set_result(struct vp *vp, bool long_mode, u64 result)
{
	if (long_mode) {
		vp->gpr[VP_RAX] = result;
	} else {
		vp->gpr[VP_RDX] = result >> 32;
		vp->gpr[VP_RAX] = (u32)result;
	}
}

/* Continuation (digest 3.8): RCX (EDX:EAX for 32-bit callers) gets the input
 * value with the new rep start index, and RIP stays on the VMCALL so that the
 * guest, after any pending interrupt, issues the rest. */
static void set_continuation(struct vp *vp, bool long_mode, u64 control)
{
	if (long_mode) {
		vp->gpr[VP_RCX] = control;
	} else {
		vp->gpr[VP_RDX] = control >> 32;
		vp->gpr[VP_RAX] = (u32)control;
	}
}

enum exit_action hv_hypercall_exit(struct vp *vp, struct vm_exit *exit)
{
	struct segment cs, ss;
	u16 status = HV_STATUS_SUCCESS;
	struct hv_hc_plan plan;

	/* Without the interface, or before the guest has enabled its hypercall
	 * page, VMCALL/VMMCALL are what they are on bare metal: #UD (as KVM),
	 * and no call at all: code 0, which no call has. */
	exit->hypercall.code = 0;
	if (!hv_hypercall_page_enabled()) {
		vp_inject_ud(vp);
		return EXIT_RESUME;
	}
	vp_get_seg(vp, VP_CS, &cs);
	vp_get_seg(vp, VP_SS, &ss);
	bool long_mode = (vp_get_reg(vp, VP_EFER) & EFER_LMA) && (cs.attr & SEG_ATTR_L);
	struct hv_hc_request req = {
		.cpl = (u8)SEG_ATTR_DPL(ss.attr),
		.protected_mode = vp_get_reg(vp, VP_CR0) & CR0_PE,
		.long_mode = long_mode,
		.gpa_limit = 1ULL << cpu_features.phys_addr_bits,
	};
	/* The 32-bit convention splits each value over two registers
	 * (TLFS 3.8). */
	if (long_mode) {
		req.control = vp->gpr[VP_RCX];
		req.in_gpa = vp->gpr[VP_RDX];
		req.out_gpa = vp->gpr[VP_R8];
	} else {
		req.control = ((u64)(u32)vp->gpr[VP_RDX] << 32) | (u32)vp->gpr[VP_RAX];
		req.in_gpa = ((u64)(u32)vp->gpr[VP_RBX] << 32) | (u32)vp->gpr[VP_RCX];
		req.out_gpa = ((u64)(u32)vp->gpr[VP_RDI] << 32) | (u32)vp->gpr[VP_RSI];
	}
	exit->hypercall.code = (u16)(req.control & HV_HYPERCALL_CODE_MASK);
	enum hv_hc_verdict verdict = hv_hc_check(&req, &hv_partition_features, &plan, &status);
	if (verdict == HV_HC_INJECT_UD) {
		vp_inject_ud(vp);
		return EXIT_RESUME;
	}
	struct hc_call call = {.vp = vp, .plan = &plan, .req = &req};
	if (verdict == HV_HC_PROCEED) {
		u8 *buf = hc_input[vp->index];
		status = fetch_input(vp, &req, &plan, buf);
		if (status == HV_STATUS_SUCCESS) {
			call.in = buf;
			call.reps_done = plan.in.rep_start;
			status = hc_handlers[hv_hc_slot(plan.in.code)](&call);
		}
	}
	/* A rep call reports the reps it completed, also when it failed part
	 * way: the first ones stand (digest 3.4). */
	u16 reps = plan.info && plan.info->kind == HV_HC_REP && verdict == HV_HC_PROCEED
			   ? call.reps_done
			   : 0;
	if (call.continue_later && status == HV_STATUS_SUCCESS) {
		set_continuation(vp, long_mode, hv_hc_with_rep_start(req.control, reps));
		return EXIT_RESUME;
	}
	set_result(vp, long_mode, hv_hc_result(status, reps));
	/* VMCALL and VMMCALL are 3 bytes (0F 01 C1/D9; OVMM advances RIP by 3).
	 * Without a length from the hardware (QEMU's SVM leaves next-RIP
	 * empty here), do not decode at RIP: that reads the RAM under the
	 * hypercall overlay page, not the page's instructions. */
	vp_advance_rip(vp, exit->insn_len ? exit->insn_len : HC_INSN_LEN);
	return EXIT_RESUME;
}
