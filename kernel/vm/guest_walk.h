/* Guest page-table walker: translates a guest linear address the way the
 * processor would (Intel SDM Vol. 3A chapter 4), from the guest's control
 * registers and the paging structures in guest-physical memory.
 *
 * Pure logic.  Guest memory is only read through a struct phys_reader (the
 * hypervisor passes one over its identity map of guest RAM, the unit tests one
 * over a fake memory) and is never written, except through the optional
 * A/D-flag updater below.
 *
 * What the walk models, and where it knowingly differs from a real CPU:
 *  - All five modes of SDM 4.1.1 Table 4-1: no paging, 32-bit, PAE, 4-level and
 *    5-level paging.  The mode comes from CR0.PG, CR4.PAE, EFER.LMA and
 *    CR4.LA57; register combinations the CPU refuses to enter are reported as
 *    GW_BAD_REGS instead of being guessed at.
 *  - PAE PDPTEs: a real CPU loads them into the PDPTE registers when CR3 is
 *    written (SDM 4.4.1) and uses those copies until the next load, so later
 *    writes to the PDPT in memory have no effect.  The walker cannot see the
 *    registers, so it reads the PDPT at walk time unless the caller hands it
 *    the register values (regs->pdptes, e.g. the VMCS guest-PDPTE fields).
 *  - TLBs and paging-structure caches are not modelled: the walk reflects the
 *    tables in memory now, which may differ from what the guest's CPU caches.
 *  - Protection keys (PKRU, and PKRS for supervisor pages) are modelled;
 *    shadow-stack accesses, HLAT, SGX, LAM and the 32-bit segment limit checks
 *    are not.
 *  - PSE-36 is assumed present (as on every CPU with PAE), and the PAT is
 *    assumed supported, so PAT bits are never reserved. */
#ifndef HV_KERNEL_VM_GUEST_WALK_H
#define HV_KERNEL_VM_GUEST_WALK_H

#include "kernel/phys_read.h"
#include "kernel/types.h"

/* Paging-structure entry bits (SDM 4.3-4.5).  Bit 7 is PS in entries that
 * may map large pages and PAT in a PTE; large pages keep their PAT bit at 12. */
#define GW_PTE_P (1ULL << 0)
#define GW_PTE_RW (1ULL << 1)
#define GW_PTE_US (1ULL << 2)
#define GW_PTE_PWT (1ULL << 3)
#define GW_PTE_PCD (1ULL << 4)
#define GW_PTE_A (1ULL << 5)
#define GW_PTE_D (1ULL << 6)
#define GW_PTE_PS (1ULL << 7)
#define GW_PTE_PAT_4K (1ULL << 7)
#define GW_PTE_G (1ULL << 8)
#define GW_PTE_PAT_LARGE (1ULL << 12)
#define GW_PTE_XD (1ULL << 63)

/* #PF error-code bits (SDM 4.7).  SS, HLAT and SGX are never produced. */
#define GW_PF_P (1u << 0)
#define GW_PF_W (1u << 1)
#define GW_PF_U (1u << 2)
#define GW_PF_RSVD (1u << 3)
#define GW_PF_ID (1u << 4)
#define GW_PF_PK (1u << 5)

#define GW_MAX_LEVELS 5

enum guest_paging_mode {
	GW_MODE_NONE,
	GW_MODE_32BIT,
	GW_MODE_PAE,
	GW_MODE_4LEVEL,
	GW_MODE_5LEVEL,
};

/* The guest state the walk depends on, as the guest sees it. */
struct guest_paging_regs {
	u64 cr0, cr3, cr4;
	/* With CR0.PG = 1 a CPU keeps EFER.LMA equal to EFER.LME; a value that
	 * breaks this is reported as GW_BAD_REGS. */
	u64 efer;
	/* Only AC (bit 18) is used: it lifts SMAP for explicit accesses. */
	u64 rflags;
	/* Used only when CR4.PKE / CR4.PKS are set, with 4- or 5-level paging. */
	u32 pkru;
	u32 pkrs;
	/* PAE paging only: the four PDPTE registers, or NULL to read the PDPT
	 * that CR3 points to at walk time (see the header comment). */
	const u64 *pdptes;
};

/* Properties of the virtual CPU that shape the walk. */
struct guest_walk_caps {
	/* CPUID.80000008H:EAX[7:0]; 32..52. */
	u8 maxphyaddr;
	/* CPUID.80000001H:EDX[26]: without it PS in a PDPTE is a reserved bit. */
	bool page_1g;
};

enum guest_access_kind {
	GW_ACCESS_READ,
	GW_ACCESS_WRITE,
	GW_ACCESS_FETCH,
};

struct guest_access {
	enum guest_access_kind kind;
	/* The access is made at CPL 3. */
	bool user;
	/* An implicit supervisor-mode access (GDT/LDT/IDT/TSS, ...; SDM 4.6):
	 * supervisor whatever the CPL, so `user` is ignored, and SMAP applies
	 * regardless of RFLAGS.AC. */
	bool implicit;
};

enum guest_walk_status {
	GW_OK,
	GW_PAGE_FAULT,	      /* the access raises #PF with error_code */
	GW_NONCANONICAL,      /* #GP(0) (#SS for stack references), not #PF */
	GW_TABLE_UNREADABLE,  /* an entry lies outside guest RAM: unreadable_gpa */
	GW_BAD_PDPTE,	      /* PAE PDPTE with reserved bits: the CR3 load would have #GP'd */
	GW_BAD_REGS,	      /* registers or caps the CPU could never be in */
};

/* Why a #PF happened.  The error code is exact; when several protection rules
 * are broken at once this names only the first in enum order. */
enum guest_fault_reason {
	GW_FAULT_NONE,
	GW_FAULT_NOT_PRESENT,
	GW_FAULT_RESERVED,
	GW_FAULT_USER_SUPERVISOR, /* user access to a supervisor-mode address */
	GW_FAULT_SMAP,
	GW_FAULT_SMEP,
	GW_FAULT_READ_ONLY,
	GW_FAULT_XD,
	GW_FAULT_PKEY,
};

struct guest_walk_entry {
	u64 gpa;	  /* where the entry is (for PAE PDPTEs: in the PDPT at CR3) */
	u64 value;	  /* 32-bit paging entries are zero-extended */
	u8 level;	  /* 5 PML5E, 4 PML4E, 3 PDPTE, 2 PDE, 1 PTE */
	bool leaf;	  /* this entry maps the page */
	bool from_regs;	  /* PAE PDPTE taken from regs->pdptes, not read */
};

struct guest_walk_result {
	enum guest_walk_status status;
	enum guest_paging_mode mode;
	struct guest_access access;
	/* The linear address translated: truncated to 32 bits outside long mode. */
	u64 gva;

	/* Every entry read, top level first, including the one that stopped the
	 * walk (not present or reserved bits). */
	unsigned nlevels;
	struct guest_walk_entry levels[GW_MAX_LEVELS];

	/* A translation exists (OK, or #PF for a protection violation).  With
	 * paging off, gpa = gva, page_size = 4 KiB and every right is granted. */
	bool translated;
	u64 gpa;
	u64 page_size;
	/* Effective rights (SDM 4.6): writable and user need R/W and U/S set in
	 * every entry, executable needs XD clear in every entry (always true for
	 * 32-bit paging or EFER.NXE = 0).  PAE PDPTEs have no rights bits. */
	bool writable, user, executable;
	/* PAT:PCD:PWT of the page (SDM 4.9.2), an index into IA32_PAT. */
	u8 pat_index;
	/* Protection key of the page: 4-/5-level paging with CR4.PKE or PKS. */
	bool has_pkey;
	u8 pkey;

	/* GW_PAGE_FAULT */
	u32 error_code;
	enum guest_fault_reason reason;
	u64 reserved_bits;	/* the offending bits, GW_FAULT_RESERVED / GW_BAD_PDPTE */

	/* GW_TABLE_UNREADABLE: the entry (or PDPT) that could not be read. */
	u64 unreadable_gpa;

	/* GW_OK only: flags the CPU would set (SDM 4.8).  Bit i of set_accessed
	 * stands for levels[i]; set_dirty for the leaf of a write. */
	u8 set_accessed;
	bool set_dirty;
};

/* Walks the guest tables for one access.  Fills *res completely (status,
 * mode and gva are always meaningful) and returns res->status. */
enum guest_walk_status guest_walk(const struct phys_reader *mem, const struct guest_walk_caps *caps,
				  const struct guest_paging_regs *regs, u64 gva,
				  struct guest_access access, struct guest_walk_result *res);

/* ---- optional A/D update ------------------------------------------------
 * The walker itself never writes.  A caller that completes the access on the
 * guest's behalf (an emulated instruction) must set the flags as the CPU
 * would, atomically, because other vCPUs may be editing the same tables. */
enum guest_pte_update {
	GW_UPDATE_OK,
	GW_UPDATE_CHANGED, /* the entry no longer holds the walked value: walk again */
	GW_UPDATE_FAILED,  /* not writable, or the walk did not succeed */
};

/* Compare-and-exchange of a size-byte (4 or 8) entry at gpa: stores desired
 * only if the entry still equals expected (LOCK CMPXCHG on real memory). */
typedef enum guest_pte_update (*guest_pte_cmpxchg_fn)(void *ctx, u64 gpa, u64 expected,
						      u64 desired, unsigned size);

struct guest_pte_writer {
	guest_pte_cmpxchg_fn cmpxchg;
	void *ctx;
};

/* Sets the A flags (top level first, like the CPU) and the leaf's D flag that
 * res->set_accessed / set_dirty ask for.  Stops at the first entry that fails
 * or has changed. */
enum guest_pte_update guest_walk_set_ad(const struct guest_walk_result *res,
					const struct guest_pte_writer *w);

/* ---- text form, for the debug shell's `gva` command -------------------- */

/* Called once per line; the line has no trailing newline. */
typedef void (*guest_walk_line_fn)(void *ctx, const char *line);

void guest_walk_print(const struct guest_walk_result *res, guest_walk_line_fn emit, void *ctx);

/* The same lines, each ending in '\n', into buf.  Behaves like snprintf:
 * always terminates (size > 0) and returns the length the full text needs. */
size_t guest_walk_format(const struct guest_walk_result *res, char *buf, size_t size);

const char *guest_paging_mode_name(enum guest_paging_mode mode);
const char *guest_walk_status_name(enum guest_walk_status status);

#endif
