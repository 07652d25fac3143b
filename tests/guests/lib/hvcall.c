/* Hypercalls from a 32-bit test guest (see hvcall.h). */
#include "hvcall.h"

static u8 hypercall_page[4096] __attribute__((aligned(4096)));
u32 hvcall_page_addr = (u32)hypercall_page;

u32 hvcall32(u32 ctl_lo, u32 ctl_hi, u32 in_lo, u32 in_hi, u32 out_lo, u32 out_hi,
	     u32 *result_hi);
/* Every general register is taken by the convention, so this is assembly. */
__asm__(".pushsection .text\n"
	".globl hvcall32\n"
	"hvcall32:\n"
	"\tpush %ebp\n\tmov %esp, %ebp\n\tpush %ebx\n\tpush %esi\n\tpush %edi\n"
	"\tmov 8(%ebp), %eax\n\tmov 12(%ebp), %edx\n\tmov 16(%ebp), %ecx\n"
	"\tmov 20(%ebp), %ebx\n\tmov 24(%ebp), %esi\n\tmov 28(%ebp), %edi\n"
	"\tcall *hvcall_page_addr\n"
	"\tmov 32(%ebp), %ecx\n\tmov %edx, (%ecx)\n"
	"\tpop %edi\n\tpop %esi\n\tpop %ebx\n\tpop %ebp\n\tret\n"
	".popsection\n");

void hvcall_enable(void)
{
	wrmsr(HV_MSR_GUEST_OS_ID, 0x8100000000000000ull);
	wrmsr(HV_MSR_HYPERCALL, (u32)hypercall_page | HV_HYPERCALL_ENABLE);
}

void hvcall_expect(const char *name, u64 result, u32 want)
{
	test_result(name, hvcall_status(result) == want, "status %#x, want %#x (result %llx)",
		    hvcall_status(result), want, result);
}

u64 hvcall(u64 control, u64 in, u64 out)
{
	u32 hi;
	u32 lo = hvcall32((u32)control, (u32)(control >> 32), (u32)in, (u32)(in >> 32), (u32)out,
			  (u32)(out >> 32), &hi);
	return ((u64)hi << 32) | lo;
}
