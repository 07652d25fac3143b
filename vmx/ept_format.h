/* Intel extended page tables (EPT) as a gpa_view entry format (SDM vol. 3C,
 * "EPT Translation Mechanism").
 *
 *   - bits 0/1/2 grant read/write/execute; with mode-based execute control
 *     (EPT_FMT_MBEC) bit 2 is supervisor execute and bit 10 user execute,
 *     otherwise either GPA_PERM_X bit sets bit 2 and grants both;
 *   - write without read (bits 2:0 = 010b or 110b) is an EPT misconfiguration,
 *     and so is execute without read unless the CPU reports execute-only
 *     support (IA32_VMX_EPT_VPID_CAP bit 0, EPT_FMT_XONLY): such permission
 *     sets are refused with -GPA_EPERM rather than quietly changed;
 *   - bits 5:3 hold the leaf's memory type, which combines with the guest's PAT
 *     the way an MTRR type does; EPT_FMT_IPAT_WB sets ignore-PAT (bit 6) on WB
 *     leaves so RAM stays WB whatever the guest's PAT says;
 *   - table entries grant everything (R, W, X and, with MBEC, user X) so that
 *     leaves alone decide;
 *   - "mapped, no access" is a non-present entry (bits 2:0 and 10 clear) that
 *     keeps its address and memory type, marked with the ignored bit 11.
 * Views run with EPT accessed/dirty flags disabled. */
#ifndef HV_VMX_EPT_FORMAT_H
#define HV_VMX_EPT_FORMAT_H

#include "kernel/vm/gpa_view.h"

#define EPT_R (1ULL << 0)
#define EPT_W (1ULL << 1)
#define EPT_X (1ULL << 2) /* supervisor execute when MBEC is on */
#define EPT_MT_SHIFT 3
#define EPT_MT_MASK (7ULL << EPT_MT_SHIFT)
#define EPT_IPAT (1ULL << 6)
#define EPT_LARGE (1ULL << 7) /* levels 2 and 3 */
#define EPT_A (1ULL << 8)
#define EPT_D (1ULL << 9)
#define EPT_XU (1ULL << 10) /* user execute when MBEC is on */
#define EPT_SW_NOACCESS (1ULL << 11)
#define EPT_ADDR_MASK 0x000ffffffffff000ULL

/* Format flags (view flags bits 8 and up). */
#define EPT_FMT_MBEC (1u << 8)    /* "mode-based execute control for EPT" is on */
#define EPT_FMT_XONLY (1u << 9)   /* the CPU supports execute-only translations */
#define EPT_FMT_IPAT_WB (1u << 10) /* WB leaves ignore the guest PAT */

extern const struct slat_format ept_format;

/* EPTP for a view rooted at root_pa: 4-level walk, paging structures WB, A/D
 * flags off.  WB for the structures needs IA32_VMX_EPT_VPID_CAP bit 14. */
u64 ept_eptp(u64 root_pa);

#endif
