/* The guest's physical memory: which GPAs are RAM, and copies in and out of
 * it.  Platform policy: GPA == HPA; the hypervisor's own frames are not guest
 * RAM and not mapped. */
#ifndef HV_KERNEL_VM_GUEST_MEM_H
#define HV_KERNEL_VM_GUEST_MEM_H

#include "kernel/phys_read.h"
#include "kernel/types.h"
#include "kernel/vm/guest_walk.h"
#include "kernel/vm/vm.h"

/* Builds vm->mem from the machine map with the hypervisor's ranges reserved. */
void guest_mem_build_map(struct vm *vm);
/* True when [gpa, gpa+len) is entirely guest RAM (usable or ACPI). */
bool guest_mem_is_ram(const struct vm *vm, u64 gpa, u64 len);
/* True when gpa lies in memory the hypervisor owns. */
bool guest_mem_is_hv(u64 gpa);

bool guest_read_gpa(const struct vm *vm, u64 gpa, void *buf, size_t len);
bool guest_write_gpa(const struct vm *vm, u64 gpa, const void *buf, size_t len);

/* A reader over guest RAM, for the page-table walker. */
extern const struct phys_reader guest_ram_reader;

/* Translates gva with the VP's current paging state. */
enum guest_walk_status guest_translate(struct vp *vp, u64 gva, enum guest_access_kind kind,
				       struct guest_walk_result *res);
/* Copies guest-virtual memory (crossing pages as needed).  On failure *res
 * tells why (a #PF to inject, or a table outside RAM). */
bool guest_read_gva(struct vp *vp, u64 gva, void *buf, size_t len, struct guest_walk_result *res);
bool guest_write_gva(struct vp *vp, u64 gva, const void *buf, size_t len,
		     struct guest_walk_result *res);

#endif
