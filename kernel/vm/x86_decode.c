/* x86 instruction decoder: lengths, validity and operands (see x86_decode.h).
 *
 * Opcode properties live in tables indexed by opcode byte: one per map, plus
 * group tables indexed by ModRM.reg for the opcodes the SDM calls groups.  The
 * code walks prefixes, opcode, ModRM/SIB, displacement and immediate in that
 * order (SDM vol. 2 figure 2-1) and consults the tables at each step; only
 * the handful of encodings that reuse bytes in mode-dependent ways (VEX/EVEX
 * over LES/LDS/BOUND, MOVSXD over ARPL, PAUSE, MOV CR/DR, group 7, x87) have
 * code of their own. */
#include "kernel/vm/x86_decode.h"
#include "kernel/lib/string.h"

/* ---- Table encoding -------------------------------------------------------- */

enum imm_type {
	I_NONE,
	I_B,     /* ib, unsigned */
	I_SB,    /* ib, sign-extended */
	I_W,     /* iw, unsigned */
	I_Z,     /* iw or id by operand size, sign-extended */
	I_V,     /* iw, id or iq by operand size (MOV r, imm) */
	I_JB,    /* rel8 */
	I_JZ,    /* rel16 or rel32 */
	I_AP,    /* ptr16:16 or ptr16:32 */
	I_MOFFS, /* moffs: an address-size displacement, not an immediate */
	I_WB,    /* ENTER: iw, ib */
	I_BB,    /* EXTRQ/INSERTQ: ib, ib */
};

/* Bytes a memory operand (or the register in its place) covers. */
enum msize {
	MS_NONE,
	MS_OP,      /* the operand size */
	MS_1,
	MS_2,
	MS_8,
	MS_16,
	MS_DESC,    /* LGDT/SGDT: 2-byte limit and 4- or 8-byte base */
	MS_OP_MAX4, /* MOVSXD: 16 with 66, else 32 */
};

enum special {
	SP_NONE,
	SP_0F,
	SP_0F38,
	SP_0F3A,
	SP_VEX,  /* C4/C5: LES/LDS unless 64-bit mode or ModRM.mod == 3 */
	SP_EVEX, /* 62: BOUND unless 64-bit mode or ModRM.mod == 3 */
	SP_63,   /* ARPL, or MOVSXD in 64-bit mode */
	SP_90,   /* NOP, PAUSE, XCHG r8, rAX */
	SP_GRP7, /* 0F 01: register forms are a table of whole ModRM bytes */
	SP_TSX,  /* C6 F8 XABORT, C7 F8 XBEGIN: nothing else under /7 */
	SP_CRDR, /* 0F 20-23 */
	SP_X87,
};

#define F_DEF (1u << 0)    /* the entry exists; absent ones are #UD or unmodelled */
#define F_M (1u << 1)      /* ModRM follows the opcode */
#define F_B (1u << 2)      /* byte operands */
#define F_I64 (1u << 3)    /* #UD in 64-bit mode */
#define F_O64 (1u << 4)    /* #UD outside 64-bit mode */
#define F_D64 (1u << 5)    /* 64-bit mode: operand size defaults to 64 */
#define F_F64 (1u << 6)    /* 64-bit mode: operand size is 64, 66 is ignored */
#define F_LK (1u << 7)     /* LOCK allowed when r/m is memory */
#define F_MEM (1u << 8)    /* register form is #UD */
#define F_REG (1u << 9)    /* memory form is #UD */
#define F_GRP (1u << 10)   /* ModRM.reg picks an entry of groups[grp] */
#define F_GCM (1u << 11)   /* ... of groups[grp + 4 * (mod == 3) + prefix column] */
#define F_BAD (1u << 12)   /* #UD */
#define F_UNS (1u << 13)   /* not modelled */
#define F_SSE (1u << 14)   /* validity depends on the mandatory prefix: see cols */
#define F_NOMOD (1u << 15) /* ModRM.mod is ignored: both operands are registers */
#define F_OSFIX (1u << 16) /* operand size is 32, or 64 in 64-bit mode, whatever the prefixes */
#define F_OS16 (1u << 17)  /* operand size is 16 */
#define F_OS32 (1u << 18)  /* REX.W does not make it 64 (port I/O) */
#define F_NP (1u << 19)    /* 66/F2/F3 make it another, unmodelled instruction */

/* Mandatory-prefix columns.  The last F2/F3 wins over any 66; SDM vol. 2
 * 2.1.2 calls such mixes unpredictable, and this is Zydis' reading. */
enum column { COL_NONE = 0, COL_66 = 1, COL_F3 = 2, COL_F2 = 3 };

/* What each column allows: #UD, any ModRM, memory form only, register form
 * only, or not modelled. */
enum { cX = 0, cA = 1, cM = 2, cR = 3, cU = 4 };
#define COLS(n, p66, f3, f2) ((u16)((n) | (p66) << 3 | (f3) << 6 | (f2) << 9))

struct opdesc {
	u32 flags;
	u16 cols;
	u8 imm;   /* enum imm_type */
	u8 kind;  /* enum x86_kind */
	u8 op;    /* insn->op */
	u8 grp;   /* enum group_id */
	u8 special;
	u8 msize; /* enum msize */
};

#define ENT(fl, im, k, o, ms) \
	{ .flags = F_DEF | (fl), .imm = (im), .kind = (k), .op = (o), .msize = (ms) }
#define PL(fl) ENT((fl), I_NONE, X86_K_OTHER, 0, MS_NONE)
#define PLI(fl, im) ENT((fl), (im), X86_K_OTHER, 0, MS_NONE)
#define KND(fl, k) ENT((fl), I_NONE, X86_K_##k, 0, MS_NONE)
#define KMS(fl, k, ms) ENT((fl), I_NONE, X86_K_##k, 0, (ms))
#define BAD ENT(F_BAD, I_NONE, X86_K_OTHER, 0, MS_NONE)
#define UNS ENT(F_UNS, I_NONE, X86_K_OTHER, 0, MS_NONE)
#define GRP(fl, im, g) { .flags = F_DEF | F_GRP | (fl), .imm = (im), .grp = (g) }
#define GCM(fl, im, g) { .flags = F_DEF | F_GCM | (fl), .imm = (im), .grp = (g) }
#define SSE(im, n, p66, f3, f2) \
	{ .flags = F_DEF | F_M | F_SSE, .imm = (im), .cols = COLS(n, p66, f3, f2) }
#define SPEC(fl, sp) { .flags = F_DEF | (fl), .special = (sp) }
#define SPECK(fl, sp, k, ms) \
	{ .flags = F_DEF | (fl), .special = (sp), .kind = X86_K_##k, .msize = (ms) }
#define ALL8(e) { e, e, e, e, e, e, e, e }

/* The six forms of ADD/OR/ADC/SBB/AND/SUB/XOR/CMP at 00-3D. */
#define ALU_ROW(base, alu, lk)                                                      \
	[(base) + 0] = ENT(F_M | F_B | (lk), I_NONE, X86_K_ALU_RM_REG, (alu), MS_OP), \
	[(base) + 1] = ENT(F_M | (lk), I_NONE, X86_K_ALU_RM_REG, (alu), MS_OP),       \
	[(base) + 2] = ENT(F_M | F_B, I_NONE, X86_K_ALU_REG_RM, (alu), MS_OP),        \
	[(base) + 3] = ENT(F_M, I_NONE, X86_K_ALU_REG_RM, (alu), MS_OP),              \
	[(base) + 4] = PLI(F_B, I_SB), [(base) + 5] = PLI(0, I_Z)

/* ---- Groups ------------------------------------------------------------------ */

enum group_id {
	G_1,   /* 80-83 */
	G_1A,  /* 8F */
	G_2,   /* shifts */
	G_3B,  /* F6 */
	G_3V,  /* F7 */
	G_4,   /* FE */
	G_5,   /* FF */
	G_11B, /* C6 */
	G_11V, /* C7 */
	G_8C,  /* MOV r/m, Sreg */
	G_8E,  /* MOV Sreg, r/m */
	G_6,   /* 0F 00 */
	G_7M,  /* 0F 01 memory forms */
	G_8,   /* 0F BA */
	/* Column/mod groups: eight consecutive tables each. */
	G_0D,
	G_71 = G_0D + 8,
	G_72 = G_71 + 8,
	G_73 = G_72 + 8,
	G_78 = G_73 + 8,
	G_79 = G_78 + 8,
	G_AE = G_79 + 8,
	G_C7 = G_AE + 8,
	G_COUNT = G_C7 + 8,
};

#define ALU_IMM(alu, lk) ENT((lk), I_NONE, X86_K_ALU_RM_IMM, (alu), MS_OP)
#define UNARY(op, lk) ENT((lk), I_NONE, X86_K_UNARY, (op), MS_OP)
#define BT_IMM(op, lk) ENT((lk), I_NONE, X86_K_BT_RM_IMM, (op), MS_OP)
#define VMX_RW(k) ENT(F_OSFIX, I_NONE, X86_K_##k, 0, MS_OP)
#define PSHIFT PL(0)

static const struct opdesc groups[G_COUNT][8] = {
	[G_1] = {
		ALU_IMM(X86_ALU_ADD, F_LK), ALU_IMM(X86_ALU_OR, F_LK), ALU_IMM(X86_ALU_ADC, F_LK),
		ALU_IMM(X86_ALU_SBB, F_LK), ALU_IMM(X86_ALU_AND, F_LK), ALU_IMM(X86_ALU_SUB, F_LK),
		ALU_IMM(X86_ALU_XOR, F_LK), ALU_IMM(X86_ALU_CMP, 0),
	},
	/* 8F with a non-zero reg field is AMD's XOP escape. */
	[G_1A] = { PL(0), UNS, UNS, UNS, UNS, UNS, UNS, UNS },
	/* /6 is the undocumented alias of SHL that every CPU executes. */
	[G_2] = ALL8(PL(0)),
	/* /1 is the undocumented alias of TEST. */
	[G_3B] = {
		ENT(0, I_SB, X86_K_TEST_RM_IMM, 0, MS_OP), ENT(0, I_SB, X86_K_TEST_RM_IMM, 0, MS_OP),
		UNARY(X86_UNARY_NOT, F_LK), UNARY(X86_UNARY_NEG, F_LK), PL(0), PL(0), PL(0), PL(0),
	},
	[G_3V] = {
		ENT(0, I_Z, X86_K_TEST_RM_IMM, 0, MS_OP), ENT(0, I_Z, X86_K_TEST_RM_IMM, 0, MS_OP),
		UNARY(X86_UNARY_NOT, F_LK), UNARY(X86_UNARY_NEG, F_LK), PL(0), PL(0), PL(0), PL(0),
	},
	[G_4] = { UNARY(X86_UNARY_INC, F_LK), UNARY(X86_UNARY_DEC, F_LK), BAD, BAD, BAD, BAD, BAD, BAD },
	[G_5] = {
		UNARY(X86_UNARY_INC, F_LK), UNARY(X86_UNARY_DEC, F_LK),
		PL(F_F64),          /* CALL r/m */
		PL(F_MEM),          /* CALLF m16:x */
		PL(F_F64),          /* JMP r/m */
		PL(F_MEM),          /* JMPF m16:x */
		PL(F_D64),          /* PUSH r/m */
		BAD,
	},
	[G_11B] = {
		ENT(0, I_SB, X86_K_MOV_RM_IMM, 0, MS_OP), BAD, BAD, BAD, BAD, BAD, BAD,
		{ .flags = F_DEF | F_REG, .imm = I_B, .special = SP_TSX },
	},
	[G_11V] = {
		ENT(0, I_Z, X86_K_MOV_RM_IMM, 0, MS_OP), BAD, BAD, BAD, BAD, BAD, BAD,
		{ .flags = F_DEF | F_REG, .imm = I_JZ, .special = SP_TSX },
	},
	/* Only ES, CS, SS, DS, FS, GS exist, and CS cannot be loaded by MOV. */
	[G_8C] = { PL(0), PL(0), PL(0), PL(0), PL(0), PL(0), BAD, BAD },
	[G_8E] = { PL(0), BAD, PL(0), PL(0), PL(0), PL(0), BAD, BAD },
	[G_6] = {
		ENT(0, I_NONE, X86_K_SLDT, 0, MS_2), ENT(0, I_NONE, X86_K_STR, 0, MS_2),
		ENT(0, I_NONE, X86_K_LLDT, 0, MS_2), ENT(0, I_NONE, X86_K_LTR, 0, MS_2),
		PL(0), PL(0), BAD, BAD, /* VERR, VERW; /6 was JMPE on Itanium */
	},
	[G_7M] = {
		KMS(0, SGDT, MS_DESC), KMS(0, SIDT, MS_DESC), KMS(0, LGDT, MS_DESC),
		KMS(0, LIDT, MS_DESC), KMS(0, SMSW, MS_2), UNS /* F3: RSTORSSP */,
		KMS(0, LMSW, MS_2), KMS(0, INVLPG, MS_NONE),
	},
	[G_8] = {
		BAD, BAD, BAD, BAD, BT_IMM(X86_BT_BT, 0), BT_IMM(X86_BT_BTS, F_LK),
		BT_IMM(X86_BT_BTR, F_LK), BT_IMM(X86_BT_BTC, F_LK),
	},

	/* 0F 0D: PREFETCH/PREFETCHW and their reserved aliases; register forms
	 * vary by vendor. */
	[G_0D + 0] = ALL8(PL(0)), [G_0D + 1] = ALL8(PL(0)),
	[G_0D + 2] = ALL8(PL(0)), [G_0D + 3] = ALL8(PL(0)),
	[G_0D + 4] = ALL8(UNS), [G_0D + 5] = ALL8(UNS),
	[G_0D + 6] = ALL8(UNS), [G_0D + 7] = ALL8(UNS),

	/* 0F 71-73: MMX/SSE2 shifts by immediate, register forms only. */
	[G_71 + 0] = ALL8(BAD), [G_71 + 1] = ALL8(BAD), [G_71 + 2] = ALL8(BAD), [G_71 + 3] = ALL8(BAD),
	[G_71 + 4] = { BAD, BAD, PSHIFT, BAD, PSHIFT, BAD, PSHIFT, BAD },
	[G_71 + 5] = { BAD, BAD, PSHIFT, BAD, PSHIFT, BAD, PSHIFT, BAD },
	[G_71 + 6] = ALL8(BAD), [G_71 + 7] = ALL8(BAD),
	[G_72 + 0] = ALL8(BAD), [G_72 + 1] = ALL8(BAD), [G_72 + 2] = ALL8(BAD), [G_72 + 3] = ALL8(BAD),
	[G_72 + 4] = { BAD, BAD, PSHIFT, BAD, PSHIFT, BAD, PSHIFT, BAD },
	[G_72 + 5] = { BAD, BAD, PSHIFT, BAD, PSHIFT, BAD, PSHIFT, BAD },
	[G_72 + 6] = ALL8(BAD), [G_72 + 7] = ALL8(BAD),
	/* PSRLDQ/PSLLDQ (/3, /7) exist for XMM registers only. */
	[G_73 + 0] = ALL8(BAD), [G_73 + 1] = ALL8(BAD), [G_73 + 2] = ALL8(BAD), [G_73 + 3] = ALL8(BAD),
	[G_73 + 4] = { BAD, BAD, PSHIFT, BAD, BAD, BAD, PSHIFT, BAD },
	[G_73 + 5] = { BAD, BAD, PSHIFT, PSHIFT, BAD, BAD, PSHIFT, PSHIFT },
	[G_73 + 6] = ALL8(BAD), [G_73 + 7] = ALL8(BAD),

	/* 0F 78/79: VMREAD/VMWRITE without prefix; AMD's SSE4a EXTRQ (66) and
	 * INSERTQ (F2), register forms only, with two immediates for 0F 78. */
	[G_78 + 0] = ALL8(VMX_RW(VMREAD)), [G_78 + 1] = ALL8(BAD),
	[G_78 + 2] = ALL8(BAD), [G_78 + 3] = ALL8(BAD),
	[G_78 + 4] = ALL8(VMX_RW(VMREAD)),
	[G_78 + 5] = { PLI(0, I_BB), BAD, BAD, BAD, BAD, BAD, BAD, BAD },
	[G_78 + 6] = ALL8(BAD), [G_78 + 7] = ALL8(PLI(0, I_BB)),
	[G_79 + 0] = ALL8(VMX_RW(VMWRITE)), [G_79 + 1] = ALL8(BAD),
	[G_79 + 2] = ALL8(BAD), [G_79 + 3] = ALL8(BAD),
	[G_79 + 4] = ALL8(VMX_RW(VMWRITE)), [G_79 + 5] = ALL8(PL(0)),
	[G_79 + 6] = ALL8(BAD), [G_79 + 7] = ALL8(PL(0)),

	/* 0F AE, group 15.  Memory: FXSAVE FXRSTOR LDMXCSR STMXCSR XSAVE XRSTOR
	 * XSAVEOPT CLFLUSH; with 66, CLWB and CLFLUSHOPT.  Registers: LFENCE,
	 * MFENCE, SFENCE.  The prefixed register forms are FSGSBASE, CET and
	 * WAITPKG instructions, left unmodelled. */
	[G_AE + 0] = ALL8(PL(0)),
	[G_AE + 1] = { UNS, UNS, UNS, UNS, UNS, UNS, PL(0), PL(0) },
	[G_AE + 2] = ALL8(UNS), [G_AE + 3] = ALL8(UNS),
	[G_AE + 4] = { BAD, BAD, BAD, BAD, BAD, PL(0), PL(0), PL(0) },
	[G_AE + 5] = ALL8(UNS), [G_AE + 6] = ALL8(UNS), [G_AE + 7] = ALL8(UNS),

	/* 0F C7, group 9.  Memory: CMPXCHG8B/16B, XRSTORS, XSAVEC, XSAVES,
	 * VMPTRLD/VMCLEAR/VMXON (by prefix), VMPTRST.  Registers: RDRAND, RDSEED,
	 * RDPID (F3). */
	[G_C7 + 0] = {
		BAD, ENT(F_LK, I_NONE, X86_K_OTHER, 0, MS_NONE), BAD, PL(0), PL(0), PL(0),
		KMS(0, VMPTRLD, MS_8), KMS(0, VMPTRST, MS_8),
	},
	[G_C7 + 1] = { UNS, PL(F_LK), UNS, UNS, UNS, UNS, KMS(0, VMCLEAR, MS_8), UNS },
	[G_C7 + 2] = { UNS, PL(F_LK), UNS, UNS, UNS, UNS, KMS(0, VMXON, MS_8), UNS },
	[G_C7 + 3] = { UNS, PL(F_LK), UNS, UNS, UNS, UNS, UNS, UNS },
	[G_C7 + 4] = { BAD, BAD, BAD, BAD, BAD, BAD, PL(0), PL(0) },
	[G_C7 + 5] = { BAD, BAD, BAD, BAD, BAD, BAD, PL(0), PL(0) },
	[G_C7 + 6] = { UNS, UNS, UNS, UNS, UNS, UNS, UNS, PL(0) },
	[G_C7 + 7] = ALL8(UNS),
};

/* 0F 01 with mod == 3, indexed by ModRM & 0x3F.  Everything not listed is
 * either reserved or a recent extension (SGX, PCONFIG, CET, TSX-LDTRK,
 * RDPRU, INVLPGB...).  The SDM marks Intel's entries NP: with 66/F2/F3 they
 * are #UD or other instructions (F3 0F 01 EE is CLUI).  AMD's ignore them. */
static const struct opdesc grp7_reg[64] = {
	[0x01] = KND(F_NP, VMCALL), [0x02] = KND(F_NP, VMLAUNCH), [0x03] = KND(F_NP, VMRESUME),
	[0x04] = KND(F_NP, VMXOFF),
	[0x08] = KND(F_NP, MONITOR), [0x09] = KND(F_NP, MWAIT), [0x0A] = PL(F_NP) /* CLAC */,
	[0x0B] = PL(F_NP) /* STAC */,
	[0x10] = KND(F_NP, XGETBV), [0x11] = KND(F_NP, XSETBV), [0x14] = KND(F_NP, VMFUNC),
	[0x15] = PL(F_NP) /* XEND */, [0x16] = PL(F_NP) /* XTEST */,
	[0x18] = KND(0, VMRUN), [0x19] = KND(0, VMMCALL), [0x1A] = KND(0, VMLOAD),
	[0x1B] = KND(0, VMSAVE), [0x1C] = KND(0, STGI), [0x1D] = KND(0, CLGI),
	[0x1E] = KND(0, SKINIT), [0x1F] = KND(0, INVLPGA),
	[0x20 ... 0x27] = KMS(0, SMSW, MS_2),
	[0x2E] = PL(F_NP) /* RDPKRU */, [0x2F] = PL(F_NP) /* WRPKRU */,
	[0x30 ... 0x37] = KMS(0, LMSW, MS_2),
	[0x38] = KND(F_O64, SWAPGS), [0x39] = KND(0, RDTSCP),
	[0x3A] = PL(F_NP) /* MONITORX; F3: MCOMMIT */, [0x3B] = PL(F_NP) /* MWAITX */,
	[0x3C] = PL(0) /* CLZERO */,
};

/* ---- Opcode maps ------------------------------------------------------------- */

static const struct opdesc map1[256] = {
	ALU_ROW(0x00, X86_ALU_ADD, F_LK),
	[0x06] = PL(F_I64), [0x07] = PL(F_I64), /* PUSH/POP ES */
	ALU_ROW(0x08, X86_ALU_OR, F_LK),
	[0x0E] = PL(F_I64), [0x0F] = SPEC(0, SP_0F),
	ALU_ROW(0x10, X86_ALU_ADC, F_LK),
	[0x16] = PL(F_I64), [0x17] = PL(F_I64),
	ALU_ROW(0x18, X86_ALU_SBB, F_LK),
	[0x1E] = PL(F_I64), [0x1F] = PL(F_I64),
	ALU_ROW(0x20, X86_ALU_AND, F_LK),
	[0x27] = PL(F_I64), /* DAA */
	ALU_ROW(0x28, X86_ALU_SUB, F_LK),
	[0x2F] = PL(F_I64), /* DAS */
	ALU_ROW(0x30, X86_ALU_XOR, F_LK),
	[0x37] = PL(F_I64), /* AAA */
	ALU_ROW(0x38, X86_ALU_CMP, 0),
	[0x3F] = PL(F_I64), /* AAS */
	/* INC/DEC; in 64-bit mode these bytes are REX and never reach the table. */
	[0x40 ... 0x4F] = PL(0),
	[0x50 ... 0x5F] = PL(F_D64),
	[0x60] = PL(F_I64), [0x61] = PL(F_I64),
	[0x62] = SPEC(F_M | F_MEM, SP_EVEX),
	[0x63] = SPEC(F_M, SP_63),
	[0x68] = PLI(F_D64, I_Z), [0x69] = PLI(F_M, I_Z),
	[0x6A] = PLI(F_D64, I_SB), [0x6B] = PLI(F_M, I_SB),
	[0x6C] = KMS(F_B, INS, MS_OP), [0x6D] = KMS(F_OS32, INS, MS_OP),
	[0x6E] = KMS(F_B, OUTS, MS_OP), [0x6F] = KMS(F_OS32, OUTS, MS_OP),
	[0x70 ... 0x7F] = PLI(F_F64, I_JB),
	[0x80] = GRP(F_M | F_B, I_SB, G_1), [0x81] = GRP(F_M, I_Z, G_1),
	[0x82] = GRP(F_M | F_B | F_I64, I_SB, G_1), [0x83] = GRP(F_M, I_SB, G_1),
	[0x84] = KMS(F_M | F_B, TEST_RM_REG, MS_OP), [0x85] = KMS(F_M, TEST_RM_REG, MS_OP),
	/* XCHG with memory locks whether or not LOCK is given. */
	[0x86] = KMS(F_M | F_B | F_LK, XCHG, MS_OP), [0x87] = KMS(F_M | F_LK, XCHG, MS_OP),
	[0x88] = KMS(F_M | F_B, MOV_RM_REG, MS_OP), [0x89] = KMS(F_M, MOV_RM_REG, MS_OP),
	[0x8A] = KMS(F_M | F_B, MOV_REG_RM, MS_OP), [0x8B] = KMS(F_M, MOV_REG_RM, MS_OP),
	[0x8C] = GRP(F_M, I_NONE, G_8C), [0x8D] = PL(F_M | F_MEM), [0x8E] = GRP(F_M, I_NONE, G_8E),
	[0x8F] = GRP(F_M | F_D64, I_NONE, G_1A),
	[0x90] = SPEC(0, SP_90), [0x91 ... 0x97] = PL(0),
	[0x98] = PL(0), [0x99] = PL(0), [0x9A] = PLI(F_I64, I_AP), [0x9B] = PL(0),
	[0x9C] = KND(F_D64, PUSHF), [0x9D] = KND(F_D64, POPF), [0x9E] = PL(0), [0x9F] = PL(0),
	[0xA0] = ENT(F_B, I_MOFFS, X86_K_MOV_ACC_MOFFS, 0, MS_OP),
	[0xA1] = ENT(0, I_MOFFS, X86_K_MOV_ACC_MOFFS, 0, MS_OP),
	[0xA2] = ENT(F_B, I_MOFFS, X86_K_MOV_MOFFS_ACC, 0, MS_OP),
	[0xA3] = ENT(0, I_MOFFS, X86_K_MOV_MOFFS_ACC, 0, MS_OP),
	[0xA4] = KMS(F_B, MOVS, MS_OP), [0xA5] = KMS(0, MOVS, MS_OP),
	[0xA6] = KMS(F_B, CMPS, MS_OP), [0xA7] = KMS(0, CMPS, MS_OP),
	[0xA8] = PLI(F_B, I_SB), [0xA9] = PLI(0, I_Z),
	[0xAA] = KMS(F_B, STOS, MS_OP), [0xAB] = KMS(0, STOS, MS_OP),
	[0xAC] = KMS(F_B, LODS, MS_OP), [0xAD] = KMS(0, LODS, MS_OP),
	[0xAE] = KMS(F_B, SCAS, MS_OP), [0xAF] = KMS(0, SCAS, MS_OP),
	[0xB0 ... 0xB7] = PLI(F_B, I_SB), [0xB8 ... 0xBF] = PLI(0, I_V),
	[0xC0] = GRP(F_M | F_B, I_B, G_2), [0xC1] = GRP(F_M, I_B, G_2),
	[0xC2] = PLI(F_F64, I_W), [0xC3] = PL(F_F64),
	[0xC4] = SPEC(F_M | F_MEM, SP_VEX), [0xC5] = SPEC(F_M | F_MEM, SP_VEX),
	[0xC6] = GRP(F_M | F_B, I_NONE, G_11B), [0xC7] = GRP(F_M, I_NONE, G_11V),
	[0xC8] = PLI(F_D64, I_WB), [0xC9] = PL(F_D64), [0xCA] = PLI(0, I_W), [0xCB] = PL(0),
	[0xCC] = KND(0, INT3), [0xCD] = ENT(0, I_B, X86_K_INT, 0, MS_NONE),
	[0xCE] = KND(F_I64, INTO), [0xCF] = KND(0, IRET),
	[0xD0] = GRP(F_M | F_B, I_NONE, G_2), [0xD1] = GRP(F_M, I_NONE, G_2),
	[0xD2] = GRP(F_M | F_B, I_NONE, G_2), [0xD3] = GRP(F_M, I_NONE, G_2),
	[0xD4] = PLI(F_I64, I_B), [0xD5] = PLI(F_I64, I_B), /* AAM, AAD */
	[0xD6] = PL(F_I64), /* SALC, undocumented but executed outside 64-bit mode */
	[0xD7] = PL(0),
	[0xD8 ... 0xDF] = SPEC(F_M, SP_X87),
	[0xE0 ... 0xE3] = PLI(F_F64, I_JB),
	[0xE4] = ENT(F_B, I_B, X86_K_IN, 0, MS_NONE), [0xE5] = ENT(F_OS32, I_B, X86_K_IN, 0, MS_NONE),
	[0xE6] = ENT(F_B, I_B, X86_K_OUT, 0, MS_NONE), [0xE7] = ENT(F_OS32, I_B, X86_K_OUT, 0, MS_NONE),
	[0xE8] = PLI(F_F64, I_JZ), [0xE9] = PLI(F_F64, I_JZ), [0xEA] = PLI(F_I64, I_AP),
	[0xEB] = PLI(F_F64, I_JB),
	[0xEC] = KND(F_B, IN), [0xED] = KND(F_OS32, IN), [0xEE] = KND(F_B, OUT), [0xEF] = KND(F_OS32, OUT),
	/* F0 F2 F3 are prefixes and never reach the table. */
	[0xF1] = KND(0, INT1), [0xF4] = KND(0, HLT), [0xF5] = PL(0),
	[0xF6] = GRP(F_M | F_B, I_NONE, G_3B), [0xF7] = GRP(F_M, I_NONE, G_3V),
	[0xF8] = PL(0), [0xF9] = PL(0), [0xFA] = KND(0, CLI), [0xFB] = KND(0, STI),
	[0xFC] = PL(0), [0xFD] = PL(0),
	[0xFE] = GRP(F_M | F_B, I_NONE, G_4), [0xFF] = GRP(F_M, I_NONE, G_5),
};

static const struct opdesc map0f[256] = {
	[0x00] = GRP(F_M, I_NONE, G_6),
	[0x01] = SPEC(F_M, SP_GRP7),
	[0x02] = PL(F_M), [0x03] = PL(F_M), /* LAR, LSL */
	[0x05] = KND(0, SYSCALL), [0x06] = KND(0, CLTS), [0x07] = KND(0, SYSRET),
	[0x08] = KND(0, INVD), [0x09] = KND(0, WBINVD), [0x0B] = KND(0, UD),
	[0x0D] = GCM(F_M, I_NONE, G_0D),
	[0x0E] = PL(0), /* FEMMS */
	[0x0F] = UNS,   /* 3DNow! */
	[0x10] = SSE(I_NONE, cA, cA, cA, cA), [0x11] = SSE(I_NONE, cA, cA, cA, cA),
	/* MOVLPS/MOVHLPS, MOVLPD (memory only), MOVSLDUP, MOVDDUP */
	[0x12] = SSE(I_NONE, cA, cM, cA, cA),
	[0x13] = SSE(I_NONE, cM, cM, cX, cX),
	[0x14] = SSE(I_NONE, cA, cA, cX, cX), [0x15] = SSE(I_NONE, cA, cA, cX, cX),
	/* MOVHPS/MOVLHPS, MOVHPD (memory only), MOVSHDUP */
	[0x16] = SSE(I_NONE, cA, cM, cA, cX),
	[0x17] = SSE(I_NONE, cM, cM, cX, cX),
	/* Prefetch hints and the reserved-NOP space (CLDEMOTE, ENDBR, RDSSP
	 * included: all have the NOP's shape).  0F 1A/1B are MPX, whose
	 * bound-register forms have register restrictions we do not model. */
	[0x18] = PL(F_M), [0x19] = PL(F_M), [0x1A] = UNS, [0x1B] = UNS,
	[0x1C ... 0x1F] = PL(F_M),
	[0x20] = SPECK(F_M | F_NOMOD | F_OSFIX, SP_CRDR, MOV_FROM_CR, MS_OP),
	[0x21] = SPECK(F_M | F_NOMOD | F_OSFIX, SP_CRDR, MOV_FROM_DR, MS_OP),
	[0x22] = SPECK(F_M | F_NOMOD | F_OSFIX, SP_CRDR, MOV_TO_CR, MS_OP),
	[0x23] = SPECK(F_M | F_NOMOD | F_OSFIX, SP_CRDR, MOV_TO_DR, MS_OP),
	[0x28] = SSE(I_NONE, cA, cA, cX, cX), [0x29] = SSE(I_NONE, cA, cA, cX, cX),
	[0x2A] = SSE(I_NONE, cA, cA, cA, cA),
	/* MOVNTPS, MOVNTPD, and AMD's MOVNTSS/MOVNTSD */
	[0x2B] = SSE(I_NONE, cM, cM, cM, cM),
	[0x2C] = SSE(I_NONE, cA, cA, cA, cA), [0x2D] = SSE(I_NONE, cA, cA, cA, cA),
	[0x2E] = SSE(I_NONE, cA, cA, cX, cX), [0x2F] = SSE(I_NONE, cA, cA, cX, cX),
	[0x30] = KND(0, WRMSR), [0x31] = KND(0, RDTSC), [0x32] = KND(0, RDMSR),
	[0x33] = KND(0, RDPMC), [0x34] = KND(0, SYSENTER), [0x35] = KND(0, SYSEXIT),
	[0x37] = PL(F_NP), /* GETSEC */
	[0x38] = SPEC(0, SP_0F38), [0x3A] = SPEC(0, SP_0F3A),
	[0x40 ... 0x4F] = PL(F_M), /* CMOVcc */
	[0x50] = SSE(I_NONE, cR, cR, cX, cX),
	[0x51] = SSE(I_NONE, cA, cA, cA, cA),
	[0x52] = SSE(I_NONE, cA, cX, cA, cX), [0x53] = SSE(I_NONE, cA, cX, cA, cX),
	[0x54 ... 0x57] = SSE(I_NONE, cA, cA, cX, cX),
	[0x58 ... 0x5A] = SSE(I_NONE, cA, cA, cA, cA),
	[0x5B] = SSE(I_NONE, cA, cA, cA, cX),
	[0x5C ... 0x5F] = SSE(I_NONE, cA, cA, cA, cA),
	[0x60 ... 0x6B] = SSE(I_NONE, cA, cA, cX, cX),
	[0x6C ... 0x6D] = SSE(I_NONE, cX, cA, cX, cX),
	[0x6E] = SSE(I_NONE, cA, cA, cX, cX),
	[0x6F] = SSE(I_NONE, cA, cA, cA, cX),
	[0x70] = SSE(I_B, cA, cA, cA, cA),
	[0x71] = GCM(F_M, I_B, G_71), [0x72] = GCM(F_M, I_B, G_72), [0x73] = GCM(F_M, I_B, G_73),
	[0x74 ... 0x76] = SSE(I_NONE, cA, cA, cX, cX),
	[0x77] = { .flags = F_DEF | F_SSE, .cols = COLS(cA, cX, cX, cX) }, /* EMMS */
	[0x78] = GCM(F_M, I_NONE, G_78), [0x79] = GCM(F_M, I_NONE, G_79),
	[0x7C ... 0x7D] = SSE(I_NONE, cX, cA, cX, cA),
	[0x7E] = SSE(I_NONE, cA, cA, cA, cX), [0x7F] = SSE(I_NONE, cA, cA, cA, cX),
	[0x80 ... 0x8F] = PLI(F_F64, I_JZ),
	[0x90 ... 0x9F] = PL(F_M | F_B), /* SETcc */
	[0xA0] = PL(F_D64), [0xA1] = PL(F_D64), [0xA2] = KND(0, CPUID),
	[0xA3] = ENT(F_M, I_NONE, X86_K_BT_RM_REG, X86_BT_BT, MS_OP),
	[0xA4] = PLI(F_M, I_B), [0xA5] = PL(F_M), /* SHLD */
	/* VIA PadLock (XSTORE, XCRYPT*, MONTMUL, XSHA*): #UD on Intel and AMD. */
	[0xA6] = UNS, [0xA7] = UNS,
	[0xA8] = PL(F_D64), [0xA9] = PL(F_D64), [0xAA] = KND(0, RSM),
	[0xAB] = ENT(F_M | F_LK, I_NONE, X86_K_BT_RM_REG, X86_BT_BTS, MS_OP),
	[0xAC] = PLI(F_M, I_B), [0xAD] = PL(F_M), /* SHRD */
	[0xAE] = GCM(F_M, I_NONE, G_AE),
	[0xAF] = PL(F_M),
	[0xB0] = KMS(F_M | F_B | F_LK, CMPXCHG, MS_OP), [0xB1] = KMS(F_M | F_LK, CMPXCHG, MS_OP),
	[0xB2] = PL(F_M | F_MEM), /* LSS */
	[0xB3] = ENT(F_M | F_LK, I_NONE, X86_K_BT_RM_REG, X86_BT_BTR, MS_OP),
	[0xB4] = PL(F_M | F_MEM), [0xB5] = PL(F_M | F_MEM), /* LFS, LGS */
	[0xB6] = KMS(F_M, MOVZX, MS_1), [0xB7] = KMS(F_M, MOVZX, MS_2),
	/* F3: POPCNT.  Without a prefix it was JMPE on Itanium. */
	[0xB8] = SSE(I_NONE, cU, cX, cA, cX),
	[0xB9] = KND(F_M, UD), /* UD1 */
	[0xBA] = GRP(F_M, I_B, G_8),
	[0xBB] = ENT(F_M | F_LK, I_NONE, X86_K_BT_RM_REG, X86_BT_BTC, MS_OP),
	[0xBC] = PL(F_M), [0xBD] = PL(F_M), /* BSF/BSR, or TZCNT/LZCNT with F3 */
	[0xBE] = KMS(F_M, MOVSX, MS_1), [0xBF] = KMS(F_M, MOVSX, MS_2),
	[0xC0] = KMS(F_M | F_B | F_LK, XADD, MS_OP), [0xC1] = KMS(F_M | F_LK, XADD, MS_OP),
	[0xC2] = SSE(I_B, cA, cA, cA, cA),
	[0xC3] = SSE(I_NONE, cM, cX, cX, cX), /* MOVNTI */
	[0xC4] = SSE(I_B, cA, cA, cX, cX), /* PINSRW */
	[0xC5] = SSE(I_B, cR, cR, cX, cX), /* PEXTRW */
	[0xC6] = SSE(I_B, cA, cA, cX, cX),
	[0xC7] = GCM(F_M, I_NONE, G_C7),
	[0xC8 ... 0xCF] = PL(0), /* BSWAP */
	[0xD0] = SSE(I_NONE, cX, cA, cX, cA),
	[0xD1 ... 0xD5] = SSE(I_NONE, cA, cA, cX, cX),
	/* MOVQ xmm/m64 (66), MOVQ2DQ (F3), MOVDQ2Q (F2) */
	[0xD6] = SSE(I_NONE, cX, cA, cR, cR),
	[0xD7] = SSE(I_NONE, cR, cR, cX, cX),
	[0xD8 ... 0xE5] = SSE(I_NONE, cA, cA, cX, cX),
	[0xE6] = SSE(I_NONE, cX, cA, cA, cA),
	[0xE7] = SSE(I_NONE, cM, cM, cX, cX),
	[0xE8 ... 0xEF] = SSE(I_NONE, cA, cA, cX, cX),
	[0xF0] = SSE(I_NONE, cX, cX, cX, cM), /* LDDQU */
	[0xF1 ... 0xF6] = SSE(I_NONE, cA, cA, cX, cX),
	[0xF7] = SSE(I_NONE, cR, cR, cX, cX), /* MASKMOVQ, MASKMOVDQU */
	[0xF8 ... 0xFE] = SSE(I_NONE, cA, cA, cX, cX),
	[0xFF] = UNS, /* UD0: Intel reads a ModRM, older AMD parts do not */
};

/* 0F 38: opcodes not listed are left unmodelled rather than called #UD. */
static const struct opdesc map0f38[256] = {
	[0x00 ... 0x0B] = SSE(I_NONE, cA, cA, cX, cX), /* SSSE3 */
	[0x10] = SSE(I_NONE, cX, cA, cX, cX),
	[0x14 ... 0x15] = SSE(I_NONE, cX, cA, cX, cX),
	[0x17] = SSE(I_NONE, cX, cA, cX, cX),
	[0x1C ... 0x1E] = SSE(I_NONE, cA, cA, cX, cX), /* PABSB/W/D */
	[0x20 ... 0x25] = SSE(I_NONE, cX, cA, cX, cX),
	[0x28 ... 0x29] = SSE(I_NONE, cX, cA, cX, cX),
	[0x2A] = SSE(I_NONE, cX, cM, cX, cX), /* MOVNTDQA */
	[0x2B] = SSE(I_NONE, cX, cA, cX, cX),
	[0x30 ... 0x35] = SSE(I_NONE, cX, cA, cX, cX),
	[0x37 ... 0x41] = SSE(I_NONE, cX, cA, cX, cX),
	[0x80] = { .flags = F_DEF | F_M | F_SSE | F_OSFIX, .cols = COLS(cX, cM, cX, cX),
		   .kind = X86_K_INVEPT, .msize = MS_16 },
	[0x81] = { .flags = F_DEF | F_M | F_SSE | F_OSFIX, .cols = COLS(cX, cM, cX, cX),
		   .kind = X86_K_INVVPID, .msize = MS_16 },
	[0x82] = { .flags = F_DEF | F_M | F_SSE | F_OSFIX, .cols = COLS(cX, cM, cX, cX),
		   .kind = X86_K_INVPCID, .msize = MS_16 },
	[0xC8 ... 0xCD] = SSE(I_NONE, cA, cX, cX, cX), /* SHA */
	[0xCF] = SSE(I_NONE, cX, cA, cX, cX),           /* GF2P8MULB */
	[0xDB] = SSE(I_NONE, cX, cA, cX, cX),           /* AESIMC */
	[0xDC ... 0xDF] = SSE(I_NONE, cX, cA, cU, cX),  /* AES; F3 is Key Locker */
	/* MOVBE (memory only), CRC32 with F2 */
	[0xF0 ... 0xF1] = SSE(I_NONE, cM, cM, cU, cA),
	[0xF6] = SSE(I_NONE, cU, cA, cA, cU), /* ADCX (66), ADOX (F3); WRSS */
};

/* 0F 3A: every opcode takes an ib. */
static const struct opdesc map0f3a[256] = {
	[0x08 ... 0x0E] = SSE(I_B, cX, cA, cX, cX),
	[0x0F] = SSE(I_B, cA, cA, cX, cX), /* PALIGNR */
	[0x14 ... 0x17] = SSE(I_B, cX, cA, cX, cX),
	[0x20 ... 0x22] = SSE(I_B, cX, cA, cX, cX),
	[0x40 ... 0x42] = SSE(I_B, cX, cA, cX, cX),
	[0x44] = SSE(I_B, cX, cA, cX, cX), /* PCLMULQDQ */
	[0x60 ... 0x63] = SSE(I_B, cX, cA, cX, cX),
	[0xCC] = SSE(I_B, cA, cX, cX, cX), /* SHA1RNDS4 */
	[0xCE ... 0xCF] = SSE(I_B, cX, cA, cX, cX),
	[0xDF] = SSE(I_B, cX, cA, cX, cX), /* AESKEYGENASSIST */
};

/* x87 (D8-DF).  Memory forms: the SDM reserves D9 /1, DB /4, DB /6 and DD /5.
 * Register forms: bit (ModRM & 0x3F) is set for the encodings the SDM
 * documents; the others are reserved in the manual yet run as aliases
 * (FSTP1, FXCH4, FFREEP...) on real parts, so they are left unmodelled. */
static const u8 x87_mem_bad[8] = { 0, 0x02, 0, 0x50, 0, 0x20, 0, 0 };
static const u64 x87_reg_ok[8] = {
	0xFFFFFFFFFFFFFFFFULL, /* D8: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR */
	0xFFFF7F330001FFFFULL, /* D9: FLD FXCH FNOP FCHS FABS FTST FXAM FLD1.. F2XM1.. */
	0x00000200FFFFFFFFULL, /* DA: FCMOVcc, FUCOMPP */
	0x00FFFF0CFFFFFFFFULL, /* DB: FCMOVNcc, FCLEX, FINIT, FUCOMI, FCOMI */
	0xFFFFFFFF0000FFFFULL, /* DC: FADD FMUL FSUBR FSUB FDIVR FDIV to ST(i) */
	0x0000FFFFFFFF00FFULL, /* DD: FFREE FST FSTP FUCOM FUCOMP */
	0xFFFFFFFF0200FFFFULL, /* DE: FADDP FMULP FCOMPP FSUBRP FSUBP FDIVRP FDIVP */
	0x00FFFF0100000000ULL, /* DF: FNSTSW AX, FUCOMIP, FCOMIP */
};

/* CR0, CR2, CR3, CR4, CR8 (SDM vol. 2 MOV-Move to/from Control Registers). */
#define VALID_CRS ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 8))

/* ---- Prefixes ------------------------------------------------------------------ */

enum pfx_class { P_NONE, P_LOCK, P_REP, P_REPNE, P_OPSIZE, P_ADSIZE, P_SEG, P_REX };

static const u8 prefix_class[256] = {
	[0xF0] = P_LOCK, [0xF3] = P_REP, [0xF2] = P_REPNE,
	[0x66] = P_OPSIZE, [0x67] = P_ADSIZE,
	[0x26] = P_SEG, [0x2E] = P_SEG, [0x36] = P_SEG, [0x3E] = P_SEG,
	[0x64] = P_SEG, [0x65] = P_SEG,
	[0x40 ... 0x4F] = P_REX,
};

static const u8 prefix_seg[256] = {
	[0x26] = X86_SEG_ES, [0x2E] = X86_SEG_CS, [0x36] = X86_SEG_SS,
	[0x3E] = X86_SEG_DS, [0x64] = X86_SEG_FS, [0x65] = X86_SEG_GS,
};

/* ---- Kinds ------------------------------------------------------------------ */

#define KI_REGOP (1u << 0)   /* ModRM.reg is a GPR operand of the operand size */
#define KI_ACC (1u << 1)     /* the accumulator is an operand */
#define KI_SRC_SI (1u << 2)  /* string source DS:rSI, segment overridable */
#define KI_DST_DI (1u << 3)  /* string destination ES:rDI only */
#define KI_RM_OPSZ (1u << 4) /* register form is operand-sized though memory is 16-bit */

struct kind_info {
	const char *name;
	u8 flags;
};

static const struct kind_info kinds[X86_K_COUNT] = {
	[X86_K_OTHER] = { "other", 0 },
	[X86_K_MOV_RM_REG] = { "mov_rm_reg", KI_REGOP },
	[X86_K_MOV_REG_RM] = { "mov_reg_rm", KI_REGOP },
	[X86_K_MOV_RM_IMM] = { "mov_rm_imm", 0 },
	[X86_K_MOV_ACC_MOFFS] = { "mov_acc_moffs", KI_ACC },
	[X86_K_MOV_MOFFS_ACC] = { "mov_moffs_acc", KI_ACC },
	[X86_K_MOVZX] = { "movzx", KI_REGOP },
	[X86_K_MOVSX] = { "movsx", KI_REGOP },
	[X86_K_MOVSXD] = { "movsxd", KI_REGOP },
	[X86_K_MOVS] = { "movs", KI_SRC_SI },
	[X86_K_STOS] = { "stos", KI_DST_DI },
	[X86_K_LODS] = { "lods", KI_SRC_SI },
	[X86_K_CMPS] = { "cmps", KI_SRC_SI },
	[X86_K_SCAS] = { "scas", KI_DST_DI },
	[X86_K_ALU_RM_REG] = { "alu_rm_reg", KI_REGOP },
	[X86_K_ALU_REG_RM] = { "alu_reg_rm", KI_REGOP },
	[X86_K_ALU_RM_IMM] = { "alu_rm_imm", 0 },
	[X86_K_TEST_RM_REG] = { "test_rm_reg", KI_REGOP },
	[X86_K_TEST_RM_IMM] = { "test_rm_imm", 0 },
	[X86_K_UNARY] = { "unary", 0 },
	[X86_K_XCHG] = { "xchg", KI_REGOP },
	[X86_K_CMPXCHG] = { "cmpxchg", KI_REGOP },
	[X86_K_XADD] = { "xadd", KI_REGOP },
	[X86_K_BT_RM_REG] = { "bt_rm_reg", KI_REGOP },
	[X86_K_BT_RM_IMM] = { "bt_rm_imm", 0 },
	[X86_K_CPUID] = { "cpuid", 0 },
	[X86_K_RDMSR] = { "rdmsr", 0 },
	[X86_K_WRMSR] = { "wrmsr", 0 },
	[X86_K_RDTSC] = { "rdtsc", 0 },
	[X86_K_RDTSCP] = { "rdtscp", 0 },
	[X86_K_RDPMC] = { "rdpmc", 0 },
	[X86_K_IN] = { "in", KI_ACC },
	[X86_K_OUT] = { "out", KI_ACC },
	[X86_K_INS] = { "ins", KI_DST_DI },
	[X86_K_OUTS] = { "outs", KI_SRC_SI },
	[X86_K_HLT] = { "hlt", 0 },
	[X86_K_PAUSE] = { "pause", 0 },
	[X86_K_INVLPG] = { "invlpg", 0 },
	[X86_K_INVD] = { "invd", 0 },
	[X86_K_WBINVD] = { "wbinvd", 0 },
	[X86_K_MOV_FROM_CR] = { "mov_from_cr", 0 },
	[X86_K_MOV_TO_CR] = { "mov_to_cr", 0 },
	[X86_K_MOV_FROM_DR] = { "mov_from_dr", 0 },
	[X86_K_MOV_TO_DR] = { "mov_to_dr", 0 },
	[X86_K_CLTS] = { "clts", 0 },
	[X86_K_LMSW] = { "lmsw", 0 },
	[X86_K_SMSW] = { "smsw", KI_RM_OPSZ },
	[X86_K_LGDT] = { "lgdt", 0 },
	[X86_K_LIDT] = { "lidt", 0 },
	[X86_K_SGDT] = { "sgdt", 0 },
	[X86_K_SIDT] = { "sidt", 0 },
	[X86_K_LLDT] = { "lldt", 0 },
	[X86_K_SLDT] = { "sldt", KI_RM_OPSZ },
	[X86_K_LTR] = { "ltr", 0 },
	[X86_K_STR] = { "str", KI_RM_OPSZ },
	[X86_K_XSETBV] = { "xsetbv", 0 },
	[X86_K_XGETBV] = { "xgetbv", 0 },
	[X86_K_VMCALL] = { "vmcall", 0 },
	[X86_K_VMMCALL] = { "vmmcall", 0 },
	[X86_K_VMFUNC] = { "vmfunc", 0 },
	[X86_K_VMRUN] = { "vmrun", 0 },
	[X86_K_VMLOAD] = { "vmload", 0 },
	[X86_K_VMSAVE] = { "vmsave", 0 },
	[X86_K_STGI] = { "stgi", 0 },
	[X86_K_CLGI] = { "clgi", 0 },
	[X86_K_INVLPGA] = { "invlpga", 0 },
	[X86_K_SKINIT] = { "skinit", 0 },
	[X86_K_VMXON] = { "vmxon", 0 },
	[X86_K_VMXOFF] = { "vmxoff", 0 },
	[X86_K_VMCLEAR] = { "vmclear", 0 },
	[X86_K_VMPTRLD] = { "vmptrld", 0 },
	[X86_K_VMPTRST] = { "vmptrst", 0 },
	[X86_K_VMREAD] = { "vmread", KI_REGOP },
	[X86_K_VMWRITE] = { "vmwrite", KI_REGOP },
	[X86_K_VMLAUNCH] = { "vmlaunch", 0 },
	[X86_K_VMRESUME] = { "vmresume", 0 },
	[X86_K_INVEPT] = { "invept", KI_REGOP },
	[X86_K_INVVPID] = { "invvpid", KI_REGOP },
	[X86_K_INVPCID] = { "invpcid", KI_REGOP },
	[X86_K_MONITOR] = { "monitor", 0 },
	[X86_K_MWAIT] = { "mwait", 0 },
	[X86_K_INT3] = { "int3", 0 },
	[X86_K_INT] = { "int", 0 },
	[X86_K_INTO] = { "into", 0 },
	[X86_K_INT1] = { "int1", 0 },
	[X86_K_IRET] = { "iret", 0 },
	[X86_K_CLI] = { "cli", 0 },
	[X86_K_STI] = { "sti", 0 },
	[X86_K_PUSHF] = { "pushf", 0 },
	[X86_K_POPF] = { "popf", 0 },
	[X86_K_SWAPGS] = { "swapgs", 0 },
	[X86_K_SYSCALL] = { "syscall", 0 },
	[X86_K_SYSRET] = { "sysret", 0 },
	[X86_K_SYSENTER] = { "sysenter", 0 },
	[X86_K_SYSEXIT] = { "sysexit", 0 },
	[X86_K_RSM] = { "rsm", 0 },
	[X86_K_UD] = { "ud", 0 },
};

const char *x86_kind_name(unsigned kind)
{
	if (kind >= X86_K_COUNT || !kinds[kind].name)
		return "?";
	return kinds[kind].name;
}

const char *x86_decode_status_name(int status)
{
	static const char *const names[] = { "ok", "truncated", "invalid", "too long", "unsupported" };

	if (status > 0 || -status >= (int)ARRAY_SIZE(names))
		return "?";
	return names[-status];
}

/* ---- Decoder ------------------------------------------------------------------ */

struct dec {
	const u8 *b;
	size_t avail;
	unsigned pos;
	bool mode64;
	bool lock;
	u8 col; /* enum column */
	struct x86_insn *out;
};

/* Checks that bytes [0, end) exist and fit the length limit. */
static int need(struct dec *d, unsigned end)
{
	if (end > X86_MAX_INSN_LEN)
		return X86_DECODE_TOO_LONG;
	if (end > d->avail) {
		d->out->len = (u8)end;
		return X86_DECODE_TRUNCATED;
	}
	return X86_DECODE_OK;
}

static u64 read_le(const u8 *p, unsigned n)
{
	u64 v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

static s64 sign_extend(u64 v, unsigned bytes)
{
	if (bytes == 0)
		return 0;
	if (bytes >= 8)
		return (s64)v;
	unsigned shift = 64 - 8 * bytes;
	return (s64)(v << shift) >> shift;
}

/* Byte registers 4-7 are AH, CH, DH, BH unless any REX is present, which
 * turns them into SPL, BPL, SIL, DIL (SDM vol. 1 3.7.2.1). */
static struct x86_regop make_regop(unsigned num, unsigned size, u8 rex)
{
	struct x86_regop r = { .num = (s8)num, .size = (u8)size, .high8 = false };

	if (size == 1 && !rex && num >= 4 && num < 8) {
		r.num = (s8)(num - 4);
		r.high8 = true;
	}
	return r;
}

static unsigned operand_size(const struct dec *d, u32 fl)
{
	bool o16 = d->out->prefixes & X86_PFX_OPSIZE;

	if (fl & F_B)
		return 1;
	if (fl & F_OS16)
		return 2;
	if (fl & F_OSFIX)
		return d->mode64 ? 8 : 4;
	if (d->mode64) {
		/* REX.W beats 66 even where 64 bits do not exist (SDM vol. 1
		 * 3.6.1): port I/O then stays at 32. */
		if (d->out->rex & X86_REX_W)
			return (fl & F_OS32) ? 4 : 8;
		if (fl & F_F64)
			return 8;
		if (o16)
			return 2;
		return (fl & F_D64) ? 8 : 4;
	}
	if (d->out->mode == X86_MODE_32)
		return o16 ? 2 : 4;
	return o16 ? 4 : 2;
}

static unsigned msize_bytes(unsigned ms, const struct x86_insn *o)
{
	switch (ms) {
	case MS_OP:
		return o->opsize;
	case MS_1:
		return 1;
	case MS_2:
		return 2;
	case MS_8:
		return 8;
	case MS_16:
		return 16;
	case MS_DESC:
		return o->mode == X86_MODE_64 ? 10 : 6;
	case MS_OP_MAX4:
		return MIN(o->opsize, 4u);
	default:
		return 0;
	}
}

/* Immediate bytes, first and second.  Near branches keep rel32 in 64-bit
 * mode because their operand size is 64 there (Intel; see the header). */
static void imm_bytes(unsigned type, const struct x86_insn *o, unsigned *n1, unsigned *n2)
{
	*n2 = 0;
	switch (type) {
	case I_B:
	case I_SB:
	case I_JB:
		*n1 = 1;
		return;
	case I_W:
		*n1 = 2;
		return;
	case I_Z:
	case I_JZ:
		*n1 = o->opsize == 2 ? 2 : 4;
		return;
	case I_V:
		*n1 = o->opsize;
		return;
	case I_AP:
		*n1 = o->opsize == 2 ? 2 : 4;
		*n2 = 2;
		return;
	case I_WB:
		*n1 = 2;
		*n2 = 1;
		return;
	case I_BB:
		*n1 = 1;
		*n2 = 1;
		return;
	default:
		*n1 = 0;
		return;
	}
}

static bool imm_signed(unsigned type)
{
	return type == I_SB || type == I_Z || type == I_V || type == I_JB || type == I_JZ;
}

/* Folds a group entry into the opcode's entry. */
static void merge(struct opdesc *en, const struct opdesc *ge)
{
	en->flags |= ge->flags;
	if (!(ge->flags & F_DEF))
		en->flags |= F_BAD;
	en->kind = ge->kind;
	en->op = ge->op;
	en->msize = ge->msize;
	if (ge->imm != I_NONE)
		en->imm = ge->imm;
	if (ge->special != SP_NONE)
		en->special = ge->special;
}

/* Checks that do not need the ModRM byte. */
static int check_opcode(const struct dec *d, u32 fl)
{
	if (fl & F_BAD)
		return X86_DECODE_INVALID;
	if (fl & F_UNS)
		return X86_DECODE_UNSUPPORTED;
	if ((fl & F_I64) && d->mode64)
		return X86_DECODE_INVALID;
	if ((fl & F_O64) && !d->mode64)
		return X86_DECODE_INVALID;
	return X86_DECODE_OK;
}

static int check_entry(const struct dec *d, const struct opdesc *en, bool lock_ok)
{
	u32 fl = en->flags;
	bool has_modrm = fl & F_M;
	bool reg_form = has_modrm && d->out->mod == 3;
	int rc = check_opcode(d, fl);

	if (rc)
		return rc;
	if (fl & F_SSE) {
		switch ((en->cols >> (3 * d->col)) & 7) {
		case cA:
			break;
		case cM:
			if (reg_form)
				return X86_DECODE_INVALID;
			break;
		case cR:
			if (has_modrm && !reg_form)
				return X86_DECODE_INVALID;
			break;
		case cU:
			return X86_DECODE_UNSUPPORTED;
		default:
			return X86_DECODE_INVALID;
		}
	}
	if ((fl & F_MEM) && reg_form)
		return X86_DECODE_INVALID;
	if ((fl & F_REG) && has_modrm && !reg_form)
		return X86_DECODE_INVALID;
	if ((fl & F_NP) && d->col != COL_NONE)
		return X86_DECODE_UNSUPPORTED;
	/* LOCK needs a lockable instruction with a memory destination (SDM vol. 2
	 * LOCK-Assert LOCK# Signal Prefix). */
	if (d->lock && !lock_ok && !((fl & F_LK) && has_modrm && !reg_form))
		return X86_DECODE_INVALID;
	return X86_DECODE_OK;
}

static const s8 base16[8] = { X86_REG_RBX, X86_REG_RBX, X86_REG_RBP, X86_REG_RBP,
			      X86_REG_RSI, X86_REG_RDI, X86_REG_RBP, X86_REG_RBX };
static const s8 index16[8] = { X86_REG_RSI, X86_REG_RDI, X86_REG_RSI, X86_REG_RDI,
			       X86_REG_NONE, X86_REG_NONE, X86_REG_NONE, X86_REG_NONE };

/* Reads the SIB byte if any and works out the memory operand's registers and
 * displacement size (SDM vol. 2 tables 2-1 to 2-3, 2.2.1.6 for RIP). */
static int decode_mem(struct dec *d, unsigned *disp_bytes)
{
	struct x86_insn *o = d->out;
	struct x86_mem *m = &o->mem;
	unsigned mod = o->mod, rm = o->modrm & 7;

	m->scale = 1;
	if (o->addrsize == 2) {
		if (mod == 0 && rm == 6) {
			*disp_bytes = 2;
			return X86_DECODE_OK;
		}
		m->base = base16[rm];
		m->index = index16[rm];
		*disp_bytes = mod == 1 ? 1 : mod == 2 ? 2 : 0;
		return X86_DECODE_OK;
	}

	*disp_bytes = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (rm == 4) {
		int rc = need(d, d->pos + 1);
		if (rc)
			return rc;
		u8 sib = d->b[d->pos++];
		unsigned idx = ((sib >> 3) & 7) | ((o->rex & X86_REX_X) ? 8 : 0);

		o->has_sib = true;
		o->sib = sib;
		/* Index 100b means none; with REX.X it is R12 (SDM table 2-5). */
		if (idx != 4) {
			m->index = (s8)idx;
			m->scale = (u8)(1u << (sib >> 6));
		}
		if ((sib & 7) == 5 && mod == 0)
			*disp_bytes = 4;
		else
			m->base = (s8)((sib & 7) | ((o->rex & X86_REX_B) ? 8 : 0));
		return X86_DECODE_OK;
	}
	if (mod == 0 && rm == 5) {
		*disp_bytes = 4;
		if (d->mode64) {
			m->base = X86_REG_RIP;
			m->rip_rel = true;
		}
		return X86_DECODE_OK;
	}
	m->base = (s8)o->rm;
	return X86_DECODE_OK;
}

/* rBP and rSP bases default to SS, everything else to DS; in 64-bit mode only
 * FS and GS overrides take effect (SDM vol. 1 3.7.4.1). */
static u8 default_seg(const struct x86_insn *o)
{
	if (o->mem.base == X86_REG_RSP || o->mem.base == X86_REG_RBP)
		return X86_SEG_SS;
	return X86_SEG_DS;
}

/* Adjusts the entry for encodings decided by the mode or by the next byte. */
static int special_pre_modrm(struct dec *d, struct opdesc *en)
{
	int rc;

	switch (en->special) {
	case SP_VEX:
	case SP_EVEX:
		/* Outside 64-bit mode LES/LDS/BOUND need a memory operand, and a
		 * register form is how VEX/EVEX reuse the bytes (SDM vol. 2 2.3.5). */
		if (d->mode64)
			return X86_DECODE_UNSUPPORTED;
		rc = need(d, d->pos + 1);
		if (rc)
			return rc;
		if ((d->b[d->pos] >> 6) == 3)
			return X86_DECODE_UNSUPPORTED;
		return X86_DECODE_OK;
	case SP_63:
		if (d->mode64) {
			en->kind = X86_K_MOVSXD;
			en->msize = MS_OP_MAX4;
		} else {
			en->flags |= F_OS16; /* ARPL r/m16, r16 */
		}
		return X86_DECODE_OK;
	case SP_90:
		/* The effective F3 makes it PAUSE, even with a REX.B that would
		 * otherwise turn NOP into XCHG r8, rAX. */
		if (d->col == COL_F3)
			en->kind = X86_K_PAUSE;
		return X86_DECODE_OK;
	default:
		return X86_DECODE_OK;
	}
}

static int special_post_modrm(struct dec *d, struct opdesc *en, bool *lock_ok)
{
	struct x86_insn *o = d->out;

	switch (en->special) {
	case SP_TSX:
		return o->modrm == 0xF8 ? X86_DECODE_OK : X86_DECODE_INVALID;
	case SP_X87: {
		unsigned i = o->opcode - 0xD8;

		if (o->mod != 3)
			return (x87_mem_bad[i] >> ((o->modrm >> 3) & 7)) & 1 ? X86_DECODE_INVALID
									      : X86_DECODE_OK;
		return (x87_reg_ok[i] >> (o->modrm & 0x3F)) & 1 ? X86_DECODE_OK
								 : X86_DECODE_UNSUPPORTED;
	}
	case SP_CRDR:
		if (!(o->opcode & 1)) {
			/* AMD's AltMovCr8: LOCK MOV CR0 names CR8 so that 32-bit code
			 * can reach the TPR (APM vol. 3, MOV CRn). */
			if (d->lock) {
				if (o->reg != 0)
					return X86_DECODE_INVALID;
				o->reg = 8;
				*lock_ok = true;
			}
			if (!((VALID_CRS >> o->reg) & 1))
				return X86_DECODE_INVALID;
		} else if (o->reg > 7) {
			return X86_DECODE_INVALID; /* REX.R: there is no DR8 */
		}
		return X86_DECODE_OK;
	default:
		return X86_DECODE_OK;
	}
}

static void fill_operands(struct dec *d, const struct opdesc *en)
{
	struct x86_insn *o = d->out;
	const struct kind_info *ki = &kinds[en->kind];
	unsigned msize = msize_bytes(en->msize, o);

	o->kind = en->kind;
	o->op = en->op;
	if (o->kind == X86_K_OTHER)
		return;
	if (ki->flags & KI_REGOP)
		o->reg_op = make_regop(o->reg, o->opsize, o->rex);
	if (ki->flags & KI_ACC)
		o->reg_op = make_regop(X86_REG_RAX, o->opsize, o->rex);
	if (o->has_modrm && (o->mod == 3 || (en->flags & F_NOMOD))) {
		unsigned size = (ki->flags & KI_RM_OPSZ) ? o->opsize : msize;
		if (size)
			o->rm_op = make_regop(o->rm, size, o->rex);
	}
	if (o->has_mem)
		o->mem.size = (u8)msize;
	if (ki->flags & (KI_SRC_SI | KI_DST_DI)) {
		o->has_mem = true;
		o->mem.size = o->opsize;
		o->mem.scale = 1;
		if (ki->flags & KI_SRC_SI) {
			o->mem.base = X86_REG_RSI;
			o->mem.seg = o->seg_override != X86_SEG_NONE ? o->seg_override : X86_SEG_DS;
		} else {
			o->mem.base = X86_REG_RDI;
			o->mem.seg = X86_SEG_ES;
		}
	}
}

/* Legacy prefixes in any order, then at most one effective REX: a REX
 * followed by anything but the opcode is ignored (SDM vol. 2 2.2.1). */
static int decode_prefixes(struct dec *d)
{
	static const u8 addrsizes[3][2] = { { 2, 4 }, { 4, 2 }, { 8, 4 } };
	struct x86_insn *o = d->out;
	u8 rep = 0, rex = 0;

	for (;;) {
		int rc = need(d, d->pos + 1);
		if (rc)
			return rc;
		u8 b = d->b[d->pos];
		unsigned cls = prefix_class[b];

		if (cls == P_NONE || (cls == P_REX && !d->mode64))
			break;
		d->pos++;
		if (cls == P_REX) {
			rex = b;
			continue;
		}
		rex = 0;
		switch (cls) {
		case P_LOCK:
			o->prefixes |= X86_PFX_LOCK;
			break;
		case P_REP:
			o->prefixes |= X86_PFX_REP;
			rep = b;
			break;
		case P_REPNE:
			o->prefixes |= X86_PFX_REPNE;
			rep = b;
			break;
		case P_OPSIZE:
			o->prefixes |= X86_PFX_OPSIZE;
			break;
		case P_ADSIZE:
			o->prefixes |= X86_PFX_ADSIZE;
			break;
		case P_SEG:
			o->prefixes |= X86_PFX_SEG;
			if (!d->mode64 || prefix_seg[b] >= X86_SEG_FS)
				o->seg_override = prefix_seg[b];
			break;
		}
	}
	o->rex = rex;
	if (rex)
		o->prefixes |= X86_PFX_REX;
	o->rep = rep;
	d->lock = o->prefixes & X86_PFX_LOCK;
	if (rep == 0xF3)
		d->col = COL_F3;
	else if (rep == 0xF2)
		d->col = COL_F2;
	else
		d->col = (o->prefixes & X86_PFX_OPSIZE) ? COL_66 : COL_NONE;
	o->addrsize = addrsizes[o->mode][!!(o->prefixes & X86_PFX_ADSIZE)];
	return X86_DECODE_OK;
}

/* Opcode bytes, through the 0F, 0F 38 and 0F 3A escapes. */
static int decode_opcode(struct dec *d, const struct opdesc **entry)
{
	struct x86_insn *o = d->out;
	const struct opdesc *e;
	int rc;

	o->map = X86_MAP_PRIMARY;
	o->opcode = d->b[d->pos++];
	e = &map1[o->opcode];
	if (e->special == SP_0F) {
		rc = need(d, d->pos + 1);
		if (rc)
			return rc;
		o->map = X86_MAP_0F;
		o->opcode = d->b[d->pos++];
		e = &map0f[o->opcode];
	}
	if (e->special == SP_0F38 || e->special == SP_0F3A) {
		bool is38 = e->special == SP_0F38;

		rc = need(d, d->pos + 1);
		if (rc)
			return rc;
		o->map = is38 ? X86_MAP_0F38 : X86_MAP_0F3A;
		o->opcode = d->b[d->pos++];
		e = is38 ? &map0f38[o->opcode] : &map0f3a[o->opcode];
		if (!(e->flags & F_DEF))
			return X86_DECODE_UNSUPPORTED;
	}
	if (!(e->flags & F_DEF))
		return X86_DECODE_INVALID;
	*entry = e;
	return X86_DECODE_OK;
}

/* Reads ModRM and folds in the group entry it selects. */
static int decode_modrm(struct dec *d, struct opdesc *en, bool *lock_ok)
{
	struct x86_insn *o = d->out;
	const struct opdesc *ge = NULL;
	int rc = need(d, d->pos + 1);

	if (rc)
		return rc;
	u8 modrm = d->b[d->pos++];
	unsigned reg3 = (modrm >> 3) & 7;

	o->has_modrm = true;
	o->modrm = modrm;
	o->mod = modrm >> 6;
	o->reg = reg3 | ((o->rex & X86_REX_R) ? 8 : 0);
	o->rm = (modrm & 7) | ((o->rex & X86_REX_B) ? 8 : 0);
	if (en->flags & F_GRP) {
		ge = &groups[en->grp][reg3];
	} else if (en->flags & F_GCM) {
		ge = &groups[en->grp + (o->mod == 3 ? 4 : 0) + d->col][reg3];
	} else if (en->special == SP_GRP7) {
		ge = o->mod == 3 ? &grp7_reg[modrm & 0x3F] : &groups[G_7M][reg3];
		if (!(ge->flags & F_DEF))
			return X86_DECODE_UNSUPPORTED;
	}
	if (ge)
		merge(en, ge);
	return special_post_modrm(d, en, lock_ok);
}

static int decode(struct dec *d)
{
	static const u8 col_prefix[4] = { 0, 0x66, 0xF3, 0xF2 };
	struct x86_insn *o = d->out;
	const struct opdesc *e = NULL;
	bool lock_ok = false;
	int rc;

	rc = decode_prefixes(d);
	if (rc)
		return rc;
	rc = decode_opcode(d, &e);
	if (rc)
		return rc;

	struct opdesc en = *e;

	rc = check_opcode(d, en.flags);
	if (rc)
		return rc;
	rc = special_pre_modrm(d, &en);
	if (rc)
		return rc;
	if (d->lock && !(en.flags & F_M))
		return X86_DECODE_INVALID;
	if (en.flags & F_M) {
		rc = decode_modrm(d, &en, &lock_ok);
		if (rc)
			return rc;
	}
	rc = check_entry(d, &en, lock_ok);
	if (rc)
		return rc;
	if (o->map == X86_MAP_0F3A)
		en.imm = I_B;
	if (en.flags & (F_SSE | F_GCM))
		o->simd_prefix = col_prefix[d->col];
	o->opsize = (u8)operand_size(d, en.flags);

	/* Memory operand and displacement, then the immediates: their sizes are
	 * all known before any of their bytes is read, so a short buffer is
	 * reported with the full length. */
	unsigned disp_bytes = 0, n1, n2;

	if (o->has_modrm && o->mod != 3 && !(en.flags & F_NOMOD)) {
		o->has_mem = true;
		rc = decode_mem(d, &disp_bytes);
		if (rc)
			return rc;
	} else if (en.imm == I_MOFFS) {
		o->has_mem = true;
		o->mem.scale = 1;
		disp_bytes = o->addrsize;
	}
	imm_bytes(en.imm, o, &n1, &n2);
	rc = need(d, d->pos + disp_bytes + n1 + n2);
	if (rc)
		return rc;

	if (o->has_mem) {
		u64 raw = read_le(d->b + d->pos, disp_bytes);

		o->mem.disp_size = (u8)disp_bytes;
		o->mem.disp = en.imm == I_MOFFS ? (s64)raw : sign_extend(raw, disp_bytes);
		o->mem.seg = o->seg_override != X86_SEG_NONE ? o->seg_override : default_seg(o);
		d->pos += disp_bytes;
	}
	if (n1) {
		u64 raw = read_le(d->b + d->pos, n1);

		o->imm = imm_signed(en.imm) ? sign_extend(raw, n1) : (s64)raw;
		o->imm_size = (u8)n1;
		d->pos += n1;
	}
	if (n2) {
		o->imm2 = (u16)read_le(d->b + d->pos, n2);
		o->imm2_size = (u8)n2;
		d->pos += n2;
	}
	o->len = (u8)d->pos;
	fill_operands(d, &en);
	return X86_DECODE_OK;
}

int x86_decode(const u8 *bytes, size_t avail, enum x86_cpu_mode mode, struct x86_insn *out)
{
	struct dec d = {
		.b = bytes,
		.avail = avail,
		.mode64 = mode == X86_MODE_64,
		.out = out,
	};

	memset(out, 0, sizeof(*out));
	out->mode = (u8)mode;
	out->seg_override = X86_SEG_NONE;
	out->reg_op.num = X86_REG_NONE;
	out->rm_op.num = X86_REG_NONE;
	out->mem.base = X86_REG_NONE;
	out->mem.index = X86_REG_NONE;
	out->mem.seg = X86_SEG_NONE;

	int rc = decode(&d);
	if (rc != X86_DECODE_OK && rc != X86_DECODE_TRUNCATED)
		out->len = 0;
	return rc;
}
