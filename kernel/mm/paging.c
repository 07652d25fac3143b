#include "kernel/mm/paging.h"
#include "arch/x86/cpu.h"
#include "kernel/layout.h"
#include "kernel/mm/pages.h"
#include "kernel/panic.h"
#include "kernel/printk.h"

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_PWT (1ULL << 3)
#define PTE_PCD (1ULL << 4)
#define PTE_PS (1ULL << 7)
#define PTE_G (1ULL << 8)
#define PTE_NX (1ULL << 63)
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ULL

#define LARGE_2M (2 * MIB)
#define REAL_MODE_END (1 * MIB)

static u64 *pml4;
static u64 identity_limit;
static u64 pte_nx;

u64 paging_identity_limit(void)
{
	return identity_limit;
}

u64 paging_root(void)
{
	return virt_to_phys(pml4);
}

static u64 *new_table(void)
{
	/* Below 4 GiB: APs load CR3 while still in 32-bit mode. */
	u64 pa = pages_alloc_phys(1, BELOW_4G);
	if (!pa)
		panic("out of memory for host page tables");
	return phys_to_virt(pa);
}

/* Returns the table that entry `index` of `table` points to, creating it. */
static u64 *next_level(u64 *table, u32 index)
{
	if (!(table[index] & PTE_P))
		table[index] = virt_to_phys(new_table()) | PTE_P | PTE_RW;
	if (table[index] & PTE_PS)
		panic("paging: large page in the way at index %u", index);
	return phys_to_virt(table[index] & PTE_ADDR_MASK);
}

static u32 level_index(u64 va, int level)
{
	return (va >> (12 + 9 * (level - 1))) & 0x1FF;
}

/* Maps one page of size 4 KiB (level 1), 2 MiB (2) or 1 GiB (3). */
static void map_one(u64 va, u64 pa, int level, u64 flags)
{
	u64 *table = pml4;
	for (int l = 4; l > level; l--)
		table = next_level(table, level_index(va, l));
	table[level_index(va, level)] = pa | flags | PTE_P | (level > 1 ? PTE_PS : 0);
}

/* Device memory must not be cached; the MTRRs usually say so too, but the PAT
 * bits make it true even where firmware left them loose. */
static u64 cache_flags(u64 base, u64 size)
{
	u32 n;
	const struct mem_region *map = pages_memmap(&n);
	for (u32 i = 0; i < n; i++) {
		if (map[i].base < base + size && base < map[i].base + map[i].len &&
		    map[i].type != MEM_RESERVED && map[i].type != MEM_BAD)
			return 0;
	}
	return PTE_PCD | PTE_PWT;
}

static void map_identity(void)
{
	u32 n;
	const struct mem_region *map = pages_memmap(&n);
	u64 top = 4 * GIB;

	/* Memory only: firmware also lists huge reserved windows (QEMU reserves
	 * the AMD HyperTransport hole just below 1 TiB) that nobody reads. */
	for (u32 i = 0; i < n; i++) {
		if (map[i].type == MEM_USABLE || map[i].type == MEM_ACPI_RECLAIMABLE ||
		    map[i].type == MEM_ACPI_NVS)
			top = MAX(top, map[i].base + map[i].len);
	}
	top = ALIGN_UP(top, GIB);
	identity_limit = top;

	/* First 2 MiB in 4 KiB pages: page 0 stays unmapped; the real-mode area is
	 * executable for the AP trampoline. */
	for (u64 pa = PAGE_SIZE; pa < LARGE_2M; pa += PAGE_SIZE) {
		u64 nx = pa < REAL_MODE_END ? 0 : pte_nx;
		map_one(pa, pa, 1, PTE_RW | nx | cache_flags(pa, PAGE_SIZE));
	}
	for (u64 pa = LARGE_2M; pa < top;) {
		if (pa >= 4 * GIB && cpu_features.pdpe1gb && (pa & (GIB - 1)) == 0 && pa + GIB <= top) {
			map_one(pa, pa, 3, PTE_RW | pte_nx | cache_flags(pa, GIB));
			pa += GIB;
			continue;
		}
		map_one(pa, pa, 2, PTE_RW | pte_nx | cache_flags(pa, LARGE_2M));
		pa += LARGE_2M;
	}
}

static void map_image_range(const char *start, const char *end, u64 flags)
{
	for (u64 va = (u64)start; va < (u64)end; va += PAGE_SIZE)
		map_one(va, image_virt_to_phys((const void *)va), 1, flags | PTE_G);
}

void paging_init(void)
{
	if (cpu_features.nx) {
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
		pte_nx = PTE_NX;
	}
	pml4 = new_table();
	map_identity();
	map_one(PAGE0_ALIAS_VBASE, 0, 1, PTE_RW | pte_nx | cache_flags(0, PAGE_SIZE));
	map_image_range(__boot_start, __text_start, PTE_RW | pte_nx);
	map_image_range(__text_start, __text_end, 0);
	map_image_range(__rodata_start, __rodata_end, pte_nx);
	map_image_range(__data_start, __image_end, PTE_RW | pte_nx);
	write_cr4(read_cr4() | CR4_PGE);
	write_cr3(paging_root());
	printk(LOG_INFO, "paging: identity map to %llu GiB (%s pages above 4 GiB), image text RX, data NX\n",
	       (unsigned long long)(identity_limit / GIB), cpu_features.pdpe1gb ? "1 GiB" : "2 MiB");
}
