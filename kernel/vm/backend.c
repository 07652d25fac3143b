#include "kernel/vm/backend.h"
#include "arch/x86/cpu.h"
#include "kernel/lib/string.h"

const struct vm_backend_ops *vm_backend;

const struct vm_backend_ops *vm_backend_select(void)
{
	const char *virt = cpu_virt_name();

	if (strcmp(virt, "svm") == 0)
		return &svm_backend_ops;
	if (strcmp(virt, "vmx") == 0)
		return &vmx_backend_ops;
	return NULL;
}

static const char *const exit_reason_names[] = {
#define VM_EXIT_NAME(name, text) [VM_EXIT_##name] = text,
	VM_EXIT_REASONS(VM_EXIT_NAME)
#undef VM_EXIT_NAME
};

const char *vm_exit_reason_name(enum vm_exit_reason r)
{
	return (unsigned)r < VM_EXIT_REASON_COUNT ? exit_reason_names[r] : "?";
}
