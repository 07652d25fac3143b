/* What this CPU's VMX can do, and the VMCS control words we run guests with,
 * computed from the capability MSRs (SDM Vol. 3C, Appendix A and 25.6).
 *
 * Pure logic: vmx.c reads the MSRs into struct vmx_msrs and calls
 * vmx_caps_compute(); the unit tests feed made-up MSR values.  Each control
 * word is
 *     allowed-0 settings (bits the CPU forces to 1)
 *   | required bits (boot error naming the control when the CPU lacks one)
 *   | optional bits the CPU allows (discovered, never assumed),
 * and a forced bit that we would not handle is an error as well. */
#ifndef HV_VMX_VMX_CAPS_H
#define HV_VMX_VMX_CAPS_H

#include "kernel/types.h"

/* Raw capability MSRs.  Fields the CPU does not have (TRUE_* without
 * IA32_VMX_BASIC bit 55, PROCBASED_CTLS2 without "activate secondary
 * controls", EPT_VPID_CAP without EPT or VPID) are passed as 0. */
struct vmx_msrs {
	u64 basic;
	u64 pinbased, procbased, exit, entry;
	u64 true_pinbased, true_procbased, true_exit, true_entry;
	u64 procbased2;
	u64 misc;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid_cap;
};

enum vmx_ctl { VMX_CTL_PIN, VMX_CTL_PROC, VMX_CTL_PROC2, VMX_CTL_EXIT, VMX_CTL_ENTRY,
	       VMX_CTL_COUNT };

/* How a TLB flush is done, narrowest first. */
enum vmx_flush_method {
	VMX_FLUSH_NONE,		  /* VPID off: every VM entry and exit flushes */
	VMX_FLUSH_INVVPID_SINGLE, /* this VPID's linear and combined mappings */
	VMX_FLUSH_INVVPID_ALL,	  /* every VPID */
	VMX_FLUSH_INVEPT_SINGLE,  /* everything derived from this EPTP */
	VMX_FLUSH_INVEPT_ALL,	  /* everything derived from any EPTP */
};

struct vmx_caps {
	u32 revision;
	u32 region_size;  /* bytes of a VMXON region / VMCS */
	bool addr_32bit;  /* VMXON/VMCS/bitmap addresses must be below 4 GiB */
	u8 vmcs_memtype;  /* memory type the CPU uses for the VMCS (6 = WB) */
	bool true_ctls;   /* the TRUE_* MSRs were used */

	u32 allowed0[VMX_CTL_COUNT]; /* must be 1 */
	u32 allowed1[VMX_CTL_COUNT]; /* may be 1 */
	u32 ctl[VMX_CTL_COUNT];	     /* the words every VMCS starts with */

	/* CR0/CR4 bits a guest must keep at 1 or 0 while it runs, after the
	 * unrestricted-guest exemption of CR0.PE and CR0.PG (SDM 27.3.1.1). */
	u64 cr0_must1, cr0_must0, cr4_must1, cr4_must0;

	/* Optional features (allowed by the CPU; the ones marked "on" are in ctl). */
	bool vpid;		/* on */
	bool rdtscp, invpcid, xsaves, user_wait_pause; /* on: else the guest gets #UD */
	bool virtual_nmis, preemption_timer, mbec, vmfunc, pml, ept_ve; /* discovered */
	u8 preemption_timer_shift; /* timer ticks every 2^shift TSC cycles */
	bool saves_lma;		/* VM exits store EFER.LMA into "IA-32e mode guest" */
	bool activity_hlt, activity_shutdown, activity_wait_sipi;
	bool zero_len_inject;	/* software events may be injected with length 0 */

	struct {
		bool exec_only, walk4, walk5, mt_uc, mt_wb, page_2m, page_1g, ad,
			advanced_info, invept, invept_single, invept_all;
	} ept;
	struct {
		bool invvpid, addr, single, all, single_globals;
	} invvpid;

	enum vmx_flush_method flush_guest; /* guest-linear (combined) mappings */
	enum vmx_flush_method flush_slat;  /* also guest-physical mappings */
};

/* Fills *c.  Returns 0, or -1 with a message naming what the CPU lacks in
 * err (also on a partial result, which must not be used). */
int vmx_caps_compute(const struct vmx_msrs *m, struct vmx_caps *c, char *err, size_t err_size);

/* Bits of value that the CPU does not allow in control word w (set but not
 * allowed to be 1, or clear but forced to 1). */
u32 vmx_ctl_violations(const struct vmx_caps *c, enum vmx_ctl w, u32 value);

/* The SDM's name of control bit `bit` of word w, or NULL for a reserved bit. */
const char *vmx_ctl_bit_name(enum vmx_ctl w, unsigned bit);
const char *vmx_ctl_word_name(enum vmx_ctl w);
/* The bits of word w that the SDM names (the rest are reserved). */
u32 vmx_ctl_named_bits(enum vmx_ctl w);
/* Appends the names of the bits in value ("a, b, bit 7"); returns buf. */
char *vmx_ctl_bits_str(enum vmx_ctl w, u32 value, char *buf, size_t size);

/* CR0/CR4 guest/host masks: every bit the guest may not set freely.  The guest
 * reads these bits from the read shadow, and writing a value that differs from
 * the shadow in one of them exits (SDM 25.6.6).  intercept_pg adds CR0.PG,
 * needed when exits do not save EFER.LMA into the IA-32e mode guest control. */
u64 vmx_cr0_guest_host_mask(const struct vmx_caps *c, bool intercept_pg);
u64 vmx_cr4_guest_host_mask(const struct vmx_caps *c);

const char *vmx_flush_method_name(enum vmx_flush_method m);

#endif
