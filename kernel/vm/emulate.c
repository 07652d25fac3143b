/* The instruction emulator for memory the SLAT does not back.  It covers the
 * instructions compilers use for device access (MOV forms, MOVZX/MOVSX,
 * string moves and stores, arithmetic and TEST with a memory operand, XCHG);
 * anything else is reported as unsupported and the caller stops the partition
 * with the decoded instruction in the dump. */
#include "kernel/vm/emulate.h"
#include "kernel/lib/format.h"
#include "arch/x86/cpu.h"
#include "kernel/lib/string.h"
#include "kernel/printk.h"
#include "kernel/vm/backend.h"
#include "kernel/vm/exits.h"
#include "kernel/vm/guest_mem.h"
#include "kernel/vm/x86_alu.h"

/* Elements of a REP string instruction done per exit; RIP stays on the
 * instruction until RCX is zero, so the guest re-executes it for the rest. */
#define REP_BUDGET 4096

enum x86_cpu_mode vp_code_mode(struct vp *vp)
{
	struct segment cs;
	vp_get_seg(vp, VP_CS, &cs);
	if ((vp_get_reg(vp, VP_EFER) & EFER_LMA) && (cs.attr & SEG_ATTR_L))
		return X86_MODE_64;
	if (!(vp_get_reg(vp, VP_CR0) & CR0_PE))
		return X86_MODE_16;
	return (cs.attr & SEG_ATTR_DB) ? X86_MODE_32 : X86_MODE_16;
}

int vp_fetch_decode(struct vp *vp, const struct vm_exit *exit, struct x86_insn *insn)
{
	u8 bytes[15];
	size_t have = 0;
	enum x86_cpu_mode mode = vp_code_mode(vp);

	if (exit && exit->insn_bytes_len) {
		have = exit->insn_bytes_len;
		memcpy(bytes, exit->insn_bytes, have);
	} else {
		struct segment cs;
		struct guest_walk_result res;
		vp_get_seg(vp, VP_CS, &cs);
		u64 rip = vp_get_reg(vp, VP_RIP);
		u64 linear = (mode == X86_MODE_64 ? 0 : cs.base) + rip;
		if (mode != X86_MODE_64)
			linear &= 0xFFFFFFFFULL;
		/* One walk per page: the instruction may end just before an
		 * unmapped page, so the second page is optional. */
		while (have < sizeof(bytes)) {
			u64 at = linear + have;
			size_t chunk = (size_t)MIN((u64)(sizeof(bytes) - have),
						   PAGE_SIZE - (at & (PAGE_SIZE - 1)));
			if (!guest_read_gva(vp, at, &bytes[have], chunk, &res))
				break;
			have += chunk;
		}
		if (!have) {
			printk(LOG_ERR, "vp%u: cannot fetch the instruction at %llx: %s (error %x, gpa %llx, reserved %llx, entry %llx)\n",
			       vp->index, (unsigned long long)linear, guest_walk_status_name(res.status),
			       res.error_code, (unsigned long long)res.unreadable_gpa,
			       (unsigned long long)res.reserved_bits,
			       (unsigned long long)(res.nlevels ? res.levels[res.nlevels - 1].value : 0));
			return X86_DECODE_TRUNCATED;
		}
	}
	return x86_decode(bytes, have, mode, insn);
}

u8 exit_instruction_length(struct vp *vp, const struct vm_exit *exit)
{
	struct x86_insn insn;
	if (exit->insn_len)
		return exit->insn_len;
	if (vp_fetch_decode(vp, exit, &insn) != X86_DECODE_OK)
		return 0;
	return insn.len;
}

enum exit_action exit_skip_instruction(struct vp *vp, struct vm_exit *exit)
{
	u8 len = exit_instruction_length(vp, exit);
	if (!len)
		vm_stop(vp, "cannot read or decode the exiting instruction", exit);
	vp_advance_rip(vp, len);
	return EXIT_RESUME;
}

/* ---- register operands ---------------------------------------------------- */

static u64 reg_read(struct vp *vp, const struct x86_regop *r)
{
	if (r->num < 0 || r->num >= VP_GPR_COUNT)
		return 0;
	u64 v = vp->gpr[r->num];
	if (r->high8)
		return (v >> 8) & 0xFF;
	return x86_truncate(v, r->size);
}

static void reg_write_sized(struct vp *vp, int num, bool high8, unsigned size, u64 value)
{
	if (num < 0 || num >= VP_GPR_COUNT)
		return;
	u64 *g = &vp->gpr[num];
	if (high8)
		*g = (*g & ~0xFF00ULL) | ((value & 0xFF) << 8);
	else if (size == 4)
		*g = (u32)value; /* 32-bit destinations zero-extend (SDM Vol. 1, 3.4.1.1) */
	else if (size == 8)
		*g = value;
	else
		*g = (*g & ~x86_truncate(~0ULL, size)) | x86_truncate(value, size);
}

static void reg_write(struct vp *vp, const struct x86_regop *r, u64 value)
{
	reg_write_sized(vp, r->num, r->high8, r->size, value);
}

static u64 address_mask(unsigned addrsize)
{
	return addrsize == 8 ? ~0ULL : x86_truncate(~0ULL, addrsize);
}

/* ---- memory through the guest's paging ------------------------------------ */

static u64 seg_base(struct vp *vp, u8 seg)
{
	static const enum vp_seg map[] = {VP_ES, VP_CS, VP_SS, VP_DS, VP_FS, VP_GS};
	struct segment s;
	if (seg > 5)
		return 0;
	/* In 64-bit mode only FS and GS have bases. */
	if (vp_code_mode(vp) == X86_MODE_64 && seg != 4 && seg != 5)
		return 0;
	vp_get_seg(vp, map[seg], &s);
	return s.base;
}

/* Translates one page of an access; false after injecting #PF or #GP. */
static bool translate_part(struct vp *vp, u64 gva, bool write, u64 *gpa)
{
	struct guest_walk_result res;
	enum guest_walk_status st = guest_translate(vp, gva, write ? GW_ACCESS_WRITE : GW_ACCESS_READ, &res);

	if (st == GW_PAGE_FAULT) {
		vp_set_reg(vp, VP_CR2, res.gva);
		vp_inject_exception(vp, 14, true, res.error_code);
		return false;
	}
	if (st != GW_OK) {
		vp_inject_gp(vp);
		return false;
	}
	*gpa = res.gpa;
	return true;
}

/* One element access at a guest-virtual address: guest RAM directly, the
 * faulting (unbacked) page through ops.  An access that crosses a page is
 * two accesses at unrelated GPAs, each RAM or not; both pages are translated
 * first because a fault on either faults the whole access, with nothing
 * written.  Returns false after injecting #PF or #GP. */
static bool mem_access(struct vp *vp, u64 gva, unsigned size, bool write, u64 *value,
		       u64 mmio_page, const struct mmio_ops *ops)
{
	unsigned first = (unsigned)MIN((u64)size, PAGE_SIZE - (gva & (PAGE_SIZE - 1)));
	unsigned part_size[2] = {first, size - first};
	u64 gpa[2] = {0, 0};
	u64 result = 0;

	if (!translate_part(vp, gva, write, &gpa[0]) ||
	    (part_size[1] && !translate_part(vp, gva + first, write, &gpa[1])))
		return false;
	unsigned shift = 0;
	for (unsigned i = 0; i < 2 && part_size[i]; i++) {
		unsigned n = part_size[i];
		u64 v = write ? x86_truncate(*value >> shift, n) : 0;
		if (ALIGN_DOWN(gpa[i], PAGE_SIZE) == mmio_page || !guest_mem_is_ram(vp->vm, gpa[i], n)) {
			if (write)
				ops->write(ops->ctx, gpa[i], n, v);
			else
				ops->read(ops->ctx, gpa[i], n, &v);
		} else if (!(write ? guest_write_gpa(vp->vm, gpa[i], &v, n)
				   : guest_read_gpa(vp->vm, gpa[i], &v, n))) {
			return false;
		}
		result |= v << shift;
		shift += n * 8;
	}
	if (!write)
		*value = result;
	return true;
}

static u64 effective_address(struct vp *vp, const struct x86_insn *insn)
{
	const struct x86_mem *m = &insn->mem;
	u64 ea = (u64)m->disp;
	if (m->rip_rel)
		ea += vp_get_reg(vp, VP_RIP) + insn->len;
	else if (m->base >= 0)
		ea += vp->gpr[m->base];
	if (m->index >= 0)
		ea += vp->gpr[m->index] * m->scale;
	ea &= address_mask(insn->addrsize);
	return seg_base(vp, m->seg) + ea;
}

/* ---- the instructions ------------------------------------------------------ */

static enum emulate_result string_op(struct vp *vp, const struct x86_insn *insn, u64 mmio_page,
				     const struct mmio_ops *ops)
{
	u64 amask = address_mask(insn->addrsize);
	bool rep = insn->rep != 0;
	u64 count = rep ? vp->gpr[VP_RCX] & amask : 1;
	unsigned size = insn->opsize;
	s64 step = (vp_get_reg(vp, VP_RFLAGS) & X86_FLAG_DF) ? -(s64)size : (s64)size;
	u64 es = seg_base(vp, 0), src_seg = seg_base(vp, insn->mem.seg);

	for (u32 n = 0; count && n < REP_BUDGET; n++) {
		u64 value = vp->gpr[VP_RAX];
		u64 si = vp->gpr[VP_RSI] & amask, di = vp->gpr[VP_RDI] & amask;
		switch (insn->kind) {
		case X86_K_MOVS:
			if (!mem_access(vp, src_seg + si, size, false, &value, mmio_page, ops) ||
			    !mem_access(vp, es + di, size, true, &value, mmio_page, ops))
				return EMULATE_RETRY;
			break;
		case X86_K_STOS:
			if (!mem_access(vp, es + di, size, true, &value, mmio_page, ops))
				return EMULATE_RETRY;
			break;
		default: /* LODS */
			if (!mem_access(vp, src_seg + si, size, false, &value, mmio_page, ops))
				return EMULATE_RETRY;
			reg_write_sized(vp, VP_RAX, false, size, value);
			break;
		}
		if (insn->kind != X86_K_STOS)
			vp->gpr[VP_RSI] = (vp->gpr[VP_RSI] & ~amask) | ((si + (u64)step) & amask);
		if (insn->kind != X86_K_LODS)
			vp->gpr[VP_RDI] = (vp->gpr[VP_RDI] & ~amask) | ((di + (u64)step) & amask);
		count--;
		if (rep)
			vp->gpr[VP_RCX] = (vp->gpr[VP_RCX] & ~amask) | count;
	}
	if (count)
		return EMULATE_RETRY;
	vp_advance_rip(vp, insn->len);
	return EMULATE_DONE;
}

enum emulate_result emulate_mmio(struct vp *vp, const struct vm_exit *exit, u64 mmio_gpa,
				 const struct mmio_ops *ops, struct x86_insn *insn)
{
	u64 page = ALIGN_DOWN(mmio_gpa, PAGE_SIZE);
	int st = vp_fetch_decode(vp, exit, insn);

	if (st == X86_DECODE_TRUNCATED)
		return EMULATE_FETCH_FAILED;
	if (st != X86_DECODE_OK)
		return EMULATE_UNSUPPORTED;
	if (insn->kind == X86_K_MOVS || insn->kind == X86_K_STOS || insn->kind == X86_K_LODS)
		return string_op(vp, insn, page, ops);
	if (!insn->has_mem)
		return EMULATE_UNSUPPORTED;
	/* Every kind below names a general-purpose register (or none it uses):
	 * refuse anything else rather than index past the GPR array. */
	if (insn->reg_op.num >= VP_GPR_COUNT || insn->mem.base >= VP_GPR_COUNT + 1 ||
	    insn->mem.index >= VP_GPR_COUNT)
		return EMULATE_UNSUPPORTED;

	u64 gva = effective_address(vp, insn);
	unsigned size = insn->mem.size ? insn->mem.size : insn->opsize;
	u64 flags = vp_get_reg(vp, VP_RFLAGS);
	u64 m = 0, r;

	switch (insn->kind) {
	case X86_K_MOV_REG_RM:
	case X86_K_MOV_ACC_MOFFS:
		if (!mem_access(vp, gva, size, false, &m, page, ops))
			return EMULATE_RETRY;
		reg_write(vp, &insn->reg_op, m);
		break;
	case X86_K_MOV_RM_REG:
	case X86_K_MOV_MOFFS_ACC:
		m = reg_read(vp, &insn->reg_op);
		if (!mem_access(vp, gva, size, true, &m, page, ops))
			return EMULATE_RETRY;
		break;
	case X86_K_MOV_RM_IMM:
		m = (u64)insn->imm;
		if (!mem_access(vp, gva, size, true, &m, page, ops))
			return EMULATE_RETRY;
		break;
	case X86_K_MOVZX:
	case X86_K_MOVSX:
	case X86_K_MOVSXD:
		if (!mem_access(vp, gva, size, false, &m, page, ops))
			return EMULATE_RETRY;
		if (insn->kind != X86_K_MOVZX)
			m = x86_sign_extend(m, size);
		reg_write(vp, &insn->reg_op, m);
		break;
	case X86_K_ALU_RM_REG:
	case X86_K_ALU_RM_IMM:
	case X86_K_ALU_REG_RM: {
		u64 other = insn->kind == X86_K_ALU_RM_IMM ? (u64)insn->imm : reg_read(vp, &insn->reg_op);
		if (!mem_access(vp, gva, size, false, &m, page, ops))
			return EMULATE_RETRY;
		if (insn->kind == X86_K_ALU_REG_RM) {
			r = x86_alu(insn->op, other, m, size, &flags);
			if (insn->op != 7) /* CMP writes nothing */
				reg_write(vp, &insn->reg_op, r);
		} else {
			r = x86_alu(insn->op, m, other, size, &flags);
			if (insn->op != 7 && !mem_access(vp, gva, size, true, &r, page, ops))
				return EMULATE_RETRY;
		}
		vp_set_reg(vp, VP_RFLAGS, flags);
		break;
	}
	case X86_K_TEST_RM_REG:
	case X86_K_TEST_RM_IMM: {
		u64 other = insn->kind == X86_K_TEST_RM_IMM ? (u64)insn->imm : reg_read(vp, &insn->reg_op);
		if (!mem_access(vp, gva, size, false, &m, page, ops))
			return EMULATE_RETRY;
		x86_test(m, other, size, &flags);
		vp_set_reg(vp, VP_RFLAGS, flags);
		break;
	}
	case X86_K_XCHG: {
		u64 old_reg = reg_read(vp, &insn->reg_op);
		if (!mem_access(vp, gva, size, false, &m, page, ops) ||
		    !mem_access(vp, gva, size, true, &old_reg, page, ops))
			return EMULATE_RETRY;
		reg_write(vp, &insn->reg_op, m);
		break;
	}
	default:
		return EMULATE_UNSUPPORTED;
	}
	vp_advance_rip(vp, insn->len);
	return EMULATE_DONE;
}

enum exit_action emulate_mmio_exit(struct vp *vp, const struct vm_exit *exit, u64 mmio_gpa,
				   const struct mmio_ops *ops, const char *what)
{
	struct x86_insn insn;
	char why[96];

	switch (emulate_mmio(vp, exit, mmio_gpa, ops, &insn)) {
	case EMULATE_DONE:
	case EMULATE_RETRY:
		return EXIT_RESUME;
	case EMULATE_FETCH_FAILED:
		fmt_snprintf(why, sizeof(why), "cannot fetch the instruction that touched %s", what);
		vm_stop(vp, why, exit);
	default:
		printk(LOG_ERR, "vp%u: cannot emulate %s (%u bytes, opcode %02x) touching %s at gpa %llx\n",
		       vp->index, x86_kind_name(insn.kind), insn.len, insn.opcode, what,
		       (unsigned long long)mmio_gpa);
		fmt_snprintf(why, sizeof(why), "unsupported instruction on %s", what);
		vm_stop(vp, why, exit);
	}
}
