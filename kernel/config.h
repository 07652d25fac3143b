/* Build-time limits of the hypervisor. */
#ifndef HV_KERNEL_CONFIG_H
#define HV_KERNEL_CONFIG_H

/* CPUs the hypervisor will bring up; extra CPUs in the MADT are reported and left
 * parked. */
#define HV_MAX_CPUS 64

#define HV_VERSION "0.1.0"

#endif
