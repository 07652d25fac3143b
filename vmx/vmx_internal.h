/* What vmx.c and vmx_report.c share: the VMX instructions, VMCS access and the
 * backend's per-CPU and per-bank state.  Not for use outside vmx/. */
#ifndef HV_VMX_VMX_INTERNAL_H
#define HV_VMX_VMX_INTERNAL_H

#include "kernel/vm/vm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_caps.h"

/* ---- VMX instructions (SDM Vol. 3C, chapter 31) ----------------------------------
 * Each reports VMfailInvalid/VMfailValid (CF or ZF set) as false. */
static inline bool vmx_on(u64 pa)
{
	bool fail;
	__asm__ volatile("vmxon %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmx_clear(u64 pa)
{
	bool fail;
	__asm__ volatile("vmclear %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmx_ptrld(u64 pa)
{
	bool fail;
	__asm__ volatile("vmptrld %1; setna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmx_read(u64 field, u64 *value)
{
	bool fail;
	u64 v;
	__asm__ volatile("vmread %2, %1; setna %0" : "=qm"(fail), "=r"(v) : "r"(field) : "cc");
	*value = v;
	return !fail;
}

static inline bool vmx_write(u64 field, u64 value)
{
	bool fail;
	__asm__ volatile("vmwrite %2, %1; setna %0"
			 : "=qm"(fail)
			 : "r"(field), "rm"(value)
			 : "cc", "memory");
	return !fail;
}

static inline bool vmx_invept(u64 type, u64 eptp)
{
	struct {
		u64 eptp, reserved;
	} desc = {eptp, 0};
	bool fail;
	__asm__ volatile("invept %1, %2; setna %0" : "=qm"(fail) : "m"(desc), "r"(type) : "cc", "memory");
	return !fail;
}

static inline bool vmx_invvpid(u64 type, u16 vpid, u64 gla)
{
	struct {
		u64 vpid, gla;
	} desc = {vpid, gla};
	bool fail;
	__asm__ volatile("invvpid %1, %2; setna %0" : "=qm"(fail) : "m"(desc), "r"(type) : "cc", "memory");
	return !fail;
}

/* VMREAD of the current VMCS; 0 when the field does not exist. */
static inline u64 vmcs_read(u64 field)
{
	u64 v;
	if (!vmx_read(field, &v))
		return 0;
	return v;
}

/* VMWRITE to the current VMCS; a failure is reported once. */
void vmcs_write(u64 field, u64 value);

/* Virtual-APIC page: the TPR shadow lives at offset 0x80 (SDM 30.1.1). */
#define VAPIC_TPR 0x80

/* ---- state ------------------------------------------------------------------------ */
struct vmx_cpu {
	void *vmxon_region;
	u64 current_vmcs; /* physical address, 0 when none is current */
	struct vmx_caps caps;
};

struct vmx_event {
	bool pending;
	u32 info; /* VM-entry interruption information */
	u32 error_code;
	u32 insn_len;
};

struct vmx_bank {
	void *vmcs;
	u64 vmcs_pa;
	u8 *msr_bitmap;
	u8 *io_bitmaps; /* A then B, contiguous */
	u8 *vapic;
	u16 vpid;
	bool launched;
	u64 eptp;
	u64 cr0_mask, cr4_mask;
	u32 flush; /* FLUSH_* before the next entry */
	struct vmx_event event;
	bool irq_window; /* interrupt-window exiting is on */
};

/* The boot CPU's capabilities; every other CPU has the same (vmx_cpu_enable
 * refuses a CPU that differs). */
extern struct vmx_caps vmx_caps;

/* The active bank's state, with its VMCS made current on this CPU. */
struct vmx_bank *vmx_bank_of(struct vp *vp);

/* ---- vmx_report.c: explaining failures -------------------------------------------- */
/* VMLAUNCH/VMRESUME returned VMfailInvalid (rc 1) or VMfailValid (rc 2). */
void vmx_report_insn_failure(struct vp *vp, const struct vmx_bank *b, int rc);
/* A VM exit with the entry-failure bit set. */
void vmx_report_entry_failure(struct vp *vp, u32 reason, u64 qual);
/* The backend's part of the partition dump. */
void vmx_dump(struct vp *vp);

#endif
