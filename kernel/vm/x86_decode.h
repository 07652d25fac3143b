/* x86 instruction decoder for the exit paths that get no help from the CPU.
 *
 * QEMU TCG's SVM reports neither next-RIP nor the instruction bytes' meaning, so
 * the hypervisor needs the length of every intercepted instruction (to skip it)
 * and the operands of every instruction it emulates against MMIO.  This file is
 * pure logic: it reads a byte buffer the caller fetched from guest memory.
 *
 * Coverage, and what is deliberately left out:
 *  - Lengths and validity of the whole legacy one-byte and 0F maps, and of the
 *    0F38/0F3A opcodes listed in the tables, in 16-, 32- and 64-bit code.
 *  - X86_DECODE_UNSUPPORTED (never a guess) for: VEX, EVEX and XOP encodings,
 *    3DNow! (0F 0F), MPX (0F 1A/1B), UD0 (0F FF; Intel and AMD disagree on its
 *    length), VIA PadLock (0F A6/A7), register forms of 0F 0D, x87 register
 *    forms the SDM leaves undocumented, 0F38/0F3A opcodes not in the tables,
 *    the newer or prefixed forms of groups 7, 9 and 15 (CET, WAITPKG,
 *    FSGSBASE, SGX, ...), and 66/F2/F3 on the instructions the SDM marks NP
 *    (VMCALL, XSETBV, GETSEC, ...), where they select other instructions.
 *  - Branches follow Intel: in 64-bit mode 66 does not shorten the rel32 of
 *    CALL/JMP/Jcc (Zydis' default; AMD would read a rel16).
 *  - LOCK MOV CR0 is decoded as an access to CR8 (AMD's AltMovCr8).  Intel
 *    raises #UD for it; the caller decides by vendor.
 *  - Mode-dependent #UD that needs CPU state (CPL, CR4 bits, CPUID features,
 *    real versus protected mode) is the caller's business, not the decoder's.
 */
#ifndef HV_KERNEL_VM_X86_DECODE_H
#define HV_KERNEL_VM_X86_DECODE_H

#include "kernel/types.h"

/* Longer encodings raise #GP (SDM vol. 2 2.3.11). */
#define X86_MAX_INSN_LEN 15

/* The code size of the segment the instruction runs in: real mode, vm86 and
 * 16-bit protected mode all decode as X86_MODE_16. */
enum x86_cpu_mode {
	X86_MODE_16 = 0,
	X86_MODE_32 = 1,
	X86_MODE_64 = 2,
};

enum x86_decode_status {
	X86_DECODE_OK = 0,
	/* More bytes are needed than were given: insn->len is the total length
	 * known to be needed so far (always more than avail, never more than 15). */
	X86_DECODE_TRUNCATED = -1,
	/* The CPU raises #UD for these bytes whatever its state. */
	X86_DECODE_INVALID = -2,
	/* Longer than 15 bytes: the CPU raises #GP. */
	X86_DECODE_TOO_LONG = -3,
	/* Possibly valid, but outside what this decoder models (see above). */
	X86_DECODE_UNSUPPORTED = -4,
};

enum x86_map {
	X86_MAP_PRIMARY = 0,
	X86_MAP_0F = 1,
	X86_MAP_0F38 = 2,
	X86_MAP_0F3A = 3,
};

/* Numbered as in the Sreg field of MOV Sreg and in the VMCB/VMCS layouts. */
enum x86_seg {
	X86_SEG_ES = 0,
	X86_SEG_CS = 1,
	X86_SEG_SS = 2,
	X86_SEG_DS = 3,
	X86_SEG_FS = 4,
	X86_SEG_GS = 5,
	X86_SEG_NONE = 0xff,
};

/* General-purpose registers by their encoding number. */
enum x86_gpr {
	X86_REG_NONE = -1,
	X86_REG_RAX = 0,
	X86_REG_RCX = 1,
	X86_REG_RDX = 2,
	X86_REG_RBX = 3,
	X86_REG_RSP = 4,
	X86_REG_RBP = 5,
	X86_REG_RSI = 6,
	X86_REG_RDI = 7,
	X86_REG_R8 = 8,
	X86_REG_R15 = 15,
	/* Base of a RIP-relative (EIP-relative with 67) memory operand. */
	X86_REG_RIP = 16,
};

/* Prefixes present in the encoding (each bit set however often it occurs). */
#define X86_PFX_LOCK (1u << 0)
#define X86_PFX_REP (1u << 1)    /* F3 */
#define X86_PFX_REPNE (1u << 2)  /* F2 */
#define X86_PFX_OPSIZE (1u << 3) /* 66 */
#define X86_PFX_ADSIZE (1u << 4) /* 67 */
#define X86_PFX_SEG (1u << 5)    /* any of 26 2E 36 3E 64 65, even if ignored */
#define X86_PFX_REX (1u << 6)    /* a REX that takes effect (see insn->rex) */

#define X86_REX_W 0x08
#define X86_REX_R 0x04
#define X86_REX_X 0x02
#define X86_REX_B 0x01

enum x86_kind {
	X86_K_OTHER = 0, /* valid, length known, no semantics modelled */

	/* Data movement and arithmetic the MMIO emulator handles. */
	X86_K_MOV_RM_REG,    /* 88/89: r/m <- reg */
	X86_K_MOV_REG_RM,    /* 8A/8B: reg <- r/m */
	X86_K_MOV_RM_IMM,    /* C6/C7 /0 */
	X86_K_MOV_ACC_MOFFS, /* A0/A1: AL/eAX <- [moffs] */
	X86_K_MOV_MOFFS_ACC, /* A2/A3 */
	X86_K_MOVZX,         /* 0F B6/B7 */
	X86_K_MOVSX,         /* 0F BE/BF */
	X86_K_MOVSXD,        /* 63 in 64-bit mode */
	X86_K_MOVS,
	X86_K_STOS,
	X86_K_LODS,
	X86_K_CMPS,
	X86_K_SCAS,
	X86_K_ALU_RM_REG, /* op (enum x86_alu) r/m, reg */
	X86_K_ALU_REG_RM, /* op reg, r/m */
	X86_K_ALU_RM_IMM, /* 80/81/82/83 */
	X86_K_TEST_RM_REG,
	X86_K_TEST_RM_IMM,
	X86_K_UNARY, /* op (enum x86_unary) r/m */
	X86_K_XCHG,  /* 86/87 */
	X86_K_CMPXCHG,
	X86_K_XADD,
	X86_K_BT_RM_REG, /* op (enum x86_bt) r/m, reg */
	X86_K_BT_RM_IMM,

	/* Instructions that exit, or that the hypervisor may emulate. */
	X86_K_CPUID,
	X86_K_RDMSR,
	X86_K_WRMSR,
	X86_K_RDTSC,
	X86_K_RDTSCP,
	X86_K_RDPMC,
	X86_K_IN,  /* port in imm (imm_size 1) or in DX (imm_size 0) */
	X86_K_OUT, /* likewise */
	X86_K_INS,
	X86_K_OUTS,
	X86_K_HLT,
	X86_K_PAUSE,
	X86_K_INVLPG,
	X86_K_INVD,
	X86_K_WBINVD,
	X86_K_MOV_FROM_CR, /* control register number in insn->reg */
	X86_K_MOV_TO_CR,
	X86_K_MOV_FROM_DR, /* debug register number in insn->reg */
	X86_K_MOV_TO_DR,
	X86_K_CLTS,
	X86_K_LMSW,
	X86_K_SMSW,
	X86_K_LGDT,
	X86_K_LIDT,
	X86_K_SGDT,
	X86_K_SIDT,
	X86_K_LLDT,
	X86_K_SLDT,
	X86_K_LTR,
	X86_K_STR,
	X86_K_XSETBV,
	X86_K_XGETBV,
	X86_K_VMCALL,
	X86_K_VMMCALL,
	X86_K_VMFUNC,
	X86_K_VMRUN,
	X86_K_VMLOAD,
	X86_K_VMSAVE,
	X86_K_STGI,
	X86_K_CLGI,
	X86_K_INVLPGA,
	X86_K_SKINIT,
	X86_K_VMXON,
	X86_K_VMXOFF,
	X86_K_VMCLEAR,
	X86_K_VMPTRLD,
	X86_K_VMPTRST,
	X86_K_VMREAD,  /* r/m <- VMCS field named by reg */
	X86_K_VMWRITE, /* VMCS field named by reg <- r/m */
	X86_K_VMLAUNCH,
	X86_K_VMRESUME,
	X86_K_INVEPT,
	X86_K_INVVPID,
	X86_K_INVPCID,
	X86_K_MONITOR,
	X86_K_MWAIT,
	X86_K_INT3,
	X86_K_INT, /* vector in imm */
	X86_K_INTO,
	X86_K_INT1,
	X86_K_IRET, /* IRET/IRETD/IRETQ by opsize */
	X86_K_CLI,
	X86_K_STI,
	X86_K_PUSHF,
	X86_K_POPF,
	X86_K_SWAPGS,
	X86_K_SYSCALL,
	X86_K_SYSRET,
	X86_K_SYSENTER,
	X86_K_SYSEXIT,
	X86_K_RSM,
	X86_K_UD, /* UD1, UD2: defined to raise #UD */
	X86_K_COUNT
};

/* insn->op for the ALU kinds: the SDM's ModRM.reg order of group 1. */
enum x86_alu {
	X86_ALU_ADD = 0,
	X86_ALU_OR = 1,
	X86_ALU_ADC = 2,
	X86_ALU_SBB = 3,
	X86_ALU_AND = 4,
	X86_ALU_SUB = 5,
	X86_ALU_XOR = 6,
	X86_ALU_CMP = 7,
};

enum x86_unary {
	X86_UNARY_INC = 0,
	X86_UNARY_DEC = 1,
	X86_UNARY_NOT = 2,
	X86_UNARY_NEG = 3,
};

/* Group 8's ModRM.reg order minus 4. */
enum x86_bt {
	X86_BT_BT = 0,
	X86_BT_BTS = 1,
	X86_BT_BTR = 2,
	X86_BT_BTC = 3,
};

/* A general-purpose register operand.  high8 selects AH/CH/DH/BH: num is then
 * 0..3 (the register whose bits 15:8 are meant). */
struct x86_regop {
	s8 num; /* enum x86_gpr, X86_REG_NONE when absent */
	u8 size; /* bytes */
	bool high8;
};

/* The effective address is base + index * scale + disp, truncated to
 * insn->addrsize; a RIP-relative base means the address of the next
 * instruction.  16-bit forms use base BX/BP/SI/DI and index SI/DI. */
struct x86_mem {
	u8 seg;   /* enum x86_seg: the segment actually used (override or default) */
	s8 base;  /* enum x86_gpr or X86_REG_RIP */
	s8 index; /* enum x86_gpr */
	u8 scale; /* 1, 2, 4 or 8 */
	bool rip_rel;
	u8 disp_size; /* encoded bytes: 0, 1, 2, 4 or 8 */
	s64 disp;     /* sign-extended; a moffs is zero-extended */
	u8 size;      /* bytes accessed, 0 when the kind does not say */
};

struct x86_insn {
	u8 len;      /* on TRUNCATED: bytes known to be needed */
	u8 mode;     /* enum x86_cpu_mode */
	u8 opsize;   /* effective operand size in bytes: 1 for byte forms, 2, 4, 8 */
	u8 addrsize; /* effective address size in bytes: 2, 4, 8 */
	u16 prefixes; /* X86_PFX_* */
	u8 rep;       /* 0, 0xF2 or 0xF3: the last of them, which the CPU honours */
	u8 simd_prefix; /* mandatory prefix that selected an SSE form: 0, 0x66, 0xF3, 0xF2 */
	u8 rex;         /* effective REX byte, 0 if none; ignored REX bytes count in len only */
	u8 seg_override; /* enum x86_seg; in 64-bit mode only FS/GS take effect */
	u8 map;          /* enum x86_map */
	u8 opcode;
	u8 kind; /* enum x86_kind */
	u8 op;   /* enum x86_alu / x86_unary / x86_bt for the kinds that need one */

	bool has_modrm;
	bool has_sib;
	u8 modrm;
	u8 sib;
	u8 mod;
	u8 reg; /* ModRM.reg | REX.R << 3 */
	u8 rm;  /* ModRM.rm | REX.B << 3 */

	/* Explicit memory operand: ModRM memory forms, moffs, and for string
	 * instructions the operand at DS:rSI (MOVS, LODS, CMPS, OUTS; segment
	 * overridable) or ES:rDI (STOS, SCAS, INS).  MOVS/CMPS also use ES:rDI. */
	bool has_mem;
	struct x86_mem mem;

	/* Register operands for the kinds above: reg_op from ModRM.reg (or the
	 * implicit accumulator of moffs MOV and IN/OUT), rm_op from ModRM.rm when
	 * mod == 3 (the GPR of MOV CR/DR). */
	struct x86_regop reg_op;
	struct x86_regop rm_op;

	/* Sign-extended from imm_size bytes when the instruction treats it as
	 * signed (ALU, MOV, TEST, PUSH, IMUL, relative branches), zero-extended
	 * otherwise (ports, vectors, shift counts, selectors, ENTER/RET sizes).
	 * imm2 is ENTER's level, the second byte of EXTRQ/INSERTQ, or the
	 * selector of a far pointer (whose offset is imm). */
	s64 imm;
	u8 imm_size;
	u8 imm2_size;
	u16 imm2;
};

/* Decodes the instruction at bytes[0..avail), reading no byte past avail or
 * past the 15th.  Returns X86_DECODE_OK with *out filled in, or a negative
 * enum x86_decode_status; then only out->len means anything (see
 * X86_DECODE_TRUNCATED; it is 0 for the other errors). */
int x86_decode(const u8 *bytes, size_t avail, enum x86_cpu_mode mode, struct x86_insn *out);

/* "mov_rm_reg", "cpuid", ...; "?" for out-of-range values. */
const char *x86_kind_name(unsigned kind);
const char *x86_decode_status_name(int status);

#endif
