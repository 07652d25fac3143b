/* XSETBV from the guest (VMX always exits on it; SVM only when asked).  The
 * checks are the instruction's own (SDM Vol. 2C, XSETBV): #UD without
 * CR4.OSXSAVE, #GP at CPL > 0, for an XCR other than 0, or for an XCR0 value
 * the CPU would refuse.  A valid value is written to the real XCR0: the
 * hypervisor never uses extended state itself, so the guest's value can stay
 * live. */
#include "arch/x86/cpu.h"
#include "kernel/printk.h"
#include "kernel/vm/exits.h"

#define XCR0_X87 (1ULL << 0)
#define XCR0_SSE (1ULL << 1)
#define XCR0_AVX (1ULL << 2)
#define XCR0_BNDREGS (1ULL << 3)
#define XCR0_BNDCSR (1ULL << 4)
#define XCR0_AVX512 (7ULL << 5) /* opmask, ZMM_Hi256, Hi16_ZMM */

/* The reason a value is refused, or NULL when it is valid. */
static const char *xcr0_refusal(u64 value, u64 supported)
{
	if (value & ~supported)
		return "a state component the CPU does not support";
	if (!(value & XCR0_X87))
		return "x87 state cleared";
	if ((value & XCR0_AVX) && !(value & XCR0_SSE))
		return "AVX without SSE";
	if (!!(value & XCR0_BNDREGS) != !!(value & XCR0_BNDCSR))
		return "only one of the two MPX components";
	if ((value & XCR0_AVX512) && ((value & XCR0_AVX512) != XCR0_AVX512 || !(value & XCR0_AVX)))
		return "AVX-512 components not all set together with AVX";
	return NULL;
}

enum exit_action exit_xsetbv(struct vp *vp, struct vm_exit *exit)
{
	struct segment ss;
	u32 index = (u32)vp->gpr[VP_RCX];
	u64 value = ((u64)(u32)vp->gpr[VP_RDX] << 32) | (u32)vp->gpr[VP_RAX];

	if (!(vp_get_reg(vp, VP_CR4) & CR4_OSXSAVE) || !cpu_features.xsave) {
		vp_inject_ud(vp);
		return EXIT_RESUME;
	}
	vp_get_seg(vp, VP_SS, &ss);
	struct cpuid_regs r = cpuid_count(0xD, 0);
	const char *why = index != 0 ? "not XCR0"
			  : SEG_ATTR_DPL(ss.attr) != 0 ? "CPL > 0"
			  : xcr0_refusal(value, ((u64)r.edx << 32) | r.eax);
	if (why) {
		printk(LOG_DEBUG, "vp%u: xsetbv %u <- %llx refused (%s): #GP\n", vp->index, index,
		       (unsigned long long)value, why);
		vp_inject_gp(vp);
		return EXIT_RESUME;
	}
	xsetbv(0, value);
	return exit_skip_instruction(vp, exit);
}

/* INVD would discard dirty cache lines the hypervisor may own; doing nothing
 * is what the instruction promises a guest that cannot see caches anyway. */
enum exit_action exit_invd(struct vp *vp, struct vm_exit *exit)
{
	return exit_skip_instruction(vp, exit);
}
