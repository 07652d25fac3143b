/* Guest loaders.  A GRUB module2 line names its role in the first word of its
 * command line ("multiboot" today; "linux" and "initrd" later); the rest is
 * the guest's own command line. */
#ifndef HV_KERNEL_VM_LOADER_H
#define HV_KERNEL_VM_LOADER_H

#include "kernel/boot_info.h"
#include "kernel/vm/vm.h"

/* The module whose role is `role`, or NULL; *args points past the role word. */
const struct boot_module *loader_find_module(const struct boot_info *bi, const char *role,
					     const char **args);
/* Loads a multiboot (v1) kernel into guest RAM, builds its multiboot
 * information block and sets the VP's registers for the entry.  Returns false
 * after printing why. */
bool multiboot_load(struct vm *vm, struct vp *vp, const struct boot_info *bi,
		    const struct boot_module *mod, const char *args);
/* Loads a Linux bzImage (module role "linux"; cmdline is the kernel command
 * line) and the initrd module if there is one (role "initrd"), builds
 * boot_params and sets the VP for the 32-bit boot protocol entry.  Returns
 * false after printing why. */
bool linux_load(struct vm *vm, struct vp *vp, const struct boot_info *bi,
		const struct boot_module *kernel, const char *cmdline);

#endif
