/* unit-sources: kernel/vm/x86_decode.c tests/unit/fake_printk.c */
/* unit-libs: zydis */
/* The instruction decoder: hand-written cases for every kind in every mode,
 * then a differential run against Zydis over a large generated corpus. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "kernel/vm/x86_decode.h"
#include "tests/unit/fake_printk.h"

#define M16 X86_MODE_16
#define M32 X86_MODE_32
#define M64 X86_MODE_64

static const char *const mode_names[] = { "16", "32", "64" };

static void hexdump(char *buf, size_t size, const u8 *b, size_t n)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && off + 4 < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%02x", i ? " " : "", b[i]);
}

/* ==== Differential test against Zydis ========================================== */

static ZydisDecoder zdec[3];

static void zydis_init(void)
{
	static bool done;

	if (done)
		return;
	ZydisDecoderInit(&zdec[M16], ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
	ZydisDecoderInit(&zdec[M32], ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
	ZydisDecoderInit(&zdec[M64], ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	done = true;
}

/* A Zydis register in our terms. */
enum { ZR_NONE, ZR_GPR, ZR_IP, ZR_SEG, ZR_OTHER };
struct zreg {
	int cls;
	s8 num;
	u8 size;
	bool high8;
};

static struct zreg zreg(ZydisRegister r)
{
	struct zreg z = { .cls = ZR_OTHER, .num = -1 };

	if (r == ZYDIS_REGISTER_NONE) {
		z.cls = ZR_NONE;
	} else if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_R15B) {
		/* AL CL DL BL AH CH DH BH SPL BPL SIL DIL R8B..R15B */
		int i = (int)(r - ZYDIS_REGISTER_AL);
		z.cls = ZR_GPR;
		z.size = 1;
		z.num = (s8)(i < 4 ? i : i - 4);
		z.high8 = i >= 4 && i < 8;
	} else if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_R15W) {
		z = (struct zreg){ ZR_GPR, (s8)(r - ZYDIS_REGISTER_AX), 2, false };
	} else if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_R15D) {
		z = (struct zreg){ ZR_GPR, (s8)(r - ZYDIS_REGISTER_EAX), 4, false };
	} else if (r >= ZYDIS_REGISTER_RAX && r <= ZYDIS_REGISTER_R15) {
		z = (struct zreg){ ZR_GPR, (s8)(r - ZYDIS_REGISTER_RAX), 8, false };
	} else if (r == ZYDIS_REGISTER_IP || r == ZYDIS_REGISTER_EIP || r == ZYDIS_REGISTER_RIP) {
		z.cls = ZR_IP;
	} else if (r >= ZYDIS_REGISTER_ES && r <= ZYDIS_REGISTER_GS) {
		z.cls = ZR_SEG;
		z.num = (s8)(r - ZYDIS_REGISTER_ES);
	}
	return z;
}

/* ---- kinds versus Zydis mnemonics ---------------------------------------- */

#define MN(x) ZYDIS_MNEMONIC_##x
static const ZydisMnemonic kind_mnems[X86_K_COUNT][4] = {
	[X86_K_MOV_RM_REG] = { MN(MOV) },
	[X86_K_MOV_REG_RM] = { MN(MOV) },
	[X86_K_MOV_RM_IMM] = { MN(MOV) },
	[X86_K_MOV_ACC_MOFFS] = { MN(MOV) },
	[X86_K_MOV_MOFFS_ACC] = { MN(MOV) },
	[X86_K_MOVZX] = { MN(MOVZX) },
	[X86_K_MOVSX] = { MN(MOVSX) },
	[X86_K_MOVSXD] = { MN(MOVSXD) },
	[X86_K_MOVS] = { MN(MOVSB), MN(MOVSW), MN(MOVSD), MN(MOVSQ) },
	[X86_K_STOS] = { MN(STOSB), MN(STOSW), MN(STOSD), MN(STOSQ) },
	[X86_K_LODS] = { MN(LODSB), MN(LODSW), MN(LODSD), MN(LODSQ) },
	[X86_K_CMPS] = { MN(CMPSB), MN(CMPSW), MN(CMPSD), MN(CMPSQ) },
	[X86_K_SCAS] = { MN(SCASB), MN(SCASW), MN(SCASD), MN(SCASQ) },
	[X86_K_TEST_RM_REG] = { MN(TEST) },
	[X86_K_TEST_RM_IMM] = { MN(TEST) },
	[X86_K_XCHG] = { MN(XCHG) },
	[X86_K_CMPXCHG] = { MN(CMPXCHG) },
	[X86_K_XADD] = { MN(XADD) },
	[X86_K_CPUID] = { MN(CPUID) },
	[X86_K_RDMSR] = { MN(RDMSR) },
	[X86_K_WRMSR] = { MN(WRMSR) },
	[X86_K_RDTSC] = { MN(RDTSC) },
	[X86_K_RDTSCP] = { MN(RDTSCP) },
	[X86_K_RDPMC] = { MN(RDPMC) },
	[X86_K_IN] = { MN(IN) },
	[X86_K_OUT] = { MN(OUT) },
	[X86_K_INS] = { MN(INSB), MN(INSW), MN(INSD) },
	[X86_K_OUTS] = { MN(OUTSB), MN(OUTSW), MN(OUTSD) },
	[X86_K_HLT] = { MN(HLT) },
	[X86_K_PAUSE] = { MN(PAUSE) },
	[X86_K_INVLPG] = { MN(INVLPG) },
	[X86_K_INVD] = { MN(INVD) },
	[X86_K_WBINVD] = { MN(WBINVD) },
	[X86_K_MOV_FROM_CR] = { MN(MOV) },
	[X86_K_MOV_TO_CR] = { MN(MOV) },
	[X86_K_MOV_FROM_DR] = { MN(MOV) },
	[X86_K_MOV_TO_DR] = { MN(MOV) },
	[X86_K_CLTS] = { MN(CLTS) },
	[X86_K_LMSW] = { MN(LMSW) },
	[X86_K_SMSW] = { MN(SMSW) },
	[X86_K_LGDT] = { MN(LGDT) },
	[X86_K_LIDT] = { MN(LIDT) },
	[X86_K_SGDT] = { MN(SGDT) },
	[X86_K_SIDT] = { MN(SIDT) },
	[X86_K_LLDT] = { MN(LLDT) },
	[X86_K_SLDT] = { MN(SLDT) },
	[X86_K_LTR] = { MN(LTR) },
	[X86_K_STR] = { MN(STR) },
	[X86_K_XSETBV] = { MN(XSETBV) },
	[X86_K_XGETBV] = { MN(XGETBV) },
	[X86_K_VMCALL] = { MN(VMCALL) },
	[X86_K_VMMCALL] = { MN(VMMCALL) },
	[X86_K_VMFUNC] = { MN(VMFUNC) },
	[X86_K_VMRUN] = { MN(VMRUN) },
	[X86_K_VMLOAD] = { MN(VMLOAD) },
	[X86_K_VMSAVE] = { MN(VMSAVE) },
	[X86_K_STGI] = { MN(STGI) },
	[X86_K_CLGI] = { MN(CLGI) },
	[X86_K_INVLPGA] = { MN(INVLPGA) },
	[X86_K_SKINIT] = { MN(SKINIT) },
	[X86_K_VMXON] = { MN(VMXON) },
	[X86_K_VMXOFF] = { MN(VMXOFF) },
	[X86_K_VMCLEAR] = { MN(VMCLEAR) },
	[X86_K_VMPTRLD] = { MN(VMPTRLD) },
	[X86_K_VMPTRST] = { MN(VMPTRST) },
	[X86_K_VMREAD] = { MN(VMREAD) },
	[X86_K_VMWRITE] = { MN(VMWRITE) },
	[X86_K_VMLAUNCH] = { MN(VMLAUNCH) },
	[X86_K_VMRESUME] = { MN(VMRESUME) },
	[X86_K_INVEPT] = { MN(INVEPT) },
	[X86_K_INVVPID] = { MN(INVVPID) },
	[X86_K_INVPCID] = { MN(INVPCID) },
	[X86_K_MONITOR] = { MN(MONITOR) },
	[X86_K_MWAIT] = { MN(MWAIT) },
	[X86_K_INT3] = { MN(INT3) },
	[X86_K_INT] = { MN(INT) },
	[X86_K_INTO] = { MN(INTO) },
	[X86_K_INT1] = { MN(INT1) },
	[X86_K_IRET] = { MN(IRET), MN(IRETD), MN(IRETQ) },
	[X86_K_CLI] = { MN(CLI) },
	[X86_K_STI] = { MN(STI) },
	[X86_K_PUSHF] = { MN(PUSHF), MN(PUSHFD), MN(PUSHFQ) },
	[X86_K_POPF] = { MN(POPF), MN(POPFD), MN(POPFQ) },
	[X86_K_SWAPGS] = { MN(SWAPGS) },
	[X86_K_SYSCALL] = { MN(SYSCALL) },
	[X86_K_SYSRET] = { MN(SYSRET) },
	[X86_K_SYSENTER] = { MN(SYSENTER) },
	[X86_K_SYSEXIT] = { MN(SYSEXIT) },
	[X86_K_RSM] = { MN(RSM) },
	[X86_K_UD] = { MN(UD1), MN(UD2) },
};
static const ZydisMnemonic alu_mnems[8] = { MN(ADD), MN(OR), MN(ADC), MN(SBB),
					    MN(AND), MN(SUB), MN(XOR), MN(CMP) };
static const ZydisMnemonic unary_mnems[4] = { MN(INC), MN(DEC), MN(NOT), MN(NEG) };
static const ZydisMnemonic bt_mnems[4] = { MN(BT), MN(BTS), MN(BTR), MN(BTC) };

static bool kind_matches_mnemonic(const struct x86_insn *in, ZydisMnemonic m)
{
	switch (in->kind) {
	case X86_K_ALU_RM_REG:
	case X86_K_ALU_REG_RM:
	case X86_K_ALU_RM_IMM:
		return in->op < 8 && alu_mnems[in->op] == m;
	case X86_K_UNARY:
		return in->op < 4 && unary_mnems[in->op] == m;
	case X86_K_BT_RM_REG:
	case X86_K_BT_RM_IMM:
		return in->op < 4 && bt_mnems[in->op] == m;
	default:
		for (int i = 0; i < 4; i++)
			if (kind_mnems[in->kind][i] == m && m != MN(INVALID))
				return true;
		return false;
	}
}

/* Kinds that differ only in operand order or form compare as one family. */
static int kind_family(int k)
{
	switch (k) {
	case X86_K_ALU_REG_RM:
	case X86_K_ALU_RM_IMM:
		return X86_K_ALU_RM_REG;
	case X86_K_TEST_RM_IMM:
		return X86_K_TEST_RM_REG;
	case X86_K_BT_RM_IMM:
		return X86_K_BT_RM_REG;
	default:
		return k;
	}
}

/* The kind family we must report for what Zydis decoded, or -1 when Zydis'
 * view does not pin it down (a MOV or ADD without a memory operand, say). */
static int expected_family(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *zo)
{
	static int rev[ZYDIS_MNEMONIC_MAX_VALUE + 1];
	static bool built;
	bool rm_mem = false;

	if (!built) {
		for (int m = 0; m <= ZYDIS_MNEMONIC_MAX_VALUE; m++)
			rev[m] = -1;
		for (int k = 1; k < X86_K_COUNT; k++)
			for (int i = 0; i < 4; i++)
				if (kind_mnems[k][i] != MN(INVALID))
					rev[kind_mnems[k][i]] = k;
		/* These also name forms without memory operands, or moves to and
		 * from segment registers, which stay X86_K_OTHER. */
		rev[MN(MOV)] = rev[MN(TEST)] = rev[MN(XCHG)] = -1;
		built = true;
	}
	for (int i = 0; i < zi->operand_count; i++)
		if (zo[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    zo[i].encoding == ZYDIS_OPERAND_ENCODING_MODRM_RM)
			rm_mem = true;
	if (zi->opcode_map != ZYDIS_OPCODE_MAP_DEFAULT &&
	    (zi->mnemonic == MN(MOVSD) || zi->mnemonic == MN(CMPSD)))
		return -1; /* the SSE instructions of the same name */
	if (rev[zi->mnemonic] >= 0)
		return kind_family(rev[zi->mnemonic]);
	if (zi->mnemonic == MN(MOV) && zi->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT) {
		switch (zi->opcode) {
		case 0x88: case 0x89:
			return rm_mem ? X86_K_MOV_RM_REG : -1;
		case 0x8A: case 0x8B:
			return rm_mem ? X86_K_MOV_REG_RM : -1;
		case 0xC6: case 0xC7:
			return rm_mem ? X86_K_MOV_RM_IMM : -1;
		case 0xA0: case 0xA1:
			return X86_K_MOV_ACC_MOFFS;
		case 0xA2: case 0xA3:
			return X86_K_MOV_MOFFS_ACC;
		default:
			return -1;
		}
	}
	if (!rm_mem)
		return -1;
	for (int i = 0; i < 8; i++)
		if (zi->mnemonic == alu_mnems[i])
			return X86_K_ALU_RM_REG;
	for (int i = 0; i < 4; i++) {
		if (zi->mnemonic == unary_mnems[i])
			return X86_K_UNARY;
		if (zi->mnemonic == bt_mnems[i])
			return X86_K_BT_RM_REG;
	}
	if (zi->mnemonic == MN(TEST))
		return X86_K_TEST_RM_REG;
	if (zi->mnemonic == MN(XCHG))
		return X86_K_XCHG;
	return -1;
}

/* ---- operand comparison ------------------------------------------------------ */

static u64 size_mask(unsigned bytes)
{
	return bytes >= 8 ? ~0ULL : (1ULL << (8 * bytes)) - 1;
}

static bool regop_matches(const struct x86_regop *r, ZydisRegister zr)
{
	struct zreg z = zreg(zr);

	return z.cls == ZR_GPR && z.num == r->num && z.size == r->size && z.high8 == r->high8;
}

static const ZydisDecodedOperand *find_operand(const ZydisDecodedInstruction *zi,
					       const ZydisDecodedOperand *zo, int type,
					       int encoding)
{
	for (int i = 0; i < zi->operand_count; i++)
		if ((int)zo[i].type == type && (encoding < 0 || (int)zo[i].encoding == encoding))
			return &zo[i];
	return NULL;
}

/* The memory operand Zydis shows for ours: the ModRM or moffs one, or for
 * string instructions the one with the same base register. */
static const ZydisDecodedOperand *find_mem(const struct x86_insn *in,
					   const ZydisDecodedInstruction *zi,
					   const ZydisDecodedOperand *zo)
{
	for (int i = 0; i < zi->operand_count; i++) {
		const ZydisDecodedOperand *op = &zo[i];
		if (op->type != ZYDIS_OPERAND_TYPE_MEMORY)
			continue;
		if (in->has_modrm) {
			if (op->encoding == ZYDIS_OPERAND_ENCODING_MODRM_RM)
				return op;
		} else if (in->mem.disp_size) {
			if (op->encoding != ZYDIS_OPERAND_ENCODING_NONE)
				return op;
		} else if (zreg(op->mem.base).num == in->mem.base) {
			return op;
		}
	}
	return NULL;
}

/* Operand-level differences where the manuals are on our side.  Lengths and
 * raw fields are still compared for these. */
enum {
	OPX_MEM_REGS = 1, /* skip base/index/displacement of the memory operand */
	OPX_MEM_SEG = 2,  /* skip its segment */
	OPX_SIZES = 4,    /* skip memory and r/m register sizes */
};

static unsigned operand_exemptions(const struct x86_insn *in, const ZydisDecodedInstruction *zi)
{
	unsigned x = 0;

	/* Zydis 4.0 shows base R13D and loses the disp32 when 67 selects 32-bit
	 * addressing in 64-bit mode and a SIB has base 101b with mod 00 and
	 * REX.B: SDM vol. 2 table 2-5 says no base, disp32 (as without 67). */
	if (in->mode == M64 && in->addrsize == 4 && in->has_sib && in->mod == 0 &&
	    (in->sib & 7) == 5 && (in->rex & X86_REX_B))
		x |= OPX_MEM_REGS;
	/* 3E before an indirect near CALL/JMP is also CET's NOTRACK; Zydis then
	 * drops it as a segment override, the CPU does not. */
	if (zi->attributes & ZYDIS_ATTRIB_HAS_NOTRACK)
		x |= OPX_MEM_SEG;
	/* 66 63 /r: the SDM has MOVSXD r16, r/m16; Zydis reads r/m32. */
	if (in->kind == X86_K_MOVSXD && in->opsize == 2)
		x |= OPX_SIZES;
	return x;
}

/* Compares what Zydis and we make of one successfully decoded instruction;
 * returns NULL or a description of the first difference. */
static const char *compare_decoded(const struct x86_insn *in, const ZydisDecodedInstruction *zi,
				   const ZydisDecodedOperand *zo)
{
	static char why[160];
	unsigned exempt = operand_exemptions(in, zi);

	if (in->len != zi->length)
		return "length";
	/* Raw fields: displacement and immediates must sit where Zydis has them. */
	if (in->has_mem && (in->has_modrm || in->mem.disp_size)) {
		if (zi->raw.disp.size != 8 * in->mem.disp_size)
			return "displacement size";
		if (((u64)zi->raw.disp.value ^ (u64)in->mem.disp) & size_mask(in->mem.disp_size))
			return "displacement value";
	} else if (zi->raw.disp.size) {
		return "displacement Zydis has and we do not";
	}
	{
		unsigned zsz = zi->raw.imm[0].size / 8 + zi->raw.imm[1].size / 8;
		if (zsz != (unsigned)in->imm_size + in->imm2_size)
			return "immediate size";
		if (in->imm_size &&
		    ((zi->raw.imm[0].value.u ^ (u64)in->imm) & size_mask(in->imm_size)))
			return "immediate value";
	}
	if (in->has_modrm != (zi->raw.modrm.offset != 0 || (zi->attributes & ZYDIS_ATTRIB_HAS_MODRM)))
		return "ModRM presence";
	if (in->has_sib != !!(zi->attributes & ZYDIS_ATTRIB_HAS_SIB))
		return "SIB presence";

	if (in->has_mem) {
		const ZydisDecodedOperand *m = find_mem(in, zi, zo);
		if (!m)
			return "no Zydis memory operand";
		struct zreg base = zreg(m->mem.base), index = zreg(m->mem.index),
			    seg = zreg(m->mem.segment);
		s8 zbase = base.cls == ZR_IP ? X86_REG_RIP : base.num;
		if (exempt & OPX_MEM_REGS) {
			/* see operand_exemptions() */
		} else if (base.cls == ZR_IP) {
			if (!in->mem.rip_rel || in->mem.base != X86_REG_RIP)
				return "RIP-relative";
		} else if (zbase != in->mem.base || in->mem.rip_rel) {
			return "memory base";
		}
		if (!(exempt & OPX_MEM_REGS)) {
			if (index.num != in->mem.index)
				return "memory index";
			if (in->mem.index != X86_REG_NONE && m->mem.scale != in->mem.scale)
				return "memory scale";
			if (((u64)m->mem.disp.value ^ (u64)in->mem.disp) & size_mask(in->addrsize))
				return "memory displacement";
		}
		/* LEA computes an offset; Zydis shows no override there. */
		if (m->mem.type != ZYDIS_MEMOP_TYPE_AGEN && !(exempt & OPX_MEM_SEG) &&
		    (seg.cls != ZR_SEG || seg.num != in->mem.seg)) {
			snprintf(why, sizeof(why), "segment: ours %d, Zydis %d", in->mem.seg, seg.num);
			return why;
		}
		if (in->kind != X86_K_OTHER && in->mem.size && !(exempt & OPX_SIZES) &&
		    m->size != 8 * in->mem.size) {
			snprintf(why, sizeof(why), "memory size: ours %u, Zydis %u bits", in->mem.size,
				 m->size);
			return why;
		}
	}
	if (in->kind == X86_K_OTHER)
		return NULL;

	if (!kind_matches_mnemonic(in, zi->mnemonic))
		return "kind versus mnemonic";
	if (in->reg_op.num != X86_REG_NONE) {
		bool found = false;
		for (int i = 0; i < zi->operand_count; i++) {
			const ZydisDecodedOperand *r = &zo[i];
			if (r->type != ZYDIS_OPERAND_TYPE_REGISTER)
				continue;
			if (in->has_modrm ? r->encoding == ZYDIS_OPERAND_ENCODING_MODRM_REG
					  : zreg(r->reg.value).num == X86_REG_RAX)
				found = regop_matches(&in->reg_op, r->reg.value);
		}
		if (!found)
			return "register operand";
	}
	if (in->rm_op.num != X86_REG_NONE && !(exempt & OPX_SIZES)) {
		const ZydisDecodedOperand *r = find_operand(zi, zo, ZYDIS_OPERAND_TYPE_REGISTER,
							    ZYDIS_OPERAND_ENCODING_MODRM_RM);
		if (!r || !regop_matches(&in->rm_op, r->reg.value))
			return "r/m register operand";
	}
	if (in->imm_size) {
		const ZydisDecodedOperand *im = find_operand(zi, zo, ZYDIS_OPERAND_TYPE_IMMEDIATE, -1);
		unsigned w = in->opsize > in->imm_size ? in->opsize : in->imm_size;
		if (!im || ((im->imm.value.u ^ (u64)in->imm) & size_mask(w)))
			return "immediate operand";
	}
	if (in->kind == X86_K_MOV_FROM_CR || in->kind == X86_K_MOV_TO_CR ||
	    in->kind == X86_K_MOV_FROM_DR || in->kind == X86_K_MOV_TO_DR) {
		bool cr = in->kind == X86_K_MOV_FROM_CR || in->kind == X86_K_MOV_TO_CR;
		const ZydisDecodedOperand *r = find_operand(zi, zo, ZYDIS_OPERAND_TYPE_REGISTER,
							    ZYDIS_OPERAND_ENCODING_MODRM_REG);
		ZydisRegister want = (cr ? ZYDIS_REGISTER_CR0 : ZYDIS_REGISTER_DR0) + in->reg;
		if (!r || r->reg.value != want)
			return "control/debug register";
	}
	/* Zydis' operand width means little for system instructions. */
	if ((in->kind <= X86_K_BT_RM_IMM || in->kind == X86_K_IN || in->kind == X86_K_OUT) &&
	    zi->operand_width != 8 * in->opsize) {
		snprintf(why, sizeof(why), "operand size: ours %u, Zydis %u bits", in->opsize,
			 zi->operand_width);
		return why;
	}
	if (zi->address_width != 8 * in->addrsize)
		return "address size";
	return NULL;
}

/* ---- disagreements that are Zydis', not ours ----------------------------------- */

/* Encodings where we return success and Zydis reports an error, with the
 * reason we keep our answer.  Kept short on purpose: every entry is a place
 * where the manuals and Zydis 4.0 part ways. */
static bool allow_ok_vs_zydis_error(enum x86_cpu_mode mode, const struct x86_insn *in,
				    ZyanStatus zs)
{
	(void)mode;
	/* LOCK MOV CR0 is AMD's alternative encoding of MOV CR8 (APM vol. 3,
	 * "MOV CRn"; CPUID 8000_0001h ECX bit 4), which Zydis rejects as a
	 * misplaced LOCK.  Intel raises #UD; the hypervisor decides by vendor. */
	if ((in->kind == X86_K_MOV_TO_CR || in->kind == X86_K_MOV_FROM_CR) &&
	    (in->prefixes & X86_PFX_LOCK) && in->reg == 8 && zs == ZYDIS_STATUS_ILLEGAL_LOCK)
		return true;
	return false;
}

/* Encodings where we say #UD and Zydis decodes something. */
static bool allow_invalid_vs_zydis_ok(enum x86_cpu_mode mode, const u8 *b,
				      const ZydisDecodedInstruction *zi)
{
	(void)mode;
	(void)b;
	(void)zi;
	return false;
}

/* ---- corpus --------------------------------------------------------------------- */

static u64 rng_state;
static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Legal legacy prefixes, operand/address size and F2/F3 weighted up because
 * they change lengths and SSE forms. */
static const u8 legacy_prefixes[] = { 0x66, 0x66, 0x66, 0x67, 0x67, 0xF3, 0xF3, 0xF2, 0xF2, 0xF0,
				      0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65 };

static unsigned gen_prefixes(u8 *buf, enum x86_cpu_mode mode, unsigned max)
{
	unsigned n = 0, count = (unsigned)(rng() % (max + 1));

	for (unsigned i = 0; i < count; i++) {
		/* A REX before a legacy prefix is ignored; exercise that too. */
		if (mode == M64 && rng() % 16 == 0)
			buf[n++] = (u8)(0x40 | (rng() & 15));
		buf[n++] = legacy_prefixes[rng() % sizeof(legacy_prefixes)];
	}
	if (mode == M64 && rng() % 2)
		buf[n++] = (u8)(0x40 | (rng() & 15));
	return n;
}

static unsigned gen_opcode(u8 *buf, unsigned n, unsigned map, unsigned opcode)
{
	static const u8 escapes[4][2] = { { 0 }, { 0x0F }, { 0x0F, 0x38 }, { 0x0F, 0x3A } };
	static const u8 escape_len[4] = { 0, 1, 2, 2 };

	for (unsigned i = 0; i < escape_len[map]; i++)
		buf[n++] = escapes[map][i];
	buf[n++] = (u8)opcode;
	return n;
}

static void gen_tail(u8 *buf, unsigned n)
{
	for (; n < X86_MAX_INSN_LEN; n++)
		buf[n] = (u8)rng();
}

struct diff_stats {
	unsigned long compared;       /* both decoded: lengths and operands checked */
	unsigned long with_kind;      /* ... of which a kind other than OTHER */
	unsigned long unsupported;    /* we said unsupported */
	unsigned long unsup_zydis_ok; /* ... and Zydis decoded it */
	unsigned long invalid_agree;  /* both say the bytes are bad */
	unsigned long too_long;
	unsigned long allowed;        /* disagreements on the allowlists */
	unsigned long truncations;    /* prefixes of decoded instructions tried */
	unsigned long failures;
	unsigned long total;
	unsigned long unsup_by_mnemonic[ZYDIS_MNEMONIC_MAX_VALUE + 1];
};

static void report(struct diff_stats *st, enum x86_cpu_mode mode, const u8 *b, const char *what,
		   const struct x86_insn *in, const ZydisDecodedInstruction *zi, ZyanStatus zs)
{
	char hex[64];

	static long verbose = -1;

	if (verbose < 0)
		verbose = getenv("X86_DIFF_VERBOSE") ? atol(getenv("X86_DIFF_VERBOSE")) : 60;
	st->failures++;
	if (st->failures > (unsigned long)verbose)
		return;
	hexdump(hex, sizeof(hex), b, X86_MAX_INSN_LEN);
	fprintf(stderr, "x86_decode vs Zydis, %s-bit [%s]: %s (ours: len %u kind %s; Zydis: %s len %u %s)\n",
		mode_names[mode], hex, what, in->len, x86_kind_name(in->kind),
		ZYAN_SUCCESS(zs) ? "ok" : "error", ZYAN_SUCCESS(zs) ? zi->length : 0,
		ZYAN_SUCCESS(zs) ? ZydisMnemonicGetString(zi->mnemonic) : "");
}

static void check_one(struct diff_stats *st, enum x86_cpu_mode mode, const u8 *b)
{
	struct x86_insn in, tr;
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	int rc = x86_decode(b, X86_MAX_INSN_LEN, mode, &in);
	ZyanStatus zs = ZydisDecoderDecodeFull(&zdec[mode], b, X86_MAX_INSN_LEN, &zi, zo);
	bool zok = ZYAN_SUCCESS(zs);

	st->total++;
	switch (rc) {
	case X86_DECODE_OK:
		if (!zok) {
			if (allow_ok_vs_zydis_error(mode, &in, zs))
				st->allowed++;
			else
				report(st, mode, b, "we decode, Zydis refuses", &in, &zi, zs);
			return;
		}
		{
			const char *why = compare_decoded(&in, &zi, zo);
			int fam = expected_family(&zi, zo);
			if (!why && fam >= 0 && kind_family(in.kind) != fam)
				why = "Zydis' mnemonic implies another kind";
			if (why) {
				report(st, mode, b, why, &in, &zi, zs);
				return;
			}
		}
		st->compared++;
		if (in.kind != X86_K_OTHER)
			st->with_kind++;
		/* Every proper prefix of a valid instruction is truncated, and
		 * the length it asks for never overshoots. */
		for (unsigned avail = 0; avail < in.len; avail++) {
			int trc = x86_decode(b, avail, mode, &tr);
			st->truncations++;
			if (trc != X86_DECODE_TRUNCATED || tr.len <= avail || tr.len > in.len) {
				report(st, mode, b, "prefix of a valid instruction", &tr, &zi, zs);
				return;
			}
		}
		return;
	case X86_DECODE_UNSUPPORTED:
		st->unsupported++;
		if (zok) {
			st->unsup_zydis_ok++;
			if (zi.mnemonic <= ZYDIS_MNEMONIC_MAX_VALUE)
				st->unsup_by_mnemonic[zi.mnemonic]++;
		}
		return;
	case X86_DECODE_INVALID:
		if (zok) {
			if (allow_invalid_vs_zydis_ok(mode, b, &zi))
				st->allowed++;
			else
				report(st, mode, b, "we say #UD, Zydis decodes", &in, &zi, zs);
			return;
		}
		st->invalid_agree++;
		return;
	case X86_DECODE_TOO_LONG:
		st->too_long++;
		if (zok)
			report(st, mode, b, "we say too long, Zydis decodes", &in, &zi, zs);
		return;
	default:
		report(st, mode, b, "truncated with 15 bytes", &in, &zi, zs);
		return;
	}
}

START_TEST(test_differential)
{
	static struct diff_stats st[3];
	u8 buf[X86_MAX_INSN_LEN];

	zydis_init();
	rng_state = 0x243F6A8885A308D3ULL;
	for (int mode = M16; mode <= M64; mode++) {
		for (unsigned map = 0; map < 4; map++) {
			for (unsigned opc = 0; opc < 256; opc++) {
				/* Every ModRM byte under every opcode, with a few random
				 * prefixes: covers groups and register-form tables. */
				for (unsigned modrm = 0; modrm < 256; modrm++) {
					unsigned n = gen_prefixes(buf, (enum x86_cpu_mode)mode, 2);
					n = gen_opcode(buf, n, map, opc);
					buf[n++] = (u8)modrm;
					gen_tail(buf, n);
					check_one(&st[mode], (enum x86_cpu_mode)mode, buf);
				}
				/* Prefix-heavy encodings. */
				for (unsigned i = 0; i < 48; i++) {
					unsigned n = gen_prefixes(buf, (enum x86_cpu_mode)mode, 6);
					n = gen_opcode(buf, n, map, opc);
					gen_tail(buf, n);
					check_one(&st[mode], (enum x86_cpu_mode)mode, buf);
				}
			}
		}
	}

	unsigned long failures = 0;
	for (int mode = M16; mode <= M64; mode++) {
		struct diff_stats *s = &st[mode];
		printf("x86_decode vs Zydis %s-bit: %lu encodings, %lu compared (%lu with a kind), "
		       "%lu #UD agreed, %lu unsupported (%lu of them valid for Zydis), %lu too long, "
		       "%lu allowlisted, %lu truncations checked, %lu failures\n",
		       mode_names[mode], s->total, s->compared, s->with_kind, s->invalid_agree,
		       s->unsupported, s->unsup_zydis_ok, s->too_long, s->allowed, s->truncations,
		       s->failures);
		failures += s->failures;
		printf("  unsupported here, decoded by Zydis:");
		for (int m = 0; m <= ZYDIS_MNEMONIC_MAX_VALUE; m++)
			if (s->unsup_by_mnemonic[m])
				printf(" %s:%lu", ZydisMnemonicGetString((ZydisMnemonic)m),
				       s->unsup_by_mnemonic[m]);
		printf("\n");
	}
	ck_assert_msg(failures == 0, "%lu disagreements with Zydis (first ones on stderr)", failures);
}
END_TEST

/* ==== Suite ===================================================================== */

static Suite *x86_decode_suite(void)
{
	Suite *s = suite_create("x86_decode");
	TCase *diff = tcase_create("zydis");

	tcase_set_timeout(diff, 120);
	tcase_add_test(diff, test_differential);
	suite_add_tcase(s, diff);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(x86_decode_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
