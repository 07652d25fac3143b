/* VMX capability decoding and control computation; see vmx_caps.h. */
#include "vmx/vmx_caps.h"
#include "kernel/lib/format.h"
#include "vmx/vmcs.h"

#define CR0_PE (1ULL << 0)
#define CR0_PG (1ULL << 31)

/* Names as the SDM's tables 25-5 to 25-15 give them. */
static const char *const ctl_names[VMX_CTL_COUNT][32] = {
	[VMX_CTL_PIN] = {
		[0] = "external-interrupt exiting", [3] = "NMI exiting",
		[5] = "virtual NMIs", [6] = "VMX-preemption timer",
		[7] = "process posted interrupts",
	},
	[VMX_CTL_PROC] = {
		[2] = "interrupt-window exiting", [3] = "use TSC offsetting",
		[7] = "HLT exiting", [9] = "INVLPG exiting", [10] = "MWAIT exiting",
		[11] = "RDPMC exiting", [12] = "RDTSC exiting", [15] = "CR3-load exiting",
		[16] = "CR3-store exiting", [17] = "activate tertiary controls",
		[19] = "CR8-load exiting", [20] = "CR8-store exiting",
		[21] = "use TPR shadow", [22] = "NMI-window exiting",
		[23] = "MOV-DR exiting", [24] = "unconditional I/O exiting",
		[25] = "use I/O bitmaps", [27] = "monitor trap flag",
		[28] = "use MSR bitmaps", [29] = "MONITOR exiting", [30] = "PAUSE exiting",
		[31] = "activate secondary controls",
	},
	[VMX_CTL_PROC2] = {
		[0] = "virtualize APIC accesses", [1] = "enable EPT",
		[2] = "descriptor-table exiting", [3] = "enable RDTSCP",
		[4] = "virtualize x2APIC mode", [5] = "enable VPID", [6] = "WBINVD exiting",
		[7] = "unrestricted guest", [8] = "APIC-register virtualization",
		[9] = "virtual-interrupt delivery", [10] = "PAUSE-loop exiting",
		[11] = "RDRAND exiting", [12] = "enable INVPCID", [13] = "enable VM functions",
		[14] = "VMCS shadowing", [15] = "enable ENCLS exiting",
		[16] = "RDSEED exiting", [17] = "enable PML", [18] = "EPT-violation #VE",
		[19] = "conceal VMX from PT", [20] = "enable XSAVES/XRSTORS",
		[22] = "mode-based execute control for EPT",
		[23] = "sub-page write permissions for EPT",
		[24] = "Intel PT uses guest physical addresses", [25] = "use TSC scaling",
		[26] = "enable user wait and pause", [28] = "enable ENCLV exiting",
	},
	[VMX_CTL_EXIT] = {
		[2] = "save debug controls", [9] = "host address-space size",
		[12] = "load IA32_PERF_GLOBAL_CTRL", [15] = "acknowledge interrupt on exit",
		[18] = "save IA32_PAT", [19] = "load IA32_PAT", [20] = "save IA32_EFER",
		[21] = "load IA32_EFER", [22] = "save VMX-preemption timer value",
		[23] = "clear IA32_BNDCFGS", [24] = "conceal VMX from PT",
	},
	[VMX_CTL_ENTRY] = {
		[2] = "load debug controls", [9] = "IA-32e mode guest", [10] = "entry to SMM",
		[11] = "deactivate dual-monitor treatment",
		[13] = "load IA32_PERF_GLOBAL_CTRL", [14] = "load IA32_PAT",
		[15] = "load IA32_EFER", [16] = "load IA32_BNDCFGS",
		[17] = "conceal VMX from PT",
	},
};

static const char *const word_names[VMX_CTL_COUNT] = {
	[VMX_CTL_PIN] = "pin-based", [VMX_CTL_PROC] = "primary processor-based",
	[VMX_CTL_PROC2] = "secondary processor-based", [VMX_CTL_EXIT] = "VM-exit",
	[VMX_CTL_ENTRY] = "VM-entry",
};

/* What every guest needs.  The reasons:
 *  - pin: physical interrupts and NMIs belong to the host; virtual NMIs,
 *    because with NMI exiting alone a guest's IRET never ends the blocking
 *    an injected NMI starts (SDM 25.3, IRET), and for NMI-window exits;
 *  - proc: HLT must reach the core's scheduler; MONITOR/MWAIT are hidden
 *    (#UD); the core intercepts only some MSRs and ports, which needs the
 *    bitmaps (without them every access exits); the TPR shadow keeps a
 *    64-bit guest's MOV CR8 away from the physical local APIC's TPR;
 *  - proc2: EPT and unrestricted guest (guests start in any mode, real mode
 *    included, with paging off);
 *  - exit/entry: 64-bit host; the guest's EFER and PAT are switched by the
 *    CPU (PAT is passed through to the guest, EFER's LMA must be exact for
 *    the core's page walker); DR7 and DEBUGCTL follow the guest. */
static const u32 required[VMX_CTL_COUNT] = {
	[VMX_CTL_PIN] = PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS,
	[VMX_CTL_PROC] = PROC_HLT_EXITING | PROC_MWAIT_EXITING | PROC_MONITOR_EXITING |
			 PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_USE_TPR_SHADOW |
			 PROC_SECONDARY_CONTROLS,
	[VMX_CTL_PROC2] = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST,
	[VMX_CTL_EXIT] = EXIT_SAVE_DEBUG_CONTROLS | EXIT_HOST_ADDR_SPACE_SIZE |
			 EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_EFER |
			 EXIT_LOAD_IA32_EFER,
	[VMX_CTL_ENTRY] = ENTRY_LOAD_DEBUG_CONTROLS | ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_IA32_EFER,
};

/* Turned on when the CPU allows them.  The instruction-enabling controls
 * matter because CPUID is passed through: a guest told that RDTSCP, INVPCID,
 * XSAVES or TPAUSE exist gets #UD from them unless these are set. */
static const u32 optional[VMX_CTL_COUNT] = {
	[VMX_CTL_PROC2] = PROC2_ENABLE_VPID | PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID |
			  PROC2_ENABLE_XSAVES | PROC2_USER_WAIT_PAUSE,
};

/* Capabilities the CPU must offer although the bit starts clear: the backend
 * sets it while the guest is in IA-32e mode. */
static const u32 capability_needed[VMX_CTL_COUNT] = {
	[VMX_CTL_ENTRY] = ENTRY_IA32E_MODE_GUEST,
};

/* Bits the CPU may force to 1 that the backend copes with: CR3 accesses are
 * emulated (the non-TRUE primary controls force both CR3 exits, A.3.2), and a
 * TSC offset of 0 changes nothing.  Reserved bits are fine too (default1). */
static const u32 tolerated[VMX_CTL_COUNT] = {
	[VMX_CTL_PROC] = PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_TSC_OFFSETTING,
};

const char *vmx_ctl_bit_name(enum vmx_ctl w, unsigned bit)
{
	return (unsigned)w < VMX_CTL_COUNT && bit < 32 ? ctl_names[w][bit] : NULL;
}

const char *vmx_ctl_word_name(enum vmx_ctl w)
{
	return (unsigned)w < VMX_CTL_COUNT ? word_names[w] : "?";
}

char *vmx_ctl_bits_str(enum vmx_ctl w, u32 value, char *buf, size_t size)
{
	size_t len = 0;

	if (size)
		buf[0] = '\0';
	for (unsigned bit = 0; bit < 32; bit++) {
		if (!(value & (1u << bit)))
			continue;
		const char *name = vmx_ctl_bit_name(w, bit);
		int n = name ? fmt_snprintf(buf + len, size - len, "%s%s", len ? ", " : "", name)
			     : fmt_snprintf(buf + len, size - len, "%sbit %u", len ? ", " : "", bit);
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	return buf;
}

u32 vmx_ctl_violations(const struct vmx_caps *c, enum vmx_ctl w, u32 value)
{
	return (value & ~c->allowed1[w]) | (~value & c->allowed0[w]);
}

/* The first named bit in mask, for error messages. */
static int first_named_bit(enum vmx_ctl w, u32 mask)
{
	int unnamed = -1;
	for (unsigned bit = 0; bit < 32; bit++) {
		if (!(mask & (1u << bit)))
			continue;
		if (ctl_names[w][bit])
			return (int)bit;
		if (unnamed < 0)
			unnamed = (int)bit;
	}
	return unnamed;
}

static int fail(char *err, size_t size, const char *what, enum vmx_ctl w, int bit)
{
	const char *name = bit >= 0 ? vmx_ctl_bit_name(w, (unsigned)bit) : NULL;
	fmt_snprintf(err, size, "%s the \"%s\" %s control (bit %d)", what, name ? name : "reserved",
		     word_names[w], bit);
	return -1;
}

u32 vmx_ctl_named_bits(enum vmx_ctl w)
{
	u32 m = 0;
	for (unsigned bit = 0; bit < 32; bit++)
		if (ctl_names[w][bit])
			m |= 1u << bit;
	return m;
}

static void decode_ept_vpid(u64 cap, struct vmx_caps *c)
{
	c->ept.exec_only = cap & EPT_CAP_EXEC_ONLY;
	c->ept.walk4 = cap & EPT_CAP_WALK_4;
	c->ept.walk5 = cap & EPT_CAP_WALK_5;
	c->ept.mt_uc = cap & EPT_CAP_MT_UC;
	c->ept.mt_wb = cap & EPT_CAP_MT_WB;
	c->ept.page_2m = cap & EPT_CAP_2M;
	c->ept.page_1g = cap & EPT_CAP_1G;
	c->ept.ad = cap & EPT_CAP_AD;
	c->ept.advanced_info = cap & EPT_CAP_ADVANCED_INFO;
	c->ept.invept = cap & EPT_CAP_INVEPT;
	c->ept.invept_single = c->ept.invept && (cap & EPT_CAP_INVEPT_SINGLE);
	c->ept.invept_all = c->ept.invept && (cap & EPT_CAP_INVEPT_ALL);
	c->invvpid.invvpid = cap & VPID_CAP_INVVPID;
	c->invvpid.addr = c->invvpid.invvpid && (cap & VPID_CAP_INVVPID_ADDR);
	c->invvpid.single = c->invvpid.invvpid && (cap & VPID_CAP_INVVPID_SINGLE);
	c->invvpid.all = c->invvpid.invvpid && (cap & VPID_CAP_INVVPID_ALL);
	c->invvpid.single_globals = c->invvpid.invvpid && (cap & VPID_CAP_INVVPID_SINGLE_GLOBALS);
}

int vmx_caps_compute(const struct vmx_msrs *m, struct vmx_caps *c, char *err, size_t err_size)
{
	static const char *const need = "this hypervisor needs";
	u64 ctl_msr[VMX_CTL_COUNT];

	*c = (struct vmx_caps){0};
	if (err_size)
		err[0] = '\0';
	c->revision = VMX_BASIC_REVISION(m->basic);
	c->region_size = VMX_BASIC_REGION_SIZE(m->basic);
	c->addr_32bit = m->basic & VMX_BASIC_ADDR_32BIT;
	c->vmcs_memtype = VMX_BASIC_MEMTYPE(m->basic);
	if (c->region_size == 0 || c->region_size > 4096) {
		fmt_snprintf(err, err_size, "IA32_VMX_BASIC reports a %u-byte VMCS (expected 1-4096)",
			     c->region_size);
		return -1;
	}

	/* With bit 55, the TRUE_* MSRs report the real allowed-0 settings of the
	 * "default1" bits (A.2); the older MSRs report them as fixed to 1. */
	c->true_ctls = m->basic & VMX_BASIC_TRUE_CTLS;
	ctl_msr[VMX_CTL_PIN] = c->true_ctls ? m->true_pinbased : m->pinbased;
	ctl_msr[VMX_CTL_PROC] = c->true_ctls ? m->true_procbased : m->procbased;
	ctl_msr[VMX_CTL_EXIT] = c->true_ctls ? m->true_exit : m->exit;
	ctl_msr[VMX_CTL_ENTRY] = c->true_ctls ? m->true_entry : m->entry;
	/* The secondary controls exist only if the primary ones can activate them
	 * (A.3.3); they have no default1 bits and no TRUE variant. */
	ctl_msr[VMX_CTL_PROC2] = ((u32)(m->procbased >> 32) & PROC_SECONDARY_CONTROLS) ? m->procbased2 : 0;

	for (int w = 0; w < VMX_CTL_COUNT; w++) {
		c->allowed0[w] = (u32)ctl_msr[w];
		c->allowed1[w] = (u32)(ctl_msr[w] >> 32);
	}
	for (int w = 0; w < VMX_CTL_COUNT; w++) {
		enum vmx_ctl wc = (enum vmx_ctl)w;
		u32 lacking = (required[w] | capability_needed[w]) & ~c->allowed1[w];
		if (lacking)
			return fail(err, err_size, "this CPU cannot set", wc, first_named_bit(wc, lacking));
		/* A bit the CPU forces on that we neither asked for nor handle would
		 * change guest behaviour behind our back. */
		u32 forced = c->allowed0[w] & vmx_ctl_named_bits(wc) &
			     ~(required[w] | optional[w] | tolerated[w]);
		if (forced)
			return fail(err, err_size, "this CPU forces on", wc, first_named_bit(wc, forced));
		c->ctl[w] = c->allowed0[w] | required[w] | (optional[w] & c->allowed1[w]);
	}

	u32 p2 = c->ctl[VMX_CTL_PROC2];
	u32 a2 = c->allowed1[VMX_CTL_PROC2];
	c->vpid = p2 & PROC2_ENABLE_VPID;
	c->rdtscp = p2 & PROC2_ENABLE_RDTSCP;
	c->invpcid = p2 & PROC2_ENABLE_INVPCID;
	c->xsaves = p2 & PROC2_ENABLE_XSAVES;
	c->user_wait_pause = p2 & PROC2_USER_WAIT_PAUSE;
	c->mbec = a2 & PROC2_MODE_BASED_EXEC;
	c->vmfunc = a2 & PROC2_ENABLE_VMFUNC;
	c->pml = a2 & PROC2_ENABLE_PML;
	c->ept_ve = a2 & PROC2_EPT_VIOLATION_VE;
	c->virtual_nmis = c->allowed1[VMX_CTL_PIN] & PIN_VIRTUAL_NMIS;
	c->preemption_timer = c->allowed1[VMX_CTL_PIN] & PIN_PREEMPTION_TIMER;
	c->preemption_timer_shift = VMX_MISC_PREEMPT_SHIFT(m->misc);
	c->saves_lma = m->misc & VMX_MISC_SAVES_LMA;
	c->activity_hlt = m->misc & VMX_MISC_ACTIVITY_HLT;
	c->activity_shutdown = m->misc & VMX_MISC_ACTIVITY_SHUTDOWN;
	c->activity_wait_sipi = m->misc & VMX_MISC_ACTIVITY_WAIT_SIPI;
	c->zero_len_inject = m->misc & VMX_MISC_ZERO_LEN_INJECT;

	decode_ept_vpid(m->ept_vpid_cap, c);
	/* ept_eptp() builds a 4-level EPTP whose structures are WB (A.10). */
	if (!c->ept.walk4) {
		fmt_snprintf(err, err_size, "%s EPT with 4-level page walks (IA32_VMX_EPT_VPID_CAP bit 6)",
			     need);
		return -1;
	}
	if (!c->ept.mt_wb) {
		fmt_snprintf(err, err_size, "%s write-back EPT paging structures (IA32_VMX_EPT_VPID_CAP bit 14)",
			     need);
		return -1;
	}
	if (!c->ept.invept_single && !c->ept.invept_all) {
		fmt_snprintf(err, err_size, "%s INVEPT (single- or all-context, IA32_VMX_EPT_VPID_CAP bits 20, 25, 26)",
			     need);
		return -1;
	}

	/* The unrestricted-guest exemption (27.3.1.1): PE and PG may be 0. */
	c->cr0_must1 = m->cr0_fixed0 & ~(CR0_PE | CR0_PG);
	c->cr0_must0 = ~m->cr0_fixed1;
	c->cr4_must1 = m->cr4_fixed0;
	c->cr4_must0 = ~m->cr4_fixed1;

	/* Narrowest flush first.  Without VPID, VM entries and exits flush linear
	 * and combined mappings of VPID 0 themselves (SDM 29.4.3), so only the
	 * guest-physical ones need INVEPT. */
	enum vmx_flush_method invept = c->ept.invept_single ? VMX_FLUSH_INVEPT_SINGLE
							    : VMX_FLUSH_INVEPT_ALL;
	if (!c->vpid)
		c->flush_guest = VMX_FLUSH_NONE;
	else if (c->invvpid.single)
		c->flush_guest = VMX_FLUSH_INVVPID_SINGLE;
	else if (c->invvpid.all)
		c->flush_guest = VMX_FLUSH_INVVPID_ALL;
	else
		c->flush_guest = invept;
	c->flush_slat = invept;
	return 0;
}

u64 vmx_cr0_guest_host_mask(const struct vmx_caps *c, bool intercept_pg)
{
	return c->cr0_must1 | c->cr0_must0 | (intercept_pg ? CR0_PG : 0);
}

u64 vmx_cr4_guest_host_mask(const struct vmx_caps *c)
{
	return c->cr4_must1 | c->cr4_must0;
}

const char *vmx_flush_method_name(enum vmx_flush_method m)
{
	static const char *const names[] = {
		[VMX_FLUSH_NONE] = "none (no VPID)",
		[VMX_FLUSH_INVVPID_SINGLE] = "INVVPID single-context",
		[VMX_FLUSH_INVVPID_ALL] = "INVVPID all-context",
		[VMX_FLUSH_INVEPT_SINGLE] = "INVEPT single-context",
		[VMX_FLUSH_INVEPT_ALL] = "INVEPT all-context",
	};
	return (unsigned)m < ARRAY_SIZE(names) ? names[m] : "?";
}
