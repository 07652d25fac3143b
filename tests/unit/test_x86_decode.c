/* unit-sources: kernel/vm/x86_decode.c tests/unit/fake_printk.c */
/* unit-libs: -lZydis */
/* The instruction decoder: hand-written cases for every kind in every mode,
 * then a differential run against Zydis over a large generated corpus. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "kernel/vm/x86_decode.h"

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

/* ==== Hand-written cases ======================================================== */

enum { AX, CX, DX, BX, SP, BP, SI, DI, R8, R9, R10, R11, R12, R13, R14, R15 };
#define NONE X86_REG_NONE
#define RIP X86_REG_RIP

struct exp_reg {
	bool set;
	s8 num;
	u8 size;
	bool high8;
};
#define REG(n, sz) { true, (n), (sz), false }
#define HIGH8(n) { true, (n), 1, true }

struct exp_mem {
	bool set;
	u8 seg;
	s8 base, index;
	u8 scale;
	s64 disp;
	u8 size;
};
#define MEM(sg, b, i, sc, d, sz) { true, X86_SEG_##sg, (b), (i), (sc), (d), (sz) }

struct hcase {
	int line;
	u8 mode;
	u8 n;
	u8 bytes[X86_MAX_INSN_LEN];
	int rc;
	u8 len;
	u8 kind;
	u8 op;
	u8 opsize;   /* 0: not checked */
	u8 addrsize; /* 0: not checked */
	struct exp_mem mem;
	struct exp_reg reg, rm;
	s64 imm;
	u8 imm_size;
	u16 imm2;
	u8 imm2_size;
	s8 ctl; /* CR/DR number for MOV CR/DR, else -1 when set */
};

#define BYTES(...) .bytes = { __VA_ARGS__ }, .n = sizeof((u8[]){ __VA_ARGS__ })
#define CASE(m, ...) { .line = __LINE__, .mode = (m), __VA_ARGS__ }
#define K(k) .kind = X86_K_##k

/* Instructions with operands, each in the modes where its bytes mean something
 * different. */
static const struct hcase operand_cases[] = {
	/* MOV r/m, reg */
	CASE(M16, BYTES(0x89, 0x07), .len = 2, K(MOV_RM_REG), .opsize = 2, .addrsize = 2,
	     .mem = MEM(DS, BX, NONE, 1, 0, 2), .reg = REG(AX, 2)),
	CASE(M16, BYTES(0x88, 0x66, 0x05), .len = 3, K(MOV_RM_REG), .opsize = 1,
	     .mem = MEM(SS, BP, NONE, 1, 5, 1), .reg = HIGH8(AX)),
	CASE(M16, BYTES(0x66, 0x89, 0x00), .len = 3, K(MOV_RM_REG), .opsize = 4,
	     .mem = MEM(DS, BX, SI, 1, 0, 4), .reg = REG(AX, 4)),
	CASE(M16, BYTES(0x67, 0x89, 0x44, 0x8b, 0xfe), .len = 5, K(MOV_RM_REG), .addrsize = 4,
	     .mem = MEM(DS, BX, CX, 4, -2, 2), .reg = REG(AX, 2)),
	CASE(M32, BYTES(0x89, 0x44, 0x24, 0x08), .len = 4, K(MOV_RM_REG), .opsize = 4,
	     .addrsize = 4, .mem = MEM(SS, SP, NONE, 1, 8, 4), .reg = REG(AX, 4)),
	CASE(M32, BYTES(0x67, 0x89, 0x07), .len = 3, K(MOV_RM_REG), .addrsize = 2,
	     .mem = MEM(DS, BX, NONE, 1, 0, 4), .reg = REG(AX, 4)),
	CASE(M32, BYTES(0x26, 0x88, 0x3d, 0x00, 0x00, 0x0e, 0xfe), .len = 7, K(MOV_RM_REG),
	     .mem = MEM(ES, NONE, NONE, 1, (s32)0xfe0e0000, 1), .reg = HIGH8(BX)),
	CASE(M64, BYTES(0x48, 0x89, 0x05, 0x10, 0x00, 0x00, 0x00), .len = 7, K(MOV_RM_REG),
	     .opsize = 8, .addrsize = 8, .mem = MEM(DS, RIP, NONE, 1, 0x10, 8), .reg = REG(AX, 8)),
	CASE(M64, BYTES(0x44, 0x88, 0x24, 0x8d, 0x00, 0x10, 0x00, 0x00), .len = 8, K(MOV_RM_REG),
	     .mem = MEM(DS, NONE, CX, 4, 0x1000, 1), .reg = REG(R12, 1)),
	CASE(M64, BYTES(0x40, 0x88, 0x30), .len = 3, K(MOV_RM_REG),
	     .mem = MEM(DS, AX, NONE, 1, 0, 1), .reg = REG(SI, 1)),
	CASE(M64, BYTES(0x88, 0x30), .len = 2, K(MOV_RM_REG),
	     .mem = MEM(DS, AX, NONE, 1, 0, 1), .reg = HIGH8(DX)),
	CASE(M64, BYTES(0x65, 0x89, 0x01), .len = 3, K(MOV_RM_REG),
	     .mem = MEM(GS, CX, NONE, 1, 0, 4), .reg = REG(AX, 4)),
	/* CS/DS/ES/SS overrides do nothing in 64-bit mode. */
	CASE(M64, BYTES(0x2e, 0x89, 0x01), .len = 3, K(MOV_RM_REG),
	     .mem = MEM(DS, CX, NONE, 1, 0, 4), .reg = REG(AX, 4)),
	CASE(M64, BYTES(0x67, 0x89, 0x07), .len = 3, K(MOV_RM_REG), .addrsize = 4,
	     .mem = MEM(DS, DI, NONE, 1, 0, 4), .reg = REG(AX, 4)),
	/* R13 is not rBP: the default segment stays DS. */
	CASE(M64, BYTES(0x4f, 0x89, 0x44, 0xe5, 0x80), .len = 5, K(MOV_RM_REG), .opsize = 8,
	     .mem = MEM(DS, R13, R12, 8, -128, 8), .reg = REG(R8, 8)),
	/* R13 as a SIB base with mod 00 is no base at all. */
	CASE(M64, BYTES(0x41, 0x89, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00), .len = 8, K(MOV_RM_REG),
	     .mem = MEM(DS, NONE, NONE, 1, 0x200000, 4), .reg = REG(AX, 4)),
	CASE(M64, BYTES(0x45, 0x89, 0x04, 0x24), .len = 4, K(MOV_RM_REG),
	     .mem = MEM(DS, R12, NONE, 1, 0, 4), .reg = REG(R8, 4)),

	/* MOV reg, r/m */
	CASE(M16, BYTES(0x8b, 0x1e, 0x34, 0x12), .len = 4, K(MOV_REG_RM),
	     .mem = MEM(DS, NONE, NONE, 1, 0x1234, 2), .reg = REG(BX, 2)),
	CASE(M32, BYTES(0x8b, 0x45, 0xfc), .len = 3, K(MOV_REG_RM),
	     .mem = MEM(SS, BP, NONE, 1, -4, 4), .reg = REG(AX, 4)),
	CASE(M64, BYTES(0x4c, 0x8b, 0x44, 0x24, 0xf8), .len = 5, K(MOV_REG_RM),
	     .mem = MEM(SS, SP, NONE, 1, -8, 8), .reg = REG(R8, 8)),
	CASE(M64, BYTES(0x8a, 0x0c, 0x25, 0x78, 0x56, 0x34, 0x12), .len = 7, K(MOV_REG_RM),
	     .mem = MEM(DS, NONE, NONE, 1, 0x12345678, 1), .reg = REG(CX, 1)),
	CASE(M64, BYTES(0x8b, 0xc1), .len = 2, K(MOV_REG_RM), .reg = REG(AX, 4), .rm = REG(CX, 4)),

	/* MOV r/m, imm */
	CASE(M16, BYTES(0xc7, 0x06, 0x00, 0x10, 0x34, 0x12), .len = 6, K(MOV_RM_IMM),
	     .mem = MEM(DS, NONE, NONE, 1, 0x1000, 2), .imm = 0x1234, .imm_size = 2),
	CASE(M32, BYTES(0xc7, 0x00, 0x78, 0x56, 0x34, 0x12), .len = 6, K(MOV_RM_IMM),
	     .mem = MEM(DS, AX, NONE, 1, 0, 4), .imm = 0x12345678, .imm_size = 4),
	CASE(M64, BYTES(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff), .len = 7, K(MOV_RM_IMM),
	     .opsize = 8, .mem = MEM(DS, AX, NONE, 1, 0, 8), .imm = -1, .imm_size = 4),
	CASE(M64, BYTES(0x66, 0xc7, 0x00, 0xff, 0x7f), .len = 5, K(MOV_RM_IMM), .opsize = 2,
	     .mem = MEM(DS, AX, NONE, 1, 0, 2), .imm = 0x7fff, .imm_size = 2),
	CASE(M64, BYTES(0xc6, 0x44, 0x24, 0x10, 0x80), .len = 5, K(MOV_RM_IMM), .opsize = 1,
	     .mem = MEM(SS, SP, NONE, 1, 0x10, 1), .imm = -128, .imm_size = 1),
	/* RIP-relative with an immediate after the displacement. */
	CASE(M64, BYTES(0xc7, 0x05, 0xf0, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00), .len = 10,
	     K(MOV_RM_IMM), .mem = MEM(DS, RIP, NONE, 1, -16, 4), .imm = 1, .imm_size = 4),

	/* MOV with moffs: the offset is address-sized and zero-extended. */
	CASE(M16, BYTES(0xa1, 0x34, 0x12), .len = 3, K(MOV_ACC_MOFFS), .opsize = 2,
	     .mem = MEM(DS, NONE, NONE, 1, 0x1234, 2), .reg = REG(AX, 2)),
	CASE(M16, BYTES(0x67, 0xa0, 0x78, 0x56, 0x34, 0x12), .len = 6, K(MOV_ACC_MOFFS),
	     .addrsize = 4, .mem = MEM(DS, NONE, NONE, 1, 0x12345678, 1), .reg = REG(AX, 1)),
	CASE(M32, BYTES(0xa1, 0x00, 0x00, 0x00, 0xfe), .len = 5, K(MOV_ACC_MOFFS),
	     .mem = MEM(DS, NONE, NONE, 1, 0xfe000000, 4), .reg = REG(AX, 4)),
	CASE(M32, BYTES(0x67, 0x66, 0xa3, 0x34, 0x12), .len = 5, K(MOV_MOFFS_ACC), .opsize = 2,
	     .addrsize = 2, .mem = MEM(DS, NONE, NONE, 1, 0x1234, 2), .reg = REG(AX, 2)),
	CASE(M64, BYTES(0x48, 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), .len = 10,
	     K(MOV_ACC_MOFFS), .opsize = 8, .mem = MEM(DS, NONE, NONE, 1, 0x1122334455667788, 8),
	     .reg = REG(AX, 8)),
	CASE(M64, BYTES(0x64, 0xa2, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff), .len = 10,
	     K(MOV_MOFFS_ACC), .mem = MEM(FS, NONE, NONE, 1, (s64)0xffffffff80000000ULL, 1),
	     .reg = REG(AX, 1)),
	CASE(M64, BYTES(0x67, 0xa3, 0x00, 0x00, 0xe0, 0xfe), .len = 6, K(MOV_MOFFS_ACC),
	     .addrsize = 4, .mem = MEM(DS, NONE, NONE, 1, 0xfee00000, 4), .reg = REG(AX, 4)),

	/* MOVZX, MOVSX, MOVSXD */
	CASE(M16, BYTES(0x0f, 0xb6, 0x07), .len = 3, K(MOVZX), .opsize = 2,
	     .mem = MEM(DS, BX, NONE, 1, 0, 1), .reg = REG(AX, 2)),
	CASE(M32, BYTES(0x0f, 0xb7, 0x03), .len = 3, K(MOVZX), .opsize = 4,
	     .mem = MEM(DS, BX, NONE, 1, 0, 2), .reg = REG(AX, 4)),
	CASE(M64, BYTES(0x48, 0x0f, 0xb6, 0x00), .len = 4, K(MOVZX), .opsize = 8,
	     .mem = MEM(DS, AX, NONE, 1, 0, 1), .reg = REG(AX, 8)),
	CASE(M64, BYTES(0x0f, 0xb6, 0xc4), .len = 3, K(MOVZX), .reg = REG(AX, 4), .rm = HIGH8(AX)),
	CASE(M64, BYTES(0x40, 0x0f, 0xb6, 0xc4), .len = 4, K(MOVZX), .reg = REG(AX, 4),
	     .rm = REG(SP, 1)),
	CASE(M16, BYTES(0x0f, 0xbe, 0x46, 0xfe), .len = 4, K(MOVSX),
	     .mem = MEM(SS, BP, NONE, 1, -2, 1), .reg = REG(AX, 2)),
	CASE(M32, BYTES(0x66, 0x0f, 0xbf, 0x08), .len = 4, K(MOVSX), .opsize = 2,
	     .mem = MEM(DS, AX, NONE, 1, 0, 2), .reg = REG(CX, 2)),
	CASE(M64, BYTES(0x4c, 0x0f, 0xbf, 0x10), .len = 4, K(MOVSX), .opsize = 8,
	     .mem = MEM(DS, AX, NONE, 1, 0, 2), .reg = REG(R10, 8)),
	CASE(M64, BYTES(0x48, 0x63, 0xc1), .len = 3, K(MOVSXD), .opsize = 8, .reg = REG(AX, 8),
	     .rm = REG(CX, 4)),
	CASE(M64, BYTES(0x48, 0x63, 0x01), .len = 3, K(MOVSXD), .opsize = 8,
	     .mem = MEM(DS, CX, NONE, 1, 0, 4), .reg = REG(AX, 8)),
	CASE(M64, BYTES(0x66, 0x63, 0x01), .len = 3, K(MOVSXD), .opsize = 2,
	     .mem = MEM(DS, CX, NONE, 1, 0, 2), .reg = REG(AX, 2)),
	/* 63 is ARPL outside 64-bit mode. */
	CASE(M32, BYTES(0x63, 0x01), .len = 2, K(OTHER), .opsize = 2,
	     .mem = MEM(DS, CX, NONE, 1, 0, 0)),

	/* String instructions: the DS:rSI operand takes overrides, ES:rDI never. */
	CASE(M16, BYTES(0xa4), .len = 1, K(MOVS), .opsize = 1, .addrsize = 2,
	     .mem = MEM(DS, SI, NONE, 1, 0, 1)),
	CASE(M32, BYTES(0x26, 0xa5), .len = 2, K(MOVS), .opsize = 4,
	     .mem = MEM(ES, SI, NONE, 1, 0, 4)),
	CASE(M64, BYTES(0xf3, 0x48, 0xa5), .len = 3, K(MOVS), .opsize = 8, .addrsize = 8,
	     .mem = MEM(DS, SI, NONE, 1, 0, 8)),
	CASE(M64, BYTES(0x67, 0x66, 0xa5), .len = 3, K(MOVS), .opsize = 2, .addrsize = 4,
	     .mem = MEM(DS, SI, NONE, 1, 0, 2)),
	CASE(M16, BYTES(0x26, 0xaa), .len = 2, K(STOS), .mem = MEM(ES, DI, NONE, 1, 0, 1)),
	CASE(M32, BYTES(0x64, 0xab), .len = 2, K(STOS), .mem = MEM(ES, DI, NONE, 1, 0, 4)),
	CASE(M64, BYTES(0xf3, 0x48, 0xab), .len = 3, K(STOS), .opsize = 8,
	     .mem = MEM(ES, DI, NONE, 1, 0, 8)),
	CASE(M16, BYTES(0xad), .len = 1, K(LODS), .opsize = 2, .mem = MEM(DS, SI, NONE, 1, 0, 2)),
	CASE(M64, BYTES(0x65, 0xac), .len = 2, K(LODS), .mem = MEM(GS, SI, NONE, 1, 0, 1)),
	CASE(M32, BYTES(0xf3, 0xa6), .len = 2, K(CMPS), .mem = MEM(DS, SI, NONE, 1, 0, 1)),
	CASE(M64, BYTES(0xf2, 0xaf), .len = 2, K(SCAS), .mem = MEM(ES, DI, NONE, 1, 0, 4)),
	CASE(M16, BYTES(0x6c), .len = 1, K(INS), .mem = MEM(ES, DI, NONE, 1, 0, 1)),
	CASE(M32, BYTES(0xf3, 0x6d), .len = 2, K(INS), .opsize = 4, .mem = MEM(ES, DI, NONE, 1, 0, 4)),
	CASE(M64, BYTES(0x48, 0x6d), .len = 2, K(INS), .opsize = 4, .mem = MEM(ES, DI, NONE, 1, 0, 4)),
	CASE(M16, BYTES(0x2e, 0x6f), .len = 2, K(OUTS), .opsize = 2,
	     .mem = MEM(CS, SI, NONE, 1, 0, 2)),
	CASE(M64, BYTES(0x66, 0x6f), .len = 2, K(OUTS), .opsize = 2,
	     .mem = MEM(DS, SI, NONE, 1, 0, 2)),

	/* ALU with memory */
	CASE(M16, BYTES(0x01, 0x18), .len = 2, K(ALU_RM_REG), .op = X86_ALU_ADD,
	     .mem = MEM(DS, BX, SI, 1, 0, 2), .reg = REG(BX, 2)),
	CASE(M32, BYTES(0x29, 0x0d, 0x00, 0x10, 0x00, 0x00), .len = 6, K(ALU_RM_REG),
	     .op = X86_ALU_SUB, .mem = MEM(DS, NONE, NONE, 1, 0x1000, 4), .reg = REG(CX, 4)),
	CASE(M64, BYTES(0xf0, 0x48, 0x01, 0x08), .len = 4, K(ALU_RM_REG), .op = X86_ALU_ADD,
	     .opsize = 8, .mem = MEM(DS, AX, NONE, 1, 0, 8), .reg = REG(CX, 8)),
	CASE(M64, BYTES(0x0a, 0x07), .len = 2, K(ALU_REG_RM), .op = X86_ALU_OR,
	     .mem = MEM(DS, DI, NONE, 1, 0, 1), .reg = REG(AX, 1)),
	CASE(M32, BYTES(0x13, 0x06), .len = 2, K(ALU_REG_RM), .op = X86_ALU_ADC,
	     .mem = MEM(DS, SI, NONE, 1, 0, 4), .reg = REG(AX, 4)),
	CASE(M16, BYTES(0x1b, 0x06, 0x00, 0x20), .len = 4, K(ALU_REG_RM), .op = X86_ALU_SBB,
	     .mem = MEM(DS, NONE, NONE, 1, 0x2000, 2), .reg = REG(AX, 2)),
	CASE(M64, BYTES(0x21, 0x08), .len = 2, K(ALU_RM_REG), .op = X86_ALU_AND,
	     .mem = MEM(DS, AX, NONE, 1, 0, 4), .reg = REG(CX, 4)),
	CASE(M64, BYTES(0x33, 0x08), .len = 2, K(ALU_REG_RM), .op = X86_ALU_XOR,
	     .mem = MEM(DS, AX, NONE, 1, 0, 4), .reg = REG(CX, 4)),
	CASE(M64, BYTES(0x3b, 0x08), .len = 2, K(ALU_REG_RM), .op = X86_ALU_CMP,
	     .mem = MEM(DS, AX, NONE, 1, 0, 4), .reg = REG(CX, 4)),
	CASE(M64, BYTES(0x80, 0x38, 0x05), .len = 3, K(ALU_RM_IMM), .op = X86_ALU_CMP,
	     .mem = MEM(DS, AX, NONE, 1, 0, 1), .imm = 5, .imm_size = 1),
	CASE(M32, BYTES(0x83, 0x28, 0xff), .len = 3, K(ALU_RM_IMM), .op = X86_ALU_SUB,
	     .mem = MEM(DS, AX, NONE, 1, 0, 4), .imm = -1, .imm_size = 1),
	CASE(M16, BYTES(0x81, 0x37, 0x34, 0x12), .len = 4, K(ALU_RM_IMM), .op = X86_ALU_XOR,
	     .mem = MEM(DS, BX, NONE, 1, 0, 2), .imm = 0x1234, .imm_size = 2),
	CASE(M64, BYTES(0x48, 0x81, 0x00, 0x00, 0x00, 0x00, 0x80), .len = 7, K(ALU_RM_IMM),
	     .op = X86_ALU_ADD, .opsize = 8, .mem = MEM(DS, AX, NONE, 1, 0, 8),
	     .imm = (s64)0xffffffff80000000ULL, .imm_size = 4),
	CASE(M64, BYTES(0x66, 0x83, 0x48, 0x02, 0x80), .len = 5, K(ALU_RM_IMM), .op = X86_ALU_OR,
	     .opsize = 2, .mem = MEM(DS, AX, NONE, 1, 2, 2), .imm = -128, .imm_size = 1),
	CASE(M32, BYTES(0x82, 0x10, 0x01), .len = 3, K(ALU_RM_IMM), .op = X86_ALU_ADC,
	     .mem = MEM(DS, AX, NONE, 1, 0, 1), .imm = 1, .imm_size = 1),

	/* TEST, NOT/NEG/INC/DEC, XCHG, CMPXCHG, XADD, BT* */
	CASE(M64, BYTES(0x85, 0x03), .len = 2, K(TEST_RM_REG), .mem = MEM(DS, BX, NONE, 1, 0, 4),
	     .reg = REG(AX, 4)),
	CASE(M16, BYTES(0x84, 0x27), .len = 2, K(TEST_RM_REG), .mem = MEM(DS, BX, NONE, 1, 0, 1),
	     .reg = HIGH8(AX)),
	CASE(M64, BYTES(0xf6, 0x00, 0xff), .len = 3, K(TEST_RM_IMM),
	     .mem = MEM(DS, AX, NONE, 1, 0, 1), .imm = -1, .imm_size = 1),
	CASE(M32, BYTES(0xf7, 0x00, 0x78, 0x56, 0x34, 0x12), .len = 6, K(TEST_RM_IMM),
	     .mem = MEM(DS, AX, NONE, 1, 0, 4), .imm = 0x12345678, .imm_size = 4),
	CASE(M16, BYTES(0xf7, 0x07, 0x00, 0x80), .len = 4, K(TEST_RM_IMM),
	     .mem = MEM(DS, BX, NONE, 1, 0, 2), .imm = -32768, .imm_size = 2),
	CASE(M64, BYTES(0xf6, 0x08, 0x01), .len = 3, K(TEST_RM_IMM), /* /1 alias */
	     .mem = MEM(DS, AX, NONE, 1, 0, 1), .imm = 1, .imm_size = 1),
	CASE(M64, BYTES(0xfe, 0x00), .len = 2, K(UNARY), .op = X86_UNARY_INC,
	     .mem = MEM(DS, AX, NONE, 1, 0, 1)),
	CASE(M32, BYTES(0xff, 0x08), .len = 2, K(UNARY), .op = X86_UNARY_DEC,
	     .mem = MEM(DS, AX, NONE, 1, 0, 4)),
	CASE(M16, BYTES(0xf6, 0x17), .len = 2, K(UNARY), .op = X86_UNARY_NOT,
	     .mem = MEM(DS, BX, NONE, 1, 0, 1)),
	CASE(M64, BYTES(0xf0, 0x48, 0xf7, 0x18), .len = 4, K(UNARY), .op = X86_UNARY_NEG,
	     .mem = MEM(DS, AX, NONE, 1, 0, 8)),
	CASE(M64, BYTES(0x87, 0x03), .len = 2, K(XCHG), .mem = MEM(DS, BX, NONE, 1, 0, 4),
	     .reg = REG(AX, 4)),
	CASE(M16, BYTES(0xf0, 0x86, 0x27), .len = 3, K(XCHG), .mem = MEM(DS, BX, NONE, 1, 0, 1),
	     .reg = HIGH8(AX)),
	CASE(M64, BYTES(0xf0, 0x0f, 0xb1, 0x0f), .len = 4, K(CMPXCHG),
	     .mem = MEM(DS, DI, NONE, 1, 0, 4), .reg = REG(CX, 4)),
	CASE(M32, BYTES(0x0f, 0xb0, 0x0b), .len = 3, K(CMPXCHG), .mem = MEM(DS, BX, NONE, 1, 0, 1),
	     .reg = REG(CX, 1)),
	CASE(M16, BYTES(0x0f, 0xc1, 0x04), .len = 3, K(XADD), .mem = MEM(DS, SI, NONE, 1, 0, 2),
	     .reg = REG(AX, 2)),
	CASE(M64, BYTES(0x0f, 0xa3, 0x03), .len = 3, K(BT_RM_REG), .op = X86_BT_BT,
	     .mem = MEM(DS, BX, NONE, 1, 0, 4), .reg = REG(AX, 4)),
	CASE(M32, BYTES(0xf0, 0x0f, 0xab, 0x03), .len = 4, K(BT_RM_REG), .op = X86_BT_BTS,
	     .mem = MEM(DS, BX, NONE, 1, 0, 4), .reg = REG(AX, 4)),
	CASE(M16, BYTES(0x0f, 0xb3, 0x07), .len = 3, K(BT_RM_REG), .op = X86_BT_BTR,
	     .mem = MEM(DS, BX, NONE, 1, 0, 2), .reg = REG(AX, 2)),
	CASE(M64, BYTES(0x48, 0x0f, 0xbb, 0x03), .len = 4, K(BT_RM_REG), .op = X86_BT_BTC,
	     .mem = MEM(DS, BX, NONE, 1, 0, 8), .reg = REG(AX, 8)),
	CASE(M64, BYTES(0x0f, 0xba, 0x20, 0x05), .len = 4, K(BT_RM_IMM), .op = X86_BT_BT,
	     .mem = MEM(DS, AX, NONE, 1, 0, 4), .imm = 5, .imm_size = 1),
	CASE(M32, BYTES(0xf0, 0x0f, 0xba, 0x28, 0x9f), .len = 5, K(BT_RM_IMM), .op = X86_BT_BTS,
	     .mem = MEM(DS, AX, NONE, 1, 0, 4), .imm = 0x9f, .imm_size = 1),
	CASE(M16, BYTES(0x0f, 0xba, 0x37, 0x01), .len = 4, K(BT_RM_IMM), .op = X86_BT_BTR,
	     .mem = MEM(DS, BX, NONE, 1, 0, 2), .imm = 1, .imm_size = 1),
	CASE(M64, BYTES(0x0f, 0xba, 0x38, 0x01), .len = 4, K(BT_RM_IMM), .op = X86_BT_BTC,
	     .mem = MEM(DS, AX, NONE, 1, 0, 4), .imm = 1, .imm_size = 1),

	/* Port I/O: the port is unsigned; REX.W never makes it 64-bit. */
	CASE(M16, BYTES(0xe4, 0xff), .len = 2, K(IN), .opsize = 1, .reg = REG(AX, 1),
	     .imm = 0xff, .imm_size = 1),
	CASE(M32, BYTES(0xe5, 0x71), .len = 2, K(IN), .opsize = 4, .reg = REG(AX, 4),
	     .imm = 0x71, .imm_size = 1),
	CASE(M16, BYTES(0xed), .len = 1, K(IN), .opsize = 2, .reg = REG(AX, 2)),
	CASE(M32, BYTES(0x66, 0xed), .len = 2, K(IN), .opsize = 2, .reg = REG(AX, 2)),
	CASE(M64, BYTES(0x48, 0xed), .len = 2, K(IN), .opsize = 4, .reg = REG(AX, 4)),
	CASE(M64, BYTES(0x66, 0x48, 0xed), .len = 3, K(IN), .opsize = 4, .reg = REG(AX, 4)),
	CASE(M64, BYTES(0xec), .len = 1, K(IN), .opsize = 1, .reg = REG(AX, 1)),
	CASE(M64, BYTES(0xe6, 0x80), .len = 2, K(OUT), .opsize = 1, .reg = REG(AX, 1),
	     .imm = 0x80, .imm_size = 1),
	CASE(M16, BYTES(0x66, 0xe7, 0x70), .len = 3, K(OUT), .opsize = 4, .reg = REG(AX, 4),
	     .imm = 0x70, .imm_size = 1),
	CASE(M32, BYTES(0xee), .len = 1, K(OUT), .opsize = 1, .reg = REG(AX, 1)),
	CASE(M64, BYTES(0x66, 0xef), .len = 2, K(OUT), .opsize = 2, .reg = REG(AX, 2)),

	/* System instructions with operands. */
	CASE(M64, BYTES(0x0f, 0x01, 0x38), .len = 3, K(INVLPG), .mem = MEM(DS, AX, NONE, 1, 0, 0)),
	CASE(M64, BYTES(0x0f, 0x01, 0x3d, 0x00, 0x01, 0x00, 0x00), .len = 7, K(INVLPG),
	     .mem = MEM(DS, RIP, NONE, 1, 0x100, 0)),
	CASE(M16, BYTES(0x0f, 0x01, 0x3e, 0x00, 0x70), .len = 5, K(INVLPG),
	     .mem = MEM(DS, NONE, NONE, 1, 0x7000, 0)),
	CASE(M32, BYTES(0x0f, 0x20, 0xc0), .len = 3, K(MOV_FROM_CR), .opsize = 4, .ctl = 0,
	     .rm = REG(AX, 4)),
	CASE(M16, BYTES(0x0f, 0x22, 0xd8), .len = 3, K(MOV_TO_CR), .opsize = 4, .ctl = 3,
	     .rm = REG(AX, 4)),
	CASE(M64, BYTES(0x0f, 0x22, 0xd8), .len = 3, K(MOV_TO_CR), .opsize = 8, .ctl = 3,
	     .rm = REG(AX, 8)),
	CASE(M64, BYTES(0x66, 0x0f, 0x20, 0xe0), .len = 4, K(MOV_FROM_CR), .opsize = 8, .ctl = 4,
	     .rm = REG(AX, 8)),
	CASE(M64, BYTES(0x44, 0x0f, 0x22, 0xc1), .len = 4, K(MOV_TO_CR), .ctl = 8,
	     .rm = REG(CX, 8)),
	CASE(M64, BYTES(0x41, 0x0f, 0x20, 0xd7), .len = 4, K(MOV_FROM_CR), .ctl = 2,
	     .rm = REG(R15, 8)),
	/* The mod field is ignored: this is still a register move. */
	CASE(M32, BYTES(0x0f, 0x20, 0x18), .len = 3, K(MOV_FROM_CR), .ctl = 3, .rm = REG(AX, 4)),
	/* AMD's LOCK MOV CR0 = CR8. */
	CASE(M32, BYTES(0xf0, 0x0f, 0x22, 0xc0), .len = 4, K(MOV_TO_CR), .ctl = 8,
	     .rm = REG(AX, 4)),
	CASE(M32, BYTES(0x0f, 0x21, 0xf8), .len = 3, K(MOV_FROM_DR), .ctl = 7, .rm = REG(AX, 4)),
	CASE(M64, BYTES(0x0f, 0x23, 0xc3), .len = 3, K(MOV_TO_DR), .ctl = 0, .rm = REG(BX, 8)),
	CASE(M16, BYTES(0x0f, 0x01, 0xf0), .len = 3, K(LMSW), .rm = REG(AX, 2)),
	CASE(M32, BYTES(0x0f, 0x01, 0x30), .len = 3, K(LMSW), .mem = MEM(DS, AX, NONE, 1, 0, 2)),
	CASE(M32, BYTES(0x0f, 0x01, 0xe0), .len = 3, K(SMSW), .rm = REG(AX, 4)),
	CASE(M64, BYTES(0x48, 0x0f, 0x01, 0xe1), .len = 4, K(SMSW), .rm = REG(CX, 8)),
	CASE(M16, BYTES(0x0f, 0x01, 0x27), .len = 3, K(SMSW), .mem = MEM(DS, BX, NONE, 1, 0, 2)),
	CASE(M16, BYTES(0x0f, 0x01, 0x17), .len = 3, K(LGDT), .mem = MEM(DS, BX, NONE, 1, 0, 6)),
	CASE(M32, BYTES(0x0f, 0x01, 0x18), .len = 3, K(LIDT), .mem = MEM(DS, AX, NONE, 1, 0, 6)),
	CASE(M64, BYTES(0x0f, 0x01, 0x10), .len = 3, K(LGDT), .mem = MEM(DS, AX, NONE, 1, 0, 10)),
	CASE(M64, BYTES(0x0f, 0x01, 0x04, 0x24), .len = 4, K(SGDT),
	     .mem = MEM(SS, SP, NONE, 1, 0, 10)),
	CASE(M32, BYTES(0x0f, 0x01, 0x08), .len = 3, K(SIDT), .mem = MEM(DS, AX, NONE, 1, 0, 6)),
	CASE(M32, BYTES(0x0f, 0x00, 0x10), .len = 3, K(LLDT), .mem = MEM(DS, AX, NONE, 1, 0, 2)),
	CASE(M64, BYTES(0x0f, 0x00, 0xd0), .len = 3, K(LLDT), .rm = REG(AX, 2)),
	CASE(M16, BYTES(0x0f, 0x00, 0x07), .len = 3, K(SLDT), .mem = MEM(DS, BX, NONE, 1, 0, 2)),
	CASE(M32, BYTES(0x0f, 0x00, 0xc0), .len = 3, K(SLDT), .rm = REG(AX, 4)),
	CASE(M64, BYTES(0x0f, 0x00, 0x18), .len = 3, K(LTR), .mem = MEM(DS, AX, NONE, 1, 0, 2)),
	CASE(M32, BYTES(0x0f, 0x00, 0xd8), .len = 3, K(LTR), .rm = REG(AX, 2)),
	CASE(M64, BYTES(0x0f, 0x00, 0x08), .len = 3, K(STR), .mem = MEM(DS, AX, NONE, 1, 0, 2)),
	CASE(M64, BYTES(0x48, 0x0f, 0x00, 0xc8), .len = 4, K(STR), .rm = REG(AX, 8)),

	/* VMX instructions with operands. */
	CASE(M64, BYTES(0xf3, 0x0f, 0xc7, 0x30), .len = 4, K(VMXON),
	     .mem = MEM(DS, AX, NONE, 1, 0, 8)),
	CASE(M32, BYTES(0x66, 0x0f, 0xc7, 0x35, 0x00, 0x10, 0x00, 0x00), .len = 8, K(VMCLEAR),
	     .mem = MEM(DS, NONE, NONE, 1, 0x1000, 8)),
	CASE(M16, BYTES(0x0f, 0xc7, 0x37), .len = 3, K(VMPTRLD), .mem = MEM(DS, BX, NONE, 1, 0, 8)),
	CASE(M64, BYTES(0x0f, 0xc7, 0x3c, 0x24), .len = 4, K(VMPTRST),
	     .mem = MEM(SS, SP, NONE, 1, 0, 8)),
	CASE(M64, BYTES(0x0f, 0x78, 0xc8), .len = 3, K(VMREAD), .opsize = 8, .reg = REG(CX, 8),
	     .rm = REG(AX, 8)),
	CASE(M32, BYTES(0x0f, 0x78, 0x08), .len = 3, K(VMREAD), .opsize = 4, .reg = REG(CX, 4),
	     .mem = MEM(DS, AX, NONE, 1, 0, 4)),
	CASE(M64, BYTES(0x4c, 0x0f, 0x79, 0xc1), .len = 4, K(VMWRITE), .reg = REG(R8, 8),
	     .rm = REG(CX, 8)),
	CASE(M16, BYTES(0x0f, 0x79, 0xc1), .len = 3, K(VMWRITE), .opsize = 4, .reg = REG(AX, 4),
	     .rm = REG(CX, 4)),
	CASE(M64, BYTES(0x66, 0x0f, 0x38, 0x80, 0x08), .len = 5, K(INVEPT), .reg = REG(CX, 8),
	     .mem = MEM(DS, AX, NONE, 1, 0, 16)),
	CASE(M32, BYTES(0x66, 0x0f, 0x38, 0x81, 0x08), .len = 5, K(INVVPID), .reg = REG(CX, 4),
	     .mem = MEM(DS, AX, NONE, 1, 0, 16)),
	CASE(M64, BYTES(0x66, 0x44, 0x0f, 0x38, 0x82, 0x00), .len = 6, K(INVPCID),
	     .reg = REG(R8, 8), .mem = MEM(DS, AX, NONE, 1, 0, 16)),

	/* INT n: the vector is unsigned. */
	CASE(M16, BYTES(0xcd, 0x10), .len = 2, K(INT), .imm = 0x10, .imm_size = 1),
	CASE(M32, BYTES(0xcd, 0x80), .len = 2, K(INT), .imm = 0x80, .imm_size = 1),
	CASE(M64, BYTES(0xcd, 0xff), .len = 2, K(INT), .imm = 0xff, .imm_size = 1),
	CASE(M16, BYTES(0xcf), .len = 1, K(IRET), .opsize = 2),
	CASE(M32, BYTES(0xcf), .len = 1, K(IRET), .opsize = 4),
	CASE(M64, BYTES(0xcf), .len = 1, K(IRET), .opsize = 4),
	CASE(M64, BYTES(0x48, 0xcf), .len = 2, K(IRET), .opsize = 8),
	CASE(M64, BYTES(0x9c), .len = 1, K(PUSHF), .opsize = 8),
	CASE(M64, BYTES(0x66, 0x9d), .len = 2, K(POPF), .opsize = 2),
	CASE(M16, BYTES(0x66, 0x9c), .len = 2, K(PUSHF), .opsize = 4),

	/* Lengths the SDM's special rules decide. */
	CASE(M64, BYTES(0x66, 0xe8, 0x00, 0x00, 0x00, 0x00), .len = 6, .imm = 0, .imm_size = 4,
	     .opsize = 8),
	CASE(M32, BYTES(0x66, 0xe8, 0xfe, 0xff), .len = 4, .imm = -2, .imm_size = 2, .opsize = 2),
	CASE(M16, BYTES(0x66, 0xe9, 0x00, 0x00, 0x01, 0x00), .len = 6, .imm = 0x10000,
	     .imm_size = 4),
	CASE(M64, BYTES(0x66, 0x0f, 0x85, 0x10, 0x00, 0x00, 0x00), .len = 7, .imm = 0x10,
	     .imm_size = 4),
	CASE(M64, BYTES(0x66, 0x68, 0x34, 0x12), .len = 4, .imm = 0x1234, .imm_size = 2,
	     .opsize = 2),
	CASE(M64, BYTES(0x68, 0x00, 0x00, 0x00, 0x80), .len = 5, .imm = (s64)0xffffffff80000000ULL,
	     .imm_size = 4, .opsize = 8),
	CASE(M64, BYTES(0x6a, 0xf0), .len = 2, .imm = -16, .imm_size = 1, .opsize = 8),
	CASE(M64, BYTES(0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8), .len = 10, .imm = 0x0807060504030201,
	     .imm_size = 8, .opsize = 8),
	CASE(M64, BYTES(0x66, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8), .len = 11,
	     .imm = 0x0807060504030201, .imm_size = 8, .opsize = 8),
	CASE(M64, BYTES(0x66, 0xb8, 0x34, 0x12), .len = 4, .imm = 0x1234, .imm_size = 2),
	CASE(M64, BYTES(0x41, 0xb7, 0x7f), .len = 3, .imm = 0x7f, .imm_size = 1),
	CASE(M32, BYTES(0xc8, 0x10, 0x00, 0x01), .len = 4, .imm = 0x10, .imm_size = 2, .imm2 = 1,
	     .imm2_size = 1),
	CASE(M64, BYTES(0xc2, 0x08, 0x80), .len = 3, .imm = 0x8008, .imm_size = 2),
	CASE(M32, BYTES(0x9a, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00), .len = 7, .imm = 0x12345678,
	     .imm_size = 4, .imm2 = 8, .imm2_size = 2),
	CASE(M32, BYTES(0x66, 0xea, 0x34, 0x12, 0x08, 0x00), .len = 6, .imm = 0x1234, .imm_size = 2,
	     .imm2 = 8, .imm2_size = 2),
	CASE(M16, BYTES(0xea, 0x00, 0x7c, 0x00, 0x00), .len = 5, .imm = 0x7c00, .imm_size = 2,
	     .imm2 = 0, .imm2_size = 2),
	CASE(M64, BYTES(0xf6, 0xc0, 0x80), .len = 3, .imm = -128, .imm_size = 1,
	     K(TEST_RM_IMM), .rm = REG(AX, 1)),
	CASE(M64, BYTES(0xf6, 0xd0), .len = 2, K(UNARY), .op = X86_UNARY_NOT, .rm = REG(AX, 1)),
	CASE(M64, BYTES(0x66, 0xf7, 0xc0, 0x34, 0x12), .len = 5, K(TEST_RM_IMM), .imm = 0x1234,
	     .imm_size = 2, .rm = REG(AX, 2)),
	CASE(M32, BYTES(0xc0, 0xe0, 0x04), .len = 3, .imm = 4, .imm_size = 1),
	CASE(M64, BYTES(0xd4, 0x0a), .rc = X86_DECODE_INVALID),
	CASE(M32, BYTES(0xd4, 0x0a), .len = 2, .imm = 10, .imm_size = 1),
	CASE(M64, BYTES(0x0f, 0x1f, 0x00), .len = 3, .mem = MEM(DS, AX, NONE, 1, 0, 0)),
	CASE(M64, BYTES(0x0f, 0x1f, 0x44, 0x00, 0x00), .len = 5, .mem = MEM(DS, AX, AX, 1, 0, 0)),
	CASE(M64, BYTES(0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00), .len = 10,
	     .mem = MEM(DS, AX, AX, 1, 0, 0)),
	CASE(M64, BYTES(0x0f, 0x3a, 0x0f, 0xc1, 0x08), .len = 5, .imm = 8, .imm_size = 1),
	CASE(M64, BYTES(0x66, 0x0f, 0x3a, 0x0f, 0x44, 0x24, 0x10, 0x08), .len = 8, .imm = 8,
	     .imm_size = 1, .mem = MEM(SS, SP, NONE, 1, 0x10, 0)),
	CASE(M32, BYTES(0x66, 0x0f, 0x38, 0x00, 0x04, 0x85, 0x00, 0x00, 0x00, 0x00), .len = 10,
	     .mem = MEM(DS, NONE, AX, 4, 0, 0)),
	CASE(M64, BYTES(0xf3, 0x0f, 0x10, 0x05, 0x00, 0x00, 0x00, 0x00), .len = 8,
	     .mem = MEM(DS, RIP, NONE, 1, 0, 0)),
	CASE(M64, BYTES(0x66, 0x0f, 0x73, 0xd8, 0x04), .len = 5, .imm = 4, .imm_size = 1),
	CASE(M64, BYTES(0x66, 0x0f, 0x78, 0xc0, 0x01, 0x02), .len = 6, .imm = 1, .imm_size = 1,
	     .imm2 = 2, .imm2_size = 1),
	CASE(M32, BYTES(0xf2, 0x0f, 0x78, 0xc1, 0x01, 0x02), .len = 6, .imm = 1, .imm_size = 1,
	     .imm2 = 2, .imm2_size = 1),
	CASE(M64, BYTES(0xc7, 0xf8, 0x00, 0x01, 0x00, 0x00), .len = 6, .imm = 0x100, .imm_size = 4),
	CASE(M64, BYTES(0x66, 0xc7, 0xf8, 0x00, 0x01), .len = 5, .imm = 0x100, .imm_size = 2),
	CASE(M32, BYTES(0xc6, 0xf8, 0xff), .len = 3, .imm = 0xff, .imm_size = 1),
	CASE(M32, BYTES(0xa0, 0x00, 0x00, 0x00, 0x00), .len = 5, K(MOV_ACC_MOFFS),
	     .mem = MEM(DS, NONE, NONE, 1, 0, 1), .reg = REG(AX, 1)),
	CASE(M64, BYTES(0xa0, 0, 0, 0, 0, 0, 0, 0, 0), .len = 9, K(MOV_ACC_MOFFS),
	     .mem = MEM(DS, NONE, NONE, 1, 0, 1), .reg = REG(AX, 1)),
	CASE(M32, BYTES(0xc4, 0x00), .len = 2, .mem = MEM(DS, AX, NONE, 1, 0, 0)), /* LES */
	CASE(M16, BYTES(0x62, 0x07), .len = 2, .mem = MEM(DS, BX, NONE, 1, 0, 0)), /* BOUND */
	CASE(M64, BYTES(0xd9, 0xe8), .len = 2), /* FLD1 */
	CASE(M32, BYTES(0xdd, 0x05, 0, 0, 0, 0), .len = 6, .mem = MEM(DS, NONE, NONE, 1, 0, 0)),
	CASE(M16, BYTES(0x9b, 0xdf, 0xe0), .len = 1), /* FWAIT, then FNSTSW AX */
	CASE(M64, BYTES(0xf3, 0x0f, 0xb8, 0xc1), .len = 4), /* POPCNT */
	CASE(M64, BYTES(0xf3, 0x0f, 0x1e, 0xfa), .len = 4), /* ENDBR64 */
	CASE(M64, BYTES(0x0f, 0xb9, 0x00), .len = 3, K(UD), /* UD1 */
	     .mem = MEM(DS, AX, NONE, 1, 0, 0)),
	CASE(M64, BYTES(0x0f, 0x0d, 0x08), .len = 3, /* PREFETCHW */
	     .mem = MEM(DS, AX, NONE, 1, 0, 0)),
	CASE(M64, BYTES(0x0f, 0xae, 0xf0), .len = 3),        /* MFENCE */
	CASE(M64, BYTES(0x48, 0x0f, 0xc7, 0x0f), .len = 4, /* CMPXCHG16B */
	     .mem = MEM(DS, DI, NONE, 1, 0, 0)),
};

static void check_exp_reg(const char *what, int line, const struct exp_reg *e,
			  const struct x86_regop *r)
{
	if (!e->set) {
		ck_assert_msg(r->num == X86_REG_NONE, "line %d: unexpected %s %d", line, what, r->num);
		return;
	}
	ck_assert_msg(r->num == e->num && r->size == e->size && r->high8 == e->high8,
		      "line %d: %s is %d/%u%s, want %d/%u%s", line, what, r->num, r->size,
		      r->high8 ? "h" : "", e->num, e->size, e->high8 ? "h" : "");
}

static void check_case(const struct hcase *c)
{
	struct x86_insn in;
	int rc = x86_decode(c->bytes, c->n, (enum x86_cpu_mode)c->mode, &in);

	ck_assert_msg(rc == c->rc, "line %d: status %s, want %s", c->line,
		      x86_decode_status_name(rc), x86_decode_status_name(c->rc));
	if (rc != X86_DECODE_OK)
		return;
	ck_assert_msg(in.len == c->len, "line %d: length %u, want %u", c->line, in.len, c->len);
	ck_assert_msg(in.kind == c->kind, "line %d: kind %s, want %s", c->line,
		      x86_kind_name(in.kind), x86_kind_name(c->kind));
	ck_assert_msg(in.op == c->op, "line %d: op %u, want %u", c->line, in.op, c->op);
	if (c->opsize)
		ck_assert_msg(in.opsize == c->opsize, "line %d: opsize %u, want %u", c->line,
			      in.opsize, c->opsize);
	if (c->addrsize)
		ck_assert_msg(in.addrsize == c->addrsize, "line %d: addrsize %u, want %u", c->line,
			      in.addrsize, c->addrsize);
	ck_assert_msg(in.has_mem == c->mem.set, "line %d: has_mem %d", c->line, in.has_mem);
	if (c->mem.set) {
		const struct x86_mem *m = &in.mem;
		ck_assert_msg(m->seg == c->mem.seg, "line %d: segment %u, want %u", c->line, m->seg,
			      c->mem.seg);
		ck_assert_msg(m->base == c->mem.base && m->index == c->mem.index,
			      "line %d: base/index %d/%d, want %d/%d", c->line, m->base, m->index,
			      c->mem.base, c->mem.index);
		ck_assert_msg(m->scale == c->mem.scale, "line %d: scale %u, want %u", c->line,
			      m->scale, c->mem.scale);
		ck_assert_msg(m->disp == c->mem.disp, "line %d: disp %#llx, want %#llx", c->line,
			      (unsigned long long)m->disp, (unsigned long long)c->mem.disp);
		ck_assert_msg(m->size == c->mem.size, "line %d: access size %u, want %u", c->line,
			      m->size, c->mem.size);
		ck_assert_msg(m->rip_rel == (c->mem.base == RIP), "line %d: rip_rel", c->line);
	}
	check_exp_reg("reg operand", c->line, &c->reg, &in.reg_op);
	check_exp_reg("r/m operand", c->line, &c->rm, &in.rm_op);
	ck_assert_msg(in.imm_size == c->imm_size && in.imm == c->imm,
		      "line %d: imm %#llx/%u, want %#llx/%u", c->line, (unsigned long long)in.imm,
		      in.imm_size, (unsigned long long)c->imm, c->imm_size);
	ck_assert_msg(in.imm2_size == c->imm2_size && in.imm2 == c->imm2,
		      "line %d: imm2 %#x/%u, want %#x/%u", c->line, in.imm2, in.imm2_size, c->imm2,
		      c->imm2_size);
	if (in.kind >= X86_K_MOV_FROM_CR && in.kind <= X86_K_MOV_TO_DR)
		ck_assert_msg(in.reg == c->ctl, "line %d: control register %u, want %d", c->line,
			      in.reg, c->ctl);
}

START_TEST(test_operand_cases)
{
	check_case(&operand_cases[_i]);
}
END_TEST

/* Instructions without operands to speak of, in every mode where valid. */
#define ALL_MODES 7
#define NOT64 3
#define ONLY64 4
struct simple_case {
	u8 n;
	u8 bytes[4];
	u8 kind;
	u8 modes; /* bit per enum x86_cpu_mode */
};
#define SIMPLE(k, m, ...) { .kind = X86_K_##k, .modes = (m), BYTES(__VA_ARGS__) }

static const struct simple_case simple_cases[] = {
	SIMPLE(CPUID, ALL_MODES, 0x0f, 0xa2),
	SIMPLE(RDMSR, ALL_MODES, 0x0f, 0x32),
	SIMPLE(WRMSR, ALL_MODES, 0x0f, 0x30),
	SIMPLE(RDTSC, ALL_MODES, 0x0f, 0x31),
	SIMPLE(RDTSCP, ALL_MODES, 0x0f, 0x01, 0xf9),
	SIMPLE(RDPMC, ALL_MODES, 0x0f, 0x33),
	SIMPLE(HLT, ALL_MODES, 0xf4),
	SIMPLE(PAUSE, ALL_MODES, 0xf3, 0x90),
	SIMPLE(INVD, ALL_MODES, 0x0f, 0x08),
	SIMPLE(WBINVD, ALL_MODES, 0x0f, 0x09),
	SIMPLE(CLTS, ALL_MODES, 0x0f, 0x06),
	SIMPLE(XSETBV, ALL_MODES, 0x0f, 0x01, 0xd1),
	SIMPLE(XGETBV, ALL_MODES, 0x0f, 0x01, 0xd0),
	SIMPLE(VMCALL, ALL_MODES, 0x0f, 0x01, 0xc1),
	SIMPLE(VMMCALL, ALL_MODES, 0x0f, 0x01, 0xd9),
	SIMPLE(VMMCALL, ALL_MODES, 0xf3, 0x0f, 0x01, 0xd9),
	SIMPLE(VMFUNC, ALL_MODES, 0x0f, 0x01, 0xd4),
	SIMPLE(VMRUN, ALL_MODES, 0x0f, 0x01, 0xd8),
	SIMPLE(VMLOAD, ALL_MODES, 0x0f, 0x01, 0xda),
	SIMPLE(VMSAVE, ALL_MODES, 0x0f, 0x01, 0xdb),
	SIMPLE(STGI, ALL_MODES, 0x0f, 0x01, 0xdc),
	SIMPLE(CLGI, ALL_MODES, 0x0f, 0x01, 0xdd),
	SIMPLE(SKINIT, ALL_MODES, 0x0f, 0x01, 0xde),
	SIMPLE(INVLPGA, ALL_MODES, 0x0f, 0x01, 0xdf),
	SIMPLE(VMXOFF, ALL_MODES, 0x0f, 0x01, 0xc4),
	SIMPLE(VMLAUNCH, ALL_MODES, 0x0f, 0x01, 0xc2),
	SIMPLE(VMRESUME, ALL_MODES, 0x0f, 0x01, 0xc3),
	SIMPLE(MONITOR, ALL_MODES, 0x0f, 0x01, 0xc8),
	SIMPLE(MWAIT, ALL_MODES, 0x0f, 0x01, 0xc9),
	SIMPLE(INT3, ALL_MODES, 0xcc),
	SIMPLE(INTO, NOT64, 0xce),
	SIMPLE(INT1, ALL_MODES, 0xf1),
	SIMPLE(IRET, ALL_MODES, 0xcf),
	SIMPLE(CLI, ALL_MODES, 0xfa),
	SIMPLE(STI, ALL_MODES, 0xfb),
	SIMPLE(PUSHF, ALL_MODES, 0x9c),
	SIMPLE(POPF, ALL_MODES, 0x9d),
	SIMPLE(SWAPGS, ONLY64, 0x0f, 0x01, 0xf8),
	SIMPLE(SYSCALL, ALL_MODES, 0x0f, 0x05),
	SIMPLE(SYSRET, ALL_MODES, 0x0f, 0x07),
	SIMPLE(SYSENTER, ALL_MODES, 0x0f, 0x34),
	SIMPLE(SYSEXIT, ALL_MODES, 0x0f, 0x35),
	SIMPLE(RSM, ALL_MODES, 0x0f, 0xaa),
	SIMPLE(UD, ALL_MODES, 0x0f, 0x0b),
	SIMPLE(OTHER, ALL_MODES, 0x90),
	SIMPLE(OTHER, NOT64, 0x06),
	SIMPLE(OTHER, NOT64, 0x27),
	SIMPLE(OTHER, NOT64, 0x60),
	SIMPLE(OTHER, NOT64, 0xd6),
};

START_TEST(test_simple_kinds)
{
	const struct simple_case *c = &simple_cases[_i];

	for (int mode = M16; mode <= M64; mode++) {
		struct x86_insn in;
		int rc = x86_decode(c->bytes, c->n, (enum x86_cpu_mode)mode, &in);
		if (!(c->modes & (1 << mode))) {
			ck_assert_msg(rc == X86_DECODE_INVALID, "case %d, %s-bit: %s, want invalid", _i,
				      mode_names[mode], x86_decode_status_name(rc));
			continue;
		}
		ck_assert_msg(rc == X86_DECODE_OK, "case %d, %s-bit: %s", _i, mode_names[mode],
			      x86_decode_status_name(rc));
		ck_assert_msg(in.len == c->n && in.kind == c->kind, "case %d, %s-bit: len %u kind %s",
			      _i, mode_names[mode], in.len, x86_kind_name(in.kind));
		ck_assert(!in.has_mem && in.imm_size == 0);
	}
}
END_TEST

/* Every kind is named, and every kind appears among the cases above. */
START_TEST(test_kind_names_and_coverage)
{
	bool seen[X86_K_COUNT] = { false };

	for (unsigned k = 0; k < X86_K_COUNT; k++)
		ck_assert_msg(strcmp(x86_kind_name(k), "?") != 0, "kind %u has no name", k);
	ck_assert_str_eq(x86_kind_name(X86_K_COUNT), "?");
	ck_assert_str_eq(x86_decode_status_name(X86_DECODE_TOO_LONG), "too long");
	ck_assert_str_eq(x86_decode_status_name(-9), "?");
	for (size_t i = 0; i < ARRAY_SIZE(operand_cases); i++)
		seen[operand_cases[i].kind] = true;
	for (size_t i = 0; i < ARRAY_SIZE(simple_cases); i++)
		seen[simple_cases[i].kind] = true;
	for (unsigned k = 0; k < X86_K_COUNT; k++)
		ck_assert_msg(seen[k], "no hand-written case for kind %s", x86_kind_name(k));
}
END_TEST

/* Prefix bookkeeping. */
START_TEST(test_prefix_fields)
{
	struct x86_insn in;
	static const u8 rep_movs[] = { 0xf2, 0xf3, 0x66, 0x67, 0x2e, 0x64, 0xa5 };
	static const u8 ignored_rex[] = { 0x48, 0x66, 0x89, 0x00 };
	static const u8 rex_last[] = { 0x66, 0x41, 0x48, 0x89, 0x00 };
	static const u8 seg64[] = { 0x64, 0x2e, 0x8b, 0x00 };
	static const u8 movss[] = { 0x66, 0xf3, 0x0f, 0x10, 0xc1 };
	static const u8 lock_xchg[] = { 0xf0, 0x87, 0x00 };

	ck_assert_int_eq(x86_decode(rep_movs, sizeof(rep_movs), M32, &in), X86_DECODE_OK);
	ck_assert_uint_eq(in.prefixes, X86_PFX_REP | X86_PFX_REPNE | X86_PFX_OPSIZE |
					       X86_PFX_ADSIZE | X86_PFX_SEG);
	ck_assert_uint_eq(in.rep, 0xf3);
	ck_assert_uint_eq(in.seg_override, X86_SEG_FS);
	ck_assert_uint_eq(in.mem.seg, X86_SEG_FS);
	ck_assert_uint_eq(in.opsize, 2);
	ck_assert_uint_eq(in.addrsize, 2);
	ck_assert_uint_eq(in.map, X86_MAP_PRIMARY);
	ck_assert_uint_eq(in.opcode, 0xa5);

	/* A REX followed by a legacy prefix is ignored. */
	ck_assert_int_eq(x86_decode(ignored_rex, sizeof(ignored_rex), M64, &in), X86_DECODE_OK);
	ck_assert_uint_eq(in.len, 4);
	ck_assert_uint_eq(in.rex, 0);
	ck_assert(!(in.prefixes & X86_PFX_REX));
	ck_assert_uint_eq(in.opsize, 2);

	/* Of two REX bytes the last counts; REX.W beats 66. */
	ck_assert_int_eq(x86_decode(rex_last, sizeof(rex_last), M64, &in), X86_DECODE_OK);
	ck_assert_uint_eq(in.rex, 0x48);
	ck_assert(in.prefixes & X86_PFX_REX);
	ck_assert_uint_eq(in.opsize, 8);
	ck_assert_int_eq(in.mem.base, AX);

	/* In 64-bit mode a later CS override does not cancel FS. */
	ck_assert_int_eq(x86_decode(seg64, sizeof(seg64), M64, &in), X86_DECODE_OK);
	ck_assert_uint_eq(in.seg_override, X86_SEG_FS);
	ck_assert_uint_eq(in.mem.seg, X86_SEG_FS);
	ck_assert_int_eq(x86_decode(seg64, sizeof(seg64), M32, &in), X86_DECODE_OK);
	ck_assert_uint_eq(in.seg_override, X86_SEG_CS);

	/* F3 selects the SSE form over 66. */
	ck_assert_int_eq(x86_decode(movss, sizeof(movss), M64, &in), X86_DECODE_OK);
	ck_assert_uint_eq(in.simd_prefix, 0xf3);
	ck_assert_uint_eq(in.map, X86_MAP_0F);
	ck_assert_uint_eq(in.opcode, 0x10);
	ck_assert(in.has_modrm && in.mod == 3 && in.reg == 0 && in.rm == 1);

	ck_assert_int_eq(x86_decode(lock_xchg, sizeof(lock_xchg), M64, &in), X86_DECODE_OK);
	ck_assert_uint_eq(in.prefixes, X86_PFX_LOCK);
	ck_assert_uint_eq(in.rep, 0);
	ck_assert_uint_eq(in.seg_override, X86_SEG_NONE);
}
END_TEST

START_TEST(test_modrm_fields)
{
	struct x86_insn in;
	static const u8 b[] = { 0x4f, 0x0f, 0x38, 0xf1, 0x44, 0x9d, 0x7f };

	/* MOVBE with REX.WRXB: reg, rm, index and base all carry a REX bit. */
	ck_assert_int_eq(x86_decode(b, sizeof(b), M64, &in), X86_DECODE_OK);
	ck_assert_uint_eq(in.map, X86_MAP_0F38);
	ck_assert_uint_eq(in.opcode, 0xf1);
	ck_assert(in.has_modrm && in.has_sib);
	ck_assert_uint_eq(in.modrm, 0x44);
	ck_assert_uint_eq(in.mod, 1);
	ck_assert_uint_eq(in.reg, 8);
	ck_assert_uint_eq(in.rm, 12);
	ck_assert_uint_eq(in.sib, 0x9d);
	ck_assert_int_eq(in.mem.base, R13);
	ck_assert_int_eq(in.mem.index, R11);
	ck_assert_uint_eq(in.mem.scale, 4);
	ck_assert_int_eq(in.mem.disp, 0x7f);
	ck_assert_uint_eq(in.mem.disp_size, 1);
	ck_assert_uint_eq(in.len, 7);
}
END_TEST

/* ---- error statuses ---------------------------------------------------------------- */

struct err_case {
	int line;
	u8 mode;
	u8 n;
	u8 bytes[X86_MAX_INSN_LEN];
	int rc;
	u8 need; /* for TRUNCATED */
};
#define ERR(m, r, ...) { .line = __LINE__, .mode = (m), .rc = X86_DECODE_##r, __VA_ARGS__ }

static const struct err_case err_cases[] = {
	/* Truncated: the length asked for grows as bytes reveal more. */
	ERR(M64, TRUNCATED, .n = 0, .need = 1),
	ERR(M64, TRUNCATED, BYTES(0x66), .need = 2),
	ERR(M64, TRUNCATED, BYTES(0x40), .need = 2), /* a REX needs its opcode */
	ERR(M64, TRUNCATED, BYTES(0x0f), .need = 2),
	ERR(M64, TRUNCATED, BYTES(0x0f, 0x38), .need = 3),
	ERR(M32, TRUNCATED, BYTES(0x8b), .need = 2),
	ERR(M32, TRUNCATED, BYTES(0x8b, 0x84), .need = 3),
	ERR(M32, TRUNCATED, BYTES(0x8b, 0x84, 0x24), .need = 7),
	ERR(M32, TRUNCATED, BYTES(0xc7, 0x00), .need = 6),
	ERR(M16, TRUNCATED, BYTES(0xc7, 0x06, 0x00), .need = 6),
	ERR(M64, TRUNCATED, BYTES(0x48, 0xb8, 1, 2, 3), .need = 10),
	ERR(M64, TRUNCATED, BYTES(0xa1), .need = 9),
	ERR(M64, TRUNCATED, BYTES(0x0f, 0x01), .need = 3),
	ERR(M32, TRUNCATED, BYTES(0xc4), .need = 2),
	/* Too long: 15 bytes is the most. */
	ERR(M32, TOO_LONG, BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				 0x66, 0x66, 0x66, 0x66)),
	ERR(M64, TOO_LONG, BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				 0x66, 0x66, 0x66, 0x0f)),
	/* Known to be too long before the bytes run out. */
	ERR(M32, TOO_LONG, BYTES(0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0xc7, 0x05)),
	/* Invalid anywhere. */
	ERR(M64, INVALID, BYTES(0xf0, 0x90)),
	ERR(M32, INVALID, BYTES(0xf0, 0x01, 0xc0)),
	ERR(M16, INVALID, BYTES(0xf0, 0x8b, 0x07)),
	ERR(M64, INVALID, BYTES(0xf0, 0x38, 0x00)), /* CMP does not lock */
	ERR(M32, INVALID, BYTES(0xf0, 0x0f, 0xba, 0x20, 0x05)), /* nor does BT */
	ERR(M64, INVALID, BYTES(0xf0, 0x0f, 0x10, 0x00)),
	ERR(M64, INVALID, BYTES(0xff, 0xff)),
	ERR(M32, INVALID, BYTES(0xfe, 0x10)),
	ERR(M16, INVALID, BYTES(0x8d, 0xc0)),
	ERR(M64, INVALID, BYTES(0xff, 0xd8)), /* CALLF needs memory */
	ERR(M32, INVALID, BYTES(0x0f, 0x20, 0xc8)), /* CR1 */
	ERR(M64, INVALID, BYTES(0x0f, 0x22, 0xe8)), /* CR5 */
	ERR(M64, INVALID, BYTES(0x44, 0x0f, 0x22, 0xc8)), /* CR9 */
	ERR(M64, INVALID, BYTES(0x44, 0x0f, 0x21, 0xc0)), /* DR8 */
	ERR(M32, INVALID, BYTES(0xf0, 0x0f, 0x22, 0xd8)), /* LOCK MOV CR3 */
	ERR(M32, INVALID, BYTES(0xf0, 0x0f, 0x21, 0xc0)),
	ERR(M16, INVALID, BYTES(0x8e, 0xc8)), /* MOV CS, ax */
	ERR(M32, INVALID, BYTES(0x8c, 0xf0)), /* Sreg 6 */
	ERR(M32, INVALID, BYTES(0x0f, 0x01, 0xf8)), /* SWAPGS outside 64-bit mode */
	ERR(M64, INVALID, BYTES(0xc6, 0x08, 0x00)),
	ERR(M64, INVALID, BYTES(0xc6, 0xf9, 0x00)),
	ERR(M64, INVALID, BYTES(0x0f, 0x24, 0xc0)),
	ERR(M64, INVALID, BYTES(0x0f, 0x04)),
	ERR(M32, INVALID, BYTES(0xd9, 0x08)), /* D9 /1 memory is reserved */
	ERR(M64, INVALID, BYTES(0xf3, 0x0f, 0x38, 0x00, 0xc0)),
	ERR(M64, INVALID, BYTES(0x66, 0x0f, 0x38, 0x80, 0xc8)), /* INVEPT needs memory */
	ERR(M64, INVALID, BYTES(0x0f, 0x71, 0x10, 0x01)), /* shift by imm, memory form */
	ERR(M64, INVALID, BYTES(0x0f, 0x73, 0xd8, 0x01)), /* PSRLDQ has no MMX form */
	ERR(M64, INVALID, BYTES(0xf3, 0x0f, 0x77)),
	ERR(M64, INVALID, BYTES(0x0f, 0xc7, 0xc8)),
	/* Invalid in 64-bit mode only. */
	ERR(M64, INVALID, BYTES(0x06)),
	ERR(M64, INVALID, BYTES(0x1f)),
	ERR(M64, INVALID, BYTES(0x37)),
	ERR(M64, INVALID, BYTES(0x61)),
	ERR(M64, INVALID, BYTES(0x82, 0x00, 0x01)),
	ERR(M64, INVALID, BYTES(0x9a, 0, 0, 0, 0, 0, 0)),
	ERR(M64, INVALID, BYTES(0xea, 0, 0, 0, 0, 0, 0)),
	ERR(M64, INVALID, BYTES(0xce)),
	ERR(M64, INVALID, BYTES(0xd5, 0x0a)),
	/* Not modelled. */
	ERR(M64, UNSUPPORTED, BYTES(0xc4, 0xe1, 0x79, 0x6f, 0xc1)),
	ERR(M64, UNSUPPORTED, BYTES(0xc5, 0xf8, 0x77)),
	ERR(M32, UNSUPPORTED, BYTES(0xc5, 0xf8, 0x77)),
	ERR(M64, UNSUPPORTED, BYTES(0x62, 0xf1, 0x7c, 0x48, 0x28, 0xc1)),
	ERR(M32, UNSUPPORTED, BYTES(0x62, 0xf1, 0x7c, 0x48, 0x28, 0xc1)),
	ERR(M64, UNSUPPORTED, BYTES(0x8f, 0xe9, 0x78, 0xc1, 0xc1)),
	ERR(M64, UNSUPPORTED, BYTES(0x0f, 0x0f, 0xc1, 0x9e)),
	ERR(M64, UNSUPPORTED, BYTES(0x0f, 0x1a, 0x00)),
	ERR(M64, UNSUPPORTED, BYTES(0x0f, 0xff, 0xc0)),
	ERR(M64, UNSUPPORTED, BYTES(0xd9, 0xd8)), /* FSTP1 */
	ERR(M64, UNSUPPORTED, BYTES(0x66, 0x0f, 0x01, 0xc1)),
	ERR(M64, UNSUPPORTED, BYTES(0x0f, 0x38, 0xf9, 0x00)),
	ERR(M64, UNSUPPORTED, BYTES(0x0f, 0x3a, 0xf0, 0xc0, 0x00)),
	ERR(M64, UNSUPPORTED, BYTES(0x0f, 0xa7, 0xc0)),
	ERR(M64, UNSUPPORTED, BYTES(0x66, 0x0f, 0x37)),
};

START_TEST(test_errors)
{
	const struct err_case *c = &err_cases[_i];
	struct x86_insn in;
	int rc = x86_decode(c->bytes, c->n, (enum x86_cpu_mode)c->mode, &in);

	ck_assert_msg(rc == c->rc, "line %d: %s, want %s", c->line, x86_decode_status_name(rc),
		      x86_decode_status_name(c->rc));
	if (rc == X86_DECODE_TRUNCATED)
		ck_assert_msg(in.len == c->need, "line %d: needs %u, want %u", c->line, in.len,
			      c->need);
	else
		ck_assert_msg(in.len == 0, "line %d: length %u on error", c->line, in.len);
}
END_TEST

/* The decoder never reads past avail: each prefix of the instruction sits in
 * a heap block of exactly that size, so AddressSanitizer catches overreads. */
START_TEST(test_never_reads_past_avail)
{
	static const u8 insn[] = { 0x66, 0x67, 0x64, 0x44, 0xc7, 0x84, 0x88, 1, 2, 3, 4, 5, 6 };

	for (size_t avail = 0; avail <= sizeof(insn); avail++) {
		struct x86_insn in;
		u8 *p = malloc(avail ? avail : 1);
		memcpy(p, insn, avail);
		int rc = x86_decode(p, avail, M64, &in);
		ck_assert_int_eq(rc, avail == sizeof(insn) ? X86_DECODE_OK : X86_DECODE_TRUNCATED);
		free(p);
	}
}
END_TEST

/* A longest legal instruction: 15 bytes exactly. */
START_TEST(test_fifteen_bytes)
{
	static const u8 b[] = { 0x26, 0x26, 0x26, 0x26, 0x66, 0x67, 0xc7, 0x84, 0x88,
				1,    2,    3,    4,    5,    6 };
	static const u8 nops[] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				   0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90 };
	struct x86_insn in;

	ck_assert_int_eq(x86_decode(b, sizeof(b), M64, &in), X86_DECODE_OK);
	ck_assert_uint_eq(in.len, 15);
	ck_assert_int_eq(in.imm, 0x0605);
	ck_assert_int_eq(in.mem.disp, 0x04030201);
	ck_assert_int_eq(x86_decode(nops, sizeof(nops), M16, &in), X86_DECODE_OK);
	ck_assert_uint_eq(in.len, 15);
	/* Extra bytes after the instruction are ignored. */
	u8 more[20] = { 0x90 };
	ck_assert_int_eq(x86_decode(more, sizeof(more), M32, &in), X86_DECODE_OK);
	ck_assert_uint_eq(in.len, 1);
}
END_TEST

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
static bool allow_ok_vs_zydis_error(const struct x86_insn *in, ZyanStatus zs)
{
	/* LOCK MOV CR0 is AMD's alternative encoding of MOV CR8 (APM vol. 3,
	 * "MOV CRn"; CPUID 8000_0001h ECX bit 4), which Zydis rejects as a
	 * misplaced LOCK.  Intel raises #UD; the hypervisor decides by vendor. */
	if ((in->kind == X86_K_MOV_TO_CR || in->kind == X86_K_MOV_FROM_CR) &&
	    (in->prefixes & X86_PFX_LOCK) && in->reg == 8 && zs == ZYDIS_STATUS_ILLEGAL_LOCK)
		return true;
	return false;
}

/* Encodings where we say #UD and Zydis decodes something: none.  Where the
 * manuals are unsure (VIA PadLock, prefetch register forms, undocumented x87
 * aliases) the decoder says unsupported instead, which is always allowed. */
static bool allow_invalid_vs_zydis_ok(const ZydisDecodedInstruction *zi)
{
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

/* Up to max prefixes, leaving room for three opcode bytes and a ModRM. */
static unsigned gen_prefixes(u8 *buf, enum x86_cpu_mode mode, unsigned max)
{
	const unsigned room = X86_MAX_INSN_LEN - 4;
	unsigned n = 0, count = (unsigned)(rng() % (max + 1));

	for (unsigned i = 0; i < count && n < room; i++) {
		/* A REX before a legacy prefix is ignored; exercise that too. */
		if (mode == M64 && rng() % 16 == 0 && n + 1 < room)
			buf[n++] = (u8)(0x40 | (rng() & 15));
		buf[n++] = legacy_prefixes[rng() % sizeof(legacy_prefixes)];
	}
	if (mode == M64 && rng() % 2 && n < room)
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
			if (allow_ok_vs_zydis_error(&in, zs))
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
			if (allow_invalid_vs_zydis_ok(&zi))
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
				/* Prefix-heavy encodings, some past the 15-byte limit;
				 * more of them where the general-purpose opcodes are. */
				unsigned count = map < 2 ? 256 : 48;
				for (unsigned i = 0; i < count; i++) {
					unsigned n = gen_prefixes(buf, (enum x86_cpu_mode)mode,
								  i % 8 == 7 ? 12 : 4);
					n = gen_opcode(buf, n, map, opc);
					gen_tail(buf, n);
					check_one(&st[mode], (enum x86_cpu_mode)mode, buf);
				}
			}
		}
		/* Plain random bytes. */
		for (unsigned i = 0; i < 131072; i++) {
			gen_tail(buf, 0);
			check_one(&st[mode], (enum x86_cpu_mode)mode, buf);
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
	TCase *hand = tcase_create("hand");
	TCase *diff = tcase_create("zydis");

	tcase_add_loop_test(hand, test_operand_cases, 0, (int)ARRAY_SIZE(operand_cases));
	tcase_add_loop_test(hand, test_simple_kinds, 0, (int)ARRAY_SIZE(simple_cases));
	tcase_add_loop_test(hand, test_errors, 0, (int)ARRAY_SIZE(err_cases));
	tcase_add_test(hand, test_kind_names_and_coverage);
	tcase_add_test(hand, test_prefix_fields);
	tcase_add_test(hand, test_modrm_fields);
	tcase_add_test(hand, test_never_reads_past_avail);
	tcase_add_test(hand, test_fifteen_bytes);
	suite_add_tcase(s, hand);

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
