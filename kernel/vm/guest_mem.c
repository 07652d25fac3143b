#include "kernel/vm/guest_mem.h"
#include "arch/x86/cpu.h"
#include "kernel/boot_info.h"
#include "kernel/layout.h"
#include "kernel/lib/string.h"
#include "kernel/mm/frame_alloc.h"
#include "kernel/mm/memmap.h"
#include "kernel/mm/pages.h"

void guest_mem_build_map(struct vm *vm)
{
	struct mem_region in[BOOT_MAX_MEM_REGIONS + 8];
	struct mem_region out[VM_MAX_MEM_REGIONS];
	u32 n, nhv, count = 0;
	const struct mem_region *map = pages_memmap(&n);
	const struct frame_range *hv = pages_hv_ranges(&nhv);

	for (u32 i = 0; i < n && count < ARRAY_SIZE(in); i++)
		in[count++] = map[i];
	/* The sanitizer lets the more restrictive type win an overlap, so listing
	 * our ranges as reserved carves them out of the RAM around them. */
	for (u32 i = 0; i < nhv && count < ARRAY_SIZE(in); i++)
		in[count++] = (struct mem_region){hv[i].base, hv[i].end - hv[i].base, MEM_RESERVED};
	u32 m = memmap_sanitize(in, count, out, ARRAY_SIZE(out));
	for (u32 i = 0; i < m; i++)
		vm->mem[i] = (struct guest_mem_region){out[i].base, out[i].len, out[i].type};
	vm->mem_count = m;
}

static bool type_is_ram(u32 type)
{
	return type == MEM_USABLE || type == MEM_ACPI_RECLAIMABLE || type == MEM_ACPI_NVS;
}

bool guest_mem_is_ram(const struct vm *vm, u64 gpa, u64 len)
{
	if (len == 0 || gpa + len < gpa)
		return false;
	/* Sorted and merged, so one region must hold the whole range... unless
	 * two RAM regions of different types touch; walk them in order. */
	u64 cur = gpa, end = gpa + len;
	for (u32 i = 0; i < vm->mem_count && cur < end; i++) {
		const struct guest_mem_region *r = &vm->mem[i];
		if (r->base + r->len <= cur)
			continue;
		if (r->base > cur || !type_is_ram(r->type))
			return false;
		cur = r->base + r->len;
	}
	return cur >= end;
}

bool guest_mem_is_hv(u64 gpa)
{
	u32 n;
	const struct frame_range *hv = pages_hv_ranges(&n);
	for (u32 i = 0; i < n; i++) {
		if (gpa >= hv[i].base && gpa < hv[i].end)
			return true;
	}
	return false;
}

/* Guest RAM as the hypervisor reaches it: the identity map, except page 0,
 * which is only mapped at its alias (kernel/layout.h). */
static u8 *guest_ptr(u64 gpa)
{
	return gpa < PAGE_SIZE ? (u8 *)PAGE0_ALIAS_VBASE + gpa : phys_to_virt(gpa);
}

/* The part of [gpa, gpa + len) that guest_ptr(gpa) reaches contiguously. */
static size_t contiguous(u64 gpa, size_t len)
{
	return gpa < PAGE_SIZE ? MIN(len, (size_t)(PAGE_SIZE - gpa)) : len;
}

bool guest_read_gpa(const struct vm *vm, u64 gpa, void *buf, size_t len)
{
	u8 *out = buf;

	if (!guest_mem_is_ram(vm, gpa, len))
		return false;
	while (len) {
		size_t n = contiguous(gpa, len);
		memcpy(out, guest_ptr(gpa), n);
		out += n;
		gpa += n;
		len -= n;
	}
	return true;
}

bool guest_write_gpa(const struct vm *vm, u64 gpa, const void *buf, size_t len)
{
	const u8 *in = buf;

	if (!guest_mem_is_ram(vm, gpa, len))
		return false;
	while (len) {
		size_t n = contiguous(gpa, len);
		memcpy(guest_ptr(gpa), in, n);
		in += n;
		gpa += n;
		len -= n;
	}
	return true;
}

static bool guest_ram_read(void *ctx, u64 pa, void *buf, size_t len)
{
	(void)ctx;
	return guest_read_gpa(&the_vm, pa, buf, len);
}

const struct phys_reader guest_ram_reader = {guest_ram_read, NULL};

enum guest_walk_status guest_translate(struct vp *vp, u64 gva, enum guest_access_kind kind,
				       struct guest_walk_result *res)
{
	struct segment ss;
	vp_get_seg(vp, VP_SS, &ss);
	struct guest_paging_regs regs = {
		.cr0 = vp_get_reg(vp, VP_CR0),
		.cr3 = vp_get_reg(vp, VP_CR3),
		.cr4 = vp_get_reg(vp, VP_CR4),
		.efer = vp_get_reg(vp, VP_EFER),
		.rflags = vp_get_reg(vp, VP_RFLAGS),
	};
	struct guest_walk_caps caps = {
		.maxphyaddr = (u8)cpu_features.phys_addr_bits,
		.page_1g = cpu_features.pdpe1gb,
	};
	struct guest_access access = {.kind = kind, .user = SEG_ATTR_DPL(ss.attr) == 3};
	return guest_walk(&guest_ram_reader, &caps, &regs, gva, access, res);
}

static bool guest_copy_gva(struct vp *vp, u64 gva, void *buf, size_t len, bool write,
			   struct guest_walk_result *res)
{
	u8 *p = buf;
	while (len) {
		if (guest_translate(vp, gva, write ? GW_ACCESS_WRITE : GW_ACCESS_READ, res) != GW_OK)
			return false;
		u64 in_page = res->page_size - (res->gpa & (res->page_size - 1));
		size_t chunk = (size_t)MIN((u64)len, in_page);
		bool ok = write ? guest_write_gpa(vp->vm, res->gpa, p, chunk)
				: guest_read_gpa(vp->vm, res->gpa, p, chunk);
		if (!ok) {
			res->status = GW_TABLE_UNREADABLE;
			res->unreadable_gpa = res->gpa;
			return false;
		}
		p += chunk;
		gva += chunk;
		len -= chunk;
	}
	return true;
}

bool guest_read_gva(struct vp *vp, u64 gva, void *buf, size_t len, struct guest_walk_result *res)
{
	return guest_copy_gva(vp, gva, buf, len, false, res);
}

bool guest_write_gva(struct vp *vp, u64 gva, const void *buf, size_t len,
		     struct guest_walk_result *res)
{
	return guest_copy_gva(vp, gva, (void *)buf, len, true, res);
}
