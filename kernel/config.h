/* Build-time limits of the hypervisor. */
#ifndef HV_KERNEL_CONFIG_H
#define HV_KERNEL_CONFIG_H

/* CPUs the hypervisor will bring up; extra CPUs in the MADT are reported and left
 * parked. */
#define HV_MAX_CPUS 64
/* "No CPU", where a CPU number is kept. */
#define CPU_NONE 0xFFFFFFFFu
/* Guest pages one PV TLB flush request may name before the target flushes
 * its whole ASID/VPID instead (kernel/vm/vp_flush.c): beyond a few pages a
 * full flush is cheaper than one INVLPGA/INVVPID each. */
#define VP_FLUSH_GVAS_MAX 16

#define HV_VERSION "0.1.0"

#endif
