/* Linux guest loader: a bzImage from a GRUB module ("linux <command line>"),
 * an optional initramfs module ("initrd"), booted through the 32-bit boot
 * protocol (Documentation/arch/x86/boot.rst).  The protocol logic, checks and
 * layout are in linux_boot.c; this file copies into guest RAM (GPA == HPA) and
 * sets the boot VP's registers. */
#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "kernel/layout.h"
#include "kernel/lib/string.h"
#include "kernel/printk.h"
#include "kernel/vm/guest_mem.h"
#include "kernel/vm/linux_boot.h"
#include "kernel/vm/loader.h"

/* Flat 4 GiB descriptors for __BOOT_CS and __BOOT_DS: base 0, limit 0xFFFFF
 * in 4 KiB units (G), 32-bit (D/B), present, ring 0; execute/read code and
 * read/write data, marked accessed so the CPU never writes them back. */
#define GDT_FLAT_CODE32 0x00CF9B000000FFFFULL
#define GDT_FLAT_DATA32 0x00CF93000000FFFFULL

/* The same segments as the VP's hidden state (see SEG_ATTR_* in vm.h). */
#define SEG_ATTR_CODE32 (0xB | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G)
#define SEG_ATTR_DATA32 (0x3 | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G)

#define RFLAGS_FIXED 0x2ULL

/* The legacy areas acpi_find_rsdp scans; page 0 (the BDA) is not mapped in the
 * host's tables, so it reads as absent and only the BIOS area is searched. */
static bool low_mem_read(void *ctx, u64 pa, void *buf, size_t len)
{
	(void)ctx;
	if (pa < PAGE_SIZE || pa >= MIB || len > MIB - pa)
		return false;
	memcpy(buf, phys_to_virt(pa), len);
	return true;
}

static const struct phys_reader low_mem_reader = {low_mem_read, NULL};

/* The RSDP's guest-physical address for acpi_rsdp_addr.  PVH hands us the
 * address; multiboot2 only a copy, which is then matched against the BIOS
 * area.  When the original cannot be found the copy goes into the boot block
 * (below 1 MiB, which Linux reserves). */
static u64 guest_rsdp(const struct boot_info *bi, u8 *block, u64 block_gpa)
{
	u64 pa = 0;

	if (bi->rsdp_phys)
		return bi->rsdp_phys;
	bool found = acpi_find_rsdp(&low_mem_reader, &pa) == 0;
	if (!bi->rsdp_len)
		return found ? pa : 0;
	if (found && memcmp(phys_to_virt(pa), bi->rsdp, MIN(bi->rsdp_len, (u32)ACPI_RSDP_V1_LENGTH)) == 0)
		return pa;
	memcpy(block + LINUX_BLOCK_RSDP, bi->rsdp,
	       MIN(bi->rsdp_len, (u32)sizeof(bi->rsdp)));
	printk(LOG_WARN, "linux: the loader's RSDP is not in the BIOS area; the guest gets a copy at %llx\n",
	       (unsigned long long)(block_gpa + LINUX_BLOCK_RSDP));
	return block_gpa + LINUX_BLOCK_RSDP;
}

/* Boot protocol, "32-bit BOOT PROTOCOL": protected mode, paging off, a GDT
 * with flat __BOOT_CS/__BOOT_DS loaded, CS/DS/ES/SS set from it, interrupts
 * off, ESI = boot_params, EBP/EDI/EBX zero, EIP = the load address. */
static void set_entry_state(struct vp *vp, u64 entry, u64 boot_params, u64 gdt)
{
	const struct segment code = {LINUX_BOOT_CS, SEG_ATTR_CODE32, 0xFFFFFFFF, 0};
	const struct segment data = {LINUX_BOOT_DS, SEG_ATTR_DATA32, 0xFFFFFFFF, 0};
	const struct segment gdtr = {0, 0, LINUX_BLOCK_GDT_SIZE - 1, gdt};
	/* An empty IDT: a fault before the kernel has its own becomes a clean
	 * triple fault (which the hypervisor reports) instead of a jump through
	 * the real-mode vector table. */
	const struct segment idtr = {0, 0, 0, 0};
	static const enum vp_seg data_segs[] = {VP_DS, VP_ES, VP_SS, VP_FS, VP_GS};

	vp_set_seg(vp, VP_CS, &code);
	for (u32 i = 0; i < ARRAY_SIZE(data_segs); i++)
		vp_set_seg(vp, data_segs[i], &data);
	vp_set_seg(vp, VP_GDTR, &gdtr);
	vp_set_seg(vp, VP_IDTR, &idtr);
	u64 cr0 = vp_get_reg(vp, VP_CR0);
	if ((cr0 & (CR0_PE | CR0_PG)) != CR0_PE)
		vp_set_reg(vp, VP_CR0, CR0_PE | CR0_ET);
	vp_set_reg(vp, VP_RFLAGS, RFLAGS_FIXED);
	vp_set_reg(vp, VP_RIP, entry);
	for (u32 r = 0; r < VP_GPR_COUNT; r++)
		vp->gpr[r] = 0;
	vp->gpr[VP_RSI] = boot_params;
}

bool linux_load(struct vm *vm, struct vp *vp, const struct boot_info *bi,
		const struct boot_module *kernel, const char *cmdline)
{
	struct linux_image img;
	u64 size = kernel->end > kernel->start ? kernel->end - kernel->start : 0;
	const u8 *file = phys_to_virt(kernel->start);

	if (!linux_image_parse(file, size, &img))
		return false;
	u64 cmdline_len = strlen(cmdline);
	if (!linux_cmdline_fits(&img, cmdline_len))
		return false;

	const char *initrd_args = "";
	const struct boot_module *initrd = loader_find_module(bi, "initrd", &initrd_args);
	u64 initrd_size = initrd && initrd->end > initrd->start ? initrd->end - initrd->start : 0;
	if (initrd && !initrd_size)
		printk(LOG_WARN, "linux: the initrd module is empty; booting without one\n");

	struct linux_range modules[BOOT_MAX_MODULES];
	u32 module_count = MIN(bi->mod_count, (u32)BOOT_MAX_MODULES);
	for (u32 i = 0; i < module_count; i++)
		modules[i] = (struct linux_range){bi->mods[i].start, bi->mods[i].end};

	struct linux_layout_input in = {
		.mem = vm->mem,
		.mem_count = vm->mem_count,
		.modules = modules,
		.module_count = module_count,
		.img = &img,
		.initrd_base = initrd_size ? initrd->start : 0,
		.initrd_size = initrd_size,
		.boot_block_size = linux_boot_block_size(cmdline_len),
	};
	struct linux_layout lay;
	if (!linux_plan_layout(&in, &lay))
		return false;
	/* The plan only uses usable RAM; check again with the map's own rule so
	 * that nothing here can ever write outside guest RAM. */
	if (!guest_mem_is_ram(vm, lay.kernel, img.init_size) ||
	    (initrd_size && !guest_mem_is_ram(vm, lay.initrd, initrd_size)) ||
	    !guest_mem_is_ram(vm, lay.boot_block, in.boot_block_size)) {
		printk(LOG_ERR, "linux: the planned layout is not all guest RAM\n");
		return false;
	}

	/* Neither destination overlaps any module, so the copies read intact
	 * sources. */
	memcpy(phys_to_virt(lay.kernel), file + img.kernel_offset, img.kernel_size);
	if (initrd_size && lay.initrd_moves)
		memcpy(phys_to_virt(lay.initrd), phys_to_virt(initrd->start), initrd_size);

	u8 *block = phys_to_virt(lay.boot_block);
	memset(block, 0, in.boot_block_size);
	const u64 gdt[4] = {0, 0, GDT_FLAT_CODE32, GDT_FLAT_DATA32};
	STATIC_ASSERT(sizeof(gdt) == LINUX_BLOCK_GDT_SIZE, "GDT size");
	STATIC_ASSERT(LINUX_BOOT_CS == 2 * 8 && LINUX_BOOT_DS == 3 * 8, "GDT slots");
	memcpy(block + LINUX_BLOCK_GDT, gdt, sizeof(gdt));
	memcpy(block + LINUX_BLOCK_CMDLINE, cmdline, cmdline_len + 1);

	struct linux_boot_values v = {
		.kernel = lay.kernel,
		.cmdline = lay.boot_block + LINUX_BLOCK_CMDLINE,
		.initrd = lay.initrd,
		.initrd_size = initrd_size,
		.rsdp = guest_rsdp(bi, block, lay.boot_block),
	};
	struct linux_boot_params *bp = (void *)(block + LINUX_BLOCK_BOOT_PARAMS);
	linux_build_boot_params(bp, file, &img, &v, vm->mem, vm->mem_count);

	set_entry_state(vp, lay.kernel, lay.boot_block + LINUX_BLOCK_BOOT_PARAMS,
			lay.boot_block + LINUX_BLOCK_GDT);

	printk(LOG_INFO, "linux: boot protocol %u.%02u, kernel %llu KiB at %llx (init_size %llu KiB), boot_params at %llx, %u e820 entries, RSDP %llx\n",
	       img.protocol >> 8, img.protocol & 0xFF, (unsigned long long)(img.kernel_size / 1024),
	       (unsigned long long)lay.kernel, (unsigned long long)(img.init_size / 1024),
	       (unsigned long long)(lay.boot_block + LINUX_BLOCK_BOOT_PARAMS), bp->e820_entries,
	       (unsigned long long)v.rsdp);
	if (initrd_size)
		printk(LOG_INFO, "linux: initrd %llu KiB at %llx (%s)\n",
		       (unsigned long long)(initrd_size / 1024), (unsigned long long)lay.initrd,
		       lay.initrd_moves ? "copied" : "left where the boot loader put it");
	printk(LOG_INFO, "linux: command line '%s'\n", cmdline);
	return true;
}
