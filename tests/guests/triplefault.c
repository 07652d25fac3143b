/*
 * triplefault: triple-faults on purpose. With a zero-limit IDT, INT3 cannot be
 * delivered (#GP), neither can the #GP (#DF), nor the #DF: shutdown. On bare QEMU
 * with -no-reboot that ends QEMU (status 0); under the hypervisor the partition must
 * stop with the guest-state dump and the hypervisor's own exit status. Nothing of
 * this guest runs after the fault, so it never prints a DONE line.
 */
#include "guest.h"

const char guest_name[] = "triplefault";

void guest_main(void)
{
	printf("GUEST %s TRIPLE FAULT NOW\n", guest_name);
	idt_load_raw(0, 0);
	__asm__ volatile("int3");
	/* Still here: the fault was swallowed. */
	idt_reload();
	test_result("triple-fault", false, "INT3 with a zero-limit IDT returned");
}
