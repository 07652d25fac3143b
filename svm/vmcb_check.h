/* The VMRUN consistency checks (AMD APM Vol. 2, 15.5.1), so that a failed
 * VMRUN (exit code VMEXIT_INVALID) can say which rule the VMCB breaks.  Pure
 * logic; tests/unit/test_vmcb_check.c breaks each rule in turn. */
#ifndef HV_SVM_VMCB_CHECK_H
#define HV_SVM_VMCB_CHECK_H

#include "svm/vmcb.h"

struct vmcb_check_caps {
	u8 phys_addr_bits; /* CPUID 0x80000008 EAX[7:0] */
	bool long_mode;
	u64 cr4_reserved;  /* CR4 bits this CPU does not implement */
	u64 efer_reserved; /* EFER bits this CPU does not implement */
};

/* NULL when the VMCB passes every check we know, else the rule it breaks. */
const char *vmcb_check(const struct vmcb *v, const struct vmcb_check_caps *caps);

#endif
