/* See kernel/vm/vp_xmm.h. */
#include "kernel/vm/vp_xmm.h"
#include "arch/x86/cpu.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"

#define CR0_EM (1ULL << 2)
#define CR0_TS (1ULL << 3)

void vp_read_xmm(struct vp *vp, u64 out[2 * VP_XMM_FAST_REGS])
{
	if (vp != this_cpu()->vp)
		panic("vp_read_xmm: vp%u is not this CPU's VP", vp->index);
	/* The host runs with CR4.OSFXSR clear (it never uses SSE), and with it
	 * clear MOVDQU is #UD (SDM Vol. 3A 2.5); CR0.EM/TS would fault too.
	 * Allow SSE just for these six moves. */
	u64 cr0 = read_cr0(), cr4 = read_cr4();
	if (!(cr4 & CR4_OSFXSR))
		write_cr4(cr4 | CR4_OSFXSR);
	if (cr0 & (CR0_EM | CR0_TS))
		write_cr0(cr0 & ~(CR0_EM | CR0_TS));
	__asm__ volatile("movdqu %%xmm0, 0(%0)\n\t"
			 "movdqu %%xmm1, 16(%0)\n\t"
			 "movdqu %%xmm2, 32(%0)\n\t"
			 "movdqu %%xmm3, 48(%0)\n\t"
			 "movdqu %%xmm4, 64(%0)\n\t"
			 "movdqu %%xmm5, 80(%0)"
			 :
			 : "r"(out)
			 : "memory");
	if (cr0 & (CR0_EM | CR0_TS))
		write_cr0(cr0);
	if (!(cr4 & CR4_OSFXSR))
		write_cr4(cr4);
}
