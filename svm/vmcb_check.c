#include "svm/vmcb_check.h"

#define CR0_PE (1ULL << 0)
#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_SVME (1ULL << 12)
#define SEG_L (1u << 9)
#define SEG_D (1u << 10)
#define INTERCEPT_VMRUN (1u << 0)
#define MSRPM_BYTES 0x2000ULL
#define IOPM_BYTES 0x3000ULL
#define EVENT_VALID (1ULL << 31)
#define EVENT_TYPE(e) (((e) >> 8) & 7)
#define EVENT_VECTOR(e) ((e) & 0xFF)

/* PAT entries may only hold the memory types 0, 1, 4, 5, 6, 7. */
static bool pat_valid(u64 pat)
{
	for (int i = 0; i < 8; i++) {
		u8 t = (pat >> (i * 8)) & 0xFF;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

static bool event_valid(u64 e)
{
	u32 type = EVENT_TYPE(e);
	if (!(e & EVENT_VALID))
		return true;
	/* Types 1, 5, 6, 7 are reserved; an NMI has vector 2 and an exception a
	 * vector below 32 other than 2 (APM 15.20). */
	if (type == 1 || type >= 5)
		return false;
	if (type == 3 && (EVENT_VECTOR(e) >= 32 || EVENT_VECTOR(e) == 2))
		return false;
	return true;
}

const char *vmcb_check(const struct vmcb *v, const struct vmcb_check_caps *caps)
{
	const struct vmcb_save *s = &v->save;
	const struct vmcb_control *c = &v->control;
	u64 phys_limit = 1ULL << caps->phys_addr_bits;
	bool long_paging = (s->efer & EFER_LME) && (s->cr0 & CR0_PG);

	if (!(s->efer & EFER_SVME))
		return "EFER.SVME is clear";
	if (!(s->cr0 & CR0_CD) && (s->cr0 & CR0_NW))
		return "CR0.NW is set while CR0.CD is clear";
	if (s->cr0 >> 32)
		return "CR0[63:32] is not zero";
	if (s->cr3 & ~(phys_limit - 1) & ~0xFFFULL)
		return "CR3 has bits set above the physical address width";
	if (s->cr4 & caps->cr4_reserved)
		return "CR4 has a reserved bit set";
	if (s->dr6 >> 32)
		return "DR6[63:32] is not zero";
	if (s->dr7 >> 32)
		return "DR7[63:32] is not zero";
	if (s->efer & caps->efer_reserved)
		return "EFER has a reserved bit set";
	if ((s->efer & (EFER_LME | EFER_LMA)) && !caps->long_mode)
		return "EFER.LME/LMA set on a CPU without long mode";
	if (long_paging && !(s->cr4 & CR4_PAE))
		return "EFER.LME and CR0.PG set with CR4.PAE clear";
	if (long_paging && !(s->cr0 & CR0_PE))
		return "EFER.LME and CR0.PG set with CR0.PE clear";
	if (long_paging && (s->cr4 & CR4_PAE) && (s->cs.attrib & SEG_L) && (s->cs.attrib & SEG_D))
		return "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set";
	/* Not in the APM's list, but both QEMU and Bochs refuse it, as the
	 * architecture does for any CPU state. */
	if ((s->cr0 & CR0_PG) && !(s->cr0 & CR0_PE))
		return "CR0.PG set with CR0.PE clear";
	if (!(c->intercept_misc2 & INTERCEPT_VMRUN))
		return "the VMRUN intercept is clear";
	if (c->msrpm_base_pa + MSRPM_BYTES > phys_limit)
		return "the MSR permission map extends past the physical address width";
	if (c->iopm_base_pa + IOPM_BYTES > phys_limit)
		return "the I/O permission map extends past the physical address width";
	if (!event_valid(c->event_inject))
		return "EVENTINJ holds an illegal event";
	if (c->guest_asid == 0)
		return "the guest ASID is zero";
	if ((c->np_enable & 1) && (c->n_cr3 & ~(phys_limit - 1)))
		return "nCR3 has bits set above the physical address width";
	if ((c->np_enable & 1) && !pat_valid(s->g_pat))
		return "G_PAT holds an invalid memory type";
	return NULL;
}
