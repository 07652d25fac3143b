/*
 * Identity-mapped page tables for PAE paging and long mode.
 *
 * 0-4 GiB is mapped with 2 MiB pages, except 0-2 MiB, which gets a page table of
 * 4 KiB pages: the guest image (at 1 MiB, under 1 MiB long) and its test pages live
 * there, so tests can make single pages not-present, NX or malformed.
 *
 * PAE's PDPT has only 4 entries and allows just P/PWT/PCD in them, while long mode's
 * PDPT entries need R/W: two PDPTs, one set of page directories.
 */
#include "guest.h"

static u64 pml4[512] __attribute__((aligned(4096)));
static u64 pdpt_long[512] __attribute__((aligned(4096)));
static u64 pdpt_pae[4] __attribute__((aligned(32)));
static u64 pd[4][512] __attribute__((aligned(4096)));
static u64 pt_low[512] __attribute__((aligned(4096)));
static bool built, has_nx;

void paging_init(void)
{
	if (built)
		return;
	for (u32 i = 0; i < 512; i++)
		pt_low[i] = ((u64)i << 12) | PTE_P | PTE_W;
	for (u32 g = 0; g < 4; g++) {
		for (u32 i = 0; i < 512; i++)
			pd[g][i] = ((u64)g << 30) | ((u64)i << 21) | PTE_PS | PTE_P | PTE_W;
		pdpt_pae[g] = (u32)pd[g] | PTE_P;
		pdpt_long[g] = (u32)pd[g] | PTE_P | PTE_W;
	}
	pd[0][0] = (u32)pt_low | PTE_P | PTE_W;
	pml4[0] = (u32)pdpt_long | PTE_P | PTE_W;

	/* NX needs EFER.NXE, which is legal to set with paging off. */
	u32 a, b, c, d;
	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		has_nx = d & (1u << 20);
	}
	if (has_nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	built = true;
}

bool paging_has_nx(void)
{
	return has_nx;
}

u64 *paging_pte(u32 va)
{
	return va < 0x200000 ? &pt_low[va >> 12] : NULL;
}

u32 paging_pae_cr3(void)
{
	return (u32)pdpt_pae;
}

u32 paging_long_cr3(void)
{
	return (u32)pml4;
}

void paging_enable_pae(void)
{
	paging_init();
	write_cr4(read_cr4() | CR4_PAE);
	write_cr3(paging_pae_cr3());
	write_cr0(read_cr0() | CR0_PG);
}

void paging_disable(void)
{
	/* The code runs identity-mapped, so the next fetch is the same physical byte. */
	write_cr0(read_cr0() & ~CR0_PG);
	write_cr4(read_cr4() & ~CR4_PAE);
}
