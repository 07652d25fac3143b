/* AMD nested page tables (NPT) as a gpa_view entry format.
 *
 * NPT entries are ordinary long-mode page-table entries walked with the host's
 * paging rules (AMD APM vol. 2, "Nested Paging").  Consequences for a view:
 *   - every nested walk is a user access, so P, RW and US are set on every
 *     table entry and US on every leaf; leaves alone decide the rights;
 *   - one NX bit: kernel and user execute cannot be told apart, and either
 *     GPA_PERM_X bit grants both (the host's EFER.NXE must be 1, which it is);
 *   - a present entry is always readable, so a request without R can only be
 *     honoured by granting nothing: W-only, X-only and W+X without R become a
 *     non-present "mapped, no access" entry, and lookups report perms 0.  The
 *     view never grants what was not asked for; the TLFS's legal protection
 *     sets all include R anyway;
 *   - the memory type selects a host PAT entry through PWT/PCD.  The host PAT
 *     is left at its power-on value (0 WB, 1 WT, 2 UC-, 3 UC), so WB, WT and UC
 *     are expressible and WC/WP are refused with -GPA_EMEMTYPE; the guest's PAT
 *     still applies on top (APM "Combining Memory Types").
 * NPT understands no format-specific flags. */
#ifndef HV_SVM_NPT_FORMAT_H
#define HV_SVM_NPT_FORMAT_H

#include "kernel/vm/gpa_view.h"

#define NPT_P (1ULL << 0)
#define NPT_RW (1ULL << 1)
#define NPT_US (1ULL << 2)
#define NPT_PWT (1ULL << 3)
#define NPT_PCD (1ULL << 4)
#define NPT_A (1ULL << 5)
#define NPT_D (1ULL << 6)
#define NPT_PS (1ULL << 7)      /* large page, levels 2 and 3 */
#define NPT_SW_NOACCESS (1ULL << 9) /* software: mapped, no access (P clear) */
#define NPT_PAT_LARGE (1ULL << 12)
#define NPT_NX (1ULL << 63)
#define NPT_ADDR_MASK 0x000ffffffffff000ULL

extern const struct slat_format npt_format;

#endif
